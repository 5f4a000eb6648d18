// loupe-cli train embeddings --data fashion-mnist|DIR --loss supcon|cone|ce|... --epochs N --out PACKAGE_DIR
// [--resume]: trains Loupe's native embedding CNN with a registered loss (backend/train), checkpointing after
// every epoch (PACKAGE_DIR/checkpoint.pt, atomic), then writes a native model package into PACKAGE_DIR and
// prints the kNN accuracy (cosine, k = 20, weighted vote) of the test split embedded by the trained model.

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sys/resource.h>

#include "Command.h"
#include "core/Device.h"
#include "host/ExitCodes.h"
#include "runtime/NativeModels.h"
#include "train/EmbeddingTrainer.h"
#include "train/data/Idx.h"
#include "train/metrics/EmbeddingMetrics.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;

struct Options {
  std::string data = "fashion-mnist", loss = "supcon", out, optimizer = "adam", json, widths = "32,64,128", id;
  int epochs = 10, threads = 0, limit = 0, evalEvery = 0, embeddingDim = 128, convsPerStage = 1, warmup = 100,
      cropPadding = 2;
  int64_t batch = 256;
  double lr = 2e-3, weightDecay = 5e-4, ceWeight = 0.0;
  uint64_t seed = 0;
  bool resume = false, quiet = false, keepCheckpoint = false, channelsLast = false;
  std::vector<std::string> lossParams;
} opt;

// DIR: a folder with Fashion-MNIST/MNIST-style IDX files (train-*/t10k-*, optionally .gz).
std::string dataFolder() { return opt.data == "fashion-mnist" ? std::string() : opt.data; }

Result<std::pair<train::ImageSet, train::ImageSet>> loadData() {
  if (opt.data != "fashion-mnist") {
    std::error_code ec;
    if (!fs::is_directory(opt.data, ec)) return Error{ErrorCode::NotFound, "--data " + opt.data + " is not a folder"};
    if (!fs::exists(fs::path(opt.data) / "train-images-idx3-ubyte", ec) &&
        !fs::exists(fs::path(opt.data) / "train-images-idx3-ubyte.gz", ec))
      return Error{ErrorCode::UnsupportedFormat, "--data " + opt.data +
                                                     ": no train-images-idx3-ubyte[.gz] there (image folders with one "
                                                     "sub-folder per class are not supported yet)"};
  }
  auto train = train::loadFashionMnist(train::Split::Train, dataFolder());
  if (!train) return train.error();
  auto test = train::loadFashionMnist(train::Split::Test, dataFolder());
  if (!test) return test.error();
  return std::make_pair(std::move(*train), std::move(*test));
}

Result<std::vector<int>> parseWidths() {
  std::vector<int> w;
  std::stringstream s(opt.widths);
  std::string part;
  while (std::getline(s, part, ',')) {
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (end == part.c_str() || *end || v < 1 || v > 4096)
      return Error{ErrorCode::InvalidArgument, "--widths " + opt.widths + ": expected channel counts like 32,64,128"};
    w.push_back(int(v));
  }
  if (w.empty() || w.size() > 8) return Error{ErrorCode::InvalidArgument, "--widths: give 1 to 8 stages"};
  return w;
}

Result<train::LossParams> parseLossParams() {
  train::LossParams p;
  for (const auto& kv : opt.lossParams) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Error{ErrorCode::InvalidArgument, "--loss-param " + kv + ": expected NAME=VALUE"};
    char* end = nullptr;
    const std::string v = kv.substr(eq + 1);
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end) return Error{ErrorCode::InvalidArgument, "--loss-param " + kv + ": the value must be a number"};
    p[kv.substr(0, eq)] = d;
  }
  return p;
}

// User + system CPU time of this process so far (on a shared machine the wall time alone says little).
double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The command with every option that shapes the model spelled out (the package's provenance).
std::string commandLine() {
  std::ostringstream c;
  c << "loupe-cli train embeddings --data " << opt.data << " --loss " << opt.loss;
  for (const auto& p : opt.lossParams) c << " --loss-param " << p;
  c << " --epochs " << opt.epochs << " --batch " << opt.batch << " --optimizer " << opt.optimizer << " --lr " << opt.lr
    << " --weight-decay " << opt.weightDecay << " --warmup " << opt.warmup << " --widths " << opt.widths
    << " --convs-per-stage " << opt.convsPerStage << " --embedding-dim " << opt.embeddingDim << " --crop-padding "
    << opt.cropPadding << " --seed " << opt.seed;
  if (opt.ceWeight > 0) c << " --ce-weight " << opt.ceWeight;
  if (opt.channelsLast) c << " --channels-last";
  if (opt.limit > 0) c << " --limit " << opt.limit;
  if (!opt.id.empty()) c << " --id " << opt.id;
  if (opt.threads > 0) c << " --threads " << opt.threads;
  return c.str();
}

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  auto params = parseLossParams();
  if (!params) return fail(host::Usage, params.error().message);
  if (auto probe = train::makeLoss(opt.loss, *params); !probe) return fail(host::Usage, probe.error().message);
  auto widths = parseWidths();
  if (!widths) return fail(host::Usage, widths.error().message);
  std::error_code ec;
  fs::create_directories(opt.out, ec);
  if (!fs::is_directory(opt.out, ec)) return fail(host::OutputFailed, "cannot create the output folder " + opt.out);
  const int threads = configureThreads(opt.threads);

  auto data = loadData();
  if (!data) return fail(host::BadInput, data.error().message);
  auto& [trainSet, testSet] = *data;
  if (opt.limit > 0 && opt.limit < trainSet.size()) {
    trainSet.images = trainSet.images.narrow(0, 0, opt.limit);
    trainSet.labels = trainSet.labels.narrow(0, 0, opt.limit);
  }
  std::fprintf(stderr, "loupe-cli: training on %lld images (%s), loss %s, %d epochs, batch %lld, %s, %d threads\n",
               (long long)trainSet.size(), opt.data.c_str(), opt.loss.c_str(), opt.epochs, (long long)opt.batch,
               opt.optimizer.c_str(), threads);

  train::TrainOptions t;
  t.loss = opt.loss;
  t.lossParams = *params;
  t.epochs = opt.epochs;
  t.batchSize = opt.batch;
  t.optimizer = opt.optimizer;
  t.learningRate = opt.lr;
  t.weightDecay = opt.weightDecay;
  t.seed = opt.seed;
  t.threads = opt.threads;
  t.model.embeddingDim = opt.embeddingDim;
  t.model.convsPerStage = opt.convsPerStage;
  t.model.widths = *widths;
  t.warmupSteps = opt.warmup;
  t.cropPadding = opt.cropPadding;
  t.ceWeight = opt.ceWeight;
  t.channelsLast = opt.channelsLast;
  t.checkpointPath = (fs::path(opt.out) / "checkpoint.pt").string();
  t.resume = opt.resume;
  const auto start = std::chrono::steady_clock::now();
  auto embedAll = [&](runtime::EmbeddingCnn& model, const train::ImageSet& set) {
    runtime::NativeEmbedder e;
    e.model = model;
    e.package.input.mean = train::kFashionMnistMean;
    e.package.input.std = train::kFashionMnistStd;
    return e.embed(set.images);
  };
  t.onEpoch = [&](int epoch, double loss, const std::map<std::string, double>& terms, runtime::EmbeddingCnn& current) {
    finishProgress();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d/%d  loss %.4f", epoch, opt.epochs, loss);
    for (const auto& [k, v] : terms) std::printf("  %s %.4f", k.c_str(), v);
    std::printf("  (%.0f s)", s);
    if (opt.evalEvery > 0 && epoch % opt.evalEvery == 0) {
      auto tr = embedAll(current, trainSet), te = embedAll(current, testSet);
      if (tr && te) {
        auto knn = train::knnClassify(*tr, trainSet.labels, *te, testSet.labels);
        if (knn) std::printf("  kNN test %.2f%%", 100 * knn->accuracy);
      }
    }
    std::printf("\n");
    std::fflush(stdout);
    return !cancel.isCancelled();
  };
  Progress bar = terminalProgress(opt.quiet);
  auto result = train::trainEmbeddingCnn(trainSet, t, train::kFashionMnistMean, train::kFashionMnistStd, bar, cancel);
  finishProgress();
  if (!result) {
    if (result.error().code == ErrorCode::Cancelled)
      return fail(host::Cancelled, "cancelled; resume with --resume (checkpoint " + t.checkpointPath + ")");
    return fail(result.error().code == ErrorCode::InvalidArgument ? host::Usage : host::TaskFailed, result.error().message);
  }
  const double trainSeconds = result->seconds;
  auto tr = embedAll(result->model, trainSet);
  auto te = embedAll(result->model, testSet);
  if (!tr || !te) return fail(host::TaskFailed, (!tr ? tr.error() : te.error()).message);
  auto knn = train::knnClassify(*tr, trainSet.labels, *te, testSet.labels, {}, cancel);
  if (!knn) return fail(knn.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, knn.error().message);

  runtime::NativePackageInfo info;
  info.id = opt.id.empty() ? "fashion-mnist-" + opt.loss : opt.id;
  info.name = "Fashion-MNIST embedder (" + opt.loss + ", trained by Loupe)";
  info.input.layout = "NCHW";
  info.input.channels = 1;
  info.input.colorOrder = "gray";
  info.input.size.kind = runtime::SizePolicy::Kind::Fixed;
  info.input.size.width = info.input.size.height = 28;
  info.input.scale = 1.0 / 255.0;
  info.input.mean = train::kFashionMnistMean;
  info.input.std = train::kFashionMnistStd;
  info.labels = train::fashionMnistClassNames();
  info.citation = "Xiao, Rasul, Vollgraf 2017, Fashion-MNIST (data)";
  char knnText[160];
  std::snprintf(knnText, sizeof knnText, "; %lld training images, %.0f s of training on %d threads; kNN test accuracy "
                "(cosine, k=20, weighted vote) %.4f", (long long)trainSet.size(), trainSeconds, threads, knn->accuracy);
  info.provenance = "trained by: " + commandLine() + knnText;
  if (auto ok = runtime::saveEmbeddingCnnPackage(result->model, info, opt.out); !ok)
    return fail(host::OutputFailed, ok.error().message);
  if (!opt.keepCheckpoint) fs::remove(t.checkpointPath, ec);
  std::printf("trained %d epochs in %.1f s (%.0f s of CPU time); kNN test accuracy (cosine, k=20, weighted vote) %.2f%%\n", opt.epochs,
              trainSeconds, cpuSeconds(), 100 * knn->accuracy);
  std::printf("package: %s\n", fs::absolute(opt.out).string().c_str());
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    j << "{\"loss\": \"" << opt.loss << "\", \"epochs\": " << opt.epochs << ", \"train_seconds\": " << trainSeconds
      << ", \"knn_accuracy\": " << knn->accuracy << ", \"threads\": " << threads << ", \"cpu_seconds\": " << cpuSeconds()
      << ", \"epoch_loss\": [";
    for (std::size_t i = 0; i < result->epochLoss.size(); ++i) j << (i ? ", " : "") << result->epochLoss[i];
    j << "]}\n";
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("embeddings", "Train Loupe's embedding CNN with a contrastive or supervised loss");
  app->add_option("--data", opt.data, "fashion-mnist (Debian's dataset-fashion-mnist) or a folder of MNIST-style IDX files");
  app->add_option("--loss", opt.loss, "ce, supcon, cone or another registered loss taking two views + labels");
  app->add_option("--loss-param", opt.lossParams, "NAME=VALUE passed to the loss (e.g. temperature=0.1)");
  app->add_option("--epochs", opt.epochs, "Training epochs")->check(CLI::Range(1, 10000));
  app->add_option("--out", opt.out, "Package folder to write (also holds the checkpoint while training)")->required();
  app->add_flag("--resume", opt.resume, "Continue from PACKAGE_DIR/checkpoint.pt when it exists");
  app->add_flag("--keep-checkpoint", opt.keepCheckpoint, "Keep checkpoint.pt after training");
  app->add_option("--batch", opt.batch, "Images per batch")->check(CLI::Range(2, 65536));
  app->add_option("--optimizer", opt.optimizer, "adam (AdamW) or sgd (Nesterov momentum 0.9)")->check(CLI::IsMember({"adam", "sgd"}));
  app->add_option("--lr", opt.lr, "Peak learning rate (linear warm-up, cosine decay)")->check(CLI::PositiveNumber);
  app->add_option("--weight-decay", opt.weightDecay, "Weight decay")->check(CLI::NonNegativeNumber);
  app->add_option("--embedding-dim", opt.embeddingDim, "Embedding size")->check(CLI::Range(2, 4096));
  app->add_option("--convs-per-stage", opt.convsPerStage, "conv3x3-BN-ReLU blocks per stage")->check(CLI::Range(1, 4));
  app->add_option("--widths", opt.widths, "Channels per stage, comma-separated (2 x 2 max-pool between stages)");
  app->add_option("--warmup", opt.warmup, "Linear learning-rate warm-up steps")->check(CLI::Range(0, 1000000));
  app->add_option("--crop-padding", opt.cropPadding, "Random-crop padding in pixels (0: no crop)")->check(CLI::Range(0, 16));
  app->add_option("--ce-weight", opt.ceWeight, "Two-view losses (supcon, ...): add this x cross-entropy of the classifier head")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--channels-last", opt.channelsLast, "Channels-last activations (oneDNN convolutions)");
  app->add_option("--seed", opt.seed, "Seed for initialisation, shuffling and augmentation");
  app->add_option("--threads", opt.threads, "CPU threads (default: one per core)")->check(CLI::Range(1, 256));
  app->add_option("--limit", opt.limit, "Train on the first N training images only")->check(CLI::Range(2, 10'000'000));
  app->add_option("--eval-every", opt.evalEvery, "kNN test accuracy every N epochs (0: only at the end)")->check(CLI::Range(0, 10000));
  app->add_option("--json", opt.json, "Also write the numbers to this JSON file");
  app->add_option("--id", opt.id, "Package id (default: fashion-mnist-LOSS)");
  app->add_flag("--quiet", opt.quiet, "No progress bar");
  return {app, run};
}

LOUPE_CLI_COMMAND("train", setup);

}  // namespace
}  // namespace loupe::cli
