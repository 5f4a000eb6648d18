#pragma once
// Error Level Analysis (Krawetz, "A Picture's Worth", 2007): regions whose compression history differs
// from the rest re-compress with a different error. The map holds, per pixel, the largest absolute
// difference over the colour channels between the image and its re-compressed copy, in grey levels.

#include "core/CancelToken.h"
#include "core/Layer.h"
#include "core/Result.h"

namespace loupe::analysis {

struct ErrorLevelOptions {
  float amplification = 20.f;  // display range is [0, 255 / amplification]
  Colormap colormap = Colormap::Gray;
};

// `original` and `recompressed` must be 8-bit with the same size and colour order.
Result<Heatmap> errorLevelMap(const Image& original, const Image& recompressed, const ErrorLevelOptions& options,
                              const CancelToken& cancel = {});

struct ErrorLevelStats {
  double mean = 0.0;
  double p99 = 0.0;  // nearest-rank 99th percentile (the ceil(0.99 N)-th smallest value)
  double max = 0.0;
};
ErrorLevelStats errorLevelStats(const Heatmap& map);

}  // namespace loupe::analysis
