#pragma once
// Sliding-window inference for images (N C H W) and volumes (N C D H W) larger than a model's window:
// overlapping windows, run in batches, blended back with a constant, Gaussian or linear importance map
// (as MONAI's sliding_window_inference does), so seams do not show.

#include <torch/types.h>

#include <functional>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::runtime {

enum class Blend { Constant, Gaussian, Linear };

struct SlidingWindowOptions {
  std::vector<std::int64_t> window;  // spatial size: {H, W} or {D, H, W}
  double overlap = 0.25;             // fraction of the window shared with each neighbour, [0, 1)
  Blend blend = Blend::Gaussian;
  double sigmaScale = 0.125;         // Gaussian sigma = sigmaScale * window (MONAI's default)
  int batchSize = 1;                 // windows per model call
};

// Maps a batch of windows [B, C, *window] to [B, C_out, *window] (same spatial size).
using WindowFunction = std::function<Result<torch::Tensor>(const torch::Tensor& windows)>;

// Window start offsets along one axis: evenly stepped by window * (1 - overlap), the last one flush
// with the end. A size smaller than the window gives {0} (the input is padded).
std::vector<std::int64_t> windowStarts(std::int64_t size, std::int64_t window, double overlap);

// The importance map used for blending, [*window], max 1, strictly positive.
torch::Tensor importanceMap(const std::vector<std::int64_t>& window, Blend blend, double sigmaScale = 0.125);

// `input` is [1, C, *spatial]; returns [1, C_out, *spatial] on the input's device.
Result<torch::Tensor> slidingWindowInference(const torch::Tensor& input, const WindowFunction& fn,
                                             const SlidingWindowOptions& options, const CancelToken& cancel = {},
                                             Progress progress = {});

// True when an exception or error text is a CUDA out-of-memory condition.
bool isOutOfMemory(const std::string& message);

}  // namespace loupe::runtime
