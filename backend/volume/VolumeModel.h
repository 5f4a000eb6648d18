#pragma once
// Runs a 3-D model package (layout NCDHW, sliding-window size policy) on a study: the sequences named by
// `channels` are resampled into one grid with the package's spacing (over the first channel's field of
// view), normalised per channel (z-score over the volume, as nnU-Net does for MRI), stacked, and run
// window by window (runtime's slidingWindowInference, Gaussian blending). The output (one probability
// or logit channel, or two-class logits/probabilities) becomes a likelihood in [0, 1], resampled back into
// the first channel's (the T2W's) grid.

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::runtime {
struct ModelPackage;
}

namespace loupe::volume {

struct VolumeModelOptions {
  std::vector<std::string> channels{"t2w", "adc", "dwi"};
  Vec3 spacing{0.5, 0.5, 3.0};  // mm along the grid's x, y, z; PI-CAI's nnU-Net / U-Net baselines use 0.5x0.5x3
  std::string device = "cpu";    // a torch device string, already checked as available
  int batchSize = 1;
};

// The stacked, normalised input [1, C, D, H, W] in the model grid (returned in `grid`).
Result<std::vector<float>> stackSequences(const Study& study, const VolumeModelOptions& options, Volume& grid,
                                          const CancelToken& cancel = {});

Result<Volume> runVolumeModel(const runtime::ModelPackage& package, const Study& study,
                              const VolumeModelOptions& options = {}, const CancelToken& cancel = {},
                              Progress progress = {});

}  // namespace loupe::volume
