#pragma once
// k-means on the rows of a feature tensor, in plain Euclidean form (Lloyd, as scikit-learn's KMeans) or
// in the cosine form FOCAL clusters its per-position features with (Wu et al., "Rethinking Image Forgery
// Detection via Contrastive Learning and Unsupervised Clustering"): rows and centres L2-normalised, each
// row assigned to the centre of largest cosine, a centre being the normalised mean of its rows.
//
// All work runs on the device of the input tensor (CPU or CUDA) with batched tensor operations; only
// a few scalars per iteration come back to the host. Seeding is greedy k-means++ (Arthur & Vassilvitskii
// 2007, with scikit-learn's 2 + ln k local trials) driven by a host generator seeded from the options,
// so the same data and seed give the same labels on every run.

#include <torch/types.h>

#include <cstdint>

#include "core/CancelToken.h"
#include "core/Result.h"

namespace loupe::analysis {

enum class ClusterMetric {
  Euclidean,  // squared Euclidean distance between raw rows
  Cosine,     // 1 - cosine similarity between L2-normalised rows (a zero row stays zero: cosine 0 to all)
};

const char* clusterMetricName(ClusterMetric metric);

struct KMeansOptions {
  int k = 2;  // FOCAL's released code uses 2
  ClusterMetric metric = ClusterMetric::Cosine;
  int maxIterations = 300;
  // Convergence, as scikit-learn: stop when the labels no longer change, or when the summed squared shift
  // of the centres is at most tolerance * (mean per-feature variance of the (normalised) rows).
  double tolerance = 1e-4;
  int nInit = 1;           // restarts from new seeds; the run with the lowest objective is kept
  std::uint64_t seed = 0;  // same seed and data -> identical result
};

struct KMeansResult {
  torch::Tensor labels;   // int64 [N] in 0..k-1, on the input's device
  torch::Tensor centres;  // [k, D], unit rows in cosine mode; input's device, float32 or float64
  // Euclidean: sum of squared distances to the assigned centre (scikit-learn's inertia_).
  // Cosine: sum over rows of 1 - cos(row, assigned centre).
  double objective = 0.0;
  int iterations = 0;      // Lloyd iterations of the kept run
  bool converged = false;  // the kept run stopped before maxIterations
};

// `features`: [N, D] floating point, finite, N >= k. float64 input is computed in float64, any other
// floating type in float32. Cancellation is checked between iterations.
Result<KMeansResult> kmeans(const torch::Tensor& features, const KMeansOptions& options = {},
                            const CancelToken& cancel = {});

// FOCAL's rule that turns clusters into a forgery map: the largest cluster is pristine, every other
// cluster is forged (ties: the lower label is the pristine one). Label -1 (HDBSCAN's noise) is treated as
// pristine: a point no cluster claims is not evidence of a forgery. With fewer than two non-empty
// clusters the image is judged pristine as a whole.
struct ForgeryLabels {
  torch::Tensor forged;               // bool [N] on the labels' device; true = forged position
  bool forgeryFound = false;          // image-level verdict: at least two clusters
  std::int64_t pristineCluster = -1;  // label of the largest cluster, -1 when there is no cluster
  int clusterCount = 0;               // non-empty clusters, noise excluded
};
// `labels`: integer [N], -1 for noise and cluster ids >= 0 otherwise (any other negative is an error).
Result<ForgeryLabels> forgeryLabelsFromClusters(const torch::Tensor& labels);

}  // namespace loupe::analysis
