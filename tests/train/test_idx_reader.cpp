// IDX reading: files written here (plain and gzip'd through zlib), every way such a file can be wrong
// (truncated, extra bytes, bad magic, other value type, damaged gzip, label count that does not match),
// and Debian's Fashion-MNIST when installed (counts and first labels checked against NumPy's reading of
// the same files: labels 9 0 0 3 0 / 9 2 1 1 6, 6000 / 1000 per class, first image's pixel sum 76247).
#include <QtTest>

#include <QTemporaryDir>

#include <zlib.h>

#include <fstream>

#include "train/data/Idx.h"

using namespace loupe;
using namespace loupe::train;

namespace {
std::string idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values, uint8_t type = 0x08) {
  std::string s = {0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims) s += std::string{char(d >> 24), char(d >> 16), char(d >> 8), char(d)};
  s.append(values.begin(), values.end());
  return s;
}
void write(const QString& path, const std::string& bytes) {
  std::ofstream(path.toStdString(), std::ios::binary) << bytes;
}
std::string gzip(const std::string& raw) {
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, raw.size()) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = uInt(raw.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}
}  // namespace

class TestIdxReader : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsPlainAndGzip() {
    QTemporaryDir dir;
    const std::string bytes = idx({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
    write(dir.filePath("a"), bytes);
    write(dir.filePath("a.gz"), gzip(bytes));
    for (const char* name : {"a", "a.gz"}) {
      auto t = readIdxUint8(dir.filePath(name).toStdString());
      QVERIFY2(t.ok(), t.ok() ? "" : t.error().message.c_str());
      QCOMPARE(t->sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
      QCOMPARE(t->index({1, 1, 2}).item<int>(), 255);
      QCOMPARE(t->index({0, 1, 0}).item<int>(), 3);
    }
  }

  void badFilesAreNamedErrors_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("message");
    const std::string good = idx({4}, {1, 2, 3, 4});
    QTest::newRow("truncated") << QByteArray::fromStdString(good.substr(0, good.size() - 1)) << "truncated";
    QTest::newRow("extra bytes") << QByteArray::fromStdString(good + "x") << "beyond";
    QTest::newRow("bad magic") << QByteArray::fromStdString("\x01\x00" + good.substr(2)) << "not an IDX";
    QTest::newRow("float values") << QByteArray::fromStdString(idx({1}, {0, 0, 0, 0}, 0x0d)) << "not unsigned bytes";
    QTest::newRow("header cut") << QByteArray::fromStdString(good.substr(0, 6)) << "header";
    QTest::newRow("damaged gzip") << QByteArray::fromStdString(gzip(good).substr(0, 12)) << "gzip";
  }
  void badFilesAreNamedErrors() {
    QFETCH(QByteArray, content);
    QFETCH(QString, message);
    QTemporaryDir dir;
    write(dir.filePath("labels.idx"), content.toStdString());
    auto t = readIdxUint8(dir.filePath("labels.idx").toStdString());
    QVERIFY(!t.ok());
    QVERIFY2(QString::fromStdString(t.error().message).contains(message), t.error().message.c_str());
    QVERIFY(QString::fromStdString(t.error().message).contains("labels.idx"));
  }

  void missingFileAndMismatchedCounts() {
    QVERIFY(readIdxUint8("/nonexistent/x").error().code == ErrorCode::NotFound);
    QTemporaryDir dir;
    write(dir.filePath("t10k-images-idx3-ubyte"), idx({3, 28, 28}, std::vector<uint8_t>(3 * 28 * 28, 7)));
    write(dir.filePath("t10k-labels-idx1-ubyte"), idx({2}, {1, 2}));
    auto set = loadFashionMnist(Split::Test, dir.path().toStdString());
    QVERIFY(!set.ok());
    QVERIFY2(set.error().message.find("2 labels for 3 images") != std::string::npos, set.error().message.c_str());
    write(dir.filePath("t10k-labels-idx1-ubyte"), idx({3}, {1, 2, 9}));
    set = loadFashionMnist(Split::Test, dir.path().toStdString());
    QVERIFY(set.ok());
    QCOMPARE(set->images.sizes().vec(), (std::vector<int64_t>{3, 1, 28, 28}));
    QVERIFY(!loadFashionMnist(Split::Train, dir.path().toStdString()).ok());
  }

  void debianFashionMnist() {
    auto train = loadFashionMnist(Split::Train);
    if (!train.ok() && train.error().code == ErrorCode::NotFound) QSKIP("dataset-fashion-mnist is not installed");
    QVERIFY2(train.ok(), train.ok() ? "" : train.error().message.c_str());
    auto test = loadFashionMnist(Split::Test);
    QVERIFY(test.ok());
    QCOMPARE(train->size(), int64_t(60000));
    QCOMPARE(test->size(), int64_t(10000));
    QVERIFY(torch::equal(train->labels.narrow(0, 0, 5), torch::tensor({9, 0, 0, 3, 0}, torch::kLong)));
    QVERIFY(torch::equal(test->labels.narrow(0, 0, 5), torch::tensor({9, 2, 1, 1, 6}, torch::kLong)));
    QVERIFY(torch::equal(train->labels.bincount(), torch::full({10}, 6000, torch::kLong)));
    QVERIFY(torch::equal(test->labels.bincount(), torch::full({10}, 1000, torch::kLong)));
    QCOMPARE(train->images[0].to(torch::kLong).sum().item<int64_t>(), int64_t(76247));
    QCOMPARE(train->classNames[9], std::string("Ankle boot"));
  }
};

QTEST_APPLESS_MAIN(TestIdxReader)
#include "test_idx_reader.moc"
