// CancelToken: one flag shared by every copy, visible across threads.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/CancelToken.h"

using namespace loupe;

class TestCancelToken : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldStartNotCancelled();
  void shouldShareFlagAcrossCopies_data();
  void shouldShareFlagAcrossCopies();
  void shouldKeepSeparateTokensIndependent();
  void shouldStopWorkerThreadWhenCancelledFromAnotherThread();
  void shouldBeCancellableFromManyThreadsAtOnce();
};

void TestCancelToken::shouldStartNotCancelled() {
  const CancelToken t;
  QVERIFY(!t.isCancelled());
}

void TestCancelToken::shouldShareFlagAcrossCopies_data() {
  QTest::addColumn<bool>("cancelCopy");
  QTest::newRow("cancel original, copy sees it") << false;
  QTest::newRow("cancel copy, original sees it") << true;
}

void TestCancelToken::shouldShareFlagAcrossCopies() {
  QFETCH(bool, cancelCopy);
  CancelToken original;
  const CancelToken copy = original;  // NOLINT: copy on purpose
  CancelToken assigned;
  assigned = original;
  (cancelCopy ? copy : original).cancel();
  QVERIFY(original.isCancelled());
  QVERIFY(copy.isCancelled());
  QVERIFY(assigned.isCancelled());
}

void TestCancelToken::shouldKeepSeparateTokensIndependent() {
  CancelToken a, b;
  a.cancel();
  QVERIFY(a.isCancelled());
  QVERIFY(!b.isCancelled());
}

void TestCancelToken::shouldStopWorkerThreadWhenCancelledFromAnotherThread() {
  const CancelToken token;
  std::atomic<bool> started{false};
  // The worker gets its own copy, as a job would.
  auto worker = std::async(std::launch::async, [copy = token, &started] {
    long spins = 0;
    started = true;
    while (!copy.isCancelled()) {
      ++spins;
      std::this_thread::yield();
    }
    return spins;
  });
  QTRY_VERIFY(started.load());
  QCOMPARE(worker.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);  // still running
  token.cancel();
  QCOMPARE(worker.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  QVERIFY(worker.get() >= 0);
}

void TestCancelToken::shouldBeCancellableFromManyThreadsAtOnce() {
  const CancelToken token;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([copy = token] { copy.cancel(); });
  for (auto& t : threads) t.join();
  QVERIFY(token.isCancelled());
}

QTEST_GUILESS_MAIN(TestCancelToken)
#include "test_cancel_token.moc"
