#include "DetectTask.h"

#include <cstdio>
#include <sstream>

#include "analysis/DetectionMap.h"
#include "analysis/ProstateBaseline.h"
#include "core/Device.h"
#include "runtime/ModelPackage.h"
#include "volume/Resample.h"
#include "volume/VolumeModel.h"

namespace loupe::prostate {

namespace {

std::string fmt(double v, int decimals = 2) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string vec(const Vec3& v, int decimals = 1) { return fmt(v[0], decimals) + ", " + fmt(v[1], decimals) + ", " + fmt(v[2], decimals); }

Result<Vec3> parseSpacing(const std::string& text) {
  Vec3 s{};
  char extra = 0;
  if (std::sscanf(text.c_str(), "%lf,%lf,%lf%c", &s[0], &s[1], &s[2], &extra) != 3 || s[0] <= 0 || s[1] <= 0 || s[2] <= 0)
    return Error{ErrorCode::InvalidArgument, "spacing must be three positive numbers 'x,y,z' in mm, got '" + text + "'"};
  return s;
}

}  // namespace

Result<std::vector<Layer>> DetectTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                           sdk::TaskContext& context) {
  const Study& study = input.study;
  std::string missing;
  for (const char* role : {"t2w", "adc", "dwi"})
    if (!study.find(role)) missing += std::string(missing.empty() ? "" : ", ") + role;
  if (!missing.empty()) {
    std::string have;
    for (const auto& [name, v] : study.sequences) have += (have.empty() ? "" : ", ") + name;
    return Error{ErrorCode::InvalidArgument, "The study in " + study.path + " lacks " + missing +
                                                 " (found: " + (have.empty() ? "nothing" : have) +
                                                 "). Name files *_t2w, *_adc, *_hbv (or DICOM series descriptions with t2, ADC, BVAL/DWI)"};
  }
  const Volume& t2w = *study.find("t2w");
  std::string method = sdk::paramString(params, "method");
  const std::string modelPath = sdk::paramString(params, "model");
  if (method == "auto") method = modelPath.empty() ? "baseline" : "model";
  std::vector<std::string> warnings;
  for (const auto& [name, v] : study.sequences)
    for (const auto& w : v.warnings) warnings.push_back(name + ": " + w);

  Result<Volume> likelihood = Error{ErrorCode::Internal, "no method ran"};
  std::string methodTitle;
  if (method == "model") {
    if (modelPath.empty())
      return Error{ErrorCode::InvalidArgument, "method=model needs a model package: --param model=PATH"};
    auto spacing = parseSpacing(sdk::paramString(params, "spacing"));
    if (!spacing) return spacing.error();
    auto package = runtime::openModelPackage(modelPath);
    if (!package) return package.error();
    if (auto ok = runtime::checkPackageTask(*package, "prostate.detect"); !ok) return ok.error();
    auto device = resolveDevice(context.device);
    if (!device) return device.error();
    volume::VolumeModelOptions options;
    options.spacing = *spacing;
    options.device = device->str();
    likelihood = volume::runVolumeModel(*package, study, options, context.cancel, context.progress.slice(0.0, 0.85));
    methodTitle = "model " + package->id + " " + package->version;
  } else {
    context.progress.report(0.05, "Resampling ADC and DWI to the T2W grid");
    auto adc = volume::resampleToGrid(*study.find("adc"), t2w, {}, context.cancel);
    if (!adc) return adc.error().withContext("ADC");
    auto dwi = volume::resampleToGrid(*study.find("dwi"), t2w, {}, context.cancel);
    if (!dwi) return dwi.error().withContext("DWI");
    for (const auto* v : {&adc.value(), &dwi.value()})
      for (const auto& w : v->warnings) warnings.push_back(w);
    context.progress.report(0.5, "Training-free baseline: low ADC with high DWI");
    likelihood = analysis::baselineLikelihood(t2w, *adc, *dwi, {}, context.cancel);
    methodTitle = "training-free baseline (low ADC + high DWI; not a validated detector)";
  }
  if (!likelihood) return likelihood.error();
  for (const auto& w : likelihood->warnings) warnings.push_back(w);
  if (context.cancel.isCancelled()) return Error::cancelled();

  context.progress.report(0.9, "Extracting lesion candidates (PI-CAI detection map)");
  analysis::CandidateOptions co;
  co.mode = sdk::paramString(params, "extraction") == "dynamic-fast" ? analysis::ThresholdMode::DynamicFast
                                                                     : analysis::ThresholdMode::Dynamic;
  co.maxCandidates = int(sdk::paramInt(params, "max_candidates"));
  co.minVoxels = int(sdk::paramInt(params, "min_voxels"));
  auto detection = analysis::extractLesionCandidates(*likelihood, co, context.cancel);
  if (!detection) return detection.error();

  Table candidates;
  candidates.columns = {"id", "likelihood", "volume_ml", "max_diameter_mm", "centroid_lps_mm", "centroid_voxel", "peak_voxel"};
  for (const auto& c : detection->candidates) {
    candidates.rows.push_back({std::to_string(c.id), fmt(c.likelihood, 4), fmt(c.volumeMl, 3), fmt(c.maxDiameterMm, 1),
                               vec(c.centroidWorld), vec(c.centroidIndex),
                               std::to_string(c.peakIndex[0]) + ", " + std::to_string(c.peakIndex[1]) + ", " +
                                   std::to_string(c.peakIndex[2])});
  }
  double patient = 0;
  for (float f : detection->map.floats) patient = std::max(patient, double(f));
  Table summary;
  summary.columns = {"key", "value"};
  summary.rows = {{"method", methodTitle},
                  {"patient_score", fmt(patient, 4)},
                  {"candidates", std::to_string(detection->candidates.size())},
                  {"grid", std::to_string(t2w.size[0]) + "x" + std::to_string(t2w.size[1]) + "x" + std::to_string(t2w.size[2]) +
                               " voxels of " + vec(t2w.spacing, 3) + " mm (T2W)"}};
  for (const auto& w : warnings) summary.rows.push_back({"warning", w});

  Volume map = detection->map, labels = detection->labels;
  map.description = "PI-CAI detection map (" + methodTitle + ")";
  labels.description = "lesion candidate labels";
  context.volumes.push_back({"likelihood", "Lesion likelihood (" + methodTitle + ")", std::move(*likelihood)});
  context.volumes.push_back({"detection_map", "Detection map (PI-CAI candidates)", std::move(map)});
  context.volumes.push_back({"candidate_labels", "Candidate labels", std::move(labels)});
  context.progress.report(1.0);
  std::vector<Layer> layers;
  layers.push_back({"candidates", "Lesion candidates", std::move(candidates)});
  layers.push_back({"summary", "Detection summary", std::move(summary)});
  return layers;
}

}  // namespace loupe::prostate
