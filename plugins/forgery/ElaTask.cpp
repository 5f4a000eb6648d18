#include "ElaTask.h"

#include <cstdio>

#include "analysis/ErrorLevel.h"
#include "io/ImageWriter.h"
#include "TextFormat.h"

namespace loupe::forgery {

Result<std::vector<Layer>> ElaTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                        sdk::TaskContext& context) {
  const Image& source = input.image;
  if (source.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  const int quality = static_cast<int>(sdk::paramInt(params, "quality"));
  auto colormap = colormapFromName(sdk::paramString(params, "colormap"));
  if (!colormap) return colormap.error();

  context.progress.report(0.0, "Preparing");
  // JPEG is 8-bit without alpha: analyse what a JPEG save would keep.
  Image work = source.toU8();
  if (work.order() == ColorOrder::GrayAlpha) {
    Image gray(work.width(), work.height(), ColorOrder::Gray);
    for (int y = 0; y < work.height(); ++y)
      for (int x = 0; x < work.width(); ++x) gray.row<std::uint8_t>(y)[x] = work.row<std::uint8_t>(y)[2 * x];
    work = gray;
  } else if (work.order() != ColorOrder::Gray) {
    work = work.toRGB();
  }
  if (context.cancel.isCancelled()) return Error::cancelled();

  context.progress.report(0.1, "Re-compressing at JPEG quality " + std::to_string(quality));
  auto recompressed = io::recompressJpeg(work, quality, context.cancel);
  if (!recompressed) return recompressed.error();
  if (context.cancel.isCancelled()) return Error::cancelled();

  context.progress.report(0.6, "Mapping the error level");
  analysis::ErrorLevelOptions options;
  options.amplification = static_cast<float>(sdk::paramFloat(params, "amplification"));
  options.colormap = *colormap;
  auto map = analysis::errorLevelMap(work, *recompressed, options, context.cancel);
  if (!map) return map.error();

  const auto stats = analysis::errorLevelStats(*map);
  Table table;
  table.columns = {"measure", "value"};
  table.rows = {{"jpeg_quality", std::to_string(quality)},
                {"mean_error", fixed(stats.mean, 2)},
                {"p99_error", fixed(stats.p99, 2)},
                {"max_error", fixed(stats.max, 2)},
                {"source_format", source.source.format.empty() ? "memory" : source.source.format}};
  if (!source.source.format.empty() && source.source.format != "jpeg")
    table.rows.push_back({"note", "The source is not a JPEG: the map shows how the whole image compresses, so "
                                  "edges and texture dominate; compare regions of similar content."});

  std::vector<Layer> layers;
  layers.push_back({"ela", "Error level (q=" + std::to_string(quality) + ")", std::move(*map)});
  layers.push_back({"ela_stats", "Error level statistics", std::move(table)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::forgery
