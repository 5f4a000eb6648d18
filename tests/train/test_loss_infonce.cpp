// InfoNCE / NT-Xent: hand-worked cases, float64 gradients against finite differences, and SimCLR's NT-Xent
// written independently in Python torch (cross-entropy over the 2B x 2B similarity matrix).
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

class TestLossInfoNce : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorkedOrthogonalPairs() {
    // a = a' = (1, 0), b = b' = (0, 1), T = 1: anchor a sees a' (s = 1), b and b' (s = 0):
    // l = -log(e / (e + 2)) = log(1 + 2/e) = 0.5514447, the same for all four anchors.
    auto loss = make("infonce", {{"temperature", 1.0}});
    const torch::Tensor f = torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0}, torch::kDouble).view({2, 2, 2});
    QVERIFY(std::abs(lossValue(*loss, input(f)).item<double>() - std::log(1 + 2 / std::exp(1.0))) < 1e-12);
  }

  void singlePairHasNoNegatives() {
    // B = 1: each view's only other embedding is its positive, l = -log(1) = 0 whatever the vectors.
    auto loss = make("infonce");
    QVERIFY(std::abs(lossValue(*loss, input(torch::randn({1, 2, 5}, torch::kDouble))).item<double>()) < 1e-12);
  }

  void scaleInvariant() {
    // Cosine similarity: scaling an embedding by 3 changes nothing.
    torch::manual_seed(1);
    auto loss = make("infonce");
    const torch::Tensor f = torch::randn({4, 2, 3}, torch::kDouble);
    QVERIFY(std::abs(lossValue(*loss, input(f)).item<double>() - lossValue(*loss, input(f * 3)).item<double>()) < 1e-12);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(4);
    auto loss = make("infonce", {{"temperature", 0.2}});
    const double err = gradientError([&](const std::vector<torch::Tensor>& x) { return lossValue(*loss, input(x[0])); },
                                     {torch::randn({4, 2, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void matchesPythonNtXent() {
    torch::manual_seed(9);
    const torch::Tensor f = torch::randn({6, 2, 5}, torch::kDouble);
    const QString script =
        "import sys, json, torch, torch.nn.functional as F\n"
        "f = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float64)\n"
        "z = F.normalize(torch.cat([f[:, 0], f[:, 1]]), dim=1)\n"
        "n = z.shape[0]; b = n // 2\n"
        "sim = z @ z.T / 0.1\n"
        "sim.fill_diagonal_(float('-inf'))\n"
        "target = torch.cat([torch.arange(b, n), torch.arange(0, b)])\n"
        "print(repr(F.cross_entropy(sim, target).item()))\n";
    bool skip = false;
    const QString out = python(script, {QString::fromStdString(json(f))}, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    auto loss = make("infonce", {{"temperature", 0.1}});
    QVERIFY(std::abs(lossValue(*loss, input(f)).item<double>() - out.toDouble()) < 1e-10);
  }

  void needsTwoViews() {
    auto loss = make("infonce");
    QVERIFY(!loss->compute(input(torch::randn({4, 3, 2}))).ok());
    QVERIFY(!loss->compute(input(torch::randn({4, 2}))).ok());
  }
};

QTEST_APPLESS_MAIN(TestLossInfoNce)
#include "test_loss_infonce.moc"
