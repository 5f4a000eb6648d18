// Cross-entropy: a hand-worked case, label smoothing against Python's torch.nn.functional.cross_entropy,
// float64 gradients against finite differences, and label range errors.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

class TestLossCrossEntropy : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorked() {
    // logits (0, ln 3), label 1: softmax = (1/4, 3/4), loss = -ln(3/4) = 0.2876821.
    auto loss = make("ce");
    LossInput in;
    in.logits = torch::tensor({0.0, std::log(3.0)}, torch::kDouble).view({1, 2});
    in.labels = torch::tensor({1}, torch::kLong);
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() + std::log(0.75)) < 1e-12);
    // With label smoothing 0.2 over 2 classes the target is (0.1, 0.9): 0.1 ln 4 + 0.9 ln(4/3).
    auto smooth = make("ce", {{"label_smoothing", 0.2}});
    QVERIFY(std::abs(lossValue(*smooth, in).item<double>() - (0.1 * std::log(4.0) + 0.9 * std::log(4.0 / 3))) < 1e-12);
  }

  void matchesPython() {
    torch::manual_seed(2);
    LossInput in;
    in.logits = torch::randn({7, 4}, torch::kDouble);
    in.labels = torch::tensor({0, 3, 2, 1, 1, 0, 3}, torch::kLong);
    bool skip = false;
    const QString out = python(
        "import sys, json, torch, torch.nn.functional as F\n"
        "x = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float64); y = torch.tensor(json.loads(sys.argv[2]))\n"
        "print(repr(F.cross_entropy(x, y, label_smoothing=0.1).item()))\n",
        {QString::fromStdString(json(in.logits)), QString::fromStdString(json(in.labels))}, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    auto loss = make("ce", {{"label_smoothing", 0.1}});
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - out.toDouble()) < 1e-12);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(5);
    auto loss = make("ce", {{"label_smoothing", 0.1}});
    const torch::Tensor y = torch::tensor({2, 0, 1}, torch::kLong);
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) {
          LossInput in;
          in.logits = x[0];
          in.labels = y;
          return lossValue(*loss, in);
        },
        {torch::randn({3, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-8, qPrintable(QString::number(err)));
  }

  void labelOutOfRange() {
    auto loss = make("ce");
    LossInput in;
    in.logits = torch::randn({2, 3});
    in.labels = torch::tensor({0, 3}, torch::kLong);
    auto r = loss->compute(in);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("0..2") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestLossCrossEntropy)
#include "test_loss_cross_entropy.moc"
