#pragma once

#include "sdk/Task.h"

namespace loupe::forgery {

// forgery.localize: where was this image forged? Per-position features clustered per image (FOCAL's
// rule: the largest cluster is pristine), returned as a forgery-probability heatmap, a mask at the
// operating point and a summary table with the image-level score.
// Extractor "splicebuster" (default) needs no weights: noise-residual co-occurrences per block
// (backend/analysis/NoiseCooccurrence.h). Any other value names model packages (ids or folders, several
// joined with '+', FOCAL's fusion) whose outputs are per-pixel features.
class LocalizeTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

}  // namespace loupe::forgery
