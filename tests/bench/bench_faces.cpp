// Faces pipeline latency on CPU (or CUDA): BlazeFace per image, faceres per face at batch 1 and 16, the
// whole faces.age pipeline per image. Usage: bench_faces [--threads N] [--reps N] [--device cpu|cuda]
// Needs the blazeface/faceres packages (scripts/setup) and python3-skimage's astronaut.png.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <cstring>
#include <string>

#include "io/ImageReader.h"
#include "runtime/tfjs/FaceModels.h"

namespace tf = loupe::runtime::tfjs;
using Clock = std::chrono::steady_clock;

// Median over `reps` runs after one warm-up (the median resists other jobs on a shared machine).
template <class F>
double msPer(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  int threads = 2, reps = 10;
  std::string dev = "cpu";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--device")) dev = argv[i + 1];
  }
  torch::set_num_threads(threads);
  const torch::Device device(dev);
  auto detDir = tf::findFaceModel("blazeface");
  auto ageDir = tf::findFaceModel("faceres");
  if (!detDir || !ageDir) {
    std::fprintf(stderr, "%s\n", (!detDir ? detDir.error() : ageDir.error()).message.c_str());
    return 1;
  }
  auto det = tf::BlazeFace::open(*detDir, device);
  auto age = tf::FaceRes::open(*ageDir, device);
  auto image = loupe::io::loadImage("/usr/lib/python3/dist-packages/skimage/data/astronaut.png");
  if (!det || !age || !image) return 1;
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  auto faces = det->detect(*image);
  if (!faces || faces->empty()) return 1;
  const double detect = msPer(reps, [&] { (void)det->detect(*image); sync(); });
  const double one = msPer(reps, [&] { (void)age->predictFaces(*image, {faces->front()}); sync(); });
  std::vector<tf::FaceDetection> sixteen(16, faces->front());
  const double batch = msPer(std::max(1, reps / 4), [&] { (void)age->predictFaces(*image, sixteen); sync(); }) / 16;
  const double pipeline = msPer(reps, [&] {
    auto f = det->detect(*image);
    (void)age->predictFaces(*image, *f);
    sync();
  });
  std::printf("device %s, threads %d, median of %d (astronaut.png 512x512, one face)\n", dev.c_str(), threads, reps);
  std::printf("blazeface detect      %8.1f ms/image\n", detect);
  std::printf("faceres batch 1       %8.1f ms/face\n", one);
  std::printf("faceres batch 16      %8.1f ms/face\n", batch);
  std::printf("faces.age pipeline    %8.1f ms/image\n", pipeline);
  return 0;
}
