#include <cstdio>

#include "ClassicTasks.h"
#include "TextFormat.h"
#include "forensics/JpegForensics.h"
#include "io/ImageReader.h"

namespace loupe::forgery {

Result<std::vector<Layer>> JpegTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                         sdk::TaskContext& context) {
  const Image& image = input.image;
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  forensics::GhostOptions ghost;
  ghost.qualityMin = static_cast<int>(sdk::paramInt(params, "ghost_min_quality"));
  ghost.qualityMax = static_cast<int>(sdk::paramInt(params, "ghost_max_quality"));
  ghost.qualityStep = static_cast<int>(sdk::paramInt(params, "ghost_step"));
  ghost.block = static_cast<int>(sdk::paramInt(params, "ghost_block"));
  ghost.showQuality = static_cast<int>(sdk::paramInt(params, "ghost_quality"));
  if (ghost.qualityMin > ghost.qualityMax)
    return Error{ErrorCode::InvalidArgument, "ghost_min_quality (" + std::to_string(ghost.qualityMin) +
                                                 ") is above ghost_max_quality (" + std::to_string(ghost.qualityMax) + ")"};
  auto colormap = colormapFromName(sdk::paramString(params, "colormap"));
  if (!colormap) return colormap.error();
  ghost.colormap = *colormap;

  Table summary;
  summary.columns = {"measure", "value"};
  std::vector<Layer> layers;
  int fileQuality = 0;
  context.progress.report(0.0, "Reading the JPEG headers");
  const std::string& path = image.source.path;
  if (path.empty()) {
    summary.rows.push_back({"format", "in memory (no file)"});
    summary.rows.push_back({"note", "No file to read quantisation tables from; the ghost analysis still runs."});
  } else if (image.source.format != "jpeg") {
    summary.rows.push_back({"format", image.source.format});
    summary.rows.push_back({"note", "Not a JPEG file: it has no quantisation tables. A JPEG ghost can still show "
                                    "regions that were JPEG-compressed before the image was saved this way."});
  } else {
    auto bytes = io::readFileBytes(path);
    if (!bytes) return bytes.error();
    auto info = forensics::readJpegInfo(*bytes);
    summary.rows.push_back({"format", "jpeg"});
    if (!info) {
      summary.rows.push_back({"note", info.error().message + " (" + path + ")"});
    } else {
      summary.rows.push_back({"coding", std::string(info->progressive ? "progressive" : "baseline") +
                                            (info->arithmetic ? ", arithmetic" : ", Huffman")});
      std::string sampling;
      for (const auto& c : info->components)
        sampling += (sampling.empty() ? "" : " ") + std::to_string(c.hSampling) + "x" + std::to_string(c.vSampling);
      summary.rows.push_back({"components_sampling", sampling});
      const auto q = forensics::estimateIjgQuality(*info);
      fileQuality = q.quality;
      summary.rows.push_back({"estimated_quality", std::to_string(q.quality)});
      summary.rows.push_back({"quality_table_mean_abs_error", fixed(q.meanAbsError, 2)});
      summary.rows.push_back({"quality_table_max_abs_error", fixed(q.maxAbsError, 0)});
      summary.rows.push_back({"ijg_standard_tables", q.exact ? "yes" : "no"});
      if (!q.exact)
        summary.rows.push_back({"note", "The tables are not IJG tables scaled by a quality (nearest: " +
                                            std::to_string(q.quality) + ", mean error " + fixed(q.meanAbsError, 2) +
                                            "): a camera's or an editor's own tables. Compare them with the tables "
                                            "the claimed camera model writes."});
      Table tables;
      tables.columns = {"table", "components", "row", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"};
      for (const auto& t : info->tables) {
        std::string used;
        for (std::size_t c = 0; c < info->components.size(); ++c)
          if (info->components[c].quantSlot == t.slot) used += (used.empty() ? "" : ",") + std::to_string(c);
        for (int r = 0; r < 8; ++r) {
          std::vector<std::string> row = {std::to_string(t.slot), used.empty() ? "-" : used, std::to_string(r)};
          for (int c = 0; c < 8; ++c) row.push_back(std::to_string(t.values[static_cast<std::size_t>(r * 8 + c)]));
          tables.rows.push_back(std::move(row));
        }
      }
      layers.push_back({"jpeg_qtables", "JPEG quantisation tables (natural order)", std::move(tables)});
    }
  }
  if (context.cancel.isCancelled()) return Error::cancelled();

  auto result = forensics::jpegGhost(image, ghost, fileQuality, context.cancel, context.progress.slice(0.05, 1.0));
  if (!result) {
    if (result.error().code == ErrorCode::Cancelled) return result.error();
    summary.rows.push_back({"ghost", "not computed: " + result.error().message});
  } else {
    summary.rows.push_back({"ghost_shown_quality", std::to_string(result->shownQuality)});
    if (result->secondaryMinimum > 0)
      summary.rows.push_back({"double_compression_hint",
                              "The whole image re-compresses unusually well at quality " +
                                  std::to_string(result->secondaryMinimum) +
                                  (fileQuality > 0 ? " (below its own " + std::to_string(fileQuality) + ")" : "") +
                                  ": it was probably JPEG-compressed at about that quality before."});
    else
      summary.rows.push_back({"double_compression_hint", "none: no secondary minimum in the re-save curve"});
    Table curve;
    curve.columns = {"quality", "mean_squared_difference", "dip_score"};
    for (const auto& c : result->curve)
      curve.rows.push_back({std::to_string(c.quality), fixed(c.meanDifference, 3), fixed(c.dipScore, 3)});
    layers.insert(layers.begin(), {"jpeg_ghost", "JPEG ghost at q=" + std::to_string(result->shownQuality),
                                   std::move(result->map)});
    layers.push_back({"jpeg_ghost_curve", "JPEG ghost: difference per quality", std::move(curve)});
  }
  layers.push_back({"jpeg_summary", "JPEG compression summary", std::move(summary)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::forgery
