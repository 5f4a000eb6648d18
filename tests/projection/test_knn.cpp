// Exact k-NN: hand-worked neighbours in both metrics, agreement with a brute-force float64 reference (all
// pairwise differences formed explicitly, then sorted) whatever the block size, graph validation, the 10-NN
// label accuracy on a hand-worked layout, bad input and cancellation.
#include <QtTest>

#include <cmath>

#include "analysis/Knn.h"

using namespace loupe;
using namespace loupe::analysis;

Q_DECLARE_METATYPE(loupe::analysis::KnnMetric)

class TestKnn : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void handWorkedEuclidean() {
    // Points 0, 1, 3, 7 on a line: each row's two nearest others, by hand.
    const torch::Tensor x = torch::tensor({0.0, 1.0, 3.0, 7.0}).unsqueeze(1);
    KnnOptions o;
    o.k = 2;
    auto g = exactKnn(x, o);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    const std::vector<std::int64_t> ids{1, 2, 0, 2, 1, 0, 2, 1};
    const std::vector<float> dist{1, 3, 1, 2, 2, 3, 4, 6};
    QVERIFY(torch::equal(g->indices.reshape(-1), torch::tensor(ids)));
    QVERIFY(torch::allclose(g->distances.reshape(-1), torch::tensor(dist)));
  }

  void handWorkedCosine() {
    // (1,0), (0,1), (1,1), (-1,0): the nearest of (1,0) is (1,1) at 1 - 1/sqrt(2); of (-1,0), (0,1) at 1.
    const torch::Tensor x = torch::tensor({1.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, 0.0}, torch::kDouble).view({4, 2});
    KnnOptions o;
    o.k = 1;
    o.metric = KnnMetric::Cosine;
    auto g = exactKnn(x, o);
    QVERIFY(g.ok());
    QCOMPARE(g->indices[0][0].item<std::int64_t>(), std::int64_t(2));
    QVERIFY(std::abs(g->distances[0][0].item<double>() - (1 - 1 / std::sqrt(2.0))) < 1e-12);
    QCOMPARE(g->indices[3][0].item<std::int64_t>(), std::int64_t(1));  // cos((−1,0),(0,1)) = 0 beats (1,1) (−0.707) and (1,0) (−1)
    QVERIFY(std::abs(g->distances[3][0].item<double>() - 1.0) < 1e-12);
  }

  void matchesBruteForce_data() {
    QTest::addColumn<KnnMetric>("metric");
    QTest::addColumn<bool>("doublePrecision");
    QTest::addColumn<qint64>("blockBytes");
    QTest::newRow("euclidean float, one block") << KnnMetric::Euclidean << false << qint64(256) * 1024 * 1024;
    QTest::newRow("euclidean float, 7-row blocks") << KnnMetric::Euclidean << false << qint64(7 * 300 * 8);
    QTest::newRow("euclidean double, 1-row blocks") << KnnMetric::Euclidean << true << qint64(1);
    QTest::newRow("cosine float, 13-row blocks") << KnnMetric::Cosine << false << qint64(13 * 300 * 8);
    QTest::newRow("cosine double") << KnnMetric::Cosine << true << qint64(256) * 1024 * 1024;
  }

  void matchesBruteForce() {
    QFETCH(KnnMetric, metric);
    QFETCH(bool, doublePrecision);
    QFETCH(qint64, blockBytes);
    torch::manual_seed(3);
    const torch::Tensor x64 = torch::randn({300, 7}, torch::kDouble);
    // Reference: all pairwise distances in float64 from explicit differences / normalised dot products.
    torch::Tensor ref;
    if (metric == KnnMetric::Euclidean) {
      ref = (x64.unsqueeze(1) - x64.unsqueeze(0)).pow(2).sum(2).sqrt();
    } else {
      const torch::Tensor u = x64 / x64.norm(2, {1}, true);
      ref = 1 - (u.unsqueeze(1) * u.unsqueeze(0)).sum(2);
    }
    ref.diagonal().fill_(std::numeric_limits<double>::infinity());
    const auto [refDist, refIds] = ref.sort(1);
    KnnOptions o;
    o.k = 12;
    o.metric = metric;
    o.blockBytes = blockBytes;
    auto g = exactKnn(doublePrecision ? x64 : x64.to(torch::kFloat), o);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QVERIFY(g->indices.sizes() == torch::IntArrayRef({300, 12}));
    QVERIFY(torch::equal(g->indices, refIds.narrow(1, 0, 12)));
    const double tol = doublePrecision ? 1e-10 : 2e-5;
    QVERIFY((g->distances.to(torch::kDouble) - refDist.narrow(1, 0, 12)).abs().max().item<double>() < tol);
  }

  void validatesForeignGraphs() {
    KnnGraph g;
    g.indices = torch::tensor({1, 0, 0}, torch::kLong).view({3, 1});
    g.distances = torch::ones({3, 1});
    QVERIFY(validateKnnGraph(g, 3).ok());
    QVERIFY(!validateKnnGraph(g, 4).ok());  // wrong row count
    g.indices[2][0] = 2;                     // self
    QVERIFY(validateKnnGraph(g, 3).error().message.find("own neighbour") != std::string::npos);
    g.indices[2][0] = -1;  // FAISS's "missing"
    QVERIFY(validateKnnGraph(g, 3).error().message.find("-1") != std::string::npos);
    g.indices[2][0] = 0;
    g.distances[1][0] = std::nan("");
    QVERIFY(!validateKnnGraph(g, 3).ok());
  }

  void labelAccuracyHandWorked() {
    // Line 0, 1, 2, 10, 11, 12, 13 with labels a a b b b b a (a = 0, b = 1). k = 2 votes, by hand:
    // 0:{1,2} a,b tie -> a, right; 1:{0,2} a,b -> a, right; 2:{1,0} a,a, wrong; 10:{11,12} b,b, right;
    // 11:{10,12} b,b, right; 12:{11,13} b,a tie -> a, wrong; 13:{12,11} b,b, wrong. 4 of 7.
    const torch::Tensor layout = torch::tensor({0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0}).unsqueeze(1);
    const torch::Tensor labels = torch::tensor({0, 0, 1, 1, 1, 1, 0}, torch::kLong);
    auto acc = knnLabelAccuracy(layout, labels, 2);
    QVERIFY(acc.ok());
    QCOMPARE(*acc, 4.0 / 7.0);
    QVERIFY(!knnLabelAccuracy(layout, labels.narrow(0, 0, 6), 2).ok());
  }

  void rejectsBadInput() {
    KnnOptions o;
    o.k = 5;
    QCOMPARE(exactKnn(torch::randn({5, 3}), o).error().code, ErrorCode::InvalidArgument);  // k >= N
    torch::Tensor x = torch::randn({20, 3});
    x[4][1] = std::numeric_limits<float>::infinity();
    QVERIFY(exactKnn(x, o).error().message.find("NaN or infinite") != std::string::npos);
    QCOMPARE(exactKnn(torch::randn({20}), o).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(exactKnn(torch::ones({20, 3}, torch::kLong), o).error().code, ErrorCode::InvalidArgument);
  }

  void honoursCancellation() {
    CancelToken cancel;
    cancel.cancel();
    QCOMPARE(exactKnn(torch::randn({100, 3}), {}, cancel).error().code, ErrorCode::Cancelled);
  }
};

QTEST_APPLESS_MAIN(TestKnn)
#include "test_knn.moc"
