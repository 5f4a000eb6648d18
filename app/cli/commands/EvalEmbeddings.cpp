// loupe-cli eval embeddings --model PACKAGE --data fashion-mnist|DIR: embeds the training and test splits
// with a native embedding package and reports kNN accuracy (cosine, k = 20, weighted vote exp(sim / 0.07)),
// linear-probe accuracy (logistic regression on the frozen, standardised embeddings) and Recall@K on the
// test split.

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Command.h"
#include "CommonOptions.h"
#include "core/Device.h"
#include "core/DeviceRequest.h"
#include "host/ExitCodes.h"
#include "runtime/NativeModels.h"
#include "train/data/Idx.h"
#include "train/metrics/EmbeddingMetrics.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model, data = "fashion-mnist", device = "auto", json, recall = "1,2,4,8";
  int k = 20, probeEpochs = 30, threads = 0;
  bool quiet = false, noProbe = false;
} opt;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  configureThreads(opt.threads);
  auto request = DeviceRequest::parse(opt.device);
  if (!request) return fail(host::Usage, request.error().message);
  auto device = resolveDevice(*request);
  if (!device) return fail(host::NoDevice, device.error().message);
  std::vector<int> ks;
  {
    std::stringstream s(opt.recall);
    std::string part;
    while (std::getline(s, part, ',')) {
      char* end = nullptr;
      const long v = std::strtol(part.c_str(), &end, 10);
      if (end == part.c_str() || *end || v < 1) return fail(host::Usage, "--recall " + opt.recall + ": expected K values like 1,2,4,8");
      ks.push_back(int(v));
    }
  }
  auto embedder = runtime::loadNativeEmbedder(opt.model, *device);
  if (!embedder) return fail(host::BadInput, embedder.error().message);
  const std::string folder = opt.data == "fashion-mnist" ? std::string() : opt.data;
  auto trainSet = train::loadFashionMnist(train::Split::Train, folder);
  if (!trainSet) return fail(host::BadInput, trainSet.error().message);
  auto testSet = train::loadFashionMnist(train::Split::Test, folder);
  if (!testSet) return fail(host::BadInput, testSet.error().message);

  auto t0 = Clock::now();
  auto tr = embedder->embed(trainSet->images);
  if (!tr) return fail(host::BadInput, tr.error().message);
  auto te = embedder->embed(testSet->images);
  if (!te) return fail(host::BadInput, te.error().message);
  const double embedSeconds = since(t0);
  std::printf("model %s: embedded %lld + %lld images (%lld-d) in %.1f s on %s\n", embedder->package.id.c_str(),
              (long long)tr->size(0), (long long)te->size(0), (long long)tr->size(1), embedSeconds,
              describeDevice(*device).c_str());

  train::KnnOptions ko;
  ko.k = opt.k;
  auto knn = train::knnClassify(*tr, trainSet->labels, *te, testSet->labels, ko, cancel);
  if (!knn) return fail(knn.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, knn.error().message);
  std::printf("kNN accuracy (cosine, k=%d, weighted vote exp(sim/0.07)): %.2f%%\n", opt.k, 100 * knn->accuracy);

  train::LinearProbeResult probe;
  if (!opt.noProbe) {
    train::LinearProbeOptions po;
    po.epochs = opt.probeEpochs;
    Progress bar = terminalProgress(opt.quiet);
    auto p = train::linearProbe(*tr, trainSet->labels, *te, testSet->labels, po, bar, cancel);
    finishProgress();
    if (!p) return fail(p.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, p.error().message);
    probe = *p;
    std::printf("linear probe accuracy (logistic regression, %d epochs): %.2f%% (train %.2f%%)\n", opt.probeEpochs,
                100 * probe.testAccuracy, 100 * probe.trainAccuracy);
  }
  auto recall = train::recallAtK(*te, testSet->labels, ks, 1024, cancel);
  if (!recall) return fail(recall.error().code == ErrorCode::Cancelled ? host::Cancelled : host::Usage, recall.error().message);
  std::printf("Recall@K on the test split (cosine):");
  for (const auto& [k, r] : *recall) std::printf("  R@%d %.2f%%", k, 100 * r);
  std::printf("\n");
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    j << "{\"model\": \"" << embedder->package.id << "\", \"knn_k\": " << opt.k << ", \"knn_accuracy\": " << knn->accuracy;
    if (!opt.noProbe) j << ", \"linear_probe_accuracy\": " << probe.testAccuracy;
    j << ", \"recall\": {";
    bool first = true;
    for (const auto& [k, r] : *recall) {
      j << (first ? "" : ", ") << "\"" << k << "\": " << r;
      first = false;
    }
    j << "}, \"embed_seconds\": " << embedSeconds << "}\n";
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("embeddings", "kNN, linear-probe and Recall@K accuracy of an embedding package");
  app->add_option("--model", opt.model, "Native embedding package folder")->required();
  app->add_option("--data", opt.data, "fashion-mnist (Debian's dataset-fashion-mnist) or a folder of MNIST-style IDX files");
  app->add_option("--k", opt.k, "Neighbours for the kNN vote")->check(CLI::Range(1, 1000));
  app->add_option("--probe-epochs", opt.probeEpochs, "Epochs of the linear probe")->check(CLI::Range(1, 1000));
  app->add_flag("--no-probe", opt.noProbe, "Skip the linear probe");
  app->add_option("--recall", opt.recall, "K values for Recall@K, comma-separated");
  addDeviceOption(app, opt.device);
  addThreadsOption(app, opt.threads);
  addJsonOption(app, opt.json);
  addQuietFlag(app, opt.quiet);
  return {app, run};
}

LOUPE_CLI_COMMAND("eval", setup);

}  // namespace
}  // namespace loupe::cli
