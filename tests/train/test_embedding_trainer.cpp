// The training loop on synthetic images made here (ten classes of stripes: horizontal or vertical, period
// 2..6 pixels, at a random phase, plus noise, so a tiny CNN learns them in seconds): augmentation by hand, the loss falls and kNN separates
// held-out images, a seed gives identical weights, an interrupted run resumed from its checkpoint ends with
// the same weights as an uninterrupted one, cancellation, and bad options.
#include <QtTest>

#include <QTemporaryDir>

#include <random>

#include "train/EmbeddingTrainer.h"
#include "train/metrics/EmbeddingMetrics.h"

using namespace loupe;
using namespace loupe::train;

namespace {
ImageSet squares(int perClass, uint64_t seed) {
  torch::manual_seed(seed);
  const int n = perClass * 10;
  torch::Tensor images = (torch::rand({n, 1, 28, 28}) * 60).to(torch::kUInt8);
  torch::Tensor labels = torch::arange(n, torch::kLong).remainder(10);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = int(labels[i].item<int64_t>());
    const int period = 2 + c % 5, phase = int(rng() % uint64_t(period));
    const int dim = c < 5 ? 1 : 2;  // rows (horizontal stripes) or columns (vertical)
    for (int k = phase; k < 28; k += period) images[i].narrow(dim, k, 1).fill_(200);
  }
  return {images, labels, {}};
}

TrainOptions tiny(const std::string& loss) {
  TrainOptions o;
  o.loss = loss;
  o.model.widths = {8, 16};
  o.model.embeddingDim = 16;
  o.model.projectionDim = 16;
  o.epochs = 8;
  o.batchSize = 50;
  o.learningRate = 5e-3;
  o.warmupSteps = 5;
  o.threads = 1;
  o.seed = 7;
  return o;
}

// Bit-identical parameters and buffers, or within `tolerance` when it is > 0.
bool sameWeights(runtime::EmbeddingCnn& a, runtime::EmbeddingCnn& b, double tolerance = 0) {
  auto same = [&](const torch::Tensor& x, const torch::Tensor& y) {
    return tolerance > 0 ? torch::allclose(x, y, tolerance, tolerance) : torch::equal(x, y);
  };
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa)
    if (!same(p.value(), pb[p.key()])) return false;
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& p : ba)
    if (!same(p.value(), bb[p.key()])) return false;
  return true;
}
}  // namespace

class TestEmbeddingTrainer : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void augmentationCropsAndFlips() {
    // One bright pixel at (row 5, col 3) of an 8 x 8 image. Without padding or flipping the batch is unchanged;
    // a flip moves it to column 4 (= 7 - 3); a padded crop moves it by at most 2 in each direction.
    torch::Tensor img = torch::zeros({64, 1, 8, 8}, torch::kUInt8);
    img.select(2, 5).select(2, 3).fill_(255);
    std::mt19937_64 rng(1);
    QVERIFY(torch::equal(augmentBatch(img, 0, false, rng), img));
    const torch::Tensor flipped = augmentBatch(img, 0, true, rng);
    int flips = 0;
    for (int i = 0; i < 64; ++i) {
      const bool same = torch::equal(flipped[i], img[i]);
      flips += same ? 0 : 1;
      if (!same) QCOMPARE(flipped[i][0][5][4].item<int>(), 255);
    }
    QVERIFY(flips > 16 && flips < 48);  // about half of 64
    const torch::Tensor cropped = augmentBatch(img, 2, false, rng);
    for (int i = 0; i < 64; ++i) {
      const auto nz = cropped[i][0].nonzero();
      QCOMPARE(nz.size(0), int64_t(1));
      QVERIFY(std::abs(nz[0][0].item<int64_t>() - 5) <= 2 && std::abs(nz[0][1].item<int64_t>() - 3) <= 2);
    }
  }

  void learnsSeparableClasses_data() {
    QTest::addColumn<QString>("loss");
    QTest::newRow("ce") << "ce";
    QTest::newRow("supcon") << "supcon";
    QTest::newRow("cone") << "cone";
  }
  void learnsSeparableClasses() {
    QFETCH(QString, loss);
    const ImageSet train = squares(30, 1), test = squares(10, 2);
    TrainOptions o = tiny(loss.toStdString());
    if (loss == "supcon") o.lossParams = {{"temperature", 0.1}};
    auto r = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(int(r->epochLoss.size()), o.epochs);
    QVERIFY2(r->epochLoss.back() < r->epochLoss.front(), qPrintable(QString("%1 -> %2").arg(r->epochLoss.front()).arg(r->epochLoss.back())));
    torch::NoGradGuard g;
    auto embed = [&](const ImageSet& s) { return r->model->embed((s.images.to(torch::kFloat) / 255.0 - 0.2) / 0.3); };
    auto knn = knnClassify(embed(train), train.labels, embed(test), test.labels);
    QVERIFY(knn.ok());
    QVERIFY2(knn->accuracy >= 0.9, qPrintable(QString::number(knn->accuracy)));
  }

  void sameSeedSameWeights() {
    const ImageSet train = squares(10, 3);
    TrainOptions o = tiny("ce");
    o.epochs = 1;
    auto a = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    auto b = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY(a.ok() && b.ok());
    QVERIFY(sameWeights(a->model, b->model));
    o.seed = 8;
    auto c = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY(!sameWeights(a->model, c->model));
  }

  void resumeContinuesExactly_data() {
    QTest::addColumn<QString>("loss");
    QTest::addColumn<double>("tolerance");
    QTest::newRow("ce: bit-identical") << "ce" << 0.0;
    // CoNe's bank is re-normalised when restored (float rounding of unit rows), so only nearly identical.
    QTest::newRow("cone: bank restored") << "cone" << 1e-4;
  }
  void resumeContinuesExactly() {
    QFETCH(QString, loss);
    QFETCH(double, tolerance);
    QTemporaryDir dir;
    const ImageSet train = squares(10, 4);
    TrainOptions o = tiny(loss.toStdString());
    o.epochs = 3;
    auto straight = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY(straight.ok());
    // The same run interrupted after epoch 2 (its checkpoint written), then resumed.
    o.checkpointPath = dir.filePath("ckpt.pt").toStdString();
    o.onEpoch = [](int epoch, double, const std::map<std::string, double>&, runtime::EmbeddingCnn&) { return epoch < 2; };
    auto first = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY(first.ok());
    QCOMPARE(int(first->epochLoss.size()), 2);
    QVERIFY(QFile::exists(dir.filePath("ckpt.pt")));
    QVERIFY(!QFile::exists(dir.filePath("ckpt.pt.partial")));
    o.onEpoch = nullptr;
    o.resume = true;
    auto resumed = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.error().message.c_str());
    QCOMPARE(resumed->startEpoch, 2);
    QCOMPARE(int(resumed->epochLoss.size()), 3);
    QVERIFY(sameWeights(straight->model, resumed->model, tolerance));
    for (int e = 0; e < 3; ++e)
      QVERIFY(std::abs(resumed->epochLoss[e] - straight->epochLoss[e]) <= tolerance * 10);
  }

  void cancellationIsPrompt() {
    CancelToken cancel;
    int reports = 0;
    Progress progress([&](double, const std::string&) {
      if (++reports == 2) cancel.cancel();
    });
    TrainOptions o = tiny("ce");
    o.epochs = 50;
    auto r = trainEmbeddingCnn(squares(10, 5), o, {0.2}, {0.3}, progress, cancel);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
    QCOMPARE(reports, 2);  // stopped before the next step
  }

  void progressCarriesEta() {
    std::string last;
    Progress progress([&](double, const std::string& s) { last = s; });
    TrainOptions o = tiny("ce");
    o.epochs = 1;
    QVERIFY(trainEmbeddingCnn(squares(10, 6), o, {0.2}, {0.3}, progress).ok());
    QVERIFY2(QString::fromStdString(last).contains("epoch 1/1") && QString::fromStdString(last).contains("ETA"), last.c_str());
  }

  void badOptions() {
    const ImageSet train = squares(2, 7);
    TrainOptions o = tiny("ce");
    o.batchSize = 100;  // more than the 20 images
    QVERIFY(!trainEmbeddingCnn(train, o, {0.2}, {0.3}).ok());
    o = tiny("arcface");
    auto r = trainEmbeddingCnn(train, o, {0.2}, {0.3});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("Unknown loss") != std::string::npos);
    o = tiny("ce");
    QVERIFY(!trainEmbeddingCnn(train, o, {0.2, 0.1}, {0.3, 0.3}).ok());  // one mean per channel
  }
};

QTEST_APPLESS_MAIN(TestEmbeddingTrainer)
#include "test_embedding_trainer.moc"
