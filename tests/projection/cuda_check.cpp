// CUDA check of the projections (built and run by cuda_check.sh on a GPU machine with a CUDA LibTorch; not
// a CTest test: Debian's LibTorch has no CUDA). Compares the CUDA results with the CPU ones on small inputs
// (exact k-NN, t-SNE gradients both ways, UMAP's fuzzy graph), then times t-SNE and UMAP of the vectors in
// vectors.npy (bench_projection's 50-d PCA of the 70,000 Fashion-MNIST images) on CUDA and scores the
// layouts with the 10-NN label accuracy. Prints a Markdown report.
//   cuda_check vectors.npy labels.npy
#include <torch/types.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>

#include "analysis/Knn.h"
#include "analysis/Tsne.h"
#include "analysis/Umap.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {

torch::Tensor readNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string magic(8, '\0');
  f.read(magic.data(), 8);
  unsigned char lenBytes[2];
  f.read(reinterpret_cast<char*>(lenBytes), 2);
  std::string header(lenBytes[0] | (lenBytes[1] << 8), '\0');
  f.read(header.data(), std::streamsize(header.size()));
  std::smatch m;
  if (!f || !std::regex_search(header, m, std::regex("'shape': \\((\\d+),\\s*(\\d*)\\)"))) return {};
  const bool isFloat = header.find("<f4") != std::string::npos;
  std::vector<std::int64_t> shape{std::stoll(m[1])};
  if (m[2].length() > 0) shape.push_back(std::stoll(m[2]));
  torch::Tensor t = torch::empty(shape, isFloat ? torch::kFloat : torch::kLong);
  f.read(static_cast<char*>(t.data_ptr()), std::streamsize(t.numel() * t.element_size()));
  return f ? t : torch::Tensor();
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("| %s | %s |\n", what.c_str(), ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cuda_check vectors.npy labels.npy\n";
    return 2;
  }
  const torch::Device cuda(torch::kCUDA);
  std::printf("| check | result |\n|---|---|\n");

  // 1. Exact k-NN: CPU and CUDA agree.
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({3000, 32});
  KnnOptions ko;
  ko.k = 15;
  auto gc = exactKnn(x, ko), gg = exactKnn(x.to(cuda), ko);
  const double same = gc->indices.eq(gg->indices.cpu()).to(torch::kDouble).mean().item<double>();
  const double distDiff = (gc->distances - gg->distances.cpu()).abs().max().item<double>();
  check(same > 0.999 && distDiff < 1e-3,
        "k-NN 3000 x 32, k 15: " + std::to_string(same * 100) + "% same indices, max distance diff " + std::to_string(distDiff));

  // 2. t-SNE gradients (exact and interpolated) CPU vs CUDA at a spread-out layout.
  auto p = tsneAffinities(*gc, 5.0);
  const torch::Tensor y = torch::randn({3000, 2}) * 20;
  for (const auto method : {TsneRepulsion::Exact, TsneRepulsion::Interpolation}) {
    TsneOptions o;
    o.repulsion = method;
    double klc = 0, klg = 0;
    auto a = tsneGradient(*p, y, 1.0, o, &klc);
    auto b = tsneGradient(*p, y.to(cuda), 1.0, o, &klg);
    const double rel = (a->to(torch::kDouble) - b->cpu().to(torch::kDouble)).norm().item<double>() /
                       a->to(torch::kDouble).norm().item<double>();
    check(rel < 1e-4 && std::abs(klc - klg) < 1e-4 * std::abs(klc),
          std::string("t-SNE gradient (") + tsneRepulsionName(method) + ") CPU vs CUDA: relative diff " +
              std::to_string(rel) + ", KL " + std::to_string(klc) + " vs " + std::to_string(klg));
  }

  // 3. UMAP's fuzzy graph CPU vs CUDA.
  auto fc = umapFuzzySimplicialSet(*gc), fg = umapFuzzySimplicialSet(*gg);
  check(fc->values.numel() == fg->values.numel() &&
            (fc->values - fg->values.cpu()).abs().max().item<double>() < 1e-4,
        "UMAP fuzzy graph CPU vs CUDA: " + std::to_string(fc->values.numel()) + " vs " +
            std::to_string(fg->values.numel()) + " edges");

  // 4. The 70,000 vectors on CUDA: time and 10-NN accuracy.
  const torch::Tensor vectors = readNpy(argv[1]), labels = readNpy(argv[2]);
  if (!vectors.defined() || !labels.defined()) {
    std::cerr << "cannot read " << argv[1] << " / " << argv[2] << "\n";
    return 3;
  }
  std::printf("\n| method | device | n | seconds | 10-NN accuracy |\n|---|---|---|---|---|\n");
  for (int repeat = 0; repeat < 2; ++repeat) {  // the first run includes CUDA's warm-up (context, cuFFT plans)
    auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor xg = vectors.to(cuda);
    auto r = tsne(xg, {});
    torch::Tensor layout = r->layout.cpu();
    const double ts = seconds(t0);
    std::printf("| t-SNE%s | %s | %lld | %.2f | %.4f |\n", repeat == 0 ? " (first)" : "",
                "cuda", static_cast<long long>(vectors.size(0)), ts,
                *knnLabelAccuracy(layout, labels, 10));
    t0 = std::chrono::steady_clock::now();
    auto u = umap(xg, {});
    layout = u->layout.cpu();
    const double us = seconds(t0);
    std::printf("| UMAP%s | cuda | %lld | %.2f | %.4f |\n", repeat == 0 ? " (first)" : "",
                static_cast<long long>(vectors.size(0)), us, *knnLabelAccuracy(layout, labels, 10));
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
