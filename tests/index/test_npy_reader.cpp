// .npy reading: files written by NumPy itself (/usr/bin/python3 with numpy, run here; the test skips those
// cases when NumPy is absent) in float32, float64, big-endian float32 and format version 2.0 read back to
// the values NumPy wrote (x[i, j] = i * 0.5 - j / 3, computed again here); Fortran order, int64, 3-D,
// truncated and non-.npy files are refused with messages that say what to do; our own writer's files
// load in NumPy with the same values.
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include <fstream>

#include "index/Npy.h"

using namespace loupe;
using namespace loupe::index;

namespace {
bool havePythonNumpy() {
  QProcess p;
  p.start("/usr/bin/python3", {"-c", "import numpy"});
  return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}
bool python(const QString& code, const QStringList& args = {}) {
  QProcess p;
  p.start("/usr/bin/python3", QStringList{"-c", code} + args);
  const bool ok = p.waitForFinished(60000) && p.exitCode() == 0;
  if (!ok) qWarning() << p.readAllStandardError();
  return ok;
}
torch::Tensor expected(int64_t rows, int64_t cols) {
  auto i = torch::arange(rows, torch::kFloat64).unsqueeze(1);
  auto j = torch::arange(cols, torch::kFloat64).unsqueeze(0);
  return (i * 0.5 - j / 3.0).to(torch::kFloat32);
}
}  // namespace

class TestNpyReader : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsWhatNumpyWrites() {
    if (!havePythonNumpy()) QSKIP("python3-numpy is not installed");
    QTemporaryDir dir;
    QVERIFY(python("import numpy as np, sys\n"
                   "d = sys.argv[1]\n"
                   "x = np.arange(7)[:, None] * 0.5 - np.arange(5)[None, :] / 3\n"
                   "np.save(d + '/f8.npy', x)\n"
                   "np.save(d + '/f4.npy', x.astype(np.float32))\n"
                   "np.save(d + '/be.npy', x.astype('>f4'))\n"
                   "with open(d + '/v2.npy', 'wb') as f: np.lib.format.write_array(f, x.astype(np.float32), version=(2, 0))\n"
                   "np.save(d + '/fortran.npy', np.asfortranarray(x))\n"
                   "np.save(d + '/int.npy', np.arange(10).reshape(5, 2))\n"
                   "np.save(d + '/rank3.npy', np.zeros((2, 3, 4), np.float32))\n",
                   {dir.path()}));
    for (const char* name : {"f8.npy", "f4.npy", "be.npy", "v2.npy"}) {
      auto t = readNpyMatrix(dir.filePath(name).toStdString());
      QVERIFY2(t.ok(), t.ok() ? name : t.error().message.c_str());
      QCOMPARE(t->scalar_type(), torch::kFloat32);
      QCOMPARE(t->sizes().vec(), (std::vector<int64_t>{7, 5}));
      QVERIFY2(torch::equal(*t, expected(7, 5)), name);
    }
    struct Case {
      const char* file;
      const char* says;
    };
    for (const Case& c : {Case{"fortran.npy", "np.ascontiguousarray"}, Case{"int.npy", "dtype '<i8' is not supported"},
                          Case{"rank3.npy", "2-D matrix"}}) {
      auto t = readNpyMatrix(dir.filePath(c.file).toStdString());
      QVERIFY2(!t.ok(), c.file);
      QCOMPARE(t.error().code, ErrorCode::UnsupportedFormat);
      QVERIFY2(t.error().message.find(c.says) != std::string::npos, t.error().message.c_str());
      QVERIFY(t.error().message.find(c.file) != std::string::npos);  // names the file
    }
  }

  void damagedFilesAreRefused() {
    QTemporaryDir dir;
    const auto m = expected(100, 16);
    const std::string good = dir.filePath("good.npy").toStdString();
    QVERIFY(writeNpyMatrix(good, m).ok());
    auto back = readNpyMatrix(good);
    QVERIFY(back.ok());
    QVERIFY(torch::equal(*back, m));

    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const std::string cut = dir.filePath("cut.npy").toStdString();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
    auto t = readNpyMatrix(cut);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::CorruptData);
    QVERIFY2(t.error().message.find("truncated") != std::string::npos, t.error().message.c_str());

    const std::string headerOnly = dir.filePath("hdr.npy").toStdString();
    std::ofstream(headerOnly, std::ios::binary) << bytes.substr(0, 9);
    QVERIFY(!readNpyMatrix(headerOnly).ok());

    const std::string text = dir.filePath("text.npy").toStdString();
    std::ofstream(text) << "1,2,3\n4,5,6\n";
    t = readNpyMatrix(text);
    QVERIFY(!t.ok());
    QVERIFY(t.error().message.find("not a NumPy .npy file") != std::string::npos);
    QCOMPARE(readNpyMatrix(dir.filePath("missing.npy").toStdString()).error().code, ErrorCode::NotFound);
  }

  void ourFilesLoadInNumpy() {
    if (!havePythonNumpy()) QSKIP("python3-numpy is not installed");
    QTemporaryDir dir;
    const auto m = expected(33, 9);
    QVERIFY(writeNpyMatrix(dir.filePath("m.npy").toStdString(), m).ok());
    QVERIFY(python("import numpy as np, sys\n"
                   "x = np.load(sys.argv[1])\n"
                   "ref = (np.arange(33)[:, None] * 0.5 - np.arange(9)[None, :] / 3).astype(np.float32)\n"
                   "assert x.dtype == np.float32 and x.shape == (33, 9) and x.flags.c_contiguous, (x.dtype, x.shape)\n"
                   "assert np.array_equal(x, ref)\n",
                   {dir.filePath("m.npy")}));
  }
};

QTEST_GUILESS_MAIN(TestNpyReader)
#include "test_npy_reader.moc"
