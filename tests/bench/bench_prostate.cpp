// Prostate MRI speed: loading a three-sequence study (DICOM and MetaImage), resampling ADC/DWI into the
// T2W grid, and sliding-window inference of a 3-D U-Net-sized TorchScript package on CPU (peer:
// prostate_peer.py, same model through Python torch with the same windows and Gaussian blending).
//
//   bench_prostate --dicom DIR --mha DIR --model PKG [--spacing 1,1,3] [--repeat 5]

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/ModelPackage.h"
#include "volume/Resample.h"
#include "volume/Study.h"
#include "volume/VolumeModel.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dicom, mha, model;
  std::string spacing = "1,1,3";
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dicom")) dicom = argv[i + 1];
    else if (!std::strcmp(argv[i], "--mha")) mha = argv[i + 1];
    else if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!std::strcmp(argv[i], "--spacing")) spacing = argv[i + 1];
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
  }
  std::printf("threads %d\n", at::get_num_threads());
  Study study;
  for (const auto& [label, dir] : {std::pair<std::string, std::string>{"DICOM", dicom}, {"MetaImage", mha}}) {
    if (dir.empty()) continue;
    std::vector<double> ms;
    for (int r = 0; r < repeat; ++r) {
      const auto t = Clock::now();
      auto s = volume::loadStudy({dir});
      ms.push_back(since(t));
      if (!s) {
        std::fprintf(stderr, "%s\n", s.error().message.c_str());
        return 1;
      }
      study = std::move(*s);
    }
    std::printf("load study (%s, 3 sequences): median %.1f ms of %d\n", label.c_str(), median(ms), repeat);
  }
  if (study.sequences.empty()) return 0;
  const Volume& t2 = *study.find("t2w");
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) {
    const auto t = Clock::now();
    auto a = volume::resampleToGrid(*study.find("adc"), t2);
    auto d = volume::resampleToGrid(*study.find("dwi"), t2);
    ms.push_back(since(t));
    if (!a || !d) return 1;
  }
  std::printf("resample ADC + DWI into the T2W grid (%lldx%lldx%lld, trilinear): median %.1f ms of %d\n",
              (long long)t2.size[0], (long long)t2.size[1], (long long)t2.size[2], median(ms), repeat);
  if (model.empty()) return 0;
  auto pkg = runtime::openModelPackage(model);
  if (!pkg) {
    std::fprintf(stderr, "%s\n", pkg.error().message.c_str());
    return 1;
  }
  volume::VolumeModelOptions o;
  if (std::sscanf(spacing.c_str(), "%lf,%lf,%lf", &o.spacing[0], &o.spacing[1], &o.spacing[2]) != 3) return 2;
  Volume grid;
  auto stacked = volume::stackSequences(study, o, grid);
  if (!stacked) return 1;
  std::printf("model grid %lldx%lldx%lld (spacing %s), window %dx%dx%d (DxHxW), overlap %.2f\n", (long long)grid.size[0],
              (long long)grid.size[1], (long long)grid.size[2], spacing.c_str(), pkg->input.size.depth,
              pkg->input.size.height, pkg->input.size.width, pkg->input.size.overlap);
  for (int r = 0; r < 2; ++r) {
    const auto t = Clock::now();
    auto out = volume::runVolumeModel(*pkg, study, o);
    if (!out) {
      std::fprintf(stderr, "%s\n", out.error().message.c_str());
      return 1;
    }
    std::printf("model run %d (resample, normalise, sliding windows, back to T2W): %.0f ms\n", r + 1, since(t));
  }
  return 0;
}
