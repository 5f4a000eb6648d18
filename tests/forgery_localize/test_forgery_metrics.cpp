// Forgery metrics on hand-made masks. Expected values are worked by hand in the comments and were
// cross-checked with scikit-learn 1.2.1 (Debian's python3-sklearn): f1_score(gt, pred, average='macro')
// for FOCAL's F1 (as FOCAL's main.py computes it) and roc_auc_score for the AUCs.

#include <QtTest>

#include <cmath>

#include "analysis/ForgeryMetrics.h"

using namespace loupe::analysis;

class TestForgeryMetrics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldCountAndScoreAnOrdinaryCase() {
    // gt   1 0 0 0 0 0 0 1
    // pred 1 1 1 0 0 0 0 0  -> TP 1, FP 2, FN 1, TN 4
    const auto c = confusion({1, 1, 1, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 1});
    QCOMPARE(c.tp, 1);
    QCOMPARE(c.fp, 2);
    QCOMPARE(c.fn, 1);
    QCOMPARE(c.tn, 4);
    QVERIFY(std::abs(binaryF1(c) - 0.4) < 1e-12);                // 2 / (2 + 2 + 1)
    // pristine class: 2*4 / (8 + 1 + 2) = 8/11; macro = (0.4 + 8/11) / 2 = 0.563636... (scikit-learn: same)
    QVERIFY(std::abs(macroF1(c) - 0.5636363636363636) < 1e-12);
    QVERIFY(std::abs(intersectionOverUnion(c) - 0.25) < 1e-12);  // 1 / (1 + 2 + 1)
  }

  void shouldHandleEmptyMasks() {
    // Both empty: nothing to find and nothing claimed -> 1 for every score (IoU as FOCAL's metric_iou).
    const auto none = confusion({0, 0, 0, 0}, {0, 0, 0, 0});
    QCOMPARE(binaryF1(none), 1.0);
    QCOMPARE(macroF1(none), 1.0);  // scikit-learn: only class 0 present, its F1 is 1
    QCOMPARE(intersectionOverUnion(none), 1.0);
    // Pristine truth, two false alarms out of 8: forged-class F1 0; pristine 2*6/(12+2) = 6/7; macro 3/7.
    const auto alarms = confusion({1, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0});
    QCOMPARE(binaryF1(alarms), 0.0);
    QVERIFY(std::abs(macroF1(alarms) - 3.0 / 7.0) < 1e-12);
    QCOMPARE(intersectionOverUnion(alarms), 0.0);
    // Forgery missed entirely: gt 1 1 0 0, pred 0: pristine F1 = 4 / 6, forged 0 -> macro 1/3.
    const auto missed = confusion({0, 0, 0, 0}, {1, 1, 0, 0});
    QVERIFY(std::abs(macroF1(missed) - 1.0 / 3.0) < 1e-12);
    QCOMPARE(binaryF1(missed), 0.0);
  }

  void shouldComputeAucAsMannWhitney() {
    // Classic case: positives 0.35, 0.8; negatives 0.1, 0.4. Pairs won: (0.35>0.1), (0.8>0.1), (0.8>0.4)
    // = 3 of 4 -> 0.75.
    QCOMPARE(rocAuc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
    // Ties count one half: positives 0.5, 0.9; negatives 0.5, 0.5 -> 0.5 + 0.5 + 1 + 1 = 3 of 4.
    QCOMPARE(rocAuc({0.5f, 0.5f, 0.5f, 0.9f}, {0, 1, 0, 1}), 0.75);
    // Heavier ties, 4 positives x 3 negatives: scikit-learn gives 0.458333...
    // positives .2 .7 .1 .9 vs negatives .2 .7 .7: 0.2 -> 0.5; 0.7 -> 1 + 0.5 + 0.5 = 2; 0.1 -> 0; 0.9 -> 3
    // -> 5.5 / 12.
    QVERIFY(std::abs(rocAuc({0.2f, 0.2f, 0.7f, 0.7f, 0.7f, 0.1f, 0.9f}, {1, 0, 1, 0, 0, 1, 1}) - 5.5 / 12.0) < 1e-12);
    QVERIFY(std::isnan(rocAuc({0.1f, 0.2f}, {1, 1})));  // one class only: undefined
  }

  void shouldAverageOnlyFiniteValues() {
    QCOMPARE(meanOfFinite({1.0, std::nan(""), 0.5}), 0.75);
    QVERIFY(std::isnan(meanOfFinite({})));
  }
};

QTEST_GUILESS_MAIN(TestForgeryMetrics)
#include "test_forgery_metrics.moc"
