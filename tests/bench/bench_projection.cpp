// t-SNE and UMAP of the 70,000 Fashion-MNIST images (train + test) as 50-d PCA vectors of their pixels:
// wall time and the 10-NN label accuracy of each 2-D layout. Writes the vectors (vectors.npy, float32
// [N, 50]) and labels (labels.npy, int64) to --out so that the peers (projection_peer.py: scikit-learn's
// TSNE, and umap-js through projection_peer.js) run on exactly the same input; projection_peer.py --loupe
// runs this benchmark first, in the same run.
//
//   bench_projection [--out DIR] [--n N] [--methods tsne,umap] [--device cpu|cuda] [--threads N] [--umap-batched] [--seed S] [--prepare-only]
//
// --n keeps the first N of the 70,000 vectors (the PCA is always fitted on all of them).
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/Knn.h"
#include "analysis/Tsne.h"
#include "analysis/Umap.h"
#include "core/Device.h"
#include "train/data/Idx.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A C-order little-endian .npy (format 1.0) of a float32 or int64 CPU tensor.
bool writeNpy(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  const char* descr = c.scalar_type() == torch::kFloat ? "<f4" : "<i8";
  std::ostringstream shape;
  shape << "(";
  for (int d = 0; d < c.dim(); ++d) shape << c.size(d) << (c.dim() == 1 || d + 1 < c.dim() ? "," : "");
  shape << ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape.str() + ", }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  if (!f) return false;
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(reinterpret_cast<const char*>(magic), 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  f.put(char(len & 0xff));
  f.put(char(len >> 8));
  f.write(header.data(), std::streamsize(header.size()));
  f.write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.numel() * c.element_size()));
  return bool(f);
}

bool writeRaw(const std::string& path, const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.numel() * 4));
  return bool(f);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = "projection-bench", methods = "tsne,umap", device = "cpu";
  std::int64_t limit = 70000;
  bool prepareOnly = false, umapBatched = false;
  int threads = 0;
  std::uint64_t seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--out") out = next();
    else if (a == "--n") limit = std::stoll(next());
    else if (a == "--methods") methods = next();
    else if (a == "--device") device = next();
    else if (a == "--prepare-only") prepareOnly = true;
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--umap-batched") umapBatched = true;  // CPU: the batched epochs instead of sequential SGD
    else if (a == "--threads") threads = std::stoi(next());
    else {
      std::cerr << "usage: bench_projection [--out DIR] [--n N] [--methods tsne,umap] [--device cpu|cuda] [--threads N] [--umap-batched] [--seed S] [--prepare-only]\n";
      return 2;
    }
  }
  configureThreads(threads);  // one per core by default (Debian's LibTorch otherwise uses one)
  std::error_code ec;
  std::filesystem::create_directories(out, ec);

  // 70,000 images: train then test, pixels / 255, PCA to 50 dimensions (float64 covariance, Tsne.h's pcaLayout).
  auto t0 = std::chrono::steady_clock::now();
  auto train = train::loadFashionMnist(train::Split::Train);
  auto test = train::loadFashionMnist(train::Split::Test);
  if (!train || !test) {
    std::cerr << (train ? test.error() : train.error()).toString() << "\n";
    return 3;
  }
  const torch::Tensor pixels =
      torch::cat({train->images, test->images}).reshape({-1, 28 * 28}).to(torch::kFloat).div_(255.0);
  const torch::Tensor allLabels = torch::cat({train->labels, test->labels});
  auto pca = pcaLayout(pixels, 50);
  if (!pca) {
    std::cerr << pca.error().toString() << "\n";
    return 1;
  }
  limit = std::min<std::int64_t>(limit, pixels.size(0));
  const torch::Tensor vectors = pca->narrow(0, 0, limit).contiguous();
  const torch::Tensor labels = allLabels.narrow(0, 0, limit).contiguous();
  if (!writeNpy(out + "/vectors.npy", vectors) || !writeNpy(out + "/labels.npy", labels)) {
    std::cerr << "cannot write " << out << "/vectors.npy\n";
    return 7;
  }
  std::printf("{\"step\": \"prepare\", \"n\": %lld, \"dims\": 50, \"seconds\": %.2f, \"threads\": %d}\n",
              static_cast<long long>(limit), seconds(t0), at::get_num_threads());
  std::fflush(stdout);
  if (prepareOnly) return 0;

  const torch::Tensor x = vectors.to(torch::Device(device));
  for (const std::string method : {"tsne", "umap"}) {
    if (methods.find(method) == std::string::npos) continue;
    auto start = std::chrono::steady_clock::now();
    torch::Tensor layout;
    double extra = 0;
    if (method == "tsne") {
      TsneOptions o;  // perplexity 30, PCA init, 1000 iterations: scikit-learn's defaults
      auto r = tsne(x, o);
      if (!r) {
        std::cerr << r.error().toString() << "\n";
        return 4;
      }
      layout = r->layout;
      extra = r->kl;
    } else {
      UmapOptions o;  // n_neighbors 15, min_dist 0.1, 200 epochs above 10,000 points: umap-learn's defaults
      o.batched = umapBatched;
      o.seed = seed;
      auto r = umap(x, o);
      if (!r) {
        std::cerr << r.error().toString() << "\n";
        return 4;
      }
      layout = r->layout;
    }
    if (layout.is_cuda()) layout = layout.cpu();  // synchronises: the time includes all device work
    const double wall = seconds(start);
    const double acc = *knnLabelAccuracy(layout, labels, 10);
    writeRaw(out + "/loupe_" + method + ".f32", layout);
    std::printf("{\"peer\": \"loupe\", \"method\": \"%s\", \"device\": \"%s\", \"n\": %lld, \"seconds\": %.2f, "
                "\"knn10_accuracy\": %.4f%s}\n",
                method.c_str(), device.c_str(), static_cast<long long>(limit), wall, acc,
                method == "tsne" ? (", \"kl\": " + std::to_string(extra)).c_str() : "");
    std::fflush(stdout);
  }
  return 0;
}
