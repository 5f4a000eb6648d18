// Zipped model packages: the zip reader (central directory, local headers, CRC-32, stored and deflated
// entries), the unpack cache keyed by the zip's SHA-256, and every kind of bad archive refused with a
// message naming the file. Archives are written here by a small zip writer that uses zlib's raw deflate,
// so each corruption can be placed exactly; one archive written by Python's zipfile (the reference
// implementation) is read too when /usr/bin/python3 exists.

#include <QtTest>

#include <torch/script.h>
#include <torch/torch.h>
#include <zlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Sha256.h"
#include "runtime/ModelPackage.h"
#include "runtime/TorchScriptModel.h"
#include "runtime/ZipArchive.h"

using namespace loupe;
using nlohmann::json;

namespace {

struct ZipInput {
  std::string name;
  std::string data;
  bool deflate = true;
};

void put16(std::string& s, unsigned v) { s += char(v & 0xFF); s += char((v >> 8) & 0xFF); }
void put32(std::string& s, std::uint32_t v) { for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xFF); }

std::string rawDeflate(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A zip archive per APPNOTE 6.3 (local headers, central directory, end record), CRCs from zlib.
std::string makeZip(const std::vector<ZipInput>& files) {
  std::string body, central;
  for (const auto& f : files) {
    const std::string packed = f.deflate ? rawDeflate(f.data) : f.data;
    const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(f.data.data()), static_cast<uInt>(f.data.size())));
    const auto offset = static_cast<std::uint32_t>(body.size());
    std::string h;
    put32(h, 0x04034b50); put16(h, 20); put16(h, 0); put16(h, f.deflate ? 8 : 0); put16(h, 0); put16(h, 0);
    put32(h, crc); put32(h, static_cast<std::uint32_t>(packed.size())); put32(h, static_cast<std::uint32_t>(f.data.size()));
    put16(h, static_cast<unsigned>(f.name.size())); put16(h, 0);
    body += h + f.name + packed;
    std::string c;
    put32(c, 0x02014b50); put16(c, 20); put16(c, 20); put16(c, 0); put16(c, f.deflate ? 8 : 0); put16(c, 0); put16(c, 0);
    put32(c, crc); put32(c, static_cast<std::uint32_t>(packed.size())); put32(c, static_cast<std::uint32_t>(f.data.size()));
    put16(c, static_cast<unsigned>(f.name.size())); put16(c, 0); put16(c, 0); put16(c, 0); put16(c, 0); put32(c, 0);
    put32(c, offset);
    central += c + f.name;
  }
  std::string end;
  put32(end, 0x06054b50); put16(end, 0); put16(end, 0);
  put16(end, static_cast<unsigned>(files.size())); put16(end, static_cast<unsigned>(files.size()));
  put32(end, static_cast<std::uint32_t>(central.size())); put32(end, static_cast<std::uint32_t>(body.size())); put16(end, 0);
  return body + central + end;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void writeFile(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

class TestZipPackage : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string model_;  // TorchScript bytes: forward(x) = x * 2

  std::string manifest(const std::string& modelSha) const {
    const json j = {{"schema", 1}, {"id", "zipped-doubler"}, {"version", "1.0.0"}, {"task", "test.task"},
                    {"format", "torchscript"}, {"entry", "model.pt"}, {"files", {{"model.pt", modelSha}}},
                    {"input", {{"layout", "NCHW"}, {"channels", 3}}},
                    {"outputs", json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {-1, 3, -1, -1}}}})},
                    {"licence", "MIT"}, {"provenance", "test_zip_package"}};
    return j.dump(2);
  }
  std::string goodZip(const std::string& prefix = "", bool deflate = true) const {
    return makeZip({{prefix + "loupe-model.json", manifest(Sha256::hex(model_.data(), model_.size())), deflate},
                    {prefix + "model.pt", model_, deflate}});
  }
  std::string path(const char* name) const { return tmp_.filePath(name).toStdString(); }
  std::string cacheDir() const { return tmp_.filePath("cache/packages").toStdString(); }

  static QString msg(const Error& e) { return QString::fromStdString(e.message); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    qputenv("LOUPE_CACHE_DIR", tmp_.filePath("cache").toUtf8());
    torch::jit::Module m("Doubler");
    m.define("def forward(self, x):\n    return x * 2.0\n");
    std::ostringstream out;
    m.save(out);
    model_ = out.str();
  }

  void crcShouldMatchCheckValueAndZlib() {
    // 0xCBF43926: the CRC-32 check value of "123456789" (ISO 3309 / the zip specification).
    QCOMPARE(runtime::crc32Update(0, "123456789", 9), 0xCBF43926u);
    const std::string data = model_;
    const auto ref = crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    // Incremental in two uneven parts must give the same value as zlib in one go.
    const auto half = runtime::crc32Update(0, data.data(), 1000);
    QCOMPARE(runtime::crc32Update(half, data.data() + 1000, data.size() - 1000), static_cast<std::uint32_t>(ref));
  }

  void shouldOpenVerifyAndRunZippedPackage_data() {
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<bool>("deflate");
    QTest::newRow("deflated, at the root") << "" << true;
    QTest::newRow("stored, at the root") << "" << false;
    QTest::newRow("deflated, in one top folder") << "doubler/" << true;
  }
  void shouldOpenVerifyAndRunZippedPackage() {
    QFETCH(QString, prefix);
    QFETCH(bool, deflate);
    const std::string zip = path("ok.zip");
    const std::string bytes = goodZip(prefix.toStdString(), deflate);
    writeFile(zip, bytes);
    QDir(QString::fromStdString(cacheDir())).removeRecursively();

    // Inspect: the manifest only, nothing unpacked.
    auto quick = runtime::openModelPackage(zip, false);
    QVERIFY2(quick.ok(), quick.ok() ? "" : quick.error().message.c_str());
    QCOMPARE(quick->id, std::string("zipped-doubler"));
    QCOMPARE(quick->archive, zip);
    QVERIFY(!QDir(QString::fromStdString(cacheDir())).exists());

    auto p = runtime::openModelPackage(zip);
    QVERIFY2(p.ok(), p.ok() ? "" : p.error().message.c_str());
    const std::string key = Sha256::hex(bytes.data(), bytes.size());
    QCOMPARE(p->folder, cacheDir() + "/" + key);
    QCOMPARE(readFile(p->entryPath()), model_);
    auto model = runtime::TorchScriptModel::load(*p, torch::kCPU);
    QVERIFY(model.ok());
    const auto x = torch::rand({1, 3, 4, 4});
    auto y = model->forward(x);
    QVERIFY(y.ok());
    QVERIFY(torch::equal((*y)[0], x * 2));  // reference: the fixture's definition

    // A second open reuses the unpacked copy (and still checks every file's sha256).
    const auto before = QFileInfo(QString::fromStdString(p->entryPath())).lastModified();
    QTest::qWait(20);
    auto again = runtime::openModelPackage(zip);
    QVERIFY(again.ok());
    QCOMPARE(QFileInfo(QString::fromStdString(again->entryPath())).lastModified(), before);
  }

  void shouldReadArchiveWrittenByPythonZipfile() {
    if (!QFileInfo::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3 to write a reference archive");
    const std::string dir = path("py");
    QDir().mkpath(QString::fromStdString(dir));
    writeFile(dir + "/model.pt", model_);
    writeFile(dir + "/loupe-model.json", manifest(Sha256::hex(model_.data(), model_.size())));
    QProcess py;
    py.start("/usr/bin/python3", {"-c",
                                  "import sys, zipfile\n"
                                  "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
                                  "    z.write(sys.argv[2] + '/loupe-model.json', 'pkg/loupe-model.json')\n"
                                  "    z.write(sys.argv[2] + '/model.pt', 'pkg/model.pt')\n",
                                  QString::fromStdString(path("py.zip")), QString::fromStdString(dir)});
    QVERIFY(py.waitForFinished(30000));
    QCOMPARE(py.exitCode(), 0);
    auto p = runtime::openModelPackage(path("py.zip"));
    QVERIFY2(p.ok(), p.ok() ? "" : p.error().message.c_str());
    QCOMPARE(readFile(p->entryPath()), model_);
  }

  void shouldRefuseBadArchives_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("corrupt data") << "corrupt" << "bad.zip: 'model.pt'";
    QTest::newRow("truncated") << "truncated" << "bad.zip: no end-of-central-directory record";
    QTest::newRow("wrong sha256 inside") << "sha" << "bad.zip: model.pt has sha256";
    QTest::newRow("parent folder") << "../evil.pt" << "escapes the package folder";
    QTest::newRow("parent in the middle") << "pkg/../../evil.pt" << "escapes the package folder";
    QTest::newRow("absolute path") << "/tmp/evil.pt" << "is an absolute path";
    QTest::newRow("backslash") << "..\\evil.pt" << "contains a backslash";
    QTest::newRow("zip64") << "zip64" << "zip64";
    QTest::newRow("not a zip") << "text" << "bad.zip: no end-of-central-directory record";
    QTest::newRow("no manifest") << "nomanifest" << "holds no loupe-model.json";
  }
  void shouldRefuseBadArchives() {
    QFETCH(QString, kind);
    QFETCH(QString, message);
    std::string bytes = goodZip();
    const std::string k = kind.toStdString();
    if (k == "corrupt") {
      // model.pt first; flip 16 bytes of its deflated data (30-byte local header + 8-byte name + 200).
      bytes = makeZip({{"model.pt", model_}, {"loupe-model.json", manifest(Sha256::hex(model_.data(), model_.size()))}});
      for (int i = 0; i < 16; ++i) bytes[238 + i] = static_cast<char>(bytes[238 + i] ^ 0x5A);
    } else if (k == "truncated") {
      bytes.resize(bytes.size() * 6 / 10);
    } else if (k == "sha") {
      bytes = makeZip({{"loupe-model.json", manifest(std::string(64, 'a'))}, {"model.pt", model_}});
    } else if (k == "zip64") {
      // End record whose central-directory offset is 0xFFFFFFFF: the zip64 escape value.
      for (int i = 0; i < 4; ++i) bytes[bytes.size() - 6 + i] = '\xFF';
    } else if (k == "text") {
      bytes = "this is not a zip archive at all";
    } else if (k == "nomanifest") {
      bytes = makeZip({{"model.pt", model_}});
    } else {
      bytes = makeZip({{"loupe-model.json", manifest(Sha256::hex(model_.data(), model_.size()))},
                       {"model.pt", model_},
                       {k, "payload"}});
    }
    const std::string zip = path("bad.zip");
    writeFile(zip, bytes);
    QDir(QString::fromStdString(cacheDir())).removeRecursively();
    auto p = runtime::openModelPackage(zip);
    QVERIFY(!p.ok());
    QVERIFY2(msg(p.error()).contains(message), p.error().message.c_str());
    if (k != "sha") QVERIFY2(msg(p.error()).contains("bad.zip"), p.error().message.c_str());
    QVERIFY(!QFileInfo::exists(tmp_.filePath("evil.pt")));
    QVERIFY(!QFileInfo::exists("/tmp/evil.pt"));
    // Nothing half-unpacked stays in the cache (only verified or complete unpacks remain).
    const auto left = QDir(QString::fromStdString(cacheDir())).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const auto& d : left) QVERIFY2(!d.contains("partial"), qPrintable(d));
  }

  void shouldCapEntrySizes() {
    writeFile(path("big.zip"), goodZip());
    runtime::ZipLimits limits;
    limits.maxEntrySize = 100;  // both entries are larger; the first one (the manifest) is named
    auto z = runtime::ZipArchive::open(path("big.zip"), limits);
    QVERIFY(!z.ok());
    QCOMPARE(z.error().code, ErrorCode::TooLarge);
    QVERIFY2(msg(z.error()).contains("entry 'loupe-model.json' would unpack to"), z.error().message.c_str());
    QVERIFY(msg(z.error()).contains("(limit 100)"));
    limits = {};
    limits.maxTotalSize = model_.size();  // each entry fits, both together do not
    z = runtime::ZipArchive::open(path("big.zip"), limits);
    QVERIFY(!z.ok());
    QVERIFY2(msg(z.error()).contains("would unpack to more than"), z.error().message.c_str());
  }

  void shouldListZippedPackages() {
    const QString root = tmp_.filePath("lib");
    QDir().mkpath(root);
    writeFile((root + "/doubler.zip").toStdString(), goodZip());
    writeFile((root + "/broken.zip").toStdString(), "PK\x03\x04 broken");
    auto list = runtime::listModelPackages({root.toStdString()});
    QCOMPARE(list.size(), std::size_t(2));
    QVERIFY(!list[0].package.ok());  // broken.zip sorts first
    QVERIFY(list[1].package.ok());
    QCOMPARE(list[1].package->id, std::string("zipped-doubler"));
  }
};

QTEST_GUILESS_MAIN(TestZipPackage)
#include "test_zip_package.moc"
