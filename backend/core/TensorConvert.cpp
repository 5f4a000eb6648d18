#include "TensorConvert.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <type_traits>
#include <utility>

namespace loupe {
namespace {

bool isBgr(ColorOrder o) { return o == ColorOrder::BGR || o == ColorOrder::BGRA; }

Result<void> checkStats(const TensorSpec& spec, int channels) {
  auto bad = [&](const char* what, std::size_t n) {
    return Error{ErrorCode::InvalidArgument, std::string(what) + " has " + std::to_string(n) +
                                                 " values but the image has " + std::to_string(channels) +
                                                 " channels"};
  };
  if (!spec.mean.empty() && static_cast<int>(spec.mean.size()) != channels) return bad("mean", spec.mean.size());
  if (!spec.std.empty() && static_cast<int>(spec.std.size()) != channels) return bad("std", spec.std.size());
  for (float s : spec.std)
    if (s == 0.f) return Error{ErrorCode::InvalidArgument, "std contains 0"};
  return {};
}

torch::Tensor statsTensor(const std::vector<float>& v, int channels, float fill) {
  std::vector<float> values = v.empty() ? std::vector<float>(channels, fill) : v;
  return torch::tensor(values, torch::kFloat32).view({1, channels, 1, 1});
}

// Index permutation that swaps R and B when the image's order differs from the wanted one.
torch::Tensor reorder(torch::Tensor nchw, bool swap) {
  if (!swap || nchw.size(1) < 3) return nchw;
  std::vector<int64_t> idx = {2, 1, 0};
  for (int64_t c = 3; c < nchw.size(1); ++c) idx.push_back(c);
  return nchw.index_select(1, torch::tensor(idx, torch::kLong).to(nchw.device()));
}

// CUDA asked for on a machine (or LibTorch build) without it: a clear error instead of a c10 exception.
Result<void> checkDevice(const torch::Device& device) {
  if (device.is_cuda() && !torch::cuda::is_available())
    return Error{ErrorCode::DeviceUnavailable,
                 "Tensor conversion to " + device.str() + " requested but CUDA is not available (use the cpu device)"};
  return {};
}

}  // namespace

// The CPU path in one pass: each output sample is (src * scale - mean[c]) / std[c], computed with the same
// float operations as the tensor formula (so results are bit-identical), read straight from the interleaved
// image into planar NCHW with the channel swap folded into the source index. 8-bit images go through a
// per-channel 256-entry table of those values. Rows are split across LibTorch's intra-op threads.
template <class Src>
void convertPlanar(const Image& image, const TensorSpec& spec, const int* srcChannel, float* dst) {
  const int c = image.channels(), h = image.height(), w = image.width();
  std::vector<float> scale(c), mean(c), stdv(c);
  for (int k = 0; k < c; ++k) {
    scale[k] = spec.scale;
    mean[k] = spec.mean.empty() ? 0.f : spec.mean[k];
    stdv[k] = spec.std.empty() ? 1.f : spec.std[k];
  }
  std::vector<float> lut;
  if constexpr (std::is_same_v<Src, std::uint8_t>) {
    lut.resize(static_cast<std::size_t>(c) * 256);
    for (int k = 0; k < c; ++k)
      for (int v = 0; v < 256; ++v) lut[k * 256 + v] = (static_cast<float>(v) * scale[k] - mean[k]) / stdv[k];
  }
  const std::int64_t plane = static_cast<std::int64_t>(h) * w;
  at::parallel_for(0, h, 16, [&](std::int64_t y0, std::int64_t y1) {
    for (std::int64_t y = y0; y < y1; ++y) {
      const Src* row = image.row<Src>(static_cast<int>(y));
      for (int k = 0; k < c; ++k) {
        float* out = dst + k * plane + y * w;
        const Src* in = row + srcChannel[k];
        if constexpr (std::is_same_v<Src, std::uint8_t>) {
          const float* table = lut.data() + srcChannel[k] * 256;
          for (int x = 0; x < w; ++x) out[x] = table[in[static_cast<std::size_t>(x) * c]];
        } else {
          const float sc = scale[srcChannel[k]], m = mean[srcChannel[k]], sd = stdv[srcChannel[k]];
          for (int x = 0; x < w; ++x) out[x] = (static_cast<float>(in[static_cast<std::size_t>(x) * c]) * sc - m) / sd;
        }
      }
    }
  });
}

Result<torch::Tensor> imageToTensor(const Image& image, const TensorSpec& spec) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "Cannot convert an empty image to a tensor"};
  const int c = image.channels();
  if (auto ok = checkStats(spec, c); !ok) return ok.error();
  if (auto ok = checkDevice(spec.device); !ok) return ok.error();
  const bool swap = isBgr(image.order()) != spec.bgr && c >= 3;
  try {
    if (spec.device.is_cpu()) {
      // mean/std are given in the model's channel order; the swap maps output channel k to source
      // channel srcChannel[k], and the statistics follow the output channel.
      int srcChannel[4] = {0, 1, 2, 3};
      if (swap) std::swap(srcChannel[0], srcChannel[2]);
      TensorSpec stats = spec;  // statistics indexed by source channel for convertPlanar
      if (swap) {
        if (!stats.mean.empty()) std::swap(stats.mean[0], stats.mean[2]);
        if (!stats.std.empty()) std::swap(stats.std[0], stats.std[2]);
      }
      auto out = torch::empty({1, c, image.height(), image.width()}, torch::kFloat32);
      switch (image.depth()) {
        case PixelDepth::U8: convertPlanar<std::uint8_t>(image, stats, srcChannel, out.data_ptr<float>()); break;
        case PixelDepth::U16: convertPlanar<std::uint16_t>(image, stats, srcChannel, out.data_ptr<float>()); break;
        case PixelDepth::F32: convertPlanar<float>(image, stats, srcChannel, out.data_ptr<float>()); break;
      }
      return spec.dtype == torch::kFloat32 ? out : out.to(spec.dtype);
    }

    torch::ScalarType st = torch::kUInt8;
    if (image.depth() == PixelDepth::U16) st = torch::kInt32;  // no uint16 in LibTorch 1.13: widen below
    if (image.depth() == PixelDepth::F32) st = torch::kFloat32;

    torch::Tensor hwc;
    if (image.depth() == PixelDepth::U16) {
      auto wide = torch::empty({image.height(), image.width(), c}, torch::kInt32);
      const auto* src = reinterpret_cast<const std::uint16_t*>(image.data());
      auto* dst = wide.data_ptr<int32_t>();
      const std::size_t n = static_cast<std::size_t>(image.width()) * image.height() * c;
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
      hwc = wide;
    } else {
      // from_blob does not own the memory: clone so the tensor outlives the image.
      hwc = torch::from_blob(const_cast<std::uint8_t*>(image.data()), {image.height(), image.width(), c}, st).clone();
    }
    // Upload the compact integer tensor, convert on the device.
    hwc = hwc.to(spec.device);
    auto nchw = hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).contiguous();
    nchw = reorder(nchw, swap);
    nchw = nchw * spec.scale;
    nchw = (nchw - statsTensor(spec.mean, c, 0.f).to(spec.device)) / statsTensor(spec.std, c, 1.f).to(spec.device);
    return nchw.to(spec.dtype);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal, std::string("Image to tensor conversion failed: ") + e.what_without_backtrace()};
  }
}

Result<Image> tensorToImage(const torch::Tensor& tensor, const TensorSpec& spec, PixelDepth depth) {
  if (!tensor.defined()) return Error{ErrorCode::InvalidArgument, "Expected a tensor, got an undefined one"};
  try {
    torch::Tensor t = tensor;
    if (t.dim() == 4) {
      if (t.size(0) != 1)
        return Error{ErrorCode::InvalidArgument, "Expected a batch of 1, got " + std::to_string(t.size(0))};
      t = t.squeeze(0);
    }
    if (t.dim() != 3) return Error{ErrorCode::InvalidArgument, "Expected a [C,H,W] or [1,C,H,W] tensor"};
    const int c = static_cast<int>(t.size(0));
    if (c < 1 || c > 4)
      return Error{ErrorCode::InvalidArgument, "Tensor has " + std::to_string(c) + " channels (1-4 allowed)"};
    if (auto ok = checkStats(spec, c); !ok) return ok.error();

    auto x = t.detach().to(torch::kFloat32).unsqueeze(0);
    x = x * statsTensor(spec.std, c, 1.f).to(x.device()) + statsTensor(spec.mean, c, 0.f).to(x.device());
    x = x / spec.scale;
    x = reorder(x, spec.bgr && c >= 3);  // back to RGB
    const float maxValue = depth == PixelDepth::U8 ? 255.f : depth == PixelDepth::U16 ? 65535.f : 0.f;
    // NaN has no value to round: it becomes 0 (casting NaN to an integer is undefined behaviour).
    if (depth != PixelDepth::F32) x = torch::nan_to_num(x, 0.0).round().clamp(0.f, maxValue);
    auto hwc = x.squeeze(0).permute({1, 2, 0}).contiguous().cpu();

    static const ColorOrder orders[] = {ColorOrder::Gray, ColorOrder::GrayAlpha, ColorOrder::RGB, ColorOrder::RGBA};
    Image out(static_cast<int>(hwc.size(1)), static_cast<int>(hwc.size(0)), orders[c - 1], depth);
    const std::size_t n = static_cast<std::size_t>(hwc.numel());
    const float* src = hwc.data_ptr<float>();
    switch (depth) {
      case PixelDepth::U8:
        for (std::size_t i = 0; i < n; ++i) out.data()[i] = static_cast<std::uint8_t>(src[i]);
        break;
      case PixelDepth::U16: {
        auto* dst = reinterpret_cast<std::uint16_t*>(out.data());
        for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint16_t>(src[i]);
        break;
      }
      case PixelDepth::F32:
        std::copy(src, src + n, reinterpret_cast<float*>(out.data()));
        break;
    }
    return out;
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal, std::string("Tensor to image conversion failed: ") + e.what_without_backtrace()};
  }
}

}  // namespace loupe
