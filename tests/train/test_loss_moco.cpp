// MoCo: a hand-worked case, the queue's ring update, the momentum encoder update, float64 gradients, and
// the official moco/builder.py logits (re-typed in Python torch) on random queries, keys and queue.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"
#include "train/losses/MoCo.h"

using namespace loupe::train;
using namespace losstest;

class TestLossMoco : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorked() {
    // q = k = (1, 0), queue = {(0, 1), (-1, 0)}, T = 1: logits (1, 0, -1),
    // l = -log(e / (e + 1 + 1/e)) = log(1 + 1/e + 1/e^2) = 0.4076059.
    MocoLoss loss(1.0, 2, 0);
    loss.setQueue(torch::tensor({0.0, 1.0, -1.0, 0.0}, torch::kDouble).view({2, 2}));
    LossInput in;
    in.features = torch::tensor({1.0, 0.0}, torch::kDouble).view({1, 2});
    in.keys = in.features.clone();
    const double e = std::exp(1.0);
    QVERIFY(std::abs(lossValue(loss, in).item<double>() - std::log(1 + 1 / e + 1 / (e * e))) < 1e-12);
  }

  void queueIsARing() {
    MocoLoss loss(0.07, 3, 0);
    loss.setQueue(torch::zeros({3, 2}, torch::kDouble));
    LossInput in;
    in.features = torch::randn({2, 2}, torch::kDouble);
    in.keys = torch::tensor({2.0, 0.0, 0.0, 3.0}, torch::kDouble).view({2, 2});  // stored normalised
    loss.update(in);
    QCOMPARE(loss.queuePosition(), int64_t(2));
    QVERIFY(torch::allclose(loss.queue()[0], torch::tensor({1.0, 0.0}, torch::kDouble)));
    QVERIFY(torch::allclose(loss.queue()[1], torch::tensor({0.0, 1.0}, torch::kDouble)));
    in.keys = torch::tensor({-1.0, 0.0, 0.0, -1.0}, torch::kDouble).view({2, 2});
    loss.update(in);  // slot 2, then wraps to slot 0
    QCOMPARE(loss.queuePosition(), int64_t(1));
    QVERIFY(torch::allclose(loss.queue()[2], torch::tensor({-1.0, 0.0}, torch::kDouble)));
    QVERIFY(torch::allclose(loss.queue()[0], torch::tensor({0.0, -1.0}, torch::kDouble)));
    QVERIFY(torch::allclose(loss.queue()[1], torch::tensor({0.0, 1.0}, torch::kDouble)));
  }

  void momentumUpdateBlends() {
    // m = 0.9: target 10 -> 0.9 * 10 + 0.1 * 0 = 9; the online tensor is untouched.
    torch::Tensor online = torch::zeros({2, 2}), target = torch::full({2, 2}, 10.0);
    QVERIFY(momentumUpdate({online}, {target}, 0.9).ok());
    QVERIFY(torch::allclose(target, torch::full({2, 2}, 9.0)));
    QVERIFY(torch::allclose(online, torch::zeros({2, 2})));
    QVERIFY(!momentumUpdate({online}, {torch::zeros({3})}, 0.9).ok());
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(6);
    MocoLoss loss(0.2, 5, 1);
    loss.setQueue(torch::randn({5, 3}, torch::kDouble));
    const torch::Tensor keys = torch::randn({4, 3}, torch::kDouble);
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) {
          LossInput in;
          in.features = x[0];
          in.keys = keys;
          return lossValue(loss, in);
        },
        {torch::randn({4, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-7, qPrintable(QString::number(err)));
  }

  void matchesOfficialLogitsInPython() {
    torch::manual_seed(8);
    const torch::Tensor q = torch::randn({5, 4}, torch::kDouble), k = torch::randn({5, 4}, torch::kDouble),
                        queue = torch::randn({16, 4}, torch::kDouble);
    // moco/builder.py: l_pos = einsum('nc,nc->n'), l_neg = einsum('nc,ck->nk', q, queue), CE to index 0.
    const QString script =
        "import sys, json, torch, torch.nn.functional as F\n"
        "q, k, queue = (F.normalize(torch.tensor(json.loads(a), dtype=torch.float64), dim=1) for a in sys.argv[1:4])\n"
        "l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)\n"
        "l_neg = torch.einsum('nc,ck->nk', [q, queue.T])\n"
        "logits = torch.cat([l_pos, l_neg], dim=1) / 0.07\n"
        "print(repr(F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long)).item()))\n";
    bool skip = false;
    const QString out = python(script, {QString::fromStdString(json(q)), QString::fromStdString(json(k)),
                                        QString::fromStdString(json(queue))}, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    auto loss = make("moco", {{"queue", 16}});
    static_cast<MocoLoss&>(*loss).setQueue(queue);
    LossInput in;
    in.features = q;
    in.keys = k;
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - out.toDouble()) < 1e-10);
  }

  void needsKeys() {
    auto loss = make("moco");
    QVERIFY(!loss->compute(input(torch::randn({2, 3}))).ok());
  }
};

QTEST_APPLESS_MAIN(TestLossMoco)
#include "test_loss_moco.moc"
