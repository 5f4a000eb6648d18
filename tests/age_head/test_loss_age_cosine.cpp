// The age-ordered cosine + triplet loss (backend/train/losses/AgeCosine.cpp): a case worked by hand, brute-force
// loops over pairs and triplets in float64 written here independently of the vectorised code, float64
// gradients against central finite differences, views, and the parameter and input checks.
#include <QtTest>

#include <cmath>

#include "../train/LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

namespace {
// The loss written out from its definition with plain loops (no masks, no broadcasting).
double bruteForce(const torch::Tensor& f, const std::vector<double>& ages, double span, double posYears,
                  double negYears, double margin, double wCos, double wTri) {
  const int64_t n = f.size(0);
  const torch::Tensor z = f / f.norm(2, 1, true);
  auto s = [&](int64_t i, int64_t j) { return z[i].dot(z[j]).item<double>(); };
  double cos = 0;
  int pairs = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const double t = 1.0 - 2.0 * std::min(std::abs(ages[i] - ages[j]) / span, 1.0);
      cos += (s(i, j) - t) * (s(i, j) - t);
      ++pairs;
    }
  double tri = 0;
  int triplets = 0;
  for (int64_t a = 0; a < n; ++a)
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = 0; q < n; ++q) {
        if (a == p || std::abs(ages[a] - ages[p]) > posYears || std::abs(ages[a] - ages[q]) < negYears) continue;
        tri += std::max(0.0, s(a, q) - s(a, p) + margin);
        ++triplets;
      }
  return wCos * cos / pairs + wTri * (triplets ? tri / triplets : 0.0);
}
}  // namespace

class TestLossAgeCosine : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void registered() {
    bool found = false;
    for (const auto& [name, summary] : registeredLosses()) found = found || name == "age_cosine";
    QVERIFY(found);
  }

  void handWorked() {
    // a = (1, 0) aged 20, b = (0.6, 0.8) aged 22, c = (0, 1) aged 40; span 40, pos 3, neg 10, margin 0.2.
    // Similarities: s_ab = 0.6, s_ac = 0, s_bc = 0.8. Targets 1 - 2 * gap / 40: ab 0.9, ac 0, bc 0.1.
    // Cosine term: each unordered pair twice: ((0.6 - 0.9)^2 + 0 + (0.8 - 0.1)^2) / 3 = 0.58 / 3.
    // Triplets (anchor, positive within 3 y, negative 10+ y away): (a, b, c): 0 - 0.6 + 0.2 < 0 -> 0;
    // (b, a, c): 0.8 - 0.6 + 0.2 = 0.4; c has no positive. Mean 0.2.
    const torch::Tensor f = torch::tensor({1.0, 0.0, 0.6, 0.8, 0.0, 1.0}, torch::kDouble).view({3, 2});
    const torch::Tensor y = torch::tensor({20, 22, 40}, torch::kLong);
    auto loss = make("age_cosine");
    const double v = lossValue(*loss, input(f, y)).item<double>();
    QVERIFY2(std::abs(v - (0.58 / 3 + 0.2)) < 1e-12, qPrintable(QString::number(v, 'g', 17)));
    QVERIFY(std::abs(loss->lastTerms().at("cosine") - 0.58 / 3) < 1e-12);
    QVERIFY(std::abs(loss->lastTerms().at("triplet") - 0.2) < 1e-12);
    // Weights apply per term; float ages give the same as integer ones.
    const double w = lossValue(*make("age_cosine", {{"cosine_weight", 0.5}, {"triplet_weight", 2.0}}),
                               input(f, torch::tensor({20.0, 22.0, 40.0}, torch::kDouble))).item<double>();
    QVERIFY(std::abs(w - (0.5 * 0.58 / 3 + 2.0 * 0.2)) < 1e-12);
  }

  void identicalAgesWantIdenticalDirections() {
    // Two different "people" (orthogonal features) of the same age: the cosine term is (0 - 1)^2 = 1 per pair;
    // once they point the same way it is 0. This is the identity suppression.
    const torch::Tensor y = torch::tensor({30, 30}, torch::kLong);
    QVERIFY(std::abs(lossValue(*make("age_cosine"), input(torch::eye(2, torch::kDouble), y)).item<double>() - 1.0) < 1e-12);
    QVERIFY(lossValue(*make("age_cosine"), input(torch::ones({2, 2}, torch::kDouble), y)).item<double>() < 1e-12);
  }

  void matchesBruteForceLoops() {
    torch::manual_seed(21);
    const torch::Tensor f = torch::randn({11, 5}, torch::kDouble);
    const std::vector<double> ages = {3, 5, 18, 20, 21, 35, 36, 50, 61, 62, 90};
    const torch::Tensor y = torch::tensor(ages, torch::kDouble);
    for (auto [span, pos, neg, margin] : {std::tuple{40.0, 3.0, 10.0, 0.2}, {25.0, 1.0, 30.0, 0.5}, {60.0, 5.0, 6.0, 0.0}}) {
      const double ours = lossValue(*make("age_cosine", {{"span", span}, {"pos_years", pos}, {"neg_years", neg},
                                                          {"margin", margin}, {"cosine_weight", 0.7}, {"triplet_weight", 1.3}}),
                                    input(f, y)).item<double>();
      const double ref = bruteForce(f, ages, span, pos, neg, margin, 0.7, 1.3);
      QVERIFY2(std::abs(ours - ref) < 1e-12, qPrintable(QString("%1 vs %2").arg(ours, 0, 'g', 17).arg(ref, 0, 'g', 17)));
    }
  }

  void viewsAreSamples() {
    // [B, 2, D]: each view is a sample with its sample's age, as [2B, D] ordered view-major.
    torch::manual_seed(22);
    const torch::Tensor f = torch::randn({4, 2, 3}, torch::kDouble);
    const std::vector<double> ages = {10, 12, 40, 41};
    const double ours = lossValue(*make("age_cosine"), input(f, torch::tensor(ages, torch::kDouble))).item<double>();
    const torch::Tensor flat = f.transpose(0, 1).reshape({8, 3});
    std::vector<double> flatAges = ages;
    flatAges.insert(flatAges.end(), ages.begin(), ages.end());
    QVERIFY(std::abs(ours - bruteForce(flat, flatAges, 40, 3, 10, 0.2, 1, 1)) < 1e-12);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(23);
    auto loss = make("age_cosine", {{"margin", 0.5}, {"pos_years", 4}, {"neg_years", 8}});
    const torch::Tensor y = torch::tensor({20, 22, 31, 33, 45, 47}, torch::kLong);
    const double err = gradientError([&](const std::vector<torch::Tensor>& x) { return lossValue(*loss, input(x[0], y)); },
                                     {torch::randn({6, 4}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void noTripletLeavesTheCosineTerm() {
    // Ages 20 and 40 with pos 3: no positive pair, so the triplet term is 0 and the loss is the cosine term.
    const torch::Tensor f = torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({2, 2});
    auto loss = make("age_cosine");
    const double v = lossValue(*loss, input(f, torch::tensor({20, 40}, torch::kLong))).item<double>();
    QVERIFY(std::abs(v - 0.0) < 1e-12);  // target for a 20-year gap at span 40 is 0 = s
    QCOMPARE(loss->lastTerms().at("triplet"), 0.0);
  }

  void badInputAndParameters() {
    auto loss = make("age_cosine");
    QVERIFY(!loss->compute(input(torch::randn({3, 2}))).ok());                                       // no ages
    QVERIFY(!loss->compute(input(torch::randn({3, 2}), torch::tensor({1, 2}, torch::kLong))).ok());  // wrong count
    QVERIFY(!loss->compute(input(torch::randn({1, 2}), torch::tensor({1}, torch::kLong))).ok());     // one sample
    auto negative = loss->compute(input(torch::randn({2, 2}), torch::tensor({-1, 3}, torch::kLong)));
    QVERIFY(!negative.ok());
    QVERIFY(negative.error().message.find("negative") != std::string::npos);
    QVERIFY(!makeLoss("age_cosine", {{"pos_years", 10}, {"neg_years", 5}}).ok());
    QVERIFY(!makeLoss("age_cosine", {{"span", 0}}).ok());
    auto unknown = makeLoss("age_cosine", {{"temperature", 0.1}});
    QVERIFY(!unknown.ok());
    QVERIFY(unknown.error().message.find("span") != std::string::npos);  // lists the known parameters
  }
};

QTEST_APPLESS_MAIN(TestLossAgeCosine)
#include "test_loss_age_cosine.moc"
