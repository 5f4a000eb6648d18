#include "SlidingWindow.h"

#include <torch/torch.h>

#include <cmath>

#ifdef LOUPE_HAVE_CUDA_KERNELS
#include "cuda/CudaOps.h"
#endif

namespace loupe::runtime {

std::vector<std::int64_t> windowStarts(std::int64_t size, std::int64_t window, double overlap) {
  if (size <= window) return {0};
  const std::int64_t stride = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(window * (1.0 - overlap))));
  std::vector<std::int64_t> starts;
  for (std::int64_t s = 0; s + window < size; s += stride) starts.push_back(s);
  starts.push_back(size - window);
  return starts;
}

torch::Tensor importanceMap(const std::vector<std::int64_t>& window, Blend blend, double sigmaScale) {
  torch::Tensor map;
  for (std::size_t d = 0; d < window.size(); ++d) {
    const std::int64_t n = window[d];
    torch::Tensor axis;
    const auto pos = torch::arange(n, torch::kFloat64);
    const double centre = (n - 1) / 2.0;
    switch (blend) {
      case Blend::Constant: axis = torch::ones({n}, torch::kFloat64); break;
      case Blend::Gaussian: {
        const double sigma = std::max(sigmaScale * n, 1e-3);
        axis = torch::exp(-0.5 * torch::pow((pos - centre) / sigma, 2));
        break;
      }
      case Blend::Linear:  // triangle peaking at the centre, 1/n at the ends (never zero)
        axis = 1.0 - torch::abs(pos - centre) / (centre + 1.0);
        break;
    }
    axis = axis.to(torch::kFloat32);
    map = d == 0 ? axis : map.unsqueeze(-1) * axis;
  }
  map = map / map.max();
  // Keep every weight positive so each voxel is covered with a defined average (MONAI clamps likewise).
  return map.clamp_min(1e-3);
}

bool isOutOfMemory(const std::string& message) {
  return message.find("out of memory") != std::string::npos || message.find("CUDA_ERROR_OUT_OF_MEMORY") != std::string::npos;
}

Result<torch::Tensor> slidingWindowInference(const torch::Tensor& input, const WindowFunction& fn,
                                             const SlidingWindowOptions& options, const CancelToken& cancel,
                                             Progress progress) {
  const auto spatialDims = static_cast<std::int64_t>(options.window.size());
  if (spatialDims != 2 && spatialDims != 3) return Error{ErrorCode::InvalidArgument, "window must be 2-D or 3-D"};
  if (input.dim() != spatialDims + 2 || input.size(0) != 1)
    return Error{ErrorCode::InvalidArgument, "input must be [1, C, " + std::string(spatialDims == 2 ? "H, W]" : "D, H, W]")};
  if (options.overlap < 0.0 || options.overlap >= 1.0) return Error{ErrorCode::InvalidArgument, "overlap must be in [0, 1)"};
  for (auto w : options.window)
    if (w <= 0) return Error{ErrorCode::InvalidArgument, "window sizes must be positive"};
  const int batchSize = std::max(1, options.batchSize);

  // Pad (at the end of each axis) where the input is smaller than the window.
  std::vector<std::int64_t> size(spatialDims), padded(spatialDims);
  std::vector<std::int64_t> pad;  // F.pad order: last axis first
  for (std::int64_t d = 0; d < spatialDims; ++d) {
    size[d] = input.size(2 + d);
    padded[d] = std::max(size[d], options.window[d]);
  }
  for (std::int64_t d = spatialDims - 1; d >= 0; --d) {
    pad.push_back(0);
    pad.push_back(padded[d] - size[d]);
  }
  torch::Tensor x = input;
  if (padded != size) x = torch::constant_pad_nd(input, pad, 0);

  std::vector<std::vector<std::int64_t>> starts(spatialDims);
  for (std::int64_t d = 0; d < spatialDims; ++d) starts[d] = windowStarts(padded[d], options.window[d], options.overlap);
  std::vector<std::vector<std::int64_t>> corners;
  if (spatialDims == 2) {
    for (auto a : starts[0]) for (auto b : starts[1]) corners.push_back({a, b});
  } else {
    for (auto a : starts[0]) for (auto b : starts[1]) for (auto c : starts[2]) corners.push_back({a, b, c});
  }

  const torch::Tensor weight = importanceMap(options.window, options.blend, options.sigmaScale).to(x.device());
  torch::Tensor accum, norm;
  auto view = [&](torch::Tensor t, const std::vector<std::int64_t>& c) {
    for (std::int64_t d = 0; d < spatialDims; ++d) t = t.narrow(2 + d, c[d], options.window[d]);
    return t;
  };

  for (std::size_t first = 0; first < corners.size(); first += batchSize) {
    if (cancel.isCancelled()) return Error::cancelled();
    const std::size_t last = std::min(corners.size(), first + batchSize);
    std::vector<torch::Tensor> windows;
    for (std::size_t i = first; i < last; ++i) windows.push_back(view(x, corners[i]));
    auto out = fn(torch::cat(windows, 0));
    if (!out) return out.error();
    const torch::Tensor& y = *out;
    if (y.dim() != spatialDims + 2 || y.size(0) != static_cast<std::int64_t>(last - first))
      return Error{ErrorCode::ModelError, "window function returned a tensor of the wrong rank or batch size"};
    for (std::int64_t d = 0; d < spatialDims; ++d)
      if (y.size(2 + d) != options.window[d])
        return Error{ErrorCode::ModelError, "window function changed the spatial size of its windows"};
    if (!accum.defined()) {
      std::vector<std::int64_t> shape = {1, y.size(1)};
      shape.insert(shape.end(), padded.begin(), padded.end());
      accum = torch::zeros(shape, y.options().dtype(torch::kFloat32));
      shape[1] = 1;
      norm = torch::zeros(shape, accum.options());
    }
#ifdef LOUPE_HAVE_CUDA_KERNELS
    // One fused kernel for the whole batch instead of 2 x B narrow/add_ launches (backend/cuda).
    if (spatialDims == 2 && accum.is_cuda()) {
      const std::vector<std::vector<std::int64_t>> batchCorners(corners.begin() + static_cast<std::ptrdiff_t>(first),
                                                                corners.begin() + static_cast<std::ptrdiff_t>(last));
      if (auto ok = cuda::windowAccumulate(y, weight, batchCorners, accum, norm); !ok) return ok.error();
      progress.report(static_cast<double>(last) / corners.size(), "Window " + std::to_string(last) + " of " + std::to_string(corners.size()));
      continue;
    }
#endif
    for (std::size_t i = first; i < last; ++i) {
      const auto yi = y.narrow(0, static_cast<std::int64_t>(i - first), 1).to(torch::kFloat32);
      view(accum, corners[i]).add_(yi * weight);
      view(norm, corners[i]).add_(weight);
    }
    progress.report(static_cast<double>(last) / corners.size(), "Window " + std::to_string(last) + " of " + std::to_string(corners.size()));
  }
  torch::Tensor result = accum / norm;
  for (std::int64_t d = 0; d < spatialDims; ++d) result = result.narrow(2 + d, 0, size[d]);
  return result.contiguous();
}

}  // namespace loupe::runtime
