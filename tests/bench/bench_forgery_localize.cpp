// Benchmark (not a test): training-free forgery localisation end to end on a large photo — decode,
// luminance, Splicebuster-style co-occurrence features + PCA, k-means (k = 2, 3 restarts), probability
// map and mask at full resolution — through the same backend calls forgery.localize makes.
// Usage: bench_forgery_localize IMAGE [repeats] [grid.f32]
// Prints the median of each stage in milliseconds; with grid.f32, also writes the block grid's forgery
// probabilities (float32, row-major, "GyxGx" in the first line of grid.f32.txt) for the Python peer
// (forgery_localize_peer.py) to compare its own clustering against.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "analysis/ForgeryLocalize.h"
#include "core/Device.h"
#include "io/ImageReader.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;

static double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_forgery_localize IMAGE [repeats] [grid.f32]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const int threads = configureThreads(0);
  std::vector<double> load, lum, features, cluster, map, total;
  analysis::Localization last;
  int w = 0, h = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    auto img = io::loadImage(argv[1]);
    if (!img) {
      std::fprintf(stderr, "%s\n", img.error().message.c_str());
      return 3;
    }
    const auto t1 = Clock::now();
    const torch::Tensor gray = analysis::luminance(*img);
    const auto t2 = Clock::now();
    auto r = analysis::localizeNoiseCooccurrence(gray, {});
    const auto t3 = Clock::now();
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 4;
    }
    w = img->width();
    h = img->height();
    load.push_back(ms(t0, t1));
    lum.push_back(ms(t1, t2));
    features.push_back(r->featureSeconds * 1e3);
    cluster.push_back(r->clusterSeconds * 1e3);
    map.push_back(r->mapSeconds * 1e3);
    total.push_back(ms(t0, t3));
    last = std::move(*r);
  }
  std::int64_t forged = 0;
  for (auto v : last.mask.values) forged += v;
  std::printf("image %dx%d (%.1f MP), %d threads, block %d stride %d, grid %dx%d, %lld textured blocks, PCA %lld dims\n",
              w, h, w * h / 1e6, threads, last.features.blockSize, last.features.stride, last.features.gridWidth,
              last.features.gridHeight, static_cast<long long>(last.features.features.size(0)),
              static_cast<long long>(last.features.features.size(1)));
  std::printf("decode      %8.1f ms\nluminance   %8.1f ms\nfeatures    %8.1f ms\nclustering  %8.1f ms\n"
              "full maps   %8.1f ms\nend to end  %8.1f ms (median of %d)\n",
              median(load), median(lum), median(features), median(cluster), median(map), median(total), repeats);
  std::printf("forged fraction %.4f, image score %.4f\n", static_cast<double>(forged) / (static_cast<double>(w) * h),
              last.imageScore);
  if (argc > 3) {
    // Grid probabilities: flat blocks are 0, textured ones as clustered.
    torch::Tensor grid = torch::zeros({last.features.gridHeight * last.features.gridWidth});
    grid.index_put_({last.features.textured}, last.clusters.probability.to(torch::kFloat32));
    std::ofstream(argv[3], std::ios::binary)
        .write(reinterpret_cast<const char*>(grid.data_ptr<float>()), grid.numel() * sizeof(float));
    std::ofstream(std::string(argv[3]) + ".txt") << last.features.gridHeight << "x" << last.features.gridWidth << "\n";
  }
  return 0;
}
