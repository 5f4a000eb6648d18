// Sha256 against the FIPS 180-4 test vectors, Qt's independent implementation and the sha256sum tool.
#include <QtTest>

#include <QCryptographicHash>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <random>

#include "core/Sha256.h"

using namespace loupe;

class TestSha256 : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldMatchFipsVectors_data();
  void shouldMatchFipsVectors();
  void shouldGiveSameDigestWhenFedInPieces_data();
  void shouldGiveSameDigestWhenFedInPieces();
  void shouldMatchQtAroundPaddingBoundaries();
  void shouldMatchSha256sumToolForFile();
  void shouldHashEmptyFile();
  void shouldReportMissingFileAsNotFound();
  void shouldRefuseFolder();
};

void TestSha256::shouldMatchFipsVectors_data() {
  // Reference: FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
  QTest::addColumn<QByteArray>("message");
  QTest::addColumn<QString>("digest");
  QTest::newRow("empty") << QByteArray("") << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  QTest::newRow("abc") << QByteArray("abc") << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  QTest::newRow("448 bits")
      << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
      << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  QTest::newRow("one million a") << QByteArray(1000000, 'a')
                                 << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
}

void TestSha256::shouldMatchFipsVectors() {
  QFETCH(QByteArray, message);
  QFETCH(QString, digest);
  QCOMPARE(QString::fromStdString(Sha256::hex(message.constData(), std::size_t(message.size()))), digest);
}

void TestSha256::shouldGiveSameDigestWhenFedInPieces_data() {
  QTest::addColumn<int>("chunk");
  for (int c : {1, 7, 55, 56, 63, 64, 65, 1000, 4096}) QTest::newRow(qPrintable(QString::number(c))) << c;
}

void TestSha256::shouldGiveSameDigestWhenFedInPieces() {
  // Reference: FIPS 180-4 one-million-'a' digest, whatever the update() chunking.
  QFETCH(int, chunk);
  const std::string msg(1000000, 'a');
  Sha256 h;
  for (std::size_t i = 0; i < msg.size(); i += std::size_t(chunk))
    h.update(msg.data() + i, std::min<std::size_t>(std::size_t(chunk), msg.size() - i));
  QCOMPARE(QString::fromStdString(h.finishHex()),
           QStringLiteral("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

void TestSha256::shouldMatchQtAroundPaddingBoundaries() {
  // Reference: QCryptographicHash (an independent implementation). Lengths 0..200 cover every padding
  // case (message ends before, at and after byte 55/56 of a block, one and two extra blocks).
  std::mt19937 rng(1234);
  for (int n = 0; n <= 200; ++n) {
    QByteArray msg(n, Qt::Uninitialized);
    for (auto& c : msg) c = static_cast<char>(rng() & 0xFF);
    const QString expected = QString::fromLatin1(QCryptographicHash::hash(msg, QCryptographicHash::Sha256).toHex());
    const QString actual = QString::fromStdString(Sha256::hex(msg.constData(), std::size_t(n)));
    if (actual != expected) QFAIL(qPrintable(QStringLiteral("length %1: %2 != %3").arg(n).arg(actual, expected)));
  }
}

void TestSha256::shouldMatchSha256sumToolForFile() {
  const QString tool = QStandardPaths::findExecutable(QStringLiteral("sha256sum"));
  if (tool.isEmpty()) QSKIP("sha256sum (coreutils) is not installed");
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  // 3 MiB + 17 bytes: crosses the 1 MiB read blocks of ofFile() and ends inside a 64-byte block.
  const QString path = dir.filePath(QStringLiteral("blob.bin"));
  {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    std::mt19937 rng(42);
    QByteArray data((3 << 20) + 17, Qt::Uninitialized);
    for (auto& c : data) c = static_cast<char>(rng() >> 24);
    QCOMPARE(f.write(data), qint64(data.size()));
  }
  QProcess proc;
  proc.start(tool, {path});
  QVERIFY(proc.waitForFinished(10000));
  QCOMPARE(proc.exitCode(), 0);
  const QString expected = QString::fromLatin1(proc.readAllStandardOutput()).section(QLatin1Char(' '), 0, 0);
  QCOMPARE(expected.size(), 64);

  const auto actual = Sha256::ofFile(path.toStdString());
  QVERIFY2(actual.ok(), actual.ok() ? "" : actual.error().message.c_str());
  QCOMPARE(QString::fromStdString(*actual), expected);
}

void TestSha256::shouldHashEmptyFile() {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("empty"));
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.close();
  const auto r = Sha256::ofFile(path.toStdString());
  QVERIFY(r.ok());
  // Reference: FIPS 180-4 digest of the empty message.
  QCOMPARE(QString::fromStdString(*r), QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

void TestSha256::shouldReportMissingFileAsNotFound() {
  QTemporaryDir dir;
  const auto r = Sha256::ofFile(dir.filePath(QStringLiteral("missing.bin")).toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::NotFound);
  QVERIFY(r.error().message.find("missing.bin") != std::string::npos);
}

void TestSha256::shouldRefuseFolder() {
  // A folder has no content to hash: hashing it as if it were an empty file would "verify" nothing.
  QTemporaryDir dir;
  const auto r = Sha256::ofFile(dir.path().toStdString());
  QVERIFY(!r.ok());
  QVERIFY(r.error().code == ErrorCode::InvalidArgument || r.error().code == ErrorCode::Io);
  QVERIFY(r.error().message.find("folder") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestSha256)
#include "test_sha256.moc"
