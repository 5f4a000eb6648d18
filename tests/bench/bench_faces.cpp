// Faces pipeline latency on CPU (or CUDA): BlazeFace per image, faceres per face at batch 1 and 16, the
// whole faces.age pipeline per image; then a folder of N images (--folder DIR, default: the first 32 UTKFace
// crops of ../shared/data/faces_age when run from the repository root) one by one (detect, then faceres per image) against batched
// (detect each, then every image's faces through faceres in stacked batches of 16: FaceRes::predictFaceSets),
// in the same run. Usage: bench_faces [--threads N] [--reps N] [--device cpu|cuda] [--folder DIR] [--images N]
// Needs the blazeface/faceres packages (scripts/setup) and python3-skimage's astronaut.png.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
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
  int threads = 2, reps = 10, folderImages = 32;
  std::string dev = "cpu", folder = "../shared/data/faces_age/UTKFace";  // relative to the repository root
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--device")) dev = argv[i + 1];
    if (!std::strcmp(argv[i], "--folder")) folder = argv[i + 1];
    if (!std::strcmp(argv[i], "--images")) folderImages = std::atoi(argv[i + 1]);
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

  // A folder: decoded once up front (decoding is the same for both paths), then one by one vs batched.
  std::vector<loupe::Image> images;
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec))
    if (e.is_regular_file()) paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    if (static_cast<int>(images.size()) >= folderImages) break;
    if (auto img = loupe::io::loadImage(p)) images.push_back(std::move(*img));
  }
  if (images.empty()) {
    std::printf("folder: %s has no images, folder benchmark skipped\n", folder.c_str());
    return 0;
  }
  std::vector<std::vector<tf::FaceDetection>> found(images.size());
  int faceCount = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto f = det->detect(images[i]);
    if (f) found[i] = *f;
    faceCount += static_cast<int>(found[i].size());
  }
  const int folderReps = std::max(1, reps / 3);
  const double oneByOne = msPer(folderReps, [&] {
    for (const auto& img : images) {
      auto f = det->detect(img);
      if (f && !f->empty()) (void)age->predictFaces(img, *f);
    }
    sync();
  });
  const double batched = msPer(folderReps, [&] {
    std::vector<std::vector<tf::FaceDetection>> all(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      auto f = det->detect(images[i]);
      if (f) all[i] = std::move(*f);
    }
    (void)age->predictFaceSets(images, all, {}, 16);
    sync();
  });
  const double ageOnlyOne = msPer(folderReps, [&] {
    for (std::size_t i = 0; i < images.size(); ++i)
      if (!found[i].empty()) (void)age->predictFaces(images[i], found[i]);
    sync();
  });
  const double ageOnlyBatched = msPer(folderReps, [&] {
    (void)age->predictFaceSets(images, found, {}, 16);
    sync();
  });
  const double n = double(images.size()), nf = std::max(1, faceCount);
  std::printf("folder: %zu images, %d faces found (%s), median of %d\n", images.size(), faceCount, folder.c_str(), folderReps);
  std::printf("folder one by one     %8.1f ms/image  %8.1f ms/face  (faceres only: %.1f ms/face)\n", oneByOne / n,
              oneByOne / nf, ageOnlyOne / nf);
  std::printf("folder batched (16)   %8.1f ms/image  %8.1f ms/face  (faceres only: %.1f ms/face)\n", batched / n,
              batched / nf, ageOnlyBatched / nf);
  return 0;
}
