// loupe-cli train embeddings --data fashion-mnist|IDX_DIR|IMAGE_DIR [--labels CSV] --loss supcon|cone|ce|...
// --epochs N --out PACKAGE_DIR [--resume]: trains Loupe's native embedding CNN with a registered loss
// (backend/train), checkpointing after every epoch (PACKAGE_DIR/checkpoint.pt, atomic), then writes a native
// model package into PACKAGE_DIR and prints the kNN accuracy (cosine, k = 20, weighted vote) of the test split
// embedded by the trained model. Image folders (labels from sub-folder names or a CSV, a train/ + test/ layout
// or a seeded held-out share) are read by io::loadLabelledFolder, the loader the GUI's training panel uses.

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "Command.h"
#include "CommonOptions.h"
#include "core/Device.h"
#include "host/ExitCodes.h"
#include "io/LabelledFolder.h"
#include "runtime/NativeModels.h"
#include "train/EmbeddingTrainer.h"
#include "train/data/Idx.h"
#include "train/metrics/EmbeddingMetrics.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;

struct Options {
  std::string data = "fashion-mnist", labels, loss = "supcon", out, optimizer = "adam", json, widths = "32,64,128", id;
  int epochs = 10, threads = 0, limit = 0, evalEvery = 0, embeddingDim = 128, convsPerStage = 1, warmup = 100,
      cropPadding = 2, size = 28, channels = 1;
  int64_t batch = 256;
  double lr = 2e-3, weightDecay = 5e-4, ceWeight = 0.0, valFraction = 0.1;
  uint64_t seed = 0;
  bool resume = false, quiet = false, keepCheckpoint = false, channelsLast = false;
  std::vector<std::string> lossParams;
} opt;

// What training reads: the two splits, the per-channel statistics and how to describe them.
struct Data {
  train::ImageSet train, test;
  std::vector<double> mean = train::kFashionMnistMean, stdv = train::kFashionMnistStd;
  bool folder = false;  // an image folder (else IDX)
  std::string heldOut;  // how the test split was chosen (folders)
};

bool isIdxFolder(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p / "train-images-idx3-ubyte", ec) || fs::exists(p / "train-images-idx3-ubyte.gz", ec);
}

// --data fashion-mnist (Debian's files), a folder of Fashion-MNIST/MNIST-style IDX files (train-*/t10k-*,
// optionally .gz), or an image folder with --labels CSV or one sub-folder per class.
Result<Data> loadData(const CancelToken& cancel) {
  Data d;
  std::error_code ec;
  if (opt.data != "fashion-mnist" && !fs::is_directory(opt.data, ec))
    return Error{ErrorCode::NotFound, "--data " + opt.data + " is not a folder (nor fashion-mnist)"};
  if (opt.data != "fashion-mnist" && (!opt.labels.empty() || !isIdxFolder(opt.data))) {
    io::LabelledFolderOptions o;
    o.labelsCsv = opt.labels;
    o.channels = opt.channels;
    o.width = o.height = opt.size;
    o.valFraction = opt.valFraction;
    o.seed = opt.seed;
    Progress bar = terminalProgress(opt.quiet);
    const auto start = std::chrono::steady_clock::now();
    auto f = io::loadLabelledFolder(opt.data, o, cancel, bar);
    finishProgress();
    if (!f) return f.error();
    std::fprintf(stderr, "loupe-cli: %s: %d image file(s) in %zu classes, read in %.2f s; %lld for training, %lld held out (%s)\n",
                 opt.data.c_str(), f->listed, f->classNames.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), (long long)f->train.size(),
                 (long long)f->test.size(), f->heldOut.c_str());
    if (f->skipped > 0) {
      std::fprintf(stderr, "loupe-cli: warning: skipped %d unreadable image(s):\n", f->skipped);
      for (const auto& r : f->skipReasons) std::fprintf(stderr, "  %s\n", r.c_str());
      if (f->skipped > int(f->skipReasons.size()))
        std::fprintf(stderr, "  ... and %d more\n", f->skipped - int(f->skipReasons.size()));
    }
    if (f->ignored > 0)
      std::fprintf(stderr, "loupe-cli: notice: %d file(s) passed over (not an image by their extension, or outside a class folder)\n",
                   f->ignored);
    d.train = {f->train.images, f->train.labels, f->classNames};
    d.test = {f->test.images, f->test.labels, f->classNames};
    d.mean = f->mean;
    d.stdv = f->stdv;
    d.folder = true;
    d.heldOut = f->heldOut;
    return d;
  }
  if (!opt.labels.empty()) return Error{ErrorCode::InvalidArgument, "--labels goes with an image folder, not with IDX data"};
  const std::string idx = opt.data == "fashion-mnist" ? std::string() : opt.data;
  auto train = train::loadFashionMnist(train::Split::Train, idx);
  if (!train) return train.error();
  auto test = train::loadFashionMnist(train::Split::Test, idx);
  if (!test) return test.error();
  d.train = std::move(*train);
  d.test = std::move(*test);
  return d;
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

// The command with every option that shapes the model spelled out (the package's provenance).
std::string commandLine() {
  std::ostringstream c;
  c << "loupe-cli train embeddings --data " << opt.data;
  if (!opt.labels.empty()) c << " --labels " << opt.labels;
  if (opt.data != "fashion-mnist" && !isIdxFolder(opt.data))
    c << " --size " << opt.size << " --channels " << opt.channels << " --val-fraction " << opt.valFraction;
  c << " --loss " << opt.loss;
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
  auto params = parseLossParams(opt.lossParams);
  if (!params) return fail(host::Usage, params.error().message);
  if (auto probe = train::makeLoss(opt.loss, *params); !probe) return fail(host::Usage, probe.error().message);
  auto widths = parseWidths();
  if (!widths) return fail(host::Usage, widths.error().message);
  const int threads = configureThreads(opt.threads);
  auto data = loadData(cancel);  // before the output folder exists: it may be inside --data
  if (!data) return fail(exitCodeFor(data.error(), host::BadInput), data.error().message);
  std::error_code ec;
  fs::create_directories(opt.out, ec);
  if (!fs::is_directory(opt.out, ec)) return fail(host::OutputFailed, "cannot create the output folder " + opt.out);
  train::ImageSet& trainSet = data->train;
  const train::ImageSet& testSet = data->test;
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
    e.package.input.mean = data->mean;
    e.package.input.std = data->stdv;
    return e.embed(set.images);
  };
  t.onEpoch = [&](int epoch, double loss, const std::map<std::string, double>& terms, runtime::EmbeddingCnn& current) {
    finishProgress();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d/%d  loss %.4f", epoch, opt.epochs, loss);
    for (const auto& [k, v] : terms) std::printf("  %s %.4f", k.c_str(), v);
    std::printf("  (%.0f s)", s);
    if (opt.evalEvery > 0 && epoch % opt.evalEvery == 0 && testSet.size() > 0) {
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
  auto result = train::trainEmbeddingCnn(trainSet, t, data->mean, data->stdv, bar, cancel);
  finishProgress();
  if (!result) return trainingFailed(result.error(), t.checkpointPath);
  const double trainSeconds = result->seconds;
  // kNN accuracy of the held-out images (-1: none held out, e.g. --val-fraction 0).
  double accuracy = -1;
  if (testSet.size() > 0) {
    auto tr = embedAll(result->model, trainSet);
    auto te = embedAll(result->model, testSet);
    if (!tr || !te) return fail(host::TaskFailed, (!tr ? tr.error() : te.error()).message);
    auto knn = train::knnClassify(*tr, trainSet.labels, *te, testSet.labels, {}, cancel);
    if (!knn) return fail(exitCodeFor(knn.error(), host::TaskFailed), knn.error().message);
    accuracy = knn->accuracy;
  }

  runtime::NativePackageInfo info;
  const std::string dataName = fs::path(opt.data).lexically_normal().filename().string();
  info.id = !opt.id.empty() ? opt.id : data->folder ? dataName + "-" + opt.loss : "fashion-mnist-" + opt.loss;
  info.name = data->folder ? "Embedder of " + dataName + " (" + opt.loss + ", trained by Loupe)"
                           : "Fashion-MNIST embedder (" + opt.loss + ", trained by Loupe)";
  info.input.layout = "NCHW";
  info.input.channels = int(trainSet.images.size(1));
  info.input.colorOrder = info.input.channels == 1 ? "gray" : "rgb";
  info.input.size.kind = runtime::SizePolicy::Kind::Fixed;
  info.input.size.width = int(trainSet.images.size(3));
  info.input.size.height = int(trainSet.images.size(2));
  info.input.scale = 1.0 / 255.0;
  info.input.mean = data->mean;
  info.input.std = data->stdv;
  info.labels = trainSet.classNames;
  if (!data->folder) info.citation = "Xiao, Rasul, Vollgraf 2017, Fashion-MNIST (data)";
  char knnText[200];
  if (accuracy >= 0)
    std::snprintf(knnText, sizeof knnText, "; %lld training images, %.0f s of training on %d threads; kNN test accuracy "
                  "(cosine, k=20, weighted vote) %.4f", (long long)trainSet.size(), trainSeconds, threads, accuracy);
  else
    std::snprintf(knnText, sizeof knnText, "; %lld training images, %.0f s of training on %d threads; no held-out images",
                  (long long)trainSet.size(), trainSeconds, threads);
  info.provenance = "trained by: " + commandLine() + knnText + (data->heldOut.empty() ? "" : "; held out: " + data->heldOut);
  if (auto ok = runtime::saveEmbeddingCnnPackage(result->model, info, opt.out); !ok)
    return fail(host::OutputFailed, ok.error().message);
  if (!opt.keepCheckpoint) fs::remove(t.checkpointPath, ec);
  std::printf("trained %d epochs in %.1f s (%.0f s of CPU time); ", opt.epochs, trainSeconds, cpuSeconds());
  if (accuracy >= 0)
    std::printf("kNN test accuracy (cosine, k=20, weighted vote) %.2f%% on %lld held-out images\n", 100 * accuracy,
                (long long)testSet.size());
  else
    std::printf("no held-out images, so no kNN accuracy\n");
  std::printf("package: %s\n", fs::absolute(opt.out).string().c_str());
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    j << "{\"loss\": \"" << opt.loss << "\", \"epochs\": " << opt.epochs << ", \"train_seconds\": " << trainSeconds
      << ", \"knn_accuracy\": " << (accuracy >= 0 ? std::to_string(accuracy) : std::string("null"))
      << ", \"train_images\": " << trainSet.size() << ", \"test_images\": " << testSet.size() << ", \"threads\": " << threads << ", \"cpu_seconds\": " << cpuSeconds()
      << ", \"epoch_loss\": [";
    for (std::size_t i = 0; i < result->epochLoss.size(); ++i) j << (i ? ", " : "") << result->epochLoss[i];
    j << "]}\n";
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("embeddings", "Train Loupe's embedding CNN with a contrastive or supervised loss");
  app->add_option("--data", opt.data,
                  "fashion-mnist (Debian's dataset-fashion-mnist), a folder of MNIST-style IDX files, or an image folder "
                  "(one sub-folder per class, or --labels)");
  app->add_option("--labels", opt.labels,
                  "Image folder: CSV with a path column (path, file, filename or image; relative to --data) and a label "
                  "column (label, class or category), optionally split (train/test)");
  app->add_option("--size", opt.size, "Image folder: images are resized to N x N")->check(CLI::Range(4, 1024))->capture_default_str();
  app->add_option("--channels", opt.channels, "Image folder: 1 (grey, BT.601 luma) or 3 (RGB)")
      ->check(CLI::IsMember({1, 3}))->capture_default_str();
  app->add_option("--val-fraction", opt.valFraction,
                  "Image folder without train/ + test/: share of every class held out for the kNN accuracy (seeded)")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  app->add_option("--loss", opt.loss, "ce, supcon, cone or another registered loss taking two views + labels");
  app->add_option("--loss-param", opt.lossParams, "NAME=VALUE passed to the loss (e.g. temperature=0.1)");
  app->add_option("--epochs", opt.epochs, "Training epochs")->check(CLI::Range(1, 10000));
  app->add_option("--out", opt.out, "Package folder to write (also holds the checkpoint while training)")->required();
  addCheckpointOptions(app, opt.resume, opt.keepCheckpoint);
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
  addThreadsOption(app, opt.threads);
  app->add_option("--limit", opt.limit, "Train on the first N training images only")->check(CLI::Range(2, 10'000'000));
  app->add_option("--eval-every", opt.evalEvery, "kNN test accuracy every N epochs (0: only at the end)")->check(CLI::Range(0, 10000));
  addJsonOption(app, opt.json);
  app->add_option("--id", opt.id, "Package id (default: fashion-mnist-LOSS, or FOLDER-LOSS for an image folder)");
  addQuietFlag(app, opt.quiet);
  return {app, run};
}

LOUPE_CLI_COMMAND("train", setup);

}  // namespace
}  // namespace loupe::cli
