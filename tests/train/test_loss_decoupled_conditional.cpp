// Decoupled conditional contrastive loss: hand-worked cases without and with metadata, the PI-RADS
// consensus (confidence = share of readers agreeing with the majority, PI-RADS 3 dropped), a per-anchor
// loop as a second reference, float64 gradients.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"
#include "train/losses/DecoupledConditional.h"

using namespace loupe::train;
using namespace losstest;

class TestLossDecoupledConditional : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void withoutMetadataIsDecoupledNtXent() {
    // a = a' = (1, 0), b = b' = (0, 1), labels -1, T = 1. Anchor a: positive a' (s = 1); the denominator
    // holds only the negatives b, b' (s = 0): l = -(1 - log 2) = -0.3068528 (decoupled: may be negative).
    auto loss = make("decoupled_conditional", {{"temperature", 1.0}});
    LossInput in;
    in.features = torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0}, torch::kDouble).view({2, 2, 2});
    in.labels = torch::tensor({-1, -1}, torch::kLong);
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - (std::log(2.0) - 1)) < 1e-12);
  }

  void metadataPositivesWeightedByConfidence() {
    // Samples (two identical views each): A = (1, 0) label 0 conf 1; B = (0, 1) label 0 conf 0.5;
    // C = (-1, 0) label 1 conf 1. T = 1. Weights: own view 1, A-B pairs 1 * 0.5 = 0.5.
    //  anchor A: positives A' (s 1, w 1), B, B' (s 0, w .5); negatives C, C' (s -1): logD = log(2/e)
    //            l = -[ (1 - logD) + 2 * .5 (0 - logD) ] / 2
    //  anchor B: positives B' (s 1, w 1), A, A' (s 0, w .5); negatives C, C' (s 0): logD = log 2
    //            l = -[ (1 - log 2) + (0 - log 2) ] / 2
    //  anchor C: positive C' (s 1); negatives A, A' (s -1), B, B' (s 0): logD = log(2/e + 2), l = -(1 - logD)
    // Loss = mean over the six anchors = (lA + lB + lC) / 3.
    auto loss = make("decoupled_conditional", {{"temperature", 1.0}});
    LossInput in;
    in.features = torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, -1.0, 0.0, -1.0, 0.0}, torch::kDouble).view({3, 2, 2});
    in.labels = torch::tensor({0, 0, 1}, torch::kLong);
    in.confidence = torch::tensor({1.0, 0.5, 1.0}, torch::kDouble);
    const double e = std::exp(1.0);
    const double lA = -((1 - std::log(2 / e)) + (0 - std::log(2 / e))) / 2;
    const double lB = -((1 - std::log(2.0)) + (0 - std::log(2.0))) / 2;
    const double lC = -(1 - std::log(2 / e + 2));
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - (lA + lB + lC) / 3) < 1e-12);
  }

  void matchesAPerAnchorLoop() {
    torch::manual_seed(31);
    const int64_t b = 6, v = 2;
    LossInput in;
    in.features = torch::randn({b, v, 4}, torch::kDouble);
    in.labels = torch::tensor({0, 1, -1, 0, 1, 0}, torch::kLong);
    in.confidence = torch::tensor({1.0, 0.75, 0.0, 0.5, 1.0, 2.0 / 3}, torch::kDouble);
    const double t = 0.2;
    const torch::Tensor z = in.features / in.features.norm(2, 2, true);
    double total = 0;
    int anchors = 0;
    for (int64_t i = 0; i < b * v; ++i) {
      const int64_t si = i % b;  // view-major order: row r is view r / b of sample r % b
      double num = 0, wsum = 0, den = 0;
      std::vector<std::pair<double, double>> pos;
      for (int64_t j = 0; j < b * v; ++j) {
        if (j == i) continue;
        const int64_t sj = j % b;
        const double s = z[si][i / b].dot(z[sj][j / b]).item<double>() / t;
        double w = 0;
        if (sj == si) w = 1;
        else if (in.labels[si].item<int64_t>() >= 0 && in.labels[si].item<int64_t>() == in.labels[sj].item<int64_t>())
          w = in.confidence[si].item<double>() * in.confidence[sj].item<double>();
        if (w > 0) pos.emplace_back(w, s);
        else den += std::exp(s);
      }
      for (const auto& [w, s] : pos) {
        num += w * (s - std::log(den));
        wsum += w;
      }
      total += -num / wsum;
      ++anchors;
    }
    auto loss = make("decoupled_conditional", {{"temperature", t}});
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - total / anchors) < 1e-10);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(32);
    auto loss = make("decoupled_conditional", {{"temperature", 0.5}});
    const torch::Tensor labels = torch::tensor({0, 1, 0, -1}, torch::kLong), conf = torch::tensor({0.6, 1.0, 0.8, 0.0}, torch::kDouble);
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) {
          LossInput in;
          in.features = x[0];
          in.labels = labels;
          in.confidence = conf;
          return lossValue(*loss, in);
        },
        {torch::randn({4, 2, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void piradsConsensus_data() {
    QTest::addColumn<QList<int>>("scores");
    QTest::addColumn<int>("label");
    QTest::addColumn<double>("confidence");
    QTest::newRow("unanimous suspicious") << QList<int>{4, 5, 5} << 1 << 1.0;
    QTest::newRow("two of three benign") << QList<int>{2, 1, 4} << 0 << 2.0 / 3;
    QTest::newRow("PI-RADS 3 dropped") << QList<int>{3, 4, 3, 2, 5} << 1 << 2.0 / 3;
    QTest::newRow("tie: first read wins") << QList<int>{2, 4} << 0 << 0.5;
    QTest::newRow("only 3s: no metadata") << QList<int>{3, 3} << -1 << 0.0;
    QTest::newRow("no reads") << QList<int>{} << -1 << 0.0;
  }
  void piradsConsensus() {
    QFETCH(QList<int>, scores);
    QFETCH(int, label);
    QFETCH(double, confidence);
    auto r = loupe::train::piradsConsensus(std::vector<int>(scores.begin(), scores.end()));
    QVERIFY(r.ok());
    QCOMPARE(r->label, label);
    QVERIFY(std::abs(r->confidence - confidence) < 1e-12);
  }

  void badScoresAndBatches() {
    QVERIFY(!loupe::train::piradsConsensus({2, 6}).ok());
    auto loss = make("decoupled_conditional");
    LossInput in;
    in.features = torch::randn({2, 1, 3});
    in.labels = torch::tensor({0, 1}, torch::kLong);
    QVERIFY(!loss->compute(in).ok());  // one view
    in.features = torch::randn({2, 2, 3});
    in.labels = torch::tensor({0, 0}, torch::kLong);
    in.confidence = torch::ones({2});
    QVERIFY(!loss->compute(in).ok());  // everything positive: no negatives
  }
};

QTEST_APPLESS_MAIN(TestLossDecoupledConditional)
#include "test_loss_decoupled_conditional.moc"
