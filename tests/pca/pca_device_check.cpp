// PCA on CUDA vs the CPU (run on a GPU machine by tests/pca/pca_device_check.sh against a CUDA LibTorch;
// the Qt Test suite here cannot build there). Same data on both devices: components, variance ratios and
// projections must agree; zero-variance data must give no NaN; timings of fitPca at 1e6 x 128.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "analysis/Pca.h"

using namespace loupe;

static double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.cpu().to(torch::kFloat64) - b.cpu().to(torch::kFloat64)).abs().max().item<double>();
}

int main() {
  if (!torch::cuda::is_available()) {
    std::printf("no CUDA device\n");
    return 2;
  }
  int failures = 0;
  auto check = [&](bool ok, const char* what, double value) {
    std::printf("%-58s %-4s %.3g\n", what, ok ? "ok" : "FAIL", value);
    if (!ok) ++failures;
  };
  torch::manual_seed(5);
  for (auto [n, d] : {std::pair<int64_t, int64_t>{1000000, 128}, {200000, 256}, {40, 300}}) {
    auto z = torch::randn({n, d}) * torch::linspace(4.0, 0.05, d);
    auto x = (z.matmul(torch::randn({d, d})) + 3.0).to(torch::kFloat32).contiguous();
    auto xg = x.to(torch::kCUDA);
    analysis::PcaOptions o;
    o.components = 3;
    (void)analysis::fitPca(xg.slice(0, 0, 1000), o);  // warm-up (cuSOLVER, allocator)
    torch::cuda::synchronize();
    auto t0 = std::chrono::steady_clock::now();
    auto cpu = analysis::fitPca(x, o);
    auto t1 = std::chrono::steady_clock::now();
    auto gpu = analysis::fitPca(xg, o);
    torch::cuda::synchronize();
    auto t2 = std::chrono::steady_clock::now();
    if (!cpu.ok() || !gpu.ok()) {
      std::printf("fitPca failed: %s\n", (!cpu.ok() ? cpu.error() : gpu.error()).message.c_str());
      return 1;
    }
    std::printf("N = %lld, D = %lld: CPU %.3f s, CUDA %.3f s\n", (long long)n, (long long)d,
                std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
    const double dc = maxDiff(cpu->components, gpu->components);
    check(dc < 1e-4, "  components CPU vs CUDA (max |diff|)", dc);
    const double dr = maxDiff(cpu->explainedVarianceRatio, gpu->explainedVarianceRatio);
    check(dr < 1e-9, "  explained variance ratio CPU vs CUDA", dr);
    const double dp = maxDiff(cpu->transform(x.slice(0, 0, 1000)), gpu->transform(xg.slice(0, 0, 1000)));
    check(dp < 1e-2 * std::max(1.0, cpu->transform(x.slice(0, 0, 1000)).abs().max().item<double>() / 100), "  projection of 1000 rows CPU vs CUDA", dp);
    check(gpu->transform(xg).is_cuda(), "  projection stays on the GPU", 0);
  }
  auto same = torch::full({5000, 16}, 0.3f, torch::kCUDA);
  auto z = analysis::fitPca(same, {2});
  check(z.ok() && torch::isfinite(z->components).all().item<bool>() && z->explainedVarianceRatio.abs().sum().item<double>() == 0 &&
            !z->notices.empty(),
        "zero-variance data on CUDA: finite, zero ratios, a notice", 0);
  std::printf("%s\n", failures ? "PCA device check FAILED" : "PCA device check passed");
  return failures ? 1 : 0;
}
