// Embedding metrics: hand-worked kNN votes (the exp(sim / 0.07) weighting must matter), a brute-force kNN
// loop on random data, Recall@K worked out by hand on four points, the linear probe against scikit-learn's
// LogisticRegression on the same blobs, and bad input.
#include <QtTest>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>

#include "train/metrics/EmbeddingMetrics.h"

using namespace loupe;
using namespace loupe::train;

class TestEmbeddingMetrics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void weightedVoteBeatsMajority() {
    // Query (1, 0). Bank: A sim 0.9 label 0; B, C sim 0.1 label 1; D sim -1 label 0. k = 3 -> A, B, C.
    // T = 0.07: class 0 gets exp(0.9/0.07) = 3.8e5, class 1 gets 2 exp(0.1/0.07) = 8.35 -> 0.
    // T = 10 (almost equal weights): exp(0.09) = 1.09 < 2 exp(0.01) = 2.02 -> the majority, 1.
    const double s = std::sqrt(1 - 0.81), t = std::sqrt(1 - 0.01);
    const torch::Tensor bank = torch::tensor({0.9, s, 0.1, t, 0.1, -t, -1.0, 0.0}).view({4, 2});
    const torch::Tensor bankY = torch::tensor({0, 1, 1, 0}, torch::kLong);
    const torch::Tensor q = torch::tensor({1.0, 0.0}).view({1, 2});
    KnnOptions o;
    o.k = 3;
    auto r = knnClassify(bank, bankY, q, torch::tensor({0}, torch::kLong), o);
    QVERIFY(r.ok());
    QCOMPARE(r->predictions[0].item<int64_t>(), int64_t(0));
    QCOMPARE(r->accuracy, 1.0);
    o.temperature = 10;
    r = knnClassify(bank, bankY, q, torch::tensor({0}, torch::kLong), o);
    QCOMPARE(r->predictions[0].item<int64_t>(), int64_t(1));
    QCOMPARE(r->accuracy, 0.0);
  }

  void matchesBruteForceLoop() {
    torch::manual_seed(3);
    const torch::Tensor bank = torch::randn({60, 4}), q = torch::randn({25, 4});
    const torch::Tensor by = torch::randint(0, 3, {60}, torch::kLong), qy = torch::randint(0, 3, {25}, torch::kLong);
    KnnOptions o;
    o.k = 5;
    o.chunk = 7;  // several chunks
    auto r = knnClassify(bank, by, q, qy, o);
    QVERIFY(r.ok());
    const torch::Tensor bn = bank / bank.norm(2, 1, true), qn = q / q.norm(2, 1, true);
    for (int i = 0; i < 25; ++i) {
      std::vector<std::pair<double, int>> sims;
      for (int j = 0; j < 60; ++j) sims.emplace_back(qn[i].dot(bn[j]).item<double>(), int(by[j].item<int64_t>()));
      std::sort(sims.begin(), sims.end(), [](auto a, auto b) { return a.first > b.first; });
      double votes[3] = {0, 0, 0};
      for (int j = 0; j < 5; ++j) votes[sims[j].second] += std::exp(sims[j].first / 0.07);
      const int best = int(std::max_element(votes, votes + 3) - votes);
      QCOMPARE(r->predictions[i].item<int64_t>(), int64_t(best));
    }
  }

  void recallAtKByHand() {
    // x0 (1,0) L0, x1 (.8,.6) L1, x2 (.6,.8) L0, x3 (0,1) L1. Nearest others, by cosine:
    // x0: x1 (.8, L1), x2 (.6, L0)  -> hit at 2;   x1: x2 (.96, L0), x0 (.8, L0), x3 (.6, L1) -> hit at 3
    // x2: x1 (.96, L1), x3 (.8, L1), x0 (.6, L0) -> hit at 3;   x3: x2 (.8, L0), x1 (.6, L1) -> hit at 2
    // R@1 = 0, R@2 = 2/4, R@3 = 4/4.
    const torch::Tensor x = torch::tensor({1.0, 0.0, 0.8, 0.6, 0.6, 0.8, 0.0, 1.0}).view({4, 2});
    auto r = recallAtK(x, torch::tensor({0, 1, 0, 1}, torch::kLong), {1, 2, 3}, 3);
    QVERIFY(r.ok());
    QCOMPARE(r->at(1), 0.0);
    QCOMPARE(r->at(2), 0.5);
    QCOMPARE(r->at(3), 1.0);
    QVERIFY(!recallAtK(x, torch::tensor({0, 1, 0, 1}, torch::kLong), {4}).ok());  // K must be < N
  }

  void linearProbeMatchesScikitLearn() {
    torch::manual_seed(5);
    const torch::Tensor centres = torch::randn({3, 5}) * 1.5;
    auto draw = [&](int perClass) {
      std::vector<torch::Tensor> xs, ys;
      for (int c = 0; c < 3; ++c) {
        xs.push_back(centres[c] + torch::randn({perClass, 5}));
        ys.push_back(torch::full({perClass}, c, torch::kLong));
      }
      return std::make_pair(torch::cat(xs), torch::cat(ys));
    };
    const auto [x, y] = draw(200);
    const auto [tx, ty] = draw(100);
    LinearProbeOptions o;
    o.epochs = 60;
    o.batchSize = 64;
    auto r = linearProbe(x, y, tx, ty, o);
    QVERIFY(r.ok());
    if (!QFile::exists("/usr/bin/python3")) QSKIP("no /usr/bin/python3 for scikit-learn");
    QTemporaryDir dir;
    auto dump = [&](const torch::Tensor& t, const QString& name) {
      QFile f(dir.filePath(name));
      QVERIFY(f.open(QIODevice::WriteOnly));
      const torch::Tensor c = t.to(torch::kDouble).contiguous();
      f.write(reinterpret_cast<const char*>(c.data_ptr<double>()), qint64(c.numel() * 8));
    };
    dump(x, "x");
    dump(y, "y");
    dump(tx, "tx");
    dump(ty, "ty");
    QProcess p;
    p.start("/usr/bin/python3",
            {"-c",
             "import sys, numpy as np\n"
             "from sklearn.linear_model import LogisticRegression\n"
             "from sklearn.preprocessing import StandardScaler\n"
             "d = sys.argv[1]; r = lambda n: np.fromfile(d + '/' + n, dtype='<f8')\n"
             "x, y, tx, ty = r('x').reshape(-1, 5), r('y'), r('tx').reshape(-1, 5), r('ty')\n"
             "s = StandardScaler().fit(x)\n"
             "m = LogisticRegression(max_iter=1000).fit(s.transform(x), y)\n"
             "print(m.score(s.transform(tx), ty))\n",
             dir.path()});
    if (!p.waitForFinished(120000) || p.exitCode() != 0) QSKIP("scikit-learn is not available");
    const double reference = p.readAllStandardOutput().trimmed().toDouble();
    QVERIFY2(std::abs(r->testAccuracy - reference) <= 0.02,
             qPrintable(QString("ours %1, scikit-learn %2").arg(r->testAccuracy).arg(reference)));
  }

  void badInput() {
    const torch::Tensor x = torch::randn({4, 2});
    QVERIFY(!knnClassify(x, torch::tensor({0, 1, 0}, torch::kLong), x, torch::tensor({0, 1, 0, 1}, torch::kLong)).ok());
    torch::Tensor nan = x.clone();
    nan[1][1] = NAN;
    auto r = knnClassify(nan, torch::tensor({0, 1, 0, 1}, torch::kLong), x, torch::tensor({0, 1, 0, 1}, torch::kLong));
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("NaN") != std::string::npos);
    QVERIFY(!knnClassify(x, torch::tensor({0, 1, 0, 1}, torch::kLong), torch::randn({2, 3}), torch::tensor({0, 1}, torch::kLong)).ok());
  }
};

QTEST_APPLESS_MAIN(TestEmbeddingMetrics)
#include "test_embedding_metrics.moc"
