// The forgery extractor and its trainer (backend/train/ForgeryExtractor.h, ForgeryTrainer.h): the mask
// pooling on a hand-made case, the feature grid size, a package that the runtime opens through its generic
// loader (runtime::ImageModel, as forgery.localize does) giving the network's own features, training that
// lowers FOCAL's loss on held-out splices, resume = uninterrupted run (same weights), prompt cancel.
#include <QtTest>

#include <QTemporaryDir>

#include <torch/torch.h>

#include <fstream>

#include "io/ImageReader.h"
#include "runtime/ImageModel.h"
#include "TestFiles.h"
#include "train/ForgeryTrainer.h"
#include "train/losses/Loss.h"

using namespace loupe;
using namespace loupe::train;

namespace {

std::vector<torch::Tensor> photos() {
  std::vector<torch::Tensor> out;
  for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png"}) {
    const QString path = test::debianPhoto(name);
    if (path.isEmpty()) return {};
    auto image = io::loadImage(path.toStdString());
    if (!image) return {};
    out.push_back(*rgbTensor(*image));
  }
  return out;
}

// Noise-level splices make a learnable task in a few steps: the donor gets Gaussian noise.
SpliceSynthOptions small() {
  SpliceSynthOptions o;
  o.size = 64;
  o.noiseProb = 1.0;
  o.minNoiseSigma = 6;
  o.maxNoiseSigma = 12;
  o.minArea = 0.15;
  o.maxArea = 0.4;
  o.resampleProb = o.blurProb = 0.0;
  return o;
}

ForgeryTrainOptions tiny() {
  ForgeryTrainOptions t;
  t.model.width = 8;
  t.model.featureDim = 8;
  t.epochs = 2;
  t.stepsPerEpoch = 4;
  t.batchSize = 4;
  t.learningRate = 3e-3;
  t.warmupSteps = 1;
  t.threads = 1;
  t.seed = 3;
  return t;
}

double heldOutLoss(ForgeryFcn& net, const SpliceSynth& synth) {
  torch::NoGradGuard g;
  net->eval();
  auto loss = makeLoss("focal_pixel");
  torch::manual_seed(0);
  auto batch = synth.batch(1'000'000, 16);
  LossInput in;
  in.features = net->forward(forgeryInput(batch->first));
  in.mask = poolForgeryMask(batch->second);
  return (*loss)->compute(in)->item<double>();
}

}  // namespace

class TestForgeryTrainer : public QObject {
  Q_OBJECT
  std::vector<torch::Tensor> photos_;

 private Q_SLOTS:
  void initTestCase() {
    photos_ = photos();
    if (photos_.empty()) QSKIP("python3-skimage's sample photos are not installed");
  }

  void poolsMaskIntoPureAndMixedCells() {
    // 6 x 8 mask, cells of 4: row 0 = [0 0 0 0 | 1 1 1 1] (all pure), row 1 (2 rows, partial) mixed on the left.
    torch::Tensor m = torch::zeros({1, 6, 8}, torch::kLong);
    m.index_put_({0, torch::indexing::Slice(0, 4), torch::indexing::Slice(4, 8)}, 1);
    m.index_put_({0, 5, 0}, 1);
    m.index_put_({0, torch::indexing::Slice(4, 6), torch::indexing::Slice(4, 8)}, 1);
    const torch::Tensor p = poolForgeryMask(m);
    QCOMPARE(p.sizes(), (torch::IntArrayRef{1, 2, 2}));
    QCOMPARE(p[0][0][0].item<int64_t>(), int64_t(0));
    QCOMPARE(p[0][0][1].item<int64_t>(), int64_t(1));
    QCOMPARE(p[0][1][0].item<int64_t>(), int64_t(-1));  // 1 of 8 pixels forged
    QCOMPARE(p[0][1][1].item<int64_t>(), int64_t(1));   // the partial cell's 8 pixels all forged
  }

  void featureGridIsQuarterResolution() {
    ForgeryFcn net(ForgeryFcnConfig{8, 5});
    net->eval();
    torch::NoGradGuard g;
    for (auto [h, w] : {std::pair{64, 64}, {37, 50}, {5, 9}}) {
      const auto f = net->forward(torch::zeros({2, 3, h, w}));
      QCOMPARE(f.sizes(), (torch::IntArrayRef{2, 5, (h + 3) / 4, (w + 3) / 4}));
    }
  }

  void packageOpensThroughTheRuntime() {
    QTemporaryDir dir;
    ForgeryFcn net(ForgeryFcnConfig{8, 6});
    net->eval();
    ForgeryPackageInfo info;
    info.id = "forgery-test";
    QVERIFY(!saveForgeryFcnPackage(net, info, dir.path().toStdString()));  // licence and provenance are required
    info.licence = "MIT";
    info.provenance = "test";
    info.extraFiles.push_back({"photos.txt", "none\n"});
    auto saved = saveForgeryFcnPackage(net, info, dir.path().toStdString());
    QVERIFY2(saved, saved ? "" : saved.error().message.c_str());
    registerForgeryExtractorLoader();
    auto model = runtime::ImageModel::open(dir.path().toStdString(), "forgery.localize", {});
    QVERIFY2(model, model ? "" : model.error().message.c_str());
    QVERIFY(std::any_of(model->package().files.begin(), model->package().files.end(),
                        [](const runtime::PackageFile& f) { return f.path == "photos.txt"; }));
    auto image = io::loadImage(test::debianPhoto("coffee.png").toStdString());
    auto out = model->run(*image);
    QVERIFY2(out, out ? "" : out.error().message.c_str());
    QCOMPARE((*out)[0].sizes(), (torch::IntArrayRef{1, 6, (400 + 3) / 4, (600 + 3) / 4}));
    torch::NoGradGuard g;
    const auto direct = net->forward(forgeryInput(rgbTensor(*image)->unsqueeze(0)));
    QVERIFY(torch::allclose((*out)[0], direct, 1e-4, 1e-4));
    auto rows = model->pixelFeatures((*out)[0], 0);
    QVERIFY(rows);
    QCOMPARE(rows->size(0), int64_t(100 * 150));
    // A tampered file is refused by the SHA-256 check.
    {
      std::ofstream f((dir.path() + "/photos.txt").toStdString(), std::ios::app);
      f << "x";
    }
    QVERIFY(!runtime::ImageModel::open(dir.path().toStdString(), "forgery.localize", {}));
  }

  void trainingLowersHeldOutLoss() {
    auto synth = SpliceSynth::create(photos_, small());
    QVERIFY(synth);
    torch::manual_seed(3);
    ForgeryFcn init(tiny().model);
    const double before = heldOutLoss(init, *synth);
    auto t = tiny();
    t.epochs = 3;
    t.stepsPerEpoch = 10;
    auto r = trainForgeryExtractor(*synth, t);
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QCOMPARE(int(r->epochLoss.size()), 3);
    const double after = heldOutLoss(r->model, *synth);
    qInfo("FOCAL loss on 16 held-out splices: %.4f at initialisation, %.4f after 30 steps", before, after);
    QVERIFY(after < before - 0.05);
  }

  void resumeEqualsUninterruptedRun() {
    auto synth = SpliceSynth::create(photos_, small());
    QTemporaryDir dir;
    auto straight = trainForgeryExtractor(*synth, tiny());
    QVERIFY(straight);
    auto t = tiny();
    t.checkpointPath = (dir.path() + "/ck.pt").toStdString();
    t.onEpoch = [](int epoch, double, ForgeryFcn&) { return epoch < 1; };  // stop after epoch 1
    auto first = trainForgeryExtractor(*synth, t);
    QVERIFY(first);
    QCOMPARE(int(first->epochLoss.size()), 1);
    t.onEpoch = nullptr;
    t.resume = true;
    auto second = trainForgeryExtractor(*synth, t);
    QVERIFY2(second, second ? "" : second.error().message.c_str());
    QCOMPARE(second->startEpoch, 1);
    QCOMPARE(second->epochLoss, straight->epochLoss);
    auto a = straight->model->parameters(), b = second->model->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) QVERIFY(torch::equal(a[i], b[i]));
    // A checkpoint of another network is refused with a message.
    auto other = tiny();
    other.model.width = 4;
    other.checkpointPath = t.checkpointPath;
    other.resume = true;
    auto refused = trainForgeryExtractor(*synth, other);
    QVERIFY(!refused);
    QVERIFY(QString::fromStdString(refused.error().message).contains("another network"));
  }

  void cancelIsPrompt() {
    auto synth = SpliceSynth::create(photos_, small());
    CancelToken cancel;
    cancel.cancel();
    QElapsedTimer timer;
    timer.start();
    auto r = trainForgeryExtractor(*synth, tiny(), {}, cancel);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
    QVERIFY(timer.elapsed() < 2000);
  }
};

QTEST_GUILESS_MAIN(TestForgeryTrainer)
#include "test_forgery_trainer.moc"
