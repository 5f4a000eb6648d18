// Triplet margin on cosine similarity: hand-worked triplets, a brute-force triple loop as a second
// reference on random data, float64 gradients, and a batch without triplets.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

class TestLossTripletCosine : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorked() {
    // a = (1, 0) and p = (0.6, 0.8) share label 0, n = (0, 1) has label 1; margin 0.2.
    // Triplets: (a, p, n): s(a,n) - s(a,p) + 0.2 = 0 - 0.6 + 0.2 < 0 -> 0;
    //           (p, a, n): s(p,n) - s(p,a) + 0.2 = 0.8 - 0.6 + 0.2 = 0.4.  n has no positive. Mean = 0.2.
    const torch::Tensor f = torch::tensor({1.0, 0.0, 0.6, 0.8, 0.0, 1.0}, torch::kDouble).view({3, 2});
    const torch::Tensor y = torch::tensor({0, 0, 1}, torch::kLong);
    QVERIFY(std::abs(lossValue(*make("triplet_cosine", {{"margin", 0.2}}), input(f, y)).item<double>() - 0.2) < 1e-12);
    // The cosine term: positive pairs (a, p) and (p, a), 1 - 0.6 each: + 1.0 * 0.4.
    QVERIFY(std::abs(lossValue(*make("triplet_cosine", {{"margin", 0.2}, {"cosine_weight", 1.0}}), input(f, y)).item<double>() -
                     0.6) < 1e-12);
  }

  void matchesBruteForceLoops() {
    torch::manual_seed(12);
    const torch::Tensor f = torch::randn({9, 3}, torch::kDouble);
    const torch::Tensor y = torch::tensor({0, 1, 2, 0, 1, 2, 0, 0, 1}, torch::kLong);
    const torch::Tensor z = f / f.norm(2, 1, true);
    double sum = 0;
    int count = 0;
    for (int a = 0; a < 9; ++a)
      for (int p = 0; p < 9; ++p)
        for (int n = 0; n < 9; ++n) {
          if (a == p || y[a].item<int64_t>() != y[p].item<int64_t>() || y[n].item<int64_t>() == y[a].item<int64_t>()) continue;
          sum += std::max(0.0, z[a].dot(z[n]).item<double>() - z[a].dot(z[p]).item<double>() + 0.3);
          ++count;
        }
    const double ours = lossValue(*make("triplet_cosine", {{"margin", 0.3}}), input(f, y)).item<double>();
    QVERIFY(std::abs(ours - sum / count) < 1e-12);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(13);
    auto loss = make("triplet_cosine", {{"margin", 0.5}, {"cosine_weight", 0.5}});
    const torch::Tensor y = torch::tensor({0, 1, 0, 1, 2}, torch::kLong);
    const double err = gradientError([&](const std::vector<torch::Tensor>& x) { return lossValue(*loss, input(x[0], y)); },
                                     {torch::randn({5, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void noTripletIsAnError() {
    auto r = make("triplet_cosine")->compute(input(torch::randn({3, 2}), torch::tensor({0, 1, 2}, torch::kLong)));
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("no triplet") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestLossTripletCosine)
#include "test_loss_triplet_cosine.moc"
