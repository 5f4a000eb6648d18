// Progress: slices map into the parent's range, fractions never go backwards, the sink sees every
// report in order, also when many threads report at once.
#include <QtTest>

#include <mutex>
#include <thread>
#include <vector>

#include "core/Progress.h"

using namespace loupe;

class TestProgress : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldMapSliceIntoParentRange_data();
  void shouldMapSliceIntoParentRange();
  void shouldMapNestedSlices();
  void shouldClampFractions_data();
  void shouldClampFractions();
  void shouldNeverGoBackwards();
  void shouldCallSinkWithFractionAndStage();
  void shouldKeepLastStageWhenReportHasNone();
  void shouldAllowSinkToReadProgress();
  void shouldWorkWithoutSink();
  void shouldDeliverMonotonicFractionsFromManyThreads();
};

void TestProgress::shouldMapSliceIntoParentRange_data() {
  // Expected = begin + (end - begin) * local, computed by hand.
  QTest::addColumn<double>("begin");
  QTest::addColumn<double>("end");
  QTest::addColumn<double>("local");
  QTest::addColumn<double>("expected");
  QTest::newRow("first half, start") << 0.0 << 0.5 << 0.0 << 0.0;
  QTest::newRow("first half, middle") << 0.0 << 0.5 << 0.5 << 0.25;
  QTest::newRow("first half, end") << 0.0 << 0.5 << 1.0 << 0.5;
  QTest::newRow("second half, middle") << 0.5 << 1.0 << 0.5 << 0.75;
  QTest::newRow("0.2..0.6, quarter") << 0.2 << 0.6 << 0.25 << 0.3;
  QTest::newRow("slice bounds clamped") << -1.0 << 2.0 << 0.5 << 0.5;
}

void TestProgress::shouldMapSliceIntoParentRange() {
  QFETCH(double, begin);
  QFETCH(double, end);
  QFETCH(double, local);
  QFETCH(double, expected);
  Progress parent;
  Progress child = parent.slice(begin, end);
  child.report(local);
  QCOMPARE(parent.fraction(), expected);
  QCOMPARE(child.fraction(), expected);  // fractions are global: parent and child share one state
}

void TestProgress::shouldMapNestedSlices() {
  // [0.5, 1] of parent, then [0.5, 1] of that = [0.75, 1]; local 0.5 -> 0.875 (by hand).
  Progress parent;
  Progress grandChild = parent.slice(0.5, 1.0).slice(0.5, 1.0);
  grandChild.report(0.5);
  QCOMPARE(parent.fraction(), 0.875);
}

void TestProgress::shouldClampFractions_data() {
  QTest::addColumn<double>("reported");
  QTest::addColumn<double>("expected");
  QTest::newRow("below 0") << -0.5 << 0.0;
  QTest::newRow("above 1") << 3.0 << 1.0;
  QTest::newRow("inside") << 0.3 << 0.3;
  QTest::newRow("NaN ignored") << std::numeric_limits<double>::quiet_NaN() << 0.0;
}

void TestProgress::shouldClampFractions() {
  QFETCH(double, reported);
  QFETCH(double, expected);
  Progress p;
  p.report(reported);
  QCOMPARE(p.fraction(), expected);
}

void TestProgress::shouldNeverGoBackwards() {
  std::vector<double> seen;
  Progress p([&](double f, const std::string&) { seen.push_back(f); });
  p.report(0.6);
  p.report(0.2);  // a late sub-step must not move the bar back
  p.slice(0.0, 0.5).report(1.0);
  QCOMPARE(p.fraction(), 0.6);
  QCOMPARE(seen, (std::vector<double>{0.6, 0.6, 0.6}));
}

void TestProgress::shouldCallSinkWithFractionAndStage() {
  std::vector<std::pair<double, std::string>> calls;
  Progress p([&](double f, const std::string& s) { calls.emplace_back(f, s); });
  p.report(0.25, "decoding");
  p.slice(0.5, 1.0).report(0.5, "analysing");
  QCOMPARE(calls.size(), std::size_t(2));
  QCOMPARE(calls[0].first, 0.25);
  QCOMPARE(QString::fromStdString(calls[0].second), QStringLiteral("decoding"));
  QCOMPARE(calls[1].first, 0.75);
  QCOMPARE(QString::fromStdString(calls[1].second), QStringLiteral("analysing"));
}

void TestProgress::shouldKeepLastStageWhenReportHasNone() {
  std::string last;
  Progress p([&](double, const std::string& s) { last = s; });
  p.report(0.1, "loading");
  p.report(0.2);
  QCOMPARE(QString::fromStdString(last), QStringLiteral("loading"));
  QCOMPARE(QString::fromStdString(p.stage()), QStringLiteral("loading"));
}

void TestProgress::shouldAllowSinkToReadProgress() {
  // A sink that asks the progress for its state must not deadlock.
  Progress* self = nullptr;
  double readBack = -1.0;
  Progress p([&](double, const std::string&) { readBack = self->fraction(); (void)self->stage(); });
  self = &p;
  p.report(0.4, "x");
  QCOMPARE(readBack, 0.4);
}

void TestProgress::shouldWorkWithoutSink() {
  Progress p;
  p.report(0.5, "stage");
  QCOMPARE(p.fraction(), 0.5);
  QCOMPARE(QString::fromStdString(p.stage()), QStringLiteral("stage"));
}

void TestProgress::shouldDeliverMonotonicFractionsFromManyThreads() {
  // Workers report increasing fractions into their own slices; the sink (a progress bar) must see a
  // non-decreasing sequence ending at 1. Reference: the Progress contract "fractions never go backwards".
  // The race it guards against is a few instructions wide: several rounds make a miss unlikely (a
  // single round caught the unordered implementation 8 times out of 10).
  constexpr int kThreads = 4;
  constexpr int kSteps = 20000;
  for (int round = 0; round < 5; ++round) {
    std::mutex m;
    std::vector<double> seen;
    seen.reserve(kThreads * kSteps);
    Progress p([&](double f, const std::string&) {
      std::lock_guard<std::mutex> lock(m);
      seen.push_back(f);
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      // Overlapping slices, so every thread keeps moving the global maximum.
      Progress slice = p.slice(0.0, 1.0 - 0.01 * t);
      threads.emplace_back([slice]() mutable {
        for (int i = 1; i <= kSteps; ++i) slice.report(double(i) / kSteps);
      });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(seen.size(), std::size_t(kThreads * kSteps));
    for (std::size_t i = 1; i < seen.size(); ++i)
      if (seen[i] < seen[i - 1])
        QFAIL(qPrintable(QStringLiteral("round %1: sink went backwards at call %2: %3 after %4")
                             .arg(round).arg(i).arg(seen[i], 0, 'g', 17).arg(seen[i - 1], 0, 'g', 17)));
    QCOMPARE(seen.back(), 1.0);
    QCOMPARE(p.fraction(), 1.0);
  }
}

QTEST_GUILESS_MAIN(TestProgress)
#include "test_progress.moc"
