// Result<T> / Error: stable code names, one-line formatting, context prefixes, value access.
#include <QtTest>

#include <memory>

#include "core/Result.h"

using namespace loupe;

Q_DECLARE_METATYPE(loupe::ErrorCode)

class TestResult : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldNameEveryErrorCode_data();
  void shouldNameEveryErrorCode();
  void shouldFormatAsCodeColonMessage();
  void shouldPrefixContextAndKeepCode();
  void shouldChainContexts();
  void shouldMakeCancelledError();
  void shouldHoldValue();
  void shouldHoldError();
  void shouldMoveValueOut();
  void shouldHoldVoidSuccessOrError();
};

void TestResult::shouldNameEveryErrorCode_data() {
  // Reference: the stable names are part of the CLI contract (exit messages, scripts); written by hand.
  QTest::addColumn<loupe::ErrorCode>("code");
  QTest::addColumn<QString>("name");
  QTest::newRow("invalid-argument") << ErrorCode::InvalidArgument << "invalid-argument";
  QTest::newRow("not-found") << ErrorCode::NotFound << "not-found";
  QTest::newRow("io") << ErrorCode::Io << "io";
  QTest::newRow("unsupported-format") << ErrorCode::UnsupportedFormat << "unsupported-format";
  QTest::newRow("corrupt-data") << ErrorCode::CorruptData << "corrupt-data";
  QTest::newRow("too-large") << ErrorCode::TooLarge << "too-large";
  QTest::newRow("cancelled") << ErrorCode::Cancelled << "cancelled";
  QTest::newRow("device-unavailable") << ErrorCode::DeviceUnavailable << "device-unavailable";
  QTest::newRow("plugin-error") << ErrorCode::PluginError << "plugin-error";
  QTest::newRow("model-error") << ErrorCode::ModelError << "model-error";
  QTest::newRow("internal") << ErrorCode::Internal << "internal";
}

void TestResult::shouldNameEveryErrorCode() {
  QFETCH(loupe::ErrorCode, code);
  QFETCH(QString, name);
  QCOMPARE(QString::fromUtf8(errorCodeName(code)), name);
}

void TestResult::shouldFormatAsCodeColonMessage() {
  const Error e(ErrorCode::NotFound, "No such file: a.jpg");
  QCOMPARE(QString::fromStdString(e.toString()), QStringLiteral("not-found: No such file: a.jpg"));
}

void TestResult::shouldPrefixContextAndKeepCode() {
  const Error e(ErrorCode::CorruptData, "bad header");
  const Error c = e.withContext("Opening a.jpg");
  QCOMPARE(c.code, ErrorCode::CorruptData);
  QCOMPARE(QString::fromStdString(c.message), QStringLiteral("Opening a.jpg: bad header"));
  // The original is a value and stays unchanged.
  QCOMPARE(QString::fromStdString(e.message), QStringLiteral("bad header"));
}

void TestResult::shouldChainContexts() {
  const Error e = Error(ErrorCode::Io, "disk full").withContext("writing x.png").withContext("export");
  QCOMPARE(QString::fromStdString(e.toString()), QStringLiteral("io: export: writing x.png: disk full"));
}

void TestResult::shouldMakeCancelledError() {
  const Error e = Error::cancelled();
  QCOMPARE(e.code, ErrorCode::Cancelled);
  QVERIFY(!e.message.empty());
}

void TestResult::shouldHoldValue() {
  Result<int> r(42);
  QVERIFY(r.ok());
  QVERIFY(static_cast<bool>(r));
  QCOMPARE(r.value(), 42);
  QCOMPARE(*r, 42);
  Result<std::string> s(std::string("abc"));
  QCOMPARE(s->size(), std::size_t(3));
}

void TestResult::shouldHoldError() {
  Result<int> r(Error{ErrorCode::TooLarge, "too big"});
  QVERIFY(!r.ok());
  QVERIFY(!static_cast<bool>(r));
  QCOMPARE(r.error().code, ErrorCode::TooLarge);
  QCOMPARE(QString::fromStdString(r.error().message), QStringLiteral("too big"));
}

void TestResult::shouldMoveValueOut() {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  QVERIFY(p);
  QCOMPARE(*p, 7);
}

void TestResult::shouldHoldVoidSuccessOrError() {
  Result<void> ok;
  QVERIFY(ok.ok());
  Result<void> bad(Error{ErrorCode::Io, "nope"});
  QVERIFY(!bad.ok());
  QVERIFY(!static_cast<bool>(bad));
  QCOMPARE(bad.error().code, ErrorCode::Io);
}

QTEST_GUILESS_MAIN(TestResult)
#include "test_result.moc"
