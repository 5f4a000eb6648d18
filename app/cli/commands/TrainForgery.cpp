// loupe-cli train forgery --pristine DIR [--epochs N] [--size 256] --out PACKAGE_DIR [--resume]
// Trains Loupe's forgery feature extractor (backend/train/ForgeryExtractor.h) with FOCAL's per-image pixel
// InfoNCE on splices synthesised from the user's pristine photos (backend/train/data/SpliceSynth.h, JPEG
// through libjpeg), checkpointing after every epoch (PACKAGE_DIR/checkpoint.pt, atomic), then writes a native
// model package that forgery.localize takes as extractor=PACKAGE_DIR. The package records the exact command,
// every training photo (path and SHA-256, photos.txt) and the licence the user states for the photos.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Command.h"
#include "CommonOptions.h"
#include "core/Device.h"
#include "core/Sha256.h"
#include "host/ExitCodes.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "io/LabelledFolder.h"
#include "train/ForgeryTrainer.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;

struct Options {
  std::vector<std::string> pristine;
  std::string out, id = "forgery-fcn", photoLicence;
  int epochs = 10, steps = 100, batch = 8, size = 256, width = 32, dim = 32, threads = 0, limit = 0, maxSide = 1024;
  double lr = 1e-3;
  uint64_t seed = 0;
  bool resume = false, quiet = false, keepCheckpoint = false;
} opt;

// The exact command line of this process (for the package's provenance).
std::string commandLine() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), out;
  std::size_t start = 0;
  while (start < all.size()) {
    const std::size_t end = all.find('\0', start);
    std::string arg = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const bool quote = arg.find_first_of(" \t'\"") != std::string::npos || arg.empty();
    out += (out.empty() ? "" : " ") + (quote ? "'" + arg + "'" : arg);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

struct Photo {
  std::string path, sha256;
  int width = 0, height = 0;
};

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  if (opt.size % 4 != 0) return fail(host::Usage, "--size must be a multiple of 4 (the features are at 1/4 resolution)");
  std::vector<fs::path> files;
  for (const auto& dir : opt.pristine) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return fail(host::BadInput, "--pristine " + dir + " is not a folder");
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; it != end && !ec;
         it.increment(ec))
      if (it->is_regular_file(ec) && io::hasImageExtension(it->path().string())) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  if (opt.limit > 0 && int(files.size()) > opt.limit) files.resize(std::size_t(opt.limit));
  const int threads = configureThreads(opt.threads);

  // Decode the photos (unreadable or tiny ones are skipped and counted, never fatal); large photos keep
  // their centre at native resolution (resizing would erase the camera traces the network learns from).
  std::vector<torch::Tensor> photos;
  std::vector<Photo> used;
  int skipped = 0;
  std::string firstProblem;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (cancel.isCancelled()) return fail(host::Cancelled, "cancelled while reading the photos");
    const std::string path = files[i].string();
    auto image = io::loadImage(path);
    if (!image || image->width() < 32 || image->height() < 32) {
      ++skipped;
      if (firstProblem.empty()) firstProblem = path + ": " + (image ? std::string("smaller than 32 px") : image.error().message);
      continue;
    }
    auto t = train::rgbTensor(*image);
    if (!t) {
      ++skipped;
      continue;
    }
    torch::Tensor photo = *t;
    if (photo.size(1) > opt.maxSide) photo = photo.narrow(1, (photo.size(1) - opt.maxSide) / 2, opt.maxSide);
    if (photo.size(2) > opt.maxSide) photo = photo.narrow(2, (photo.size(2) - opt.maxSide) / 2, opt.maxSide);
    photos.push_back(photo.contiguous());
    auto sha = Sha256::ofFile(path);
    used.push_back({path, sha ? *sha : std::string("?"), image->width(), image->height()});
  }
  if (skipped) std::fprintf(stderr, "loupe-cli: skipped %d unreadable or tiny file(s), e.g. %s\n", skipped, firstProblem.c_str());
  if (photos.size() < 2)
    return fail(host::BadInput, "--pristine: found " + std::to_string(photos.size()) +
                                    " usable photo(s); splices need at least two (JPEG, PNG, TIFF, BMP or WebP, at least 32 px)");

  train::SpliceSynthOptions so;
  so.size = opt.size;
  so.seed = opt.seed;
  so.recompress = [](const torch::Tensor& rgb, int quality) -> Result<torch::Tensor> {
    auto r = io::recompressJpeg(train::rgbImage(rgb), quality);
    if (!r) return r.error();
    return train::rgbTensor(*r);
  };
  auto synth = train::SpliceSynth::create(std::move(photos), so);
  if (!synth) return fail(host::BadInput, synth.error().message);

  std::error_code ec;
  fs::create_directories(opt.out, ec);
  if (!fs::is_directory(opt.out, ec)) return fail(host::OutputFailed, "cannot create the output folder " + opt.out);
  train::ForgeryTrainOptions t;
  t.model.width = opt.width;
  t.model.featureDim = opt.dim;
  t.epochs = opt.epochs;
  t.stepsPerEpoch = opt.steps;
  t.batchSize = opt.batch;
  t.learningRate = opt.lr;
  t.seed = opt.seed;
  t.threads = opt.threads;
  t.checkpointPath = (fs::path(opt.out) / "checkpoint.pt").string();
  t.resume = opt.resume;
  std::fprintf(stderr,
               "loupe-cli: training the forgery extractor on splices of %zu pristine photos (%d x %d crops), %d epochs "
               "x %d steps x %d, %d threads\n",
               synth->photoCount(), opt.size, opt.size, opt.epochs, opt.steps, opt.batch, threads);
  const auto start = std::chrono::steady_clock::now();
  t.onEpoch = [&](int epoch, double loss, train::ForgeryFcn&) {
    finishProgress();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d/%d  loss %.4f  (%.0f s)\n", epoch, opt.epochs, loss, s);
    std::fflush(stdout);
    return !cancel.isCancelled();
  };
  Progress bar = terminalProgress(opt.quiet);
  auto result = train::trainForgeryExtractor(*synth, t, bar, cancel);
  finishProgress();
  if (!result) return trainingFailed(result.error(), t.checkpointPath);

  train::ForgeryPackageInfo info;
  info.id = opt.id;
  info.name = "Loupe forgery extractor (FOCAL pixel InfoNCE on synthesised splices)";
  info.citation = "Wu, Wang, Wang, Chen 2023, Rethinking Image Forgery Detection via Contrastive Learning and "
                  "Unsupervised Clustering (FOCAL) - training objective and per-image clustering";
  info.licence = "weights: MIT (trained by Loupe's own code); training photos (listed in photos.txt, not included): " +
                 (opt.photoLicence.empty() ? std::string("not stated by the trainer (--photo-licence)") : opt.photoLicence);
  std::ostringstream prov;
  prov << "trained by: " << commandLine() << "\n"
       << used.size() << " pristine photos from " ;
  for (std::size_t i = 0; i < opt.pristine.size(); ++i) prov << (i ? ", " : "") << fs::absolute(opt.pristine[i]).string();
  prov << " (each listed with its SHA-256 in photos.txt); " << opt.epochs << " epochs x " << opt.steps << " steps x "
       << opt.batch << " splices of " << opt.size << " px, seed " << opt.seed << ", final loss "
       << (result->epochLoss.empty() ? 0.0 : result->epochLoss.back());
  info.provenance = prov.str();
  info.description = "Per-position features (1/4 resolution) clustered per image by forgery.localize; trained with "
                     "FOCAL's per-image pixel InfoNCE (temperature 0.1) on splices Loupe synthesised from pristine photos";
  std::ostringstream list;
  list << "# sha256  width x height  path  (pristine training photos; not part of this package)\n";
  for (const auto& p : used) list << p.sha256 << "  " << p.width << "x" << p.height << "  " << p.path << "\n";
  info.extraFiles.push_back({"photos.txt", list.str()});
  if (auto ok = train::saveForgeryFcnPackage(result->model, info, opt.out); !ok) return fail(host::OutputFailed, ok.error().message);
  if (!opt.keepCheckpoint) fs::remove(t.checkpointPath, ec);
  std::printf("trained %d epochs in %.1f s; final loss %.4f\n", opt.epochs, result->seconds,
              result->epochLoss.empty() ? 0.0 : result->epochLoss.back());
  std::printf("package: %s  (use: loupe-cli run forgery.localize IMAGE --param extractor=%s)\n",
              fs::absolute(opt.out).string().c_str(), fs::absolute(opt.out).string().c_str());
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("forgery", "Train a forgery feature extractor (FOCAL's pixel InfoNCE) on splices of pristine photos");
  app->add_option("--pristine", opt.pristine, "Folder(s) of pristine photos (searched recursively; never forged ones)")->required();
  app->add_option("--out", opt.out, "Package folder to write (also holds the checkpoint while training)")->required();
  app->add_option("--epochs", opt.epochs, "Training epochs")->check(CLI::Range(1, 10000));
  app->add_option("--steps", opt.steps, "Steps (batches) per epoch")->check(CLI::Range(1, 1000000));
  app->add_option("--batch", opt.batch, "Synthesised splices per step")->check(CLI::Range(1, 1024));
  app->add_option("--size", opt.size, "Crop size in pixels (a multiple of 4)")->check(CLI::Range(32, 2048));
  app->add_option("--lr", opt.lr, "Peak learning rate (AdamW, warm-up then cosine decay)")->check(CLI::PositiveNumber);
  app->add_option("--width", opt.width, "Channels of the first stage (the second has twice as many)")->check(CLI::Range(4, 256));
  app->add_option("--dim", opt.dim, "Feature dimensions per position")->check(CLI::Range(2, 512));
  app->add_option("--seed", opt.seed, "Seed for initialisation and splice synthesis");
  addThreadsOption(app, opt.threads);
  app->add_option("--limit", opt.limit, "Use the first N photos only (sorted by path)")->check(CLI::Range(2, 10'000'000));
  app->add_option("--max-side", opt.maxSide, "Keep at most the central N x N pixels of larger photos")->check(CLI::Range(64, 65536));
  app->add_option("--photo-licence", opt.photoLicence, "The training photos' licence/terms, recorded in the package");
  app->add_option("--id", opt.id, "Package id");
  addCheckpointOptions(app, opt.resume, opt.keepCheckpoint);
  addQuietFlag(app, opt.quiet);
  return {app, run};
}

LOUPE_CLI_COMMAND("train", setup);

}  // namespace
}  // namespace loupe::cli
