#pragma once
// Exact k-nearest neighbours of the rows of a matrix, for the projections (t-SNE, UMAP) and the
// neighbourhood metrics of the embedding explorer. Brute force by blocked matrix products + topk: every
// pair is compared, so the result is the exact neighbour list (up to ties at the k-th distance), and the
// working memory is bounded by one [block, N] distance block, whatever N is.
//
// Device-agnostic: the work runs where the input tensor lives (CPU or CUDA). The app passes FAISS's
// neighbours instead when an index exists; KnnGraph is the common currency either way.

#include <torch/types.h>

#include <cstdint>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

enum class KnnMetric {
  Euclidean,  // distance = ||a - b||
  Cosine,     // distance = 1 - cos(a, b) (a zero row has cosine 0 to everything)
};

const char* knnMetricName(KnnMetric metric);

// A k-nearest-neighbour graph: row i lists its k neighbours, nearest first, never i itself.
struct KnnGraph {
  torch::Tensor indices;    // int64 [N, k]
  torch::Tensor distances;  // float32 or float64 [N, k], ascending along each row, in the metric's units
  KnnMetric metric = KnnMetric::Euclidean;

  std::int64_t size() const { return indices.defined() ? indices.size(0) : 0; }
  std::int64_t k() const { return indices.defined() ? indices.size(1) : 0; }
};

struct KnnOptions {
  int k = 15;
  KnnMetric metric = KnnMetric::Euclidean;
  // Bound on the [block, N] distance block, in bytes (the block height follows from it and N).
  std::int64_t blockBytes = std::int64_t(256) << 20;
};

// `points`: [N, D] floating point, finite, N > k >= 1. float64 is computed in float64, any other floating
// type in float32. Cancellation is checked between blocks; progress is reported per block.
Result<KnnGraph> exactKnn(const torch::Tensor& points, const KnnOptions& options = {},
                          const CancelToken& cancel = {}, Progress progress = {});

// Checks that `graph` is usable for `n` points: shapes [n, k] with k >= 1, int64 indices in [0, n) that
// never point to the row itself, finite non-negative distances. Used on graphs that come from elsewhere
// (FAISS, files), so the message names what is wrong.
Result<void> validateKnnGraph(const KnnGraph& graph, std::int64_t n);

// Leave-one-out k-NN classification accuracy of a layout (any dimension): each row takes the majority
// label of its k nearest other rows (Euclidean; ties between labels go to the smallest label), and the
// result is the share of rows whose vote equals their own label. The usual "10-NN accuracy" of a 2-D
// embedding. `labels`: int64 [N] >= 0.
Result<double> knnLabelAccuracy(const torch::Tensor& layout, const torch::Tensor& labels, int k = 10,
                                const CancelToken& cancel = {});

}  // namespace loupe::analysis
