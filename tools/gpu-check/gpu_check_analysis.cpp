// GPU check of backend/analysis (no Qt): clustering (k-means with cosine similarity, HDBSCAN), the
// training-free forgery localisation (noise co-occurrence features + clustering) and 3-D sliding-window
// inference of a U-Net-sized TorchScript model, each on the device against the same computation on the
// CPU, then timed on both. Prints a Markdown table (appended to --out).
// Usage: gpu_check_analysis [--device cuda|cpu] [--out FILE.md] [--unet PACKAGE_DIR]

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "GpuCheck.h"
#include "analysis/ForgeryLocalize.h"
#include "analysis/Hdbscan.h"
#include "analysis/KMeans.h"
#include "analysis/NoiseCooccurrence.h"
#include "core/Device.h"
#include "runtime/SlidingWindow.h"

using namespace loupe;
using namespace loupe::gpucheck;

namespace {

// Share of positions where two labelings agree after the best matching of k=2 labels (noise -1 kept).
double agreement2(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kCPU), y = b.to(torch::kCPU);
  const double same = x.eq(y).to(torch::kFloat64).mean().item<double>();
  const double swapped = x.eq(1 - y).to(torch::kFloat64).mean().item<double>();
  return std::max(same, swapped);
}

// Share of pairs of labelings that agree up to a relabelling: each label of `a` maps to its most frequent
// label in `b`; the score is the share of positions where that mapping holds.
double agreementMapped(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kCPU).contiguous(), y = b.to(torch::kCPU).contiguous();
  const auto* px = x.data_ptr<std::int64_t>();
  const auto* py = y.data_ptr<std::int64_t>();
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> counts;
  for (std::int64_t i = 0; i < x.numel(); ++i) ++counts[px[i]][py[i]];
  std::int64_t kept = 0;
  for (const auto& [la, m] : counts) {
    std::int64_t best = 0;
    for (const auto& [lb, c] : m) best = std::max(best, c);
    kept += best;
  }
  return double(kept) / double(std::max<std::int64_t>(1, x.numel()));
}

// n points per cluster around `k` random unit centres in `d` dimensions (cosine-separable), labels 0..k-1.
std::pair<torch::Tensor, torch::Tensor> blobs(std::int64_t n, std::int64_t k, std::int64_t d, double spread,
                                              std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto centres = torch::randn({k, d}, gen, torch::kFloat32) * 3.0;
  const auto labels = torch::arange(k, torch::kInt64).repeat_interleave(n);
  const auto x = centres.index_select(0, labels) + spread * torch::randn({k * n, d}, gen, torch::kFloat32);
  return {x, labels};
}

}  // namespace

int main(int argc, char** argv) {
  std::string deviceText = "auto", outPath, unetDir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) deviceText = argv[++i];
    else if (a == "--out" && i + 1 < argc) outPath = argv[++i];
    else if (a == "--unet" && i + 1 < argc) unetDir = argv[++i];
  }
  configureThreads(0);
  auto request = DeviceRequest::parse(deviceText);
  if (!request) { std::fprintf(stderr, "%s\n", request.error().message.c_str()); return 2; }
  auto resolved = resolveDevice(*request);
  if (!resolved) { std::fprintf(stderr, "%s\n", resolved.error().message.c_str()); return 5; }
  const torch::Device dev = *resolved;
  const torch::Device cpu(torch::kCPU);
  c10::InferenceMode guard;

  // 1. k-means, cosine, k=2 on 4096 x 288 (FOCAL's feature size): both devices find the known clusters.
  {
    auto [x, truth] = blobs(2048, 2, 288, 1.0, 7);
    analysis::KMeansOptions o;
    o.k = 2;
    o.metric = analysis::ClusterMetric::Cosine;
    o.seed = 1;
    auto onCpu = analysis::kmeans(x, o);
    auto onDev = analysis::kmeans(x.to(dev), o);
    const double aCpu = onCpu ? agreement2(onCpu->labels, truth) : 0.0;
    const double aDev = onDev ? agreement2(onDev->labels, truth) : 0.0;
    check("k-means cosine k=2, 4096x288: known clusters on cpu and " + dev.str(), aCpu > 0.999 && aDev > 0.999,
          "agreement with truth cpu " + fmt(100 * aCpu, "%") + ", " + dev.str() + " " + fmt(100 * aDev, "%") +
              (onDev ? "" : " (" + onDev.error().message + ")"));
    const auto xd = x.to(dev);
    note("time: k-means cosine 4096x288 k=2", fmt(timeMs(dev, 2, 10, [&] { (void)analysis::kmeans(xd, o); }), "ms"),
         dev.str());
    note("time: k-means cosine 4096x288 k=2", fmt(timeMs(cpu, 2, 10, [&] { (void)analysis::kmeans(x, o); }), "ms"),
         "cpu");
  }

  // 2. HDBSCAN on 3 blobs of 1365 points in 288-d (+1 point): cpu and device labelings agree.
  {
    auto [x, truth] = blobs(1365, 3, 288, 1.0, 11);
    analysis::HdbscanOptions o;
    o.minClusterSize = 200;
    auto onCpu = analysis::hdbscan(x, o);
    auto onDev = analysis::hdbscan(x.to(dev), o);
    const double a = (onCpu && onDev) ? agreementMapped(onCpu->labels, onDev->labels) : 0.0;
    const double t = onDev ? agreementMapped(truth, onDev->labels) : 0.0;
    check("HDBSCAN 4095x288, min cluster 200: " + dev.str() + " == cpu", onCpu && onDev && a > 0.995 && t > 0.99,
          onCpu && onDev ? "clusters cpu " + std::to_string(onCpu->clusterCount) + ", " + dev.str() + " " +
                               std::to_string(onDev->clusterCount) + "; agreement " + fmt(100 * a, "%") +
                               ", with truth " + fmt(100 * t, "%")
                         : (onCpu ? onDev.error().message : onCpu.error().message));
    const auto xd = x.to(dev);
    note("time: HDBSCAN 4095x288", fmt(timeMs(dev, 1, 5, [&] { (void)analysis::hdbscan(xd, o); }), "ms"), dev.str());
    note("time: HDBSCAN 4095x288", fmt(timeMs(cpu, 1, 3, [&] { (void)analysis::hdbscan(x, o); }), "ms"), "cpu");
  }

  // 3. Training-free forgery localisation on a 12 MP synthetic photo whose centre carries a different noise
  // level: both devices find it, and their heatmaps agree.
  {
    const std::int64_t H = 3000, W = 4000;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    auto smooth = torch::nn::functional::interpolate(
        torch::rand({1, 1, 30, 40}, gen) * 180 + 40,
        torch::nn::functional::InterpolateFuncOptions().size(std::vector<std::int64_t>{H, W}).mode(torch::kBilinear).align_corners(false));
    auto gray = smooth[0][0] + 2.0 * torch::randn({H, W}, gen);
    gray.narrow(0, 1000, 1000).narrow(1, 1400, 1200).add_(6.0 * torch::randn({1000, 1200}, gen));
    gray = gray.round().clamp(0, 255);
    auto truth = torch::zeros({H, W}, torch::kBool);
    truth.narrow(0, 1000, 1000).narrow(1, 1400, 1200).fill_(true);
    analysis::LocalizeOptions o;
    auto onCpu = analysis::localizeNoiseCooccurrence(gray, o);
    auto onDev = analysis::localizeNoiseCooccurrence(gray.to(dev), o);
    if (onCpu && onDev) {
      auto iou = [&](const analysis::Localization& l) {
        if (l.mask.values.size() != static_cast<std::size_t>(H * W)) return 0.0;  // empty: no forgery found
        const auto m = torch::from_blob(const_cast<std::uint8_t*>(l.mask.values.data()), {H, W}, torch::kUInt8).to(torch::kBool);
        const double inter = (m & truth).sum().item<double>(), uni = (m | truth).sum().item<double>();
        return uni > 0 ? inter / uni : 0.0;
      };
      if (onCpu->heatmap.values.size() != static_cast<std::size_t>(H * W) ||
          onDev->heatmap.values.size() != static_cast<std::size_t>(H * W)) {
        check("forgery.localize 12 MP on " + dev.str(), false, "heatmap of the wrong size");
        return finish("Analysis on " + dev.str(), "device: " + describeDevice(dev), outPath);
      }
      const auto hc = torch::from_blob(const_cast<float*>(onCpu->heatmap.values.data()), {H, W}, torch::kFloat32);
      const auto hd = torch::from_blob(const_cast<float*>(onDev->heatmap.values.data()), {H, W}, torch::kFloat32);
      const double meanDiff = (hc - hd).abs().mean().item<double>();
      check("forgery.localize 12 MP: " + dev.str() + " ~ cpu", onDev->forgeryFound && iou(*onDev) > 0.7 && meanDiff < 0.05,
            "IoU with the truth cpu " + fmt(iou(*onCpu), "") + ", " + dev.str() + " " + fmt(iou(*onDev), "") +
                "; mean |heatmap diff| " + fmt(meanDiff, ""));
      const auto gd = gray.to(dev);
      note("time: forgery.localize 12 MP (features + clustering + maps)",
           fmt(timeMs(dev, 1, 5, [&] { (void)analysis::localizeNoiseCooccurrence(gd, o); }), "ms"), dev.str());
      note("time: forgery.localize 12 MP (features + clustering + maps)",
           fmt(timeMs(cpu, 0, 3, [&] { (void)analysis::localizeNoiseCooccurrence(gray, o); }), "ms"), "cpu");
    } else {
      check("forgery.localize 12 MP on " + dev.str(), false, (onCpu ? onDev.error() : onCpu.error()).message);
    }
  }

  // 4. 3-D sliding-window inference of a U-Net-sized model (tests/bench/make_unet3d.py): device == cpu on a
  // small volume, then the time of a prostate-sized three-sequence volume in fp32 and fp16.
  if (!unetDir.empty()) {
    try {
      auto net = torch::jit::load(unetDir + "/model.pt", cpu);
      net.eval();
      auto netDev = torch::jit::load(unetDir + "/model.pt", dev);
      netDev.eval();
      runtime::SlidingWindowOptions o;
      o.window = {16, 128, 128};
      o.overlap = 0.25;
      o.batchSize = 2;
      auto fnCpu = [&](const torch::Tensor& t) -> Result<torch::Tensor> { return net.forward({t}).toTensor(); };
      auto fnDev = [&](const torch::Tensor& t) -> Result<torch::Tensor> { return netDev.forward({t}).toTensor(); };
      auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
      const auto small = torch::randn({1, 3, 20, 160, 176}, gen);
      auto a = runtime::slidingWindowInference(small, fnCpu, o);
      auto b = runtime::slidingWindowInference(small.to(dev), fnDev, o);
      const double rel = (a && b) ? ((*a - b->to(cpu)).norm() / a->norm()).item<double>() : 1e9;
      check("3-D U-Net sliding window " + dev.str() + " == cpu (20x160x176)", rel < 1e-3,
            "relative L2 difference " + fmt(rel, "") + " (TF32 convolutions allowed)");
      const auto big = torch::randn({1, 3, 32, 384, 384}, gen).to(dev);  // ~ T2W grid at 0.5 x 0.5 x 3 mm
      note("time: 3-D U-Net sliding window 32x384x384, fp32",
           fmt(timeMs(dev, 1, 3, [&] { (void)runtime::slidingWindowInference(big, fnDev, o); }), "ms"), dev.str());
      if (dev.is_cuda()) {
        netDev.to(torch::kHalf);
        const auto bigHalf = big.to(torch::kHalf);
        auto h = runtime::slidingWindowInference(bigHalf.narrow(2, 0, 20).narrow(3, 0, 160).narrow(4, 0, 176).contiguous(), fnDev, o);
        const auto ref = runtime::slidingWindowInference(big.narrow(2, 0, 20).narrow(3, 0, 160).narrow(4, 0, 176).to(cpu).contiguous(),
                                                         fnCpu, o);
        const double relH = (h && ref) ? ((h->to(cpu, torch::kFloat32) - *ref).norm() / ref->norm()).item<double>() : 1e9;
        check("3-D U-Net sliding window fp16 on " + dev.str() + " ~ cpu fp32", relH < 2e-2, "relative L2 difference " + fmt(relH, ""));
        note("time: 3-D U-Net sliding window 32x384x384, fp16",
             fmt(timeMs(dev, 1, 3, [&] { (void)runtime::slidingWindowInference(bigHalf, fnDev, o); }), "ms"), dev.str());
      }
      const auto bigCpu = big.to(cpu);
      note("time: 3-D U-Net sliding window 32x384x384, fp32",
           fmt(timeMs(cpu, 0, 1, [&] { (void)runtime::slidingWindowInference(bigCpu, fnCpu, o); }), "ms"), "cpu");
    } catch (const std::exception& e) {
      check("3-D U-Net sliding window on " + dev.str(), false, e.what());
    }
  }

  return finish("Analysis on " + dev.str(), "device: " + describeDevice(dev) + ", LibTorch " TORCH_VERSION +
                    std::string(", cpu threads ") + std::to_string(at::get_num_threads()),
                outPath);
}
