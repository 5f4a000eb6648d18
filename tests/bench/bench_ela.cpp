// Benchmark (not a test): Error Level Analysis end to end on a large photo — decode, re-compress,
// difference map — through the same backend calls the forgery.ela task makes.
// Usage: bench_ela IMAGE [repeats]. Prints one line per stage (median of the repeats, milliseconds).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "analysis/ErrorLevel.h"
#include "core/Device.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;

static double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_ela IMAGE [repeats]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  configureThreads(0);
  std::vector<double> load, recompress, map, total;
  int w = 0, h = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    auto img = io::loadImage(argv[1]);
    if (!img) {
      std::fprintf(stderr, "%s\n", img.error().message.c_str());
      return 3;
    }
    const Image rgb = img->toU8().toRGB();
    const auto t1 = Clock::now();
    auto re = io::recompressJpeg(rgb, 90);
    const auto t2 = Clock::now();
    auto m = analysis::errorLevelMap(rgb, *re, {});
    const auto t3 = Clock::now();
    if (!m) return 4;
    w = rgb.width();
    h = rgb.height();
    load.push_back(ms(t0, t1));
    recompress.push_back(ms(t1, t2));
    map.push_back(ms(t2, t3));
    total.push_back(ms(t0, t3));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("image %dx%d (%.1f MP), %d repeats, median ms\n", w, h, w * h / 1e6, repeats);
  std::printf("decode      %8.1f\nrecompress  %8.1f\ndiff map    %8.1f\ntotal       %8.1f\n", median(load),
              median(recompress), median(map), median(total));
  return 0;
}
