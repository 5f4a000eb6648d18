#include "LocalizeTask.h"

#include <torch/types.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "analysis/ForgeryLocalize.h"
#include "core/Device.h"
#include "runtime/ImageModel.h"
#include "train/ForgeryExtractorLoader.h"
#include "TextFormat.h"

namespace loupe::forgery {
namespace {

constexpr const char* kTaskId = "forgery.localize";

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> splitPlus(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream s(text);
  std::string part;
  while (std::getline(s, part, '+'))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

// A package folder given as a path, or found by id in the model search paths.
Result<std::string> findPackage(const std::string& idOrFolder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(fs::path(idOrFolder) / runtime::kModelManifestName, ec)) return idOrFolder;
  const auto paths = runtime::defaultModelSearchPaths();
  for (const auto& listing : runtime::listModelPackages(paths))
    if (listing.package.ok() && listing.package->id == idOrFolder) return listing.folder;
  std::string searched;
  for (const auto& p : paths) searched += (searched.empty() ? "" : ":") + p;
  return Error{ErrorCode::NotFound, "No model package '" + idOrFolder + "' (neither a folder with " +
                                        runtime::kModelManifestName + " nor a package id in " + searched +
                                        "). Use extractor=splicebuster (no weights needed) or export FOCAL's "
                                        "extractors with tools/export/focal.py"};
}

struct Extracted {
  torch::Tensor features;  // [h * w, C], L2-normalised per network, concatenated
  int gridWidth = 0, gridHeight = 0;
  std::string description;
};

// FOCAL's inference: every network's per-pixel features, the later ones resized (nearest) to the first
// one's grid, each L2-normalised per position, concatenated along the channels.
Result<Extracted> extractWithPackages(const std::vector<std::string>& ids, const Image& image, sdk::TaskContext& context,
                                      Progress progress) {
  Extracted out;
  std::vector<torch::Tensor> parts;
  for (std::size_t n = 0; n < ids.size(); ++n) {
    auto folder = findPackage(ids[n]);
    if (!folder) return folder.error();
    train::registerForgeryExtractorLoader();  // packages trained by `loupe-cli train forgery` (format native)
    runtime::ImageModelOptions options;
    options.device = context.device;
    options.warmupRuns = 0;
    auto model = runtime::ImageModel::open(*folder, kTaskId, options);
    if (!model) return model.error().withContext("Opening model package " + *folder);
    const auto& specs = model->package().outputs;
    auto outputs = model->run(image, context.cancel,
                              progress.slice(static_cast<double>(n) / ids.size(), static_cast<double>(n + 1) / ids.size()));
    if (!outputs) return outputs.error().withContext("Running " + model->package().id);
    bool any = false;
    for (std::size_t i = 0; i < specs.size() && i < outputs->size(); ++i) {
      if (specs[i].kind != "per_pixel_features") continue;
      torch::Tensor t = (*outputs)[i];
      if (t.dim() != 4 || t.size(0) != 1)
        return Error{ErrorCode::ModelError, model->package().id + ": per-pixel features must be [1, C, h, w]"};
      if (parts.empty()) {
        out.gridHeight = static_cast<int>(t.size(2));
        out.gridWidth = static_cast<int>(t.size(3));
      } else if (t.size(2) != out.gridHeight || t.size(3) != out.gridWidth) {
        t = at::upsample_nearest2d(t.to(torch::kFloat32), {out.gridHeight, out.gridWidth});
      }
      auto rows = model->pixelFeatures(t, i);
      if (!rows) return rows.error();
      parts.push_back(rows->to(torch::kFloat32));
      any = true;
    }
    if (!any)
      return Error{ErrorCode::ModelError, "Model package '" + model->package().id +
                                              "' has no per_pixel_features output: it cannot serve as a forgery "
                                              "feature extractor"};
    out.description += (out.description.empty() ? "" : " + ") + model->package().id;
    if (!parts.empty() && parts.back().device() != parts.front().device()) parts.back() = parts.back().to(parts.front().device());
    if (context.cancel.isCancelled()) return Error::cancelled();
  }
  out.features = torch::cat(parts, 1);
  return out;
}

}  // namespace

Result<std::vector<Layer>> LocalizeTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                             sdk::TaskContext& context) {
  const auto started = std::chrono::steady_clock::now();
  const Image& image = input.image;
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  const std::string extractor = sdk::paramString(params, "extractor");
  const std::string clustering = sdk::paramString(params, "clustering");
  const std::string metric = sdk::paramString(params, "metric");

  analysis::LocalizeOptions options;
  options.threshold = static_cast<float>(sdk::paramFloat(params, "threshold"));
  options.features.blockSize = static_cast<int>(sdk::paramInt(params, "block_size"));
  options.features.stride = static_cast<int>(sdk::paramInt(params, "stride"));
  options.features.pcaDims = static_cast<int>(sdk::paramInt(params, "pca_dims"));
  auto& cl = options.clustering;
  cl.method = clustering == "hdbscan" ? analysis::ClusterMethod::Hdbscan : analysis::ClusterMethod::KMeans;
  cl.k = static_cast<int>(sdk::paramInt(params, "k"));
  cl.minClusterSize = static_cast<int>(sdk::paramInt(params, "min_cluster_size"));
  cl.seed = static_cast<std::uint64_t>(sdk::paramInt(params, "seed"));
  const bool splicebuster = extractor.empty() || extractor == "splicebuster";
  // HDBSCAN keeps an N x N distance matrix: fewer, larger steps.
  if (cl.method == analysis::ClusterMethod::Hdbscan) options.features.maxBlocks = 4096;
  if (metric == "auto") cl.metric = splicebuster ? analysis::ClusterMetric::Euclidean : analysis::ClusterMetric::Cosine;
  else cl.metric = metric == "cosine" ? analysis::ClusterMetric::Cosine : analysis::ClusterMetric::Euclidean;

  auto device = resolveDevice(context.device);
  if (!device) return device.error();

  analysis::Localization result;
  std::string extractorName;
  std::vector<std::pair<std::string, std::string>> extra;
  if (splicebuster) {
    context.progress.report(0.0, "Luminance");
    const torch::Tensor gray = analysis::luminance(image).to(*device);
    if (context.cancel.isCancelled()) return Error::cancelled();
    auto loc = analysis::localizeNoiseCooccurrence(gray, options, context.cancel, context.progress.slice(0.05, 0.95));
    if (!loc) return loc.error();
    result = std::move(*loc);
    extractorName = "splicebuster (noise residual co-occurrences)";
    const auto& f = result.features;
    extra = {{"block_size", std::to_string(f.blockSize)},
             {"stride", std::to_string(f.stride)},
             {"grid", std::to_string(f.gridWidth) + "x" + std::to_string(f.gridHeight)},
             {"pca_dims", std::to_string(f.features.dim() == 2 ? f.features.size(1) : 0)},
             {"pca_explained_variance", fixed(f.explainedVariance, 3)}};
  } else {
    auto t0 = std::chrono::steady_clock::now();
    context.progress.report(0.0, "Extracting features");
    auto extracted = extractWithPackages(splitPlus(extractor), image, context, context.progress.slice(0.0, 0.6));
    if (!extracted) return extracted.error();
    result.featureSeconds = secondsSince(t0);
    extractorName = extracted->description;
    t0 = std::chrono::steady_clock::now();
    auto clusters = analysis::clusterForgeryMap(extracted->features, cl, context.cancel, context.progress.slice(0.6, 0.9));
    if (!clusters) return clusters.error();
    result.clusters = std::move(*clusters);
    result.forgeryFound = result.clusters.forgeryFound;
    result.imageScore = result.clusters.imageScore;
    if (!result.forgeryFound) result.notes.push_back("The clustering found a single cluster: judged pristine");
    result.clusterSeconds = secondsSince(t0);
    t0 = std::chrono::steady_clock::now();
    context.progress.report(0.9, "Forgery map at full resolution");
    const double stepX = static_cast<double>(image.width()) / extracted->gridWidth;
    const double stepY = static_cast<double>(image.height()) / extracted->gridHeight;
    analysis::fillLocalizationMaps(result, result.clusters.probability, extracted->gridWidth, extracted->gridHeight,
                                   (stepX - 1.0) / 2.0, (stepY - 1.0) / 2.0, stepX, stepY, image.width(),
                                   image.height(), options.threshold);
    result.mapSeconds = secondsSince(t0);
    extra = {{"grid", std::to_string(extracted->gridWidth) + "x" + std::to_string(extracted->gridHeight)},
             {"feature_dims", std::to_string(extracted->features.size(1))}};
  }
  if (context.cancel.isCancelled()) return Error::cancelled();

  std::int64_t forgedPixels = 0;
  for (auto v : result.mask.values) forgedPixels += v;
  std::string sizes;
  for (auto s : result.clusters.clusterSizes) sizes += (sizes.empty() ? "" : ", ") + std::to_string(s);

  Table table;
  table.columns = {"measure", "value"};
  table.rows = {{"image_score", fixed(result.imageScore, 4)},
                {"forgery_found", result.forgeryFound ? "yes" : "no"},
                {"forged_fraction", fixed(static_cast<double>(forgedPixels) / result.mask.values.size(), 4)},
                {"threshold", fixed(options.threshold, 2)},
                {"extractor", extractorName},
                {"clustering", clustering + " (" + analysis::clusterMetricName(cl.metric) + ")"},
                {"cluster_sizes", sizes.empty() ? "none" : sizes}};
  if (cl.method == analysis::ClusterMethod::Hdbscan) table.rows.push_back({"noise_positions", std::to_string(result.clusters.noise)});
  for (auto& e : extra) table.rows.push_back({e.first, e.second});
  table.rows.push_back({"feature_seconds", fixed(result.featureSeconds, 3)});
  table.rows.push_back({"cluster_seconds", fixed(result.clusterSeconds, 3)});
  table.rows.push_back({"map_seconds", fixed(result.mapSeconds, 3)});
  table.rows.push_back({"total_seconds", fixed(secondsSince(started), 3)});
  if (result.forgeryFound && cl.method == analysis::ClusterMethod::KMeans)
    result.notes.push_back("k-means always splits the image into " + std::to_string(cl.k) +
                           " parts: image_score (0 = one homogeneous texture, near 1 = clearly distinct regions) "
                           "says how much the split means");
  for (const auto& note : result.notes) table.rows.push_back({"note", note});

  std::vector<Layer> layers;
  layers.push_back({"forgery_probability", "Forgery probability", std::move(result.heatmap)});
  layers.push_back({"forgery_mask", "Forged regions (p >= " + fixed(options.threshold, 2) + ")", std::move(result.mask)});
  layers.push_back({"forgery_summary", "Forgery localisation summary", std::move(table)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::forgery
