#pragma once
// UMAP (McInnes, Healy & Melville 2018, "UMAP: Uniform Manifold Approximation and Projection for Dimension
// Reduction") on LibTorch tensors, following the reference implementation (umap-learn) step by step:
//
//   1. Fuzzy simplicial set from the k-NN graph (k = nNeighbors - 1 other points: umap-learn counts the point
//      itself as its first neighbour). Per point, rho = distance to the nearest other point and sigma by
//      binary search (64 steps, tolerance 1e-5) so that sum_j exp(-(d_ij - rho) / sigma) = log2(nNeighbors);
//      sigma never below 1e-3 x the mean neighbour distance. Memberships w_ij = exp(-max(0, d_ij - rho) / sigma).
//   2. Fuzzy union: W + W^T - W o W^T (setOpMixRatio 1; other mixes blend in the intersection W o W^T).
//      Edges below max(w) / epochs are dropped, as umap-learn does.
//   3. Low-dimensional similarity 1 / (1 + a d^(2b)); a and b fitted by non-linear least squares
//      (Levenberg-Marquardt, like scipy's curve_fit in umap-learn) to the curve that is 1 up to minDist and
//      exp(-(d - minDist) / spread) beyond, on 300 points in [0, 3 spread]. Standard values for minDist 0.1,
//      spread 1: a = 1.577, b = 0.895.
//   4. Initialisation: PCA (the first principal axes; umap-learn's init="pca", not its default spectral
//      init) or seeded uniform random, then scaled to [0, 10] per axis as umap-learn does.
//   5. SGD with negative sampling: each edge is sampled every max(w) / w_ij epochs (epochs per sample) with
//      `negativeSampleRate` negative samples per positive one, gradients clipped to [-4, 4] per coordinate,
//      learning rate decaying linearly to 0; attractive moves apply to both ends of an edge, repulsive
//      moves to the sampling end only.
//
// SGD, CPU: umap-learn's optimize_layout_euclidean_single_epoch, sequentially in plain C++ on the layout's
// memory: every edge due in the epoch, in row order, moves its ends at once, so later edges and negative samples
// see the earlier moves (negatives from a splitmix64 generator seeded from `seed`). At 20,000 Fashion-MNIST
// vectors this scored 0.7741 10-NN accuracy in 12.2 s against the batched epochs' 0.7588 in 16.0 s (umap-js:
// 0.7752, 48 s; docs/benchmarks.md).
// SGD, CUDA (or `batched` on the CPU): each epoch is one batch: all edges due in that epoch, and their negative
// samples (drawn from a CPU generator seeded from `seed`, so the same on every device), compute their moves from
// the same snapshot of the layout and the moves are summed into it with index_add. Same edges, same number of
// negatives and the same gradients as the sequential path; only the moment a move becomes visible differs.
// Both are deterministic: same data, options and seed give the same layout on the same device (the sequential
// path is single-threaded, so also for any thread count).

#include <torch/types.h>

#include <cstdint>
#include <utility>

#include "analysis/Knn.h"
#include "analysis/Tsne.h"  // LayoutCallback, ProjectionInit, pcaLayout
#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

struct UmapOptions {
  int dims = 2;
  int nNeighbors = 15;  // umap-learn's n_neighbors: the point itself plus nNeighbors - 1 others
  double minDist = 0.1;
  double spread = 1.0;
  int epochs = 0;  // <= 0: 500 for up to 10,000 points, 200 above (umap-learn)
  double learningRate = 1.0;
  double repulsionStrength = 1.0;  // gamma
  int negativeSampleRate = 5;
  double localConnectivity = 1.0;
  double setOpMixRatio = 1.0;
  double a = 0.0, b = 0.0;  // both > 0: used as given instead of the fit
  KnnMetric metric = KnnMetric::Euclidean;  // used when no neighbour graph is passed
  ProjectionInit init = ProjectionInit::Pca;
  torch::Tensor initialLayout;  // optional [N, dims], used as given (no rescaling)
  std::uint64_t seed = 0;
  int callbackEvery = 10;  // epochs
  // CPU layouts: false (default) runs umap-learn's sequential per-edge SGD, true the batched epochs that
  // CUDA layouts always use (kept to compare the two).
  bool batched = false;
};

struct UmapResult {
  torch::Tensor layout;  // float32 (float64 for float64 input) [N, dims], on the input's device
  int epochs = 0;        // epochs done
  bool stopped = false;  // the callback asked to stop
  double a = 0.0, b = 0.0;
};

// The fuzzy graph as a coalesced symmetric COO list.
struct FuzzyGraph {
  torch::Tensor rows, cols;  // int64 [E]
  torch::Tensor values;      // float64 [E], in (0, 1]
  std::int64_t n = 0;
};

// a and b for the given spread and minDist (see 3. above).
Result<std::pair<double, double>> umapFitAB(double spread, double minDist);

// sigma and rho [N] (float64) of every point (see 1. above).
Result<std::pair<torch::Tensor, torch::Tensor>> umapSmoothKnnDistances(const KnnGraph& graph,
                                                                       double localConnectivity = 1.0);

// The symmetric fuzzy simplicial set (1. and 2. above, without the pruning that depends on the epochs).
Result<FuzzyGraph> umapFuzzySimplicialSet(const KnnGraph& graph, double localConnectivity = 1.0,
                                          double setOpMixRatio = 1.0);

// UMAP of the rows of `points` [N, D]. `knn`, when given, replaces the exact neighbours (its columns beyond
// nNeighbors - 1 are ignored). Cancellation is checked every epoch.
Result<UmapResult> umap(const torch::Tensor& points, const UmapOptions& options = {}, const KnnGraph* knn = nullptr,
                        const LayoutCallback& callback = {}, const CancelToken& cancel = {}, Progress progress = {});

}  // namespace loupe::analysis
