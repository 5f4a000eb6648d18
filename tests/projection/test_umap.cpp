// UMAP: the a/b curve fit (umap-learn's published values for min_dist 0.1, spread 1, and scipy's curve_fit
// at run time for another setting), sigma/rho calibration, the fuzzy union on a hand-worked graph, separated
// blobs, determinism, the sequential CPU SGD against the batched (CUDA) epochs, progressive callbacks that stop, prompt cancellation, umap-js / scikit-learn's TSNE on
// a Fashion-MNIST subset (fixture from make_reference.py), bad input.
#include <QtTest>

#include <QElapsedTimer>
#include <QProcess>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "ProjectionTestUtil.h"
#include "analysis/Umap.h"

using namespace loupe;
using namespace loupe::analysis;
using namespace projection_test;

class TestUmap : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void fitsStandardCurve() {
    // umap-learn's find_ab_params(1.0, 0.1) (scipy curve_fit): a = 1.5769434603, b = 0.8950608781.
    auto ab = umapFitAB(1.0, 0.1);
    QVERIFY(ab.ok());
    qInfo("a = %.10f, b = %.10f", ab->first, ab->second);
    QVERIFY(std::abs(ab->first - 1.5769434603) < 1e-4);
    QVERIFY(std::abs(ab->second - 0.8950608781) < 1e-4);
  }

  void fitsLikeScipy() {
    // Reference: scipy.optimize.curve_fit on the same curve, run here when /usr/bin/python3 has scipy.
    QProcess p;
    p.start("/usr/bin/python3", {"-c",
                                 "import numpy as np\n"
                                 "from scipy.optimize import curve_fit\n"
                                 "spread, md = 2.0, 0.5\n"
                                 "xv = np.linspace(0, spread * 3, 300)\n"
                                 "yv = np.where(xv < md, 1.0, np.exp(-(xv - md) / spread))\n"
                                 "f = lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b))\n"
                                 "print('%.12f %.12f' % tuple(curve_fit(f, xv, yv)[0]))\n"});
    if (!p.waitForFinished(60000) || p.exitCode() != 0) QSKIP("python3 with scipy is not available");
    const QStringList ref = QString::fromUtf8(p.readAllStandardOutput()).split(' ', Qt::SkipEmptyParts);
    QCOMPARE(ref.size(), 2);
    auto ab = umapFitAB(2.0, 0.5);
    QVERIFY(ab.ok());
    QVERIFY(std::abs(ab->first - ref[0].toDouble()) < 1e-5 * ref[0].toDouble());
    QVERIFY(std::abs(ab->second - ref[1].toDouble()) < 1e-5 * ref[1].toDouble());
  }

  void calibratesSigmaAndRho() {
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({300, 8}) * torch::linspace(0.1, 10, 300).unsqueeze(1);
    const KnnGraph g = graphOf(x, 14);
    auto sr = umapSmoothKnnDistances(g);
    QVERIFY(sr.ok());
    const auto& [sigma, rho] = *sr;
    const torch::Tensor d = g.distances.to(torch::kDouble);
    QVERIFY(torch::equal(rho, d.select(1, 0)));  // the nearest other point
    // sum_j exp(-max(0, d_ij - rho_i) / sigma_i) = log2(15) (the point itself counts as umap-learn's first).
    const torch::Tensor sums = (-(d - rho.unsqueeze(1)).clamp_min(0) / sigma.unsqueeze(1)).exp().sum(1);
    QVERIFY((sums - std::log2(15.0)).abs().max().item<double>() < 1e-4);
  }

  void unitesByHand() {
    // Points 0, 1, 3 with both others as neighbours (n_neighbors 3): rho = 1, 1, 2; each second neighbour is
    // rho + sigma * -ln(log2(3) - 1) away, so its membership is c = log2(3) - 1 and the first one's is 1.
    // Union w + w' - w w': (0,1) 1; (1,2) 1; (0,2) 2c - c^2.
    const torch::Tensor x = torch::tensor({0.0, 1.0, 3.0}).unsqueeze(1);
    auto fg = umapFuzzySimplicialSet(graphOf(x, 2));
    QVERIFY(fg.ok());
    torch::Tensor w = torch::zeros({3, 3}, torch::kDouble);
    w.index_put_({fg->rows, fg->cols}, fg->values);
    const double c = std::log2(3.0) - 1;
    const torch::Tensor expected =
        torch::tensor({0.0, 1.0, 2 * c - c * c, 1.0, 0.0, 1.0, 2 * c - c * c, 1.0, 0.0}, torch::kDouble).view({3, 3});
    QVERIFY2(torch::allclose(w, expected, 0, 1e-4), qPrintable(QString::fromStdString(torch::str(w))));
  }

  void keepsBlobsApart() {
    const auto [x, labels] = blobs(5, 100, 20, 12.0, 5);
    UmapOptions o;
    o.epochs = 200;
    auto r = umap(x, o);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->epochs, 200);
    QVERIFY(r->layout.sizes() == torch::IntArrayRef({500, 2}));
    QCOMPARE(*knnLabelAccuracy(r->layout, labels, 10), 1.0);
    const torch::Tensor d = torch::cdist(r->layout, r->layout);
    const torch::Tensor same = labels.unsqueeze(1).eq(labels.unsqueeze(0));
    const double within = d.masked_select(same).max().item<double>();
    const double between = d.masked_select(same.logical_not()).min().item<double>();
    qInfo("largest within-blob distance %.2f, smallest between blobs %.2f", within, between);
    QVERIFY(between > 0.2 * within);
  }

  void isDeterministic() {
    const auto [x, labels] = blobs(3, 100, 10, 8.0, 6);
    UmapOptions o;
    o.epochs = 100;
    o.seed = 3;
    auto a = umap(x, o), b = umap(x, o);
    o.seed = 4;
    auto c = umap(x, o);
    QVERIFY(a.ok() && b.ok() && c.ok());
    QVERIFY(torch::equal(a->layout, b->layout));
    QVERIFY(!torch::equal(a->layout, c->layout));
  }

  void reportsProgressAndStops() {
    const auto [x, labels] = blobs(3, 50, 10, 8.0, 7);
    UmapOptions o;
    o.callbackEvery = 10;
    std::vector<int> seen;
    auto r = umap(x, o, nullptr, [&](const torch::Tensor&, int epoch) {
      seen.push_back(epoch);
      return epoch < 30;
    });
    QVERIFY(r.ok());
    QCOMPARE(seen, (std::vector<int>{10, 20, 30}));
    QVERIFY(r->stopped);
    QCOMPARE(r->epochs, 30);
  }

  void cancelsPromptly() {
    torch::manual_seed(8);
    const torch::Tensor x = torch::randn({8000, 10});
    UmapOptions o;
    o.epochs = 100000;
    const CancelledRun r = cancelDuring([&](const CancelToken& cancel) { return umap(x, o, nullptr, {}, cancel); });
    QVERIFY(!r.ok);
    QCOMPARE(r.code, ErrorCode::Cancelled);
    qInfo("returned %lld ms after the cancel", r.returnedMsAfterCancel);
    QVERIFY(r.returnedMsAfterCancel < 2000);
  }

  void matchesPeersOnFashionMnist() {
    const QJsonObject ref = fashionReference();
    QVERIFY2(!ref.isEmpty(), "tests/projection/fashion_reference.json is missing (make_reference.py writes it)");
    const int n = ref["n"].toInt();
    const auto [x, labels] = fashionSubset(n);
    if (!x.defined()) QSKIP("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)");
    QElapsedTimer clock;
    clock.start();
    auto r = umap(x);
    QVERIFY(r.ok());
    const double acc = *knnLabelAccuracy(r->layout, labels, 10);
    const double js = ref["umap_js"].toObject()["accuracy"].toDouble();
    const double sk = ref["sklearn_tsne"].toObject()["accuracy"].toDouble();
    qInfo("10-NN accuracy of the layout: Loupe UMAP %.4f (%lld ms), umap-js %.4f, scikit-learn t-SNE %.4f", acc,
          qint64(clock.elapsed()), js, sk);
    QVERIFY(js > 0.5);
    QVERIFY2(acc > js - 0.03, qPrintable(QString("Loupe %1 vs umap-js %2").arg(acc).arg(js)));
  }

  void sequentialAndBatchedAgree() {
    // The CPU's sequential per-edge SGD (umap-learn's order) and the batched epochs that CUDA runs sample the
    // same edges and the same number of negatives per epoch; they differ only in when a move becomes visible.
    // Reference: both must lay out the same Fashion-MNIST subset about equally well (10-NN accuracy within
    // 0.03) and the same separated blobs perfectly.
    const auto [bx, bl] = blobs(4, 100, 16, 10.0, 9);
    UmapOptions o;
    o.epochs = 150;
    auto seq = umap(bx, o);
    o.batched = true;
    auto bat = umap(bx, o);
    QVERIFY(seq.ok() && bat.ok());
    QCOMPARE(*knnLabelAccuracy(seq->layout, bl, 10), 1.0);
    QCOMPARE(*knnLabelAccuracy(bat->layout, bl, 10), 1.0);
    QVERIFY(!torch::equal(seq->layout, bat->layout));

    const auto [x, labels] = fashionSubset(2000);
    if (!x.defined()) QSKIP("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)");
    UmapOptions f;
    auto s = umap(x, f);
    f.batched = true;
    auto b = umap(x, f);
    QVERIFY(s.ok() && b.ok());
    const double accS = *knnLabelAccuracy(s->layout, labels, 10), accB = *knnLabelAccuracy(b->layout, labels, 10);
    qInfo("10-NN accuracy: sequential %.4f, batched %.4f", accS, accB);
    QVERIFY2(std::abs(accS - accB) < 0.03, qPrintable(QString("sequential %1 vs batched %2").arg(accS).arg(accB)));
  }

  void rejectsBadInput() {
    UmapOptions o;
    QVERIFY(umap(torch::randn({10, 3}), o).error().message.find("n_neighbors") != std::string::npos);
    torch::Tensor x = torch::randn({50, 3});
    x[1][1] = std::nan("");
    QVERIFY(umap(x, o).error().message.find("NaN") != std::string::npos);
    o.minDist = 3;
    QVERIFY(!umap(torch::randn({50, 3}), o).ok());
    KnnGraph wrong = graphOf(torch::randn({40, 3}), 14);
    QVERIFY(umap(torch::randn({50, 3}), {}, &wrong).error().message.find("one row of neighbours") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestUmap)
#include "test_umap.moc"
