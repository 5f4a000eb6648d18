// SupCon: hand-worked cases, float64 gradients against finite differences, and the authors' algorithm
// (HobbitLong/SupContrast losses.py, re-typed in Python torch and run here) on random batches.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

class TestLossSupCon : public QObject {
  Q_OBJECT
 private:
  // Two samples, two identical views each: a = a' = (1, 0), b = b' = (0, 1).
  static torch::Tensor orthogonalPairs() {
    return torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0}, torch::kDouble).view({2, 2, 2});
  }

 private Q_SLOTS:
  void differentLabelsIsNtXent() {
    // Labels {0, 1}, T = T_base = 1. Anchor a: positive a' (s = 1), others b, b' (s = 0):
    // l = -(1 - log(e + 2)) = log(1 + 2/e) = 0.5514447; all four anchors are alike.
    auto loss = make("supcon", {{"temperature", 1.0}, {"base_temperature", 1.0}});
    LossInput in = input(orthogonalPairs(), torch::tensor({0, 1}, torch::kLong));
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - std::log(1 + 2 / std::exp(1.0))) < 1e-12);
  }

  void sameLabelsAverageOverAllPositives() {
    // Labels {0, 0}: anchor a has positives a' (s = 1), b, b' (s = 0); mean log-prob =
    // (1 + 0 + 0)/3 - log(e + 2) = -1.2181114, loss = 1.2181114 for every anchor.
    auto loss = make("supcon", {{"temperature", 1.0}, {"base_temperature", 1.0}});
    LossInput in = input(orthogonalPairs(), torch::tensor({0, 0}, torch::kLong));
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - (std::log(std::exp(1.0) + 2) - 1.0 / 3)) < 1e-12);
  }

  void temperatureRatioScalesTheLoss() {
    // T = 0.5, T_base = 1: logits double; labels {0, 1}: l = -(2 - log(e^2 + 2)), times T / T_base = 0.5.
    auto loss = make("supcon", {{"temperature", 0.5}, {"base_temperature", 1.0}});
    LossInput in = input(orthogonalPairs(), torch::tensor({0, 1}, torch::kLong));
    const double expected = 0.5 * (std::log(std::exp(2.0) + 2) - 2);
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - expected) < 1e-12);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(3);
    auto loss = make("supcon", {{"temperature", 0.3}});
    const torch::Tensor labels = torch::tensor({0, 1, 0, 2, 1}, torch::kLong);
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) { return lossValue(*loss, input(x[0], labels)); },
        {torch::randn({5, 2, 4}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void matchesTheAuthorsAlgorithmInPython() {
    torch::manual_seed(7);
    const torch::Tensor f = torch::randn({8, 2, 6}, torch::kDouble);
    const torch::Tensor labels = torch::tensor({0, 1, 2, 0, 1, 3, 0, 2}, torch::kLong);  // label 3: no positive but its view
    // Re-typed from SupContrast/losses.py (contrast_mode 'all'), features normalised first as in its main.
    const QString script =
        "import sys, json, torch\n"
        "f = torch.nn.functional.normalize(torch.tensor(json.loads(sys.argv[1]), dtype=torch.float64), dim=2)\n"
        "labels = torch.tensor(json.loads(sys.argv[2])).view(-1, 1)\n"
        "T, Tb = 0.1, 0.07\n"
        "bsz, n_views = f.shape[0], f.shape[1]\n"
        "mask = torch.eq(labels, labels.T).double()\n"
        "cf = torch.cat(torch.unbind(f, dim=1), dim=0)\n"
        "adc = torch.div(torch.matmul(cf, cf.T), T)\n"
        "lmax, _ = torch.max(adc, dim=1, keepdim=True)\n"
        "logits = adc - lmax.detach()\n"
        "mask = mask.repeat(n_views, n_views)\n"
        "lm = torch.scatter(torch.ones_like(mask), 1, torch.arange(bsz * n_views).view(-1, 1), 0)\n"
        "mask = mask * lm\n"
        "exp_logits = torch.exp(logits) * lm\n"
        "log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))\n"
        "mpp = mask.sum(1)\n"
        "mpp = torch.where(mpp < 1e-6, 1, mpp)\n"
        "mlpp = (mask * log_prob).sum(1) / mpp\n"
        "loss = -(T / Tb) * mlpp\n"
        "print(repr(loss.view(n_views, bsz).mean().item()))\n";
    bool skip = false;
    const QString out = python(script, {QString::fromStdString(json(f)), QString::fromStdString(json(labels))}, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    auto loss = make("supcon", {{"temperature", 0.1}, {"base_temperature", 0.07}});
    const double ours = lossValue(*loss, input(f, labels)).item<double>();
    QVERIFY2(std::abs(ours - out.toDouble()) < 1e-10, qPrintable(QString("%1 vs %2").arg(ours, 0, 'g', 17).arg(out)));
  }

  void badInputIsAnError() {
    auto loss = make("supcon");
    auto r = loss->compute(input(torch::randn({4, 2, 3}), torch::tensor({0, 1}, torch::kLong)));
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("labels") != std::string::npos);
    QVERIFY(!makeLoss("supcon", {{"temprature", 0.1}}).ok());
  }
};

QTEST_APPLESS_MAIN(TestLossSupCon)
#include "test_loss_supcon.moc"
