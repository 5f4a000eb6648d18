#include <cstdio>

#include "ClassicTasks.h"
#include "TextFormat.h"
#include "forensics/Metadata.h"
#include "io/ImageReader.h"

namespace loupe::forgery {

Result<std::vector<Layer>> MetadataTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                             sdk::TaskContext& context) {
  const Image& image = input.image;
  const std::string& path = image.source.path;
  Table findings;
  findings.columns = {"kind", "finding"};
  std::vector<Layer> layers;
  if (path.empty()) {
    findings.rows.push_back({"problem", "The image was made in memory: there is no file whose metadata to read."});
    layers.push_back({"metadata_findings", "Metadata findings", std::move(findings)});
    return layers;
  }
  context.progress.report(0.0, "Reading metadata");
  auto bytes = io::readFileBytes(path);
  if (!bytes) return bytes.error();
  const auto report = forensics::analyseMetadata(*bytes, image, context.cancel);
  if (context.cancel.isCancelled()) return Error::cancelled();

  Table entries;
  entries.columns = {"family", "group", "key", "value"};
  for (const auto& e : report.entries) entries.rows.push_back({e.family, e.group, e.key, e.value});
  for (const auto& p : report.problems) findings.rows.push_back({"problem", p});
  for (const auto& n : report.notes) findings.rows.push_back({"note", n});
  findings.rows.push_back({"entries", std::to_string(report.entries.size()) + " metadata entries"});
  if (report.thumbnail) {
    const auto& t = *report.thumbnail;
    findings.rows.push_back({"thumbnail", std::to_string(t.width) + "x" + std::to_string(t.height) + " " + t.mimeType +
                                              ", " + std::to_string(t.bytes.size()) + " bytes"});
    findings.rows.push_back({"thumbnail_aspect", fixed(t.thumbnailAspect, 3) + " (image " + fixed(t.imageAspect, 3) + ")"});
    findings.rows.push_back({"thumbnail_mean_abs_difference", fixed(t.meanAbsDifference, 2)});
    findings.rows.push_back({"thumbnail_p95_abs_difference", fixed(t.p95AbsDifference, 2)});
  } else {
    findings.rows.push_back({"thumbnail", "none embedded"});
  }
  if (report.thumbnail && !report.thumbnail->difference.values.empty())
    layers.push_back({"thumbnail_difference", "EXIF thumbnail vs image", report.thumbnail->difference});
  layers.push_back({"metadata_findings", "Metadata findings", std::move(findings)});
  layers.push_back({"metadata", "Metadata (EXIF, XMP, IPTC)", std::move(entries)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::forgery
