#include "ForgeryLocalize.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "Hdbscan.h"

namespace loupe::analysis {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Distance of every row to every centre: [N, K].
torch::Tensor distances(const torch::Tensor& x, const torch::Tensor& centres, ClusterMetric metric) {
  if (metric == ClusterMetric::Cosine) return 1.0 - x.mm(centres.t());
  return (x.pow(2).sum(1, true) - 2.0 * x.mm(centres.t()) + centres.pow(2).sum(1).unsqueeze(0)).clamp_min(0.0);
}

double meanSquaredSpread(const torch::Tensor& rows) {
  if (rows.size(0) == 0) return 0.0;
  return (rows - rows.mean(0, true)).pow(2).sum(1).mean().item<double>();
}

}  // namespace

Result<ClusterMap> clusterForgeryMap(const torch::Tensor& featuresIn, const ClusterMapOptions& options,
                                     const CancelToken& cancel, Progress progress) {
  if (!featuresIn.defined() || featuresIn.dim() != 2 || featuresIn.size(0) < 2 || !featuresIn.is_floating_point())
    return Error{ErrorCode::InvalidArgument, "Clustering needs a [N, D] floating-point feature matrix with N >= 2"};
  const int64_t n = featuresIn.size(0);
  torch::Tensor x = featuresIn.to(torch::kFloat32);
  if (options.metric == ClusterMetric::Cosine)
    x = x / x.norm(2, 1, true).clamp_min(1e-12);  // zero rows stay zero

  torch::Tensor labels;
  progress.report(0.0, "Clustering");
  if (options.method == ClusterMethod::KMeans) {
    if (options.k < 2) return Error{ErrorCode::InvalidArgument, "k-means needs k >= 2"};
    if (n < options.k)
      return Error{ErrorCode::InvalidArgument, "Only " + std::to_string(n) + " positions to cluster into " +
                                                   std::to_string(options.k) + " clusters"};
    KMeansOptions ko;
    ko.k = options.k;
    ko.metric = options.metric;
    ko.nInit = std::max(1, options.nInit);
    ko.seed = options.seed;
    auto km = kmeans(x, ko, cancel);
    if (!km) return km.error();
    labels = km->labels;
  } else {
    HdbscanOptions ho;
    ho.metric = options.metric;
    ho.minClusterSize = options.minClusterSize > 0
                            ? options.minClusterSize
                            : static_cast<int>(std::clamp<int64_t>(n / 25, 5, 200));
    if (ho.minClusterSize > n) ho.minClusterSize = static_cast<int>(n);
    if (ho.minClusterSize < 2) return Error{ErrorCode::InvalidArgument, "HDBSCAN needs at least 2 positions"};
    auto hd = hdbscan(x, ho, cancel, progress.slice(0.0, 0.9));
    if (!hd) return hd.error();
    labels = hd->labels;
  }
  if (cancel.isCancelled()) return Error::cancelled();

  auto rule = forgeryLabelsFromClusters(labels);
  if (!rule) return rule.error();

  ClusterMap out;
  out.forged = rule->forged;
  out.forgeryFound = rule->forgeryFound;
  out.clusterCount = rule->clusterCount;
  const torch::Tensor labelsCpu = labels.to(torch::kCPU);
  const int64_t maxLabel = labelsCpu.numel() ? labelsCpu.max().item<int64_t>() : -1;
  out.noise = (labelsCpu < 0).sum().item<int64_t>();
  if (maxLabel >= 0) {
    const torch::Tensor sizes = torch::bincount(labelsCpu.index({labelsCpu >= 0}), {}, maxLabel + 1);
    for (int64_t i = 0; i <= maxLabel; ++i) out.clusterSizes.push_back(sizes[i].item<int64_t>());
  }
  out.probability = torch::zeros({n}, x.options());
  if (!out.forgeryFound) {
    progress.report(1.0, "Clustering done: one cluster, judged pristine");
    return out;
  }

  // Centres of every cluster from its members (normalised in cosine mode).
  const int64_t k = maxLabel + 1;
  const torch::Tensor member = labels >= 0;
  const torch::Tensor memberLabels = labels.index({member});
  torch::Tensor sums = torch::zeros({k, x.size(1)}, x.options()).index_add_(0, memberLabels, x.index({member}));
  const torch::Tensor counts =
      torch::zeros({k}, x.options()).index_add_(0, memberLabels, torch::ones({memberLabels.size(0)}, x.options()));
  torch::Tensor centres = sums / counts.clamp_min(1).unsqueeze(1);
  if (options.metric == ClusterMetric::Cosine) centres = centres / centres.norm(2, 1, true).clamp_min(1e-12);

  const torch::Tensor d = distances(x, centres, options.metric);  // [N, K]
  const torch::Tensor dp = d.select(1, rule->pristineCluster);
  torch::Tensor forgedCentre = torch::ones({k}, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
  forgedCentre[rule->pristineCluster] = false;
  const torch::Tensor df = std::get<0>(d.index({torch::indexing::Slice(), forgedCentre}).min(1));
  const torch::Tensor denom = dp + df;
  out.probability = torch::where(denom > 0, dp / denom.clamp_min(1e-30), torch::full_like(dp, 0.5)).clamp(0.0, 1.0);

  // Image score: Fisher ratio of the pristine cluster against the forged ones.
  const torch::Tensor pristineRows = x.index({labels == rule->pristineCluster});
  const torch::Tensor forgedRows = x.index({out.forged});
  const double between = (pristineRows.mean(0) - forgedRows.mean(0)).pow(2).sum().item<double>();
  const double within = meanSquaredSpread(pristineRows) + meanSquaredSpread(forgedRows);
  const double j = within > 0 ? between / within : (between > 0 ? 1e9 : 0.0);
  out.imageScore = j / (1.0 + j);
  progress.report(1.0, "Clustering done");
  return out;
}

torch::Tensor resampleGrid(const torch::Tensor& gridIn, double originX, double originY, double stepX, double stepY,
                           int width, int height) {
  const torch::Tensor grid = gridIn.to(torch::kFloat32);
  const auto axis = [&](int count, double origin, double step, int64_t cells) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(grid.device());
    const torch::Tensor t = ((torch::arange(count, opts) - origin) / step).clamp(0.0, static_cast<double>(cells - 1));
    const torch::Tensor i0 = t.floor().to(torch::kLong);
    const torch::Tensor i1 = (i0 + 1).clamp_max(cells - 1);
    return std::make_tuple(i0, i1, (t - i0.to(torch::kFloat64)).to(torch::kFloat32));
  };
  const auto [x0, x1, wx] = axis(width, originX, stepX, grid.size(1));
  const auto [y0, y1, wy] = axis(height, originY, stepY, grid.size(0));
  const torch::Tensor cols = torch::lerp(grid.index_select(1, x0), grid.index_select(1, x1), wx.unsqueeze(0));
  return torch::lerp(cols.index_select(0, y0), cols.index_select(0, y1), wy.unsqueeze(1));
}

void fillLocalizationMaps(Localization& out, const torch::Tensor& gridProbability, int gridWidth, int gridHeight,
                          double originX, double originY, double stepX, double stepY, int width, int height,
                          float threshold) {
  // Columns first on the grid's device ([Gy, W], small), then every output row is the blend of two of those
  // rows, written straight into the layer together with the mask: one pass over the full-resolution map
  // (the same numbers as resampleGrid, without its [H, W] temporaries).
  const torch::Tensor grid = gridProbability.reshape({gridHeight, gridWidth}).to(torch::kFloat32);
  const torch::Tensor cols = resampleGrid(grid, originX, 0.0, stepX, 1.0, width, gridHeight).to(torch::kCPU).contiguous();
  const std::size_t count = static_cast<std::size_t>(width) * height;
  out.heatmap.width = width;
  out.heatmap.height = height;
  out.heatmap.rangeMin = 0.f;
  out.heatmap.rangeMax = 1.f;
  out.heatmap.colormap = Colormap::Magma;
  out.heatmap.unit = "forgery probability";
  out.heatmap.values.resize(count);
  out.mask.width = width;
  out.mask.height = height;
  out.mask.values.assign(count, 0);
  const float* c = cols.data_ptr<float>();
  for (int y = 0; y < height; ++y) {
    const double t = std::clamp((y - originY) / stepY, 0.0, static_cast<double>(gridHeight - 1));
    const int y0 = static_cast<int>(std::floor(t));
    const int y1 = std::min(y0 + 1, gridHeight - 1);
    const float wy = static_cast<float>(t - y0);
    const float* a = c + static_cast<std::size_t>(y0) * width;
    const float* b = c + static_cast<std::size_t>(y1) * width;
    float* o = out.heatmap.values.data() + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width; ++x) o[x] = a[x] + wy * (b[x] - a[x]);
    if (out.forgeryFound) {
      std::uint8_t* m = out.mask.values.data() + static_cast<std::size_t>(y) * width;
      for (int x = 0; x < width; ++x) m[x] = o[x] >= threshold;
    }
  }
}

Result<Localization> localizeNoiseCooccurrence(const torch::Tensor& gray, const LocalizeOptions& options,
                                               const CancelToken& cancel, Progress progress) {
  if (!(options.threshold >= 0.f && options.threshold <= 1.f))
    return Error{ErrorCode::InvalidArgument, "The threshold must lie in [0, 1]"};
  Localization out;
  auto t0 = std::chrono::steady_clock::now();
  progress.report(0.0, "Noise residual co-occurrences");
  auto features = noiseCooccurrenceFeatures(gray, options.features, cancel);
  if (!features) return features.error();
  out.features = std::move(*features);
  out.notes = out.features.notes;
  out.featureSeconds = secondsSince(t0);
  if (cancel.isCancelled()) return Error::cancelled();

  t0 = std::chrono::steady_clock::now();
  const int64_t gridCount = static_cast<int64_t>(out.features.gridWidth) * out.features.gridHeight;
  torch::Tensor gridProbability = torch::zeros({gridCount}, gray.options().dtype(torch::kFloat32));
  const int64_t textured = out.features.features.size(0);
  const int64_t needed = std::max<int64_t>(8, 2 * options.clustering.k);
  if (textured == 0) {
    out.notes.push_back("The image has no texture (one flat colour or saturated everywhere): there is no noise to "
                        "compare, so it is judged pristine");
  } else if (textured < needed) {
    out.notes.push_back("Only " + std::to_string(textured) + " block(s) have texture (at least " +
                        std::to_string(needed) + " are needed to compare regions): judged pristine");
  } else {
    auto clusters = clusterForgeryMap(out.features.features, options.clustering, cancel, progress.slice(0.4, 0.9));
    if (!clusters) return clusters.error();
    out.clusters = std::move(*clusters);
    out.forgeryFound = out.clusters.forgeryFound;
    out.imageScore = out.clusters.imageScore;
    gridProbability.index_put_({out.features.textured.to(gridProbability.device())}, out.clusters.probability);
    if (!out.forgeryFound) out.notes.push_back("The clustering found a single cluster: judged pristine");
  }
  out.clusterSeconds = secondsSince(t0);
  if (cancel.isCancelled()) return Error::cancelled();

  t0 = std::chrono::steady_clock::now();
  progress.report(0.9, "Forgery map at full resolution");
  fillLocalizationMaps(out, gridProbability, out.features.gridWidth, out.features.gridHeight, out.features.originX,
                       out.features.originY, out.features.stride, out.features.stride, static_cast<int>(gray.size(1)),
                       static_cast<int>(gray.size(0)), options.threshold);
  out.mapSeconds = secondsSince(t0);
  progress.report(1.0, "Done");
  return out;
}

}  // namespace loupe::analysis
