// The age head (backend/train/AgeHead): the ordinal read-out worked by hand, learning ages from synthetic
// "face features" whose truth is known (age along one direction, identity along others), determinism,
// packages (round trip, SHA-256 tamper check, wrong architecture), bad input and prompt cancellation.
#include <QtTest>

#include <QTemporaryDir>

#include <chrono>
#include <fstream>
#include <thread>

#include "train/AgeHead.h"

using namespace loupe;
using namespace loupe::train;

namespace {
// n faces: ages uniform in 1..90; features = age code along a random unit direction + a per-identity offset
// (identities shared by several faces of different ages) + noise, in 64 dimensions.
struct Synthetic {
  torch::Tensor x, age;
};
Synthetic synthetic(int64_t n, uint64_t seed, int dims = 64) {
  auto gen = at::detail::createCPUGenerator(seed);
  const torch::Tensor age = at::randint(1, 91, {n}, gen).to(torch::kFloat32);
  auto dirGen = at::detail::createCPUGenerator(777);  // the same "age direction" for every split
  torch::Tensor dir = at::randn({dims}, dirGen);
  dir = dir / dir.norm();
  const torch::Tensor identities = 2.0 * at::randn({20, dims}, dirGen);
  const torch::Tensor who = at::randint(0, 20, {n}, gen);
  const torch::Tensor code = (age / 30.0).unsqueeze(1) * dir.unsqueeze(0) * 4.0;
  torch::Tensor x = code + identities.index_select(0, who) + 0.3 * at::randn({n, dims}, gen);
  return {x, age};
}

AgeTrainOptions smallOptions(int dims) {
  AgeTrainOptions o;
  o.model.inputDim = dims;
  o.model.hidden = 64;
  o.model.embeddingDim = 16;
  o.epochs = 40;
  o.batchSize = 32;
  return o;
}
}  // namespace

class TestAgeHead : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(2); }

  void ordinalReadoutByHand() {
    // With every weight 0 the logits are the threshold biases. Biases +30 for k < 25 and -30 after: 25
    // thresholds say "older" with sigmoid(30) = 1 - 9.4e-14, the rest sigmoid(-30) = 9.4e-14: age = 25.
    AgeHeadConfig c;
    c.inputDim = 4;
    c.hidden = 3;
    c.embeddingDim = 2;
    c.thresholds = 40;
    AgeHead head(c);
    head->eval();
    torch::NoGradGuard noGrad;
    for (auto& p : head->named_parameters()) p.value().zero_();
    auto bias = head->named_parameters()["threshold_bias"];
    bias.narrow(0, 0, 25).fill_(30.0);
    bias.narrow(0, 25, 15).fill_(-30.0);
    const auto out = head->forward(torch::randn({3, 4}));
    for (int i = 0; i < 3; ++i) QVERIFY(std::abs(out.age[i].item<double>() - 25.0) < 1e-5);
    // Half-way biases (0) give sigmoid 0.5 each: age = K / 2.
    bias.zero_();
    QVERIFY(std::abs(head->forward(torch::randn({1, 4})).age[0].item<double>() - 20.0) < 1e-5);
  }

  void learnsAgesItNeverSaw() {
    const auto train = synthetic(400, 1), test = synthetic(200, 2);
    for (double w : {0.0, 1.0}) {  // ordinal term alone, and with the age_cosine contrastive term
      auto o = smallOptions(64);
      o.contrastiveWeight = w;
      auto r = trainAgeHead(train.x, train.age, o);
      QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
      auto p = predictAges(r->model, test.x);
      QVERIFY(p.ok());
      const double mae = (p->age - test.age).abs().mean().item<double>();
      // Constant guess (the median) on uniform 1..90: about 22.5 years. The age code is 4 / 30 per year
      // against noise 0.3 per dimension and identity offsets the head must ignore.
      const double constant = (test.age - test.age.median()).abs().mean().item<double>();
      qInfo("contrastive weight %.0f: held-out MAE %.2f years (constant guess %.2f), loss %.3f -> %.3f", w, mae,
            constant, r->epochLoss.front(), r->epochLoss.back());
      QVERIFY2(mae < 5.0, qPrintable(QString::number(mae)));
      QVERIFY(r->epochLoss.back() < r->epochLoss.front());
      QCOMPARE(p->embedding.size(1), 16);
    }
  }

  void contrastiveEmbeddingIsAgeOrdered() {
    // Faces of similar age should be more alike than faces far apart in age, whoever they are. Measured as
    // mean cosine similarity of held-out pairs within 3 years minus pairs 30+ years apart; the age_cosine term
    // must widen that gap over the ordinal term alone (which only needs one direction of the embedding).
    const auto train = synthetic(400, 3), test = synthetic(200, 4);
    const torch::Tensor gap = (test.age.unsqueeze(0) - test.age.unsqueeze(1)).abs();
    const torch::Tensor off = torch::eye(200, torch::kBool).logical_not();
    double separation[2] = {0, 0}, near[2] = {0, 0};
    for (int w = 0; w < 2; ++w) {
      auto o = smallOptions(64);
      o.contrastiveWeight = w;
      auto r = trainAgeHead(train.x, train.age, o);
      QVERIFY(r.ok());
      auto p = predictAges(r->model, test.x);
      QVERIFY(p.ok());
      const torch::Tensor z = p->embedding / p->embedding.norm(2, 1, true);
      const torch::Tensor s = z.matmul(z.t());
      near[w] = s.masked_select(gap.le(3).logical_and(off)).mean().item<double>();
      const double far = s.masked_select(gap.ge(30)).mean().item<double>();
      separation[w] = near[w] - far;
      qInfo("contrastive weight %d: similarity within 3 years %.3f, 30+ years apart %.3f", w, near[w], far);
    }
    QVERIFY(near[1] > 0.5);
    QVERIFY(separation[1] > 0.8);
    QVERIFY(separation[1] > separation[0] + 0.2);
  }

  void deterministicForASeed() {
    const auto d = synthetic(100, 5);
    auto o = smallOptions(64);
    o.epochs = 5;
    auto a = trainAgeHead(d.x, d.age, o), b = trainAgeHead(d.x, d.age, o);
    QVERIFY(a.ok() && b.ok());
    QVERIFY(torch::equal(predictAges(a->model, d.x)->age, predictAges(b->model, d.x)->age));
  }

  void packageRoundTrip() {
    QTemporaryDir dir;
    const auto d = synthetic(100, 6);
    auto o = smallOptions(64);
    o.epochs = 3;
    auto r = trainAgeHead(d.x, d.age, o);
    QVERIFY(r.ok());
    AgeHeadPackageInfo info;
    info.id = "test-age-head";
    info.licence = "MIT";
    info.provenance = "test_age_head synthetic data";
    info.featureSettings = "synthetic";
    const std::string folder = (dir.path() + "/head").toStdString();
    auto saved = saveAgeHeadPackage(r->model, info, folder);
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    auto loaded = loadAgeHeadPackage(folder);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    QCOMPARE(loaded->package.id, std::string("test-age-head"));
    QCOMPARE(loaded->featureSettings, std::string("synthetic"));
    QCOMPARE(loaded->package.input.kind, std::string("vectors"));
    QVERIFY(torch::equal(predictAges(r->model, d.x)->age, predictAges(loaded->model, d.x)->age));
    QVERIFY(torch::equal(predictAges(r->model, d.x)->embedding, predictAges(loaded->model, d.x)->embedding));

    // One byte changed in the weights: refused by its SHA-256, with the file named.
    {
      std::fstream f(folder + "/model.pt", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      char c = 0;
      f.seekg(100);
      f.read(&c, 1);
      c = char(c ^ 0x5a);
      f.seekp(100);
      f.write(&c, 1);
    }
    auto tampered = loadAgeHeadPackage(folder);
    QVERIFY(!tampered.ok());
    QVERIFY2(tampered.error().message.find("model.pt") != std::string::npos, tampered.error().message.c_str());
  }

  void refusesOtherPackagesAndBadInput() {
    QTemporaryDir dir;
    auto missing = loadAgeHeadPackage((dir.path() + "/nothing").toStdString());
    QVERIFY(!missing.ok());
    QVERIFY(!parseAgeHeadArchitecture(R"({"architecture": "loupe.embedding_cnn"})").ok());
    QVERIFY(!parseAgeHeadArchitecture(R"({"architecture": "loupe.age_head", "input_dim": 0, "hidden": 1, "embedding_dim": 1, "thresholds": 1})").ok());
    QVERIFY(parseAgeHeadArchitecture(ageHeadArchitectureJson({})).ok());
    auto o = smallOptions(64);
    QVERIFY(!trainAgeHead(torch::randn({20, 32}), torch::ones({20}), o).ok());    // wrong width
    QVERIFY(!trainAgeHead(torch::randn({20, 64}), torch::ones({19}), o).ok());    // ages do not match
    QVERIFY(!trainAgeHead(torch::randn({4, 64}), torch::ones({4}), o).ok());      // too few faces
    torch::Tensor nan = torch::randn({20, 64});
    nan[3][5] = std::nan("");
    auto r = trainAgeHead(nan, torch::ones({20}), o);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("NaN") != std::string::npos);
    QVERIFY(!trainAgeHead(torch::randn({20, 64}), torch::full({20}, 500.0), o).ok());  // beyond the thresholds
    o.contrastiveLoss = "no_such_loss";
    QVERIFY(!trainAgeHead(torch::randn({20, 64}), torch::ones({20}), o).ok());
  }

  void cancelsPromptly() {
    const auto d = synthetic(400, 7);
    auto o = smallOptions(64);
    o.epochs = 100000;
    CancelToken cancel;
    std::thread t([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      cancel.cancel();
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = trainAgeHead(d.x, d.age, o, {}, cancel);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t.join();
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
    QVERIFY2(s < 3.0, qPrintable(QString::number(s)));  // one batch is milliseconds; generous for a loaded machine
  }
};

QTEST_APPLESS_MAIN(TestAgeHead)
#include "test_age_head.moc"
