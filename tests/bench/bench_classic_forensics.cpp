// Benchmark (not a test): the forgery plugin's classic tools on a large photo through the same backend
// calls the tasks make (noise residual, JPEG tables + ghost, metadata + thumbnail, hashes, copy-move),
// and, with --noso DIR, copy-move accuracy on the NoSo copy-move set (pixel F1 per forgery, detections
// on the originals).
// Usage: bench_classic_forensics IMAGE [repeats] [--noso DIR [--min-distance PX] [--min-cluster N]]. Median of the repeats, milliseconds.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/Device.h"
#include "core/Sha256.h"
#include "forensics/CopyMove.h"
#include "forensics/JpegForensics.h"
#include "forensics/Metadata.h"
#include "forensics/NoiseResidual.h"
#include "forensics/PerceptualHash.h"
#include "io/ImageReader.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double timeIt(int repeats, const std::function<bool()>& f) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = Clock::now();
    if (!f()) return -1;
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  return median(t);
}

forensics::CopyMoveOptions nosoOptions;

int noso(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> forged, originals;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() < 4 || n.substr(n.size() - 4) != ".png" || n.find("_gt") != std::string::npos) continue;
    (n.find("_mod") != std::string::npos ? forged : originals).push_back(e.path().string());
  }
  std::sort(forged.begin(), forged.end());
  std::sort(originals.begin(), originals.end());
  std::printf("\nNoSo copy-move (%s): %zu forgeries, %zu originals\n", dir.c_str(), forged.size(), originals.size());
  std::printf("%-24s %9s %9s %9s %9s %8s\n", "image", "clusters", "precision", "recall", "F1", "ms");
  double sumF1 = 0;
  int detected = 0;
  for (const auto& path : forged) {
    auto img = io::loadImage(path);
    auto gt = io::loadImage(path.substr(0, path.size() - 4) + "_gt.png");
    if (!img || !gt) {
      std::fprintf(stderr, "cannot read %s or its mask\n", path.c_str());
      return 3;
    }
    const auto a = Clock::now();
    auto r = forensics::detectCopyMove(*img, nosoOptions);
    const double t = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
    if (!r) return 4;
    long tp = 0, fp = 0, fn = 0;
    const Image g = gt->toU8();
    for (int y = 0; y < g.height(); ++y)
      for (int x = 0; x < g.width(); ++x) {
        bool truth = false;
        for (int c = 0; c < g.channels(); ++c) truth = truth || g.row<std::uint8_t>(y)[x * g.channels() + c] > 127;
        const bool pred = r->mask.values[std::size_t(y) * r->mask.width + x] != 0;
        tp += truth && pred;
        fp += !truth && pred;
        fn += truth && !pred;
      }
    const double p = tp + fp ? double(tp) / (tp + fp) : 0, rc = tp + fn ? double(tp) / (tp + fn) : 0;
    const double f1 = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
    sumF1 += f1;
    detected += !r->clusters.empty();
    std::printf("%-24s %9zu %9.3f %9.3f %9.3f %8.0f\n", std::filesystem::path(path).filename().c_str(),
                r->clusters.size(), p, rc, f1, t);
    for (const auto& c : r->clusters)
      std::printf("    cluster: %zu pairs, source %.0f,%.0f %.0fx%.0f, copy %.0f,%.0f %.0fx%.0f\n", c.pairs.size(), c.source.x,
                  c.source.y, c.source.w, c.source.h, c.copy.x, c.copy.y, c.copy.w, c.copy.h);
  }
  int falseAlarms = 0;
  for (const auto& path : originals) {
    auto img = io::loadImage(path);
    if (!img) return 3;
    auto r = forensics::detectCopyMove(*img, nosoOptions);
    if (!r) return 4;
    falseAlarms += !r->clusters.empty();
    for (const auto& c : r->clusters)
      std::printf("    cluster: %zu pairs, source %.0f,%.0f %.0fx%.0f, copy %.0f,%.0f %.0fx%.0f\n", c.pairs.size(), c.source.x,
                  c.source.y, c.source.w, c.source.h, c.copy.x, c.copy.y, c.copy.w, c.copy.h);
    std::printf("%-24s %9zu (original)\n", std::filesystem::path(path).filename().c_str(), r->clusters.size());
  }
  std::printf("mean pixel F1 %.3f; forgeries detected %d/%zu; originals with a detection %d/%zu\n",
              forged.empty() ? 0.0 : sumF1 / forged.size(), detected, forged.size(), falseAlarms, originals.size());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_classic_forensics IMAGE [repeats] [--noso DIR]\n");
    return 2;
  }
  int repeats = 3;
  std::string nosoDir;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--noso") == 0 && i + 1 < argc) nosoDir = argv[++i];
    else if (std::strcmp(argv[i], "--min-distance") == 0 && i + 1 < argc) nosoOptions.minDistance = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--accept-correlation") == 0 && i + 1 < argc) nosoOptions.acceptCorrelation = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--min-cluster") == 0 && i + 1 < argc) nosoOptions.minClusterSize = std::atoi(argv[++i]);
    else repeats = std::max(1, std::atoi(argv[i]));
  }
  configureThreads(0);
  auto bytes = io::readFileBytes(argv[1]);
  auto img = io::loadImage(argv[1]);
  if (!bytes || !img) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 3;
  }
  const Image image = *img;
  std::printf("image %dx%d (%.1f MP), %d repeats, median ms\n", image.width(), image.height(),
              image.width() * double(image.height()) / 1e6, repeats);
  const double load = timeIt(repeats, [&] { return io::loadImage(argv[1]).ok(); });
  const double noise = timeIt(repeats, [&] { return forensics::noiseResidual(image).ok(); });
  const double qtables = timeIt(repeats, [&] {
    auto info = forensics::readJpegInfo(*bytes);
    return !info.ok() || forensics::estimateIjgQuality(*info).quality > 0;
  });
  const double ghost = timeIt(repeats, [&] { return forensics::jpegGhost(image, {}).ok(); });
  const double meta = timeIt(repeats, [&] { forensics::analyseMetadata(*bytes, image); return true; });
  const double hashes = timeIt(repeats, [&] {
    return forensics::perceptualHashes(image).ok() && !Sha256::hex(bytes->data(), bytes->size()).empty();
  });
  int clusters = 0, keypoints = 0;
  const double copymove = timeIt(repeats, [&] {
    auto r = forensics::detectCopyMove(image);
    if (r) clusters = int(r->clusters.size()), keypoints = r->keypoints;
    return r.ok();
  });
  std::printf("load (decode, orientation)   %8.0f\n", load);
  std::printf("forgery.noise                %8.0f\n", noise);
  std::printf("forgery.jpeg: tables+quality %8.1f\n", qtables);
  std::printf("forgery.jpeg: ghost 50..95   %8.0f\n", ghost);
  std::printf("forgery.metadata             %8.0f\n", meta);
  std::printf("forgery.hashes (SHA-256+3)   %8.0f\n", hashes);
  std::printf("forgery.copymove (SIFT)      %8.0f   (%d keypoints, %d clusters)\n", copymove, keypoints, clusters);
  if (!nosoDir.empty()) return noso(nosoDir);
  return 0;
}
