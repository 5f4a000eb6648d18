#include "ErrorLevel.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace loupe::analysis {

Result<Heatmap> errorLevelMap(const Image& original, const Image& recompressed, const ErrorLevelOptions& options,
                              const CancelToken& cancel) {
  if (original.depth() != PixelDepth::U8 || recompressed.depth() != PixelDepth::U8)
    return Error{ErrorCode::InvalidArgument, "Error level analysis needs 8-bit images"};
  if (original.width() != recompressed.width() || original.height() != recompressed.height() ||
      original.channels() != recompressed.channels())
    return Error{ErrorCode::InvalidArgument, "Original and re-compressed images differ in size or channels"};
  // RGB against BGR would compare red with blue and report errors that are not there.
  if (original.order() != recompressed.order())
    return Error{ErrorCode::InvalidArgument, std::string("Original and re-compressed images differ in colour order (") +
                                                 colorOrderName(original.order()) + " vs " +
                                                 colorOrderName(recompressed.order()) + ")"};
  if (!(options.amplification > 0.f))
    return Error{ErrorCode::InvalidArgument, "Amplification must be positive"};

  Heatmap map;
  map.width = original.width();
  map.height = original.height();
  map.values.resize(static_cast<std::size_t>(map.width) * map.height);
  map.rangeMin = 0.f;
  map.rangeMax = 255.f / options.amplification;
  map.colormap = options.colormap;
  map.unit = "abs. error (grey levels)";

  const int ch = original.channels();
  for (int y = 0; y < map.height; ++y) {
    if ((y & 63) == 0 && cancel.isCancelled()) return Error::cancelled();
    const std::uint8_t* a = original.row<std::uint8_t>(y);
    const std::uint8_t* b = recompressed.row<std::uint8_t>(y);
    float* out = map.values.data() + static_cast<std::size_t>(y) * map.width;
    for (int x = 0; x < map.width; ++x) {
      int m = 0;
      for (int c = 0; c < ch; ++c) m = std::max(m, std::abs(int(a[x * ch + c]) - int(b[x * ch + c])));
      out[x] = static_cast<float>(m);
    }
  }
  return map;
}

ErrorLevelStats errorLevelStats(const Heatmap& map) {
  ErrorLevelStats s;
  if (map.values.empty()) return s;
  // Values are integers 0..255: a histogram gives the exact percentile.
  std::size_t hist[256] = {};
  double sum = 0.0;
  for (float v : map.values) {
    const int i = std::clamp(static_cast<int>(v), 0, 255);
    ++hist[i];
    sum += v;
    s.max = std::max<double>(s.max, v);
  }
  s.mean = sum / static_cast<double>(map.values.size());
  // Nearest-rank percentile: the smallest value with at least 99% of the pixels at or below it, i.e. the
  // ceil(0.99 N)-th smallest. Integer arithmetic: 0.99 * N in floating point lands on either side of an
  // integer depending on N, which made the rank inconsistent.
  const std::size_t n = map.values.size();
  const std::size_t rank = std::max<std::size_t>(1, (99 * n + 99) / 100);
  std::size_t seen = 0;
  for (int i = 0; i < 256; ++i) {
    seen += hist[i];
    if (seen >= rank) { s.p99 = i; break; }
  }
  return s;
}

}  // namespace loupe::analysis
