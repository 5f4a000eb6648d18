// FOCAL's per-image pixel InfoNCE: a hand-worked 2 x 2 image, the authors' losses.py info_nce with
// explicit negatives (re-typed in Python torch) on random features, images without forged pixels, float64
// gradients.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"

using namespace loupe::train;
using namespace losstest;

class TestLossFocalPixel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorked() {
    // One 2 x 2 image, D = 2: top row pristine (1, 0), bottom row forged (0, 1). Query 1: mean cosine to the
    // other query = 1, to the two negatives 0: l = -log(e^(1/T) / (e^(1/T) + 2)) = log(1 + 2 e^(-1/T)).
    LossInput in;
    in.features = torch::tensor({1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0}, torch::kDouble).view({1, 2, 2, 2});
    in.mask = torch::tensor({0, 0, 1, 1}, torch::kLong).view({1, 2, 2});
    QVERIFY(std::abs(lossValue(*make("focal_pixel", {{"temperature", 1.0}}), in).item<double>() - std::log(1 + 2 / std::exp(1.0))) < 1e-12);
    QVERIFY(std::abs(lossValue(*make("focal_pixel"), in).item<double>() - std::log(1 + 2 * std::exp(-10.0))) < 1e-12);
  }

  void matchesTheAuthorsInfoNceInPython() {
    torch::manual_seed(41);
    LossInput in;
    in.features = torch::randn({2, 4, 3, 3}, torch::kDouble);
    in.mask = (torch::rand({2, 3, 3}) > 0.6).to(torch::kLong);
    in.mask[0][0][0] = 1;
    in.mask[0][0][1] = 0;
    in.mask[0][0][2] = 0;
    in.mask[1][1][1] = 1;
    in.mask[1][2][2] = 0;
    in.mask[1][2][1] = 0;
    // main.py: per image, query = pixels with mask 0, negative = mask 1; losses.py info_nce(query, query,
    // negative) with cosine metric and T = 0.1; batch loss = mean over images. max_samples exceeds the pixel
    // count, so no subsampling (and no randomness) is involved.
    const QString script =
        "import sys, json, torch, torch.nn.functional as F\n"
        "Fo = F.normalize(torch.tensor(json.loads(sys.argv[1]), dtype=torch.float64).permute(0, 2, 3, 1), dim=3)\n"
        "Mg = torch.tensor(json.loads(sys.argv[2]))\n"
        "losses = []\n"
        "for i in range(Fo.shape[0]):\n"
        "    query = Fo[i][Mg[i] == 0]; negative = Fo[i][Mg[i] == 1]\n"
        "    q, n = F.normalize(query, dim=-1), F.normalize(negative, dim=-1)\n"
        "    sim = q @ q.T\n"
        "    mask = (torch.ones_like(sim) - torch.eye(sim.shape[0])).bool()\n"
        "    sim = sim.masked_select(mask).view(sim.shape[0], -1)\n"
        "    logits = torch.cat([sim.mean(dim=1, keepdim=True), q @ n.T], dim=1)\n"
        "    losses.append(F.cross_entropy(logits / 0.1, torch.zeros(len(logits), dtype=torch.long)))\n"
        "print(repr(torch.stack(losses).mean().item()))\n";
    bool skip = false;
    const QString out = python(script, {QString::fromStdString(json(in.features)), QString::fromStdString(json(in.mask))}, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    QVERIFY(std::abs(lossValue(*make("focal_pixel"), in).item<double>() - out.toDouble()) < 1e-10);
  }

  void imagesWithoutForgeryAreSkipped() {
    torch::manual_seed(42);
    LossInput one;
    one.features = torch::randn({1, 3, 2, 2}, torch::kDouble);
    one.mask = torch::tensor({0, 0, 1, 0}, torch::kLong).view({1, 2, 2});
    const double alone = lossValue(*make("focal_pixel"), one).item<double>();
    LossInput two;
    two.features = torch::cat({one.features, torch::randn({1, 3, 2, 2}, torch::kDouble)});
    two.mask = torch::cat({one.mask, torch::zeros({1, 2, 2}, torch::kLong)});  // second image: all pristine
    QVERIFY(std::abs(lossValue(*make("focal_pixel"), two).item<double>() - alone) < 1e-12);
    LossInput none;
    none.features = torch::randn({1, 3, 2, 2}, torch::kDouble).requires_grad_(true);
    none.mask = torch::zeros({1, 2, 2}, torch::kLong);
    const torch::Tensor zero = lossValue(*make("focal_pixel"), none);
    QCOMPARE(zero.item<double>(), 0.0);
    QVERIFY(zero.requires_grad());
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(43);
    auto loss = make("focal_pixel", {{"temperature", 0.5}});
    const torch::Tensor mask = torch::tensor({0, 1, 0, 0, 1, 0}, torch::kLong).view({1, 2, 3});
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) {
          LossInput in;
          in.features = x[0];
          in.mask = mask;
          return lossValue(*loss, in);
        },
        {torch::randn({1, 3, 2, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void maskMustMatch() {
    LossInput in;
    in.features = torch::randn({1, 3, 4, 4});
    in.mask = torch::zeros({1, 2, 2}, torch::kLong);
    auto r = make("focal_pixel")->compute(in);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("4 x 4") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestLossFocalPixel)
#include "test_loss_focal_pixel.moc"
