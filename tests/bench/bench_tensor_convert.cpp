// imageToTensor (backend/core/TensorConvert) on the CPU: the single-pass conversion (interleaved 8-bit ->
// planar float with scale/mean/std and the channel swap in one pass, a per-channel lookup table for 8-bit)
// against the multi-pass tensor formula it replaced (kept here verbatim as the "before" and as the exact
// reference: the results must be bit-identical). Peer: torchvision's ToTensor + Normalize on the same
// pixels (tests/bench/tensor_convert_peer.py), run by tests/bench/bench_tensor_convert.sh in the same session.
// Usage: bench_tensor_convert [--threads N]

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "core/Device.h"
#include "core/TensorConvert.h"

using namespace loupe;

namespace {
// The conversion before the single pass (TensorConvert.cpp before this change), CPU only.
torch::Tensor multiPass(const Image& image, const TensorSpec& spec) {
  const int c = image.channels();
  auto hwc = torch::from_blob(const_cast<std::uint8_t*>(image.data()), {image.height(), image.width(), c}, torch::kUInt8).clone();
  auto nchw = hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).contiguous();
  const bool bgr = image.order() == ColorOrder::BGR || image.order() == ColorOrder::BGRA;
  if (bgr != spec.bgr && c >= 3) nchw = nchw.index_select(1, torch::tensor(std::vector<int64_t>{2, 1, 0}, torch::kLong));
  nchw = nchw * spec.scale;
  const auto mean = torch::tensor(spec.mean, torch::kFloat32).view({1, c, 1, 1});
  const auto stdv = torch::tensor(spec.std, torch::kFloat32).view({1, c, 1, 1});
  return (nchw - mean) / stdv;
}

double medianMs(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  const int used = configureThreads(threads);
  TensorSpec spec;
  spec.mean = {0.485f, 0.456f, 0.406f};
  spec.std = {0.229f, 0.224f, 0.225f};
  std::printf("imageToTensor, CPU, %d thread(s); ImageNet mean/std, 8-bit input; median ms\n", used);
  std::printf("| image | order | before (multi-pass) | after (single pass) | speed-up | max abs diff |\n|---|---|---:|---:|---:|---:|\n");
  for (auto [w, h, reps] : {std::tuple{224, 224, 200}, std::tuple{1024, 1024, 50}, std::tuple{4000, 3000, 10}}) {
    for (ColorOrder order : {ColorOrder::RGB, ColorOrder::BGR}) {
      Image img(w, h, order);
      for (std::size_t i = 0; i < img.byteSize(); ++i) img.data()[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 24);
      const double before = medianMs(reps, [&] { (void)multiPass(img, spec); });
      const double after = medianMs(reps, [&] { (void)imageToTensor(img, spec); });
      const double diff = (multiPass(img, spec) - *imageToTensor(img, spec)).abs().max().item<double>();
      std::printf("| %dx%d | %s | %.3f | %.3f | %.1fx | %g |\n", w, h, order == ColorOrder::RGB ? "RGB" : "BGR", before,
                  after, before / after, diff);
      if (diff != 0.0) {
        std::fprintf(stderr, "single pass differs from the tensor formula\n");
        return 1;
      }
    }
  }
  return 0;
}
