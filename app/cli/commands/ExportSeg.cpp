// loupe-cli export seg --labels candidate_labels.nii.gz --series T2W_DICOM_FOLDER --out seg.dcm
//                      [--candidates candidates.json] [--series-pick DESC] [--description TEXT]
// Writes a label map (e.g. prostate.detect's candidate_labels.nii.gz, which is in the T2W geometry) as a
// binary DICOM Segmentation object referencing the DICOM series the T2W came from (backend/volume/
// DicomSeg.h, DCMTK's dcmseg): one segment per candidate, named "Candidate N" and described with the
// likelihood and volume from candidates.json when given. A label map on a slightly different grid (e.g. a
// NIfTI header's float rounding) is resampled onto the series' grid by nearest neighbour, and this says so.

#ifdef LOUPE_WITH_DICOM_SEG

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "Command.h"
#include "host/ExitCodes.h"
#include "volume/DicomSeg.h"
#include "volume/Resample.h"
#include "volume/VolumeIO.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string labels, series, out, candidates, pick, description = "Loupe lesion candidates";
};
Options opt;

// Segment names/descriptions from prostate.detect's candidates.json (a table: columns + rows).
std::vector<volume::SegmentDescription> describe(const std::string& path, std::string& warning) {
  std::vector<volume::SegmentDescription> out;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("columns") || !j.contains("rows")) {
    warning = path + " is not a candidates table (columns + rows); segments keep their default names";
    return out;
  }
  // Rows are objects keyed by column name (as `run` writes tables) or arrays in column order.
  std::vector<std::string> columns;
  for (const auto& c : j["columns"])
    if (c.is_string()) columns.push_back(c.get<std::string>());
  for (const auto& row : j["rows"]) {
    auto cell = [&](const std::string& name) -> std::string {
      const nlohmann::json* v = nullptr;
      if (row.is_object() && row.contains(name)) v = &row[name];
      if (row.is_array())
        for (std::size_t c = 0; c < columns.size() && c < row.size(); ++c)
          if (columns[c] == name) v = &row[c];
      if (!v) return {};
      return v->is_string() ? v->get<std::string>() : v->dump();
    };
    volume::SegmentDescription d;
    d.label = std::atoi(cell("id").c_str());
    if (d.label <= 0) continue;
    d.name = "Candidate " + std::to_string(d.label);
    const std::string lik = cell("likelihood"), vol = cell("volume_ml");
    if (!lik.empty()) d.description = "likelihood " + lik;
    if (!vol.empty()) d.description += (d.description.empty() ? "" : ", ") + vol + " mL";
    out.push_back(d);
  }
  return out;
}

int exportSeg() {
  auto list = volume::listDicomSeries(opt.series);
  if (!list) return fail(host::BadInput, list.error().message);
  if (list->empty())
    return fail(host::BadInput, opt.series + " holds no DICOM images directly; pass the folder of the T2W series itself "
                                             "(e.g. the study's '...t2tsetra...' sub-folder)");
  std::vector<const volume::DicomSeries*> picked;
  for (const auto& s : *list)
    if (opt.pick.empty() || s.uid == opt.pick || s.description.find(opt.pick) != std::string::npos) picked.push_back(&s);
  if (picked.size() != 1) {
    std::string all;
    for (const auto& s : *list) all += "\n  '" + s.description + "' (" + std::to_string(s.files.size()) + " files)";
    return fail(host::BadInput, opt.series + " holds " + std::to_string(picked.size()) + " DICOM series" +
                                    (opt.pick.empty() ? "" : " matching '" + opt.pick + "'") +
                                    "; name one with --series-pick:" + all);
  }
  auto labels = volume::readVolume(opt.labels);
  if (!labels) return fail(host::BadInput, labels.error().message);
  auto grid = volume::readDicomSeries(*picked.front());
  if (!grid) return fail(host::BadInput, grid.error().message);
  Volume onGrid = *labels;
  if (!sameGeometry(*labels, *grid, 1e-3)) {
    auto r = volume::resampleToGrid(*labels, *grid, {volume::Interpolation::Nearest});
    if (!r) return fail(host::BadInput, "The labels and the series do not share a grid and cannot be resampled: " + r.error().message);
    onGrid = std::move(*r);
    std::cerr << "loupe-cli: note: " << opt.labels << " is not on the series' grid; resampled onto it (nearest neighbour)\n";
  }
  volume::DicomSegOptions options;
  options.seriesDescription = opt.description;
  if (!opt.candidates.empty()) {
    std::string warning;
    options.segments = describe(opt.candidates, warning);
    if (!warning.empty()) std::cerr << "loupe-cli: warning: " << warning << "\n";
  }
  auto written = volume::writeDicomSeg(onGrid, *picked.front(), opt.out, options, interruptToken());
  if (!written) {
    const auto code = written.error().code;
    return fail(code == ErrorCode::Cancelled ? host::Cancelled
                : code == ErrorCode::Io     ? host::OutputFailed
                                            : host::BadInput,
                written.error().message);
  }
  std::cout << opt.out << ": DICOM SEG with " << written->segments << " segment(s), " << written->frames
            << " frame(s), referencing series '" << picked.front()->description << "' (" << picked.front()->files.size()
            << " images)\n";
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("seg", "Write a label map as a DICOM SEG referencing the DICOM series it was drawn on");
  app->add_option("--labels", opt.labels, "Label volume (.nii.gz, .nii, .mha), e.g. candidate_labels.nii.gz")->required();
  app->add_option("--series", opt.series, "Folder of the source DICOM series (the T2W)")->required();
  app->add_option("--out,-o", opt.out, "The SEG file to write (.dcm)")->required();
  app->add_option("--candidates", opt.candidates, "prostate.detect's candidates.json: segment descriptions");
  app->add_option("--series-pick", opt.pick, "Which series when the folder holds several (description or UID)");
  app->add_option("--description", opt.description, "Series description of the SEG")->capture_default_str();
  return {app, exportSeg};
}

}  // namespace

LOUPE_CLI_COMMAND("export", setup);

}  // namespace loupe::cli

#endif  // LOUPE_WITH_DICOM_SEG
