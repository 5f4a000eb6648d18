// CoNe: a hand-worked case with a two-entry bank, the three terms against the authors' network/cone.py
// (supcon_in, generate_dc_target and the losses of forward(), re-typed in Python torch), float64 gradients,
// and the bank's ring update.
#include <QtTest>

#include <cmath>

#include "LossTestUtil.h"
#include "train/losses/Cone.h"

using namespace loupe::train;
using namespace losstest;

class TestLossCone : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void emptyBankIsCrossEntropy() {
    // logits (0, 0), label 0: L_ce = log 2, no neighbours yet.
    auto loss = make("cone");
    LossInput in;
    in.features = torch::tensor({1.0, 0.0}, torch::kDouble).view({1, 2});
    in.logits = torch::zeros({1, 2}, torch::kDouble);
    in.labels = torch::tensor({0}, torch::kLong);
    QVERIFY(std::abs(lossValue(*loss, in).item<double>() - std::log(2.0)) < 1e-12);
  }

  void handWorkedTwoEntryBank() {
    // Bank: keys (1, 0) label 0 probs (1, 0); (0, 1) label 1 probs (0, 1). q = (1, 0), logits (0, 0),
    // label 0, t_sup = t_dc = 1, knn_k = 2, no keys (q is its own key).
    //  L_ce  = log 2                                             = 0.6931472
    //  sims (1, 0) -> weights (e/(e+1), 1/(e+1)); same label: first -> p = e/(e+1) = 0.7310586
    //  L_sup = -log p                                            = 0.3132617
    //  target = weights @ probs = (0.7310586, 0.2689414); softmax(logits) = (1/2, 1/2)
    //  L_dc  = sum t log(t / 0.5)                                = 0.1109456
    ConeOptions o;
    o.tSup = o.tDc = 1.0;
    o.knnK = 2;
    ConeLoss loss(o);
    loss.setBank(torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({2, 2}), torch::tensor({0, 1}, torch::kLong),
                 torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({2, 2}));
    LossInput in;
    in.features = torch::tensor({1.0, 0.0}, torch::kDouble).view({1, 2});
    in.logits = torch::zeros({1, 2}, torch::kDouble);
    in.labels = torch::tensor({0}, torch::kLong);
    const double e = std::exp(1.0), p = e / (e + 1);
    const double ce = std::log(2.0), sup = -std::log(p), dc = p * std::log(p / 0.5) + (1 - p) * std::log((1 - p) / 0.5);
    QVERIFY(std::abs(lossValue(loss, in).item<double>() - (ce + sup + dc)) < 1e-12);
    const auto terms = loss.lastTerms();
    QVERIFY(std::abs(terms.at("sup") - sup) < 1e-12);
    QVERIFY(std::abs(terms.at("dc") - dc) < 1e-12);
  }

  void matchesTheAuthorsCodeInPython() {
    torch::manual_seed(21);
    const int64_t b = 6, d = 5, c = 4, k = 32;
    const torch::Tensor q = torch::randn({b, d}, torch::kDouble), key = torch::randn({b, d}, torch::kDouble);
    const torch::Tensor logits = torch::randn({b, c}, torch::kDouble);
    const torch::Tensor labels = torch::randint(0, c, {b}, torch::kLong);
    const torch::Tensor bank = torch::randn({k, d}, torch::kDouble);
    const torch::Tensor bankLabels = torch::randint(0, c, {k}, torch::kLong);
    const torch::Tensor bankProbs = torch::randn({k, c}, torch::kDouble).softmax(1);
    const QString script =
        "import sys, json, torch, torch.nn.functional as F\n"
        "A = [torch.tensor(json.loads(a), dtype=torch.float64) for a in sys.argv[1:8]]\n"
        "norm_q, k = F.normalize(A[0].double(), dim=1), F.normalize(A[1].double(), dim=1)\n"
        "q_logits, target = A[2].double(), A[3].long()\n"
        "queue, queue_label, queue_label_prob = F.normalize(A[4].double(), dim=1).T, A[5].long(), A[6].double().T\n"
        "knn_k, t_sup, t_dc, ls, C = 8, 0.1, 0.07, 0.1, q_logits.shape[1]\n"
        "sim = torch.mm(norm_q, queue)\n"
        "idx = sim.topk(k=knn_k, dim=-1)[1]\n"
        "w = F.softmax(sim.gather(1, idx) / t_sup, dim=-1)\n"
        "gt = (w * torch.eq(target.unsqueeze(1), queue_label[idx])).sum(1)\n"
        "m = gt > 1e-8\n"
        "supin = torch.sum(-gt[m].log()) / norm_q.size(0)\n"
        "dc_target = F.softmax(torch.mm(k, queue) / t_dc, dim=-1) @ queue_label_prob.T\n"
        "onehot = torch.zeros_like(q_logits).fill_(ls / (C - 1)).scatter_(1, target.unsqueeze(1), 1 - ls)\n"
        "qm = F.softmax(q_logits, dim=1).min(dim=1)[0] > 1e-8\n"
        "fc = -torch.sum(onehot[qm] * F.log_softmax(q_logits[qm], dim=1), dim=1).sum() / norm_q.size(0)\n"
        "dc = F.kl_div(F.log_softmax(q_logits[qm], dim=1), dc_target[qm], reduction='sum') / norm_q.size(0)\n"
        "print(repr(fc.item()), repr(supin.item()), repr(dc.item()))\n";
    QStringList args;
    for (const auto& t : {q, key, logits, labels, bank, bankLabels, bankProbs}) args << QString::fromStdString(json(t));
    bool skip = false;
    const QString out = python(script, args, &skip);
    if (skip) QSKIP("/usr/bin/python3 with torch is not available");
    QVERIFY2(!out.startsWith("ERROR"), qPrintable(out));
    const QStringList ref = out.split(' ');
    QCOMPARE(ref.size(), 3);
    ConeOptions o;
    o.knnK = 8;
    o.labelSmoothing = 0.1;
    o.queue = k;
    ConeLoss loss(o);
    loss.setBank(bank, bankLabels, bankProbs);
    LossInput in;
    in.features = q;
    in.keys = key;
    in.logits = logits;
    in.labels = labels;
    const double total = lossValue(loss, in).item<double>();
    const auto terms = loss.lastTerms();
    const QString ours = QString("ours %1 %2 %3 python %4").arg(terms.at("ce"), 0, 'g', 17).arg(terms.at("sup"), 0, 'g', 17).arg(terms.at("dc"), 0, 'g', 17).arg(out);
    QVERIFY2(std::abs(terms.at("ce") - ref[0].toDouble()) < 1e-10, qPrintable(ours));
    QVERIFY2(std::abs(terms.at("sup") - ref[1].toDouble()) < 1e-10, qPrintable(ours));
    QVERIFY2(std::abs(terms.at("dc") - ref[2].toDouble()) < 1e-10, qPrintable(ours));
    QVERIFY(std::abs(total - (ref[0].toDouble() + ref[1].toDouble() + ref[2].toDouble())) < 1e-10);
  }

  void gradientMatchesFiniteDifferences() {
    torch::manual_seed(22);
    ConeOptions o;
    o.knnK = 4;
    o.queue = 10;
    ConeLoss loss(o);
    loss.setBank(torch::randn({10, 3}, torch::kDouble), torch::randint(0, 3, {10}, torch::kLong),
                 torch::randn({10, 3}, torch::kDouble).softmax(1));
    const torch::Tensor labels = torch::tensor({0, 1, 2, 1}, torch::kLong), keys = torch::randn({4, 3}, torch::kDouble);
    const double err = gradientError(
        [&](const std::vector<torch::Tensor>& x) {
          LossInput in;
          in.features = x[0];
          in.logits = x[1];
          in.labels = labels;
          in.keys = keys;
          return lossValue(loss, in);
        },
        {torch::randn({4, 3}, torch::kDouble), torch::randn({4, 3}, torch::kDouble)});
    QVERIFY2(err < 1e-6, qPrintable(QString::number(err)));
  }

  void bankFillsAsARing() {
    ConeOptions o;
    o.queue = 3;
    ConeLoss loss(o);
    LossInput in;
    in.features = torch::tensor({3.0, 0.0, 0.0, 2.0}, torch::kFloat).view({2, 2});
    in.logits = torch::zeros({2, 2});
    in.labels = torch::tensor({0, 1}, torch::kLong);
    loss.update(in);
    QCOMPARE(loss.bankKeys().size(0), int64_t(2));
    QVERIFY(torch::allclose(loss.bankKeys()[0], torch::tensor({1.0f, 0.0f})));
    QVERIFY(torch::allclose(loss.bankProbs()[1], torch::tensor({0.5f, 0.5f})));
    in.labels = torch::tensor({1, 0}, torch::kLong);
    loss.update(in);  // third slot, then overwrites the first
    QCOMPARE(loss.bankKeys().size(0), int64_t(3));
    QCOMPARE(loss.bankLabels()[0].item<int64_t>(), int64_t(0));
    QCOMPARE(loss.bankLabels()[1].item<int64_t>(), int64_t(1));
    QCOMPARE(loss.bankLabels()[2].item<int64_t>(), int64_t(1));
  }
};

QTEST_APPLESS_MAIN(TestLossCone)
#include "test_loss_cone.moc"
