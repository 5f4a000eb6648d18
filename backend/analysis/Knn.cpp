#include "Knn.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace loupe::analysis {

const char* knnMetricName(KnnMetric metric) {
  switch (metric) {
    case KnnMetric::Euclidean: return "euclidean";
    case KnnMetric::Cosine: return "cosine";
  }
  return "?";
}

namespace {

bool allFinite(const torch::Tensor& x) {
  if (x.numel() == 0) return true;
  const auto [lo, hi] = at::aminmax(x);
  const torch::Tensor both = at::stack({lo, hi}).to(torch::kCPU, torch::kDouble);
  return std::isfinite(both[0].item<double>()) && std::isfinite(both[1].item<double>());
}

}  // namespace

Result<KnnGraph> exactKnn(const torch::Tensor& points, const KnnOptions& options, const CancelToken& cancel,
                          Progress progress) {
  if (!points.defined() || points.dim() != 2)
    return Error(ErrorCode::InvalidArgument, "k-nearest neighbours need an [N, D] matrix of points");
  if (!points.is_floating_point())
    return Error(ErrorCode::InvalidArgument, "k-nearest neighbours need floating-point points");
  const std::int64_t n = points.size(0);
  if (options.k < 1) return Error(ErrorCode::InvalidArgument, "k-nearest neighbours: k must be at least 1");
  if (n <= options.k)
    return Error(ErrorCode::InvalidArgument, "k-nearest neighbours: " + std::to_string(options.k) +
                                                 " neighbours need at least " + std::to_string(options.k + 1) +
                                                 " points, got " + std::to_string(n));
  if (points.size(1) < 1) return Error(ErrorCode::InvalidArgument, "k-nearest neighbours: the points have no columns");
  if (!allFinite(points))
    return Error(ErrorCode::InvalidArgument, "k-nearest neighbours: the points contain NaN or infinite values");

  const auto dtype = points.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  torch::Tensor x = points.to(dtype).contiguous();
  const bool cosine = options.metric == KnnMetric::Cosine;
  torch::Tensor xSq;
  if (cosine) {
    x = x / x.norm(2, {1}, true).clamp_min(1e-12);
  } else {
    xSq = (x * x).sum(1);
  }
  const std::int64_t elementBytes = dtype == torch::kDouble ? 8 : 4;
  const std::int64_t block =
      std::clamp<std::int64_t>(options.blockBytes / std::max<std::int64_t>(1, n * elementBytes * 2), 1, n);
  const std::int64_t k = options.k;
  torch::Tensor indices = torch::empty({n, k}, x.options().dtype(torch::kLong));
  torch::Tensor distances = torch::empty({n, k}, x.options());
  const torch::Tensor xt = x.t();
  for (std::int64_t start = 0; start < n; start += block) {
    if (cancel.isCancelled()) return Error::cancelled();
    const std::int64_t rows = std::min(block, n - start);
    const torch::Tensor xb = x.narrow(0, start, rows);
    torch::Tensor d;
    if (cosine) {
      d = at::mm(xb, xt).neg_();  // smallest -cos first
    } else {
      d = at::addmm(xSq.unsqueeze(0), xb, xt, 1, -2).add_(xSq.narrow(0, start, rows).unsqueeze(1));
    }
    d.diagonal(start).fill_(std::numeric_limits<double>::infinity());  // row r of the block is point start + r
    auto [values, ids] = d.topk(k, 1, /*largest=*/false, /*sorted=*/true);
    if (cosine) {
      values.add_(1);
    } else {
      values.clamp_min_(0).sqrt_();
    }
    indices.narrow(0, start, rows).copy_(ids);
    distances.narrow(0, start, rows).copy_(values);
    progress.report(double(start + rows) / double(n), "Nearest neighbours");
  }
  KnnGraph graph;
  graph.indices = indices;
  graph.distances = distances;
  graph.metric = options.metric;
  return graph;
}

Result<void> validateKnnGraph(const KnnGraph& graph, std::int64_t n) {
  if (!graph.indices.defined() || !graph.distances.defined())
    return Error(ErrorCode::InvalidArgument, "The neighbour graph is empty");
  if (graph.indices.dim() != 2 || graph.indices.size(0) != n || graph.indices.size(1) < 1)
    return Error(ErrorCode::InvalidArgument, "The neighbour graph must have one row of neighbours per point (" +
                                                 std::to_string(n) + " rows)");
  if (graph.distances.sizes() != graph.indices.sizes())
    return Error(ErrorCode::InvalidArgument, "The neighbour graph's distances and indices differ in shape");
  if (graph.indices.scalar_type() != torch::kLong)
    return Error(ErrorCode::InvalidArgument, "The neighbour graph's indices must be int64");
  if (!graph.distances.is_floating_point() || !allFinite(graph.distances))
    return Error(ErrorCode::InvalidArgument, "The neighbour graph's distances must be finite floating-point values");
  const auto [lo, hi] = at::aminmax(graph.indices);
  if (lo.item<std::int64_t>() < 0 || hi.item<std::int64_t>() >= n)
    return Error(ErrorCode::InvalidArgument,
                 "The neighbour graph refers to points outside 0.." + std::to_string(n - 1) +
                     " (missing neighbours, e.g. FAISS's -1, must be filled before use)");
  const torch::Tensor self = at::arange(n, graph.indices.options()).unsqueeze(1);
  if (graph.indices.eq(self).any().item<bool>())
    return Error(ErrorCode::InvalidArgument, "The neighbour graph lists a point as its own neighbour; drop self matches");
  if (graph.distances.min().item<double>() < 0)
    return Error(ErrorCode::InvalidArgument, "The neighbour graph has negative distances");
  return {};
}

Result<double> knnLabelAccuracy(const torch::Tensor& layout, const torch::Tensor& labels, int k,
                                const CancelToken& cancel) {
  if (!labels.defined() || labels.dim() != 1 || !layout.defined() || layout.dim() != 2 ||
      labels.size(0) != layout.size(0))
    return Error(ErrorCode::InvalidArgument, "k-NN accuracy needs one label per layout row");
  if (labels.numel() > 0 && labels.min().item<std::int64_t>() < 0)
    return Error(ErrorCode::InvalidArgument, "k-NN accuracy needs labels >= 0");
  KnnOptions options;
  options.k = k;
  auto graph = exactKnn(layout, options, cancel);
  if (!graph) return graph.error();
  const torch::Tensor y = labels.to(layout.device(), torch::kLong);
  const std::int64_t classes = y.max().item<std::int64_t>() + 1;
  const torch::Tensor neighbourLabels = y.index_select(0, graph->indices.reshape(-1)).view({-1, k});
  torch::Tensor votes = torch::zeros({y.size(0), classes}, y.options().dtype(torch::kInt));
  votes.scatter_add_(1, neighbourLabels, torch::ones_like(neighbourLabels, votes.options()));
  const torch::Tensor predicted = votes.argmax(1);  // the first maximum: ties go to the smallest label
  return predicted.eq(y).to(torch::kDouble).mean().item<double>();
}

}  // namespace loupe::analysis
