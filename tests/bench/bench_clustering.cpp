// Benchmark (not a test): FOCAL's per-image clustering on FOCAL-shaped features — 64 x 64 positions of
// 288-d unit vectors, a forged region of ~10 % whose features point elsewhere — with cosine k-means
// (k = 2, FOCAL's released setting), Euclidean k-means (what scikit-learn's KMeans computes) and HDBSCAN
// (min_cluster_size 200, FOCAL's paper). Writes the features to a .npy file so that clustering_peer.py
// times scikit-learn on exactly the same data.
// Usage: bench_clustering [FEATURES.npy] [repeats] [threads]. threads 0 (default) = one per core, via
// loupe::configureThreads. Prints the median of the repeats, in milliseconds. On a machine shared with
// other work, compare with the peer under the same OMP_NUM_THREADS / OPENBLAS_NUM_THREADS.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "analysis/Hdbscan.h"
#include "analysis/KMeans.h"
#include "core/Device.h"

using namespace loupe;
using namespace loupe::analysis;
using Clock = std::chrono::steady_clock;

namespace {

// 4096 x 288 float32: two directions 60 degrees apart (cos 0.5) plus isotropic noise about as large as
// the signal, unit rows; the forged positions form a rectangle covering 10 % of a 64 x 64 grid.
std::pair<torch::Tensor, torch::Tensor> focalLikeFeatures(std::uint64_t seed) {
  torch::manual_seed(seed);
  const std::int64_t side = 64, d = 288;
  torch::Tensor a = torch::randn({d});
  a /= a.norm();
  torch::Tensor b = torch::randn({d});
  b -= (b * a).sum() * a;
  b /= b.norm();
  const torch::Tensor pristine = a;
  const torch::Tensor forgedDir = 0.5 * a + std::sqrt(0.75) * b;
  torch::Tensor forged = torch::zeros({side, side}, torch::kBool);
  forged.narrow(0, 8, 16).narrow(1, 20, 26).fill_(true);  // 416 of 4096 positions
  forged = forged.flatten();
  torch::Tensor x = torch::where(forged.unsqueeze(1), forgedDir.unsqueeze(0), pristine.unsqueeze(0)) +
                    (1.0 / std::sqrt(double(d))) * torch::randn({side * side, d});
  x /= x.norm(2, 1, true);
  return {x.contiguous(), forged};
}

bool writeNpy(const std::string& path, const torch::Tensor& x) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(x.size(0)) + ", " +
                       std::to_string(x.size(1)) + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces and a newline to a multiple of 64.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  const unsigned char preamble[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.write(reinterpret_cast<const char*>(preamble), 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  const char le[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(le, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(x.data_ptr<float>()),
            static_cast<std::streamsize>(x.numel() * sizeof(float)));
  return static_cast<bool>(out);
}

double medianMs(int repeats, const std::function<void()>& run) {
  run();  // warm-up: first-touch allocations, thread pool start
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "clustering_features.npy";
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  const int threads = configureThreads(argc > 3 ? std::max(0, std::atoi(argv[3])) : 0);
  const auto [x, truth] = focalLikeFeatures(2024);
  if (!writeNpy(path, x)) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return 3;
  }
  std::printf("features %lld x %lld float32 (%lld forged), written to %s; %d threads, %d repeats, median ms\n",
              static_cast<long long>(x.size(0)), static_cast<long long>(x.size(1)),
              static_cast<long long>(truth.sum().item<std::int64_t>()), path.c_str(), threads, repeats);

  auto reportKMeans = [&](const char* name, ClusterMetric metric, int nInit) {
    KMeansOptions options;
    options.metric = metric;
    options.nInit = nInit;
    Result<KMeansResult> r = Error{};
    const double ms = medianMs(repeats, [&] { r = kmeans(x, options); });
    if (!r) {
      std::fprintf(stderr, "%s: %s\n", name, r.error().message.c_str());
      return false;
    }
    const auto f = forgeryLabelsFromClusters(r->labels);
    const bool exact = f.ok() && torch::equal(f->forged, truth);
    std::printf("%-30s %9.1f   objective %.6g, %d iterations, forged map %s\n", name, ms, r->objective, r->iterations,
                exact ? "exact" : "differs");
    return true;
  };
  bool ok = reportKMeans("kmeans cosine k=2 n_init=1", ClusterMetric::Cosine, 1);
  ok = reportKMeans("kmeans cosine k=2 n_init=10", ClusterMetric::Cosine, 10) && ok;
  ok = reportKMeans("kmeans euclidean k=2 n_init=1", ClusterMetric::Euclidean, 1) && ok;
  ok = reportKMeans("kmeans euclidean k=2 n_init=10", ClusterMetric::Euclidean, 10) && ok;

  for (const auto metric : {ClusterMetric::Euclidean, ClusterMetric::Cosine}) {
    HdbscanOptions options;
    options.minClusterSize = 200;
    options.metric = metric;
    Result<HdbscanResult> r = Error{};
    const int hdbRepeats = std::max(1, std::min(repeats, 3));
    const double ms = medianMs(hdbRepeats, [&] { r = hdbscan(x, options); });
    const std::string name = std::string("hdbscan ") + clusterMetricName(metric) + " mcs=200";
    if (!r) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), r.error().message.c_str());
      ok = false;
      continue;
    }
    const auto f = forgeryLabelsFromClusters(r->labels);
    const std::int64_t noise = (r->labels < 0).sum().item<std::int64_t>();
    const std::int64_t hit = f.ok() ? (f->forged & truth).sum().item<std::int64_t>() : 0;
    const std::int64_t wrong = f.ok() ? (f->forged & ~truth).sum().item<std::int64_t>() : 0;
    std::printf("%-30s %9.1f   %d clusters, %lld noise, forged map %lld/%lld hit, %lld false (median of %d)\n",
                name.c_str(), ms, r->clusterCount, static_cast<long long>(noise), static_cast<long long>(hit),
                static_cast<long long>(truth.sum().item<std::int64_t>()), static_cast<long long>(wrong), hdbRepeats);
  }
  return ok ? 0 : 4;
}
