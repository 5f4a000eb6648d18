#pragma once
// t-SNE (van der Maaten & Hinton 2008) on LibTorch tensors, for 2-D maps of up to ~100k embeddings.
//
// Input similarities follow scikit-learn's TSNE (and openTSNE): each point's conditional distribution over
// its k = 3 * perplexity + 1 nearest neighbours is calibrated by binary search to the requested perplexity
// (squared distances for the Euclidean metric, as scikit-learn), then P = (P_cond + P_cond^T) / sum is a
// symmetric sparse matrix that sums to 1. The optimiser is scikit-learn's: gradient descent with momentum
// 0.5 during early exaggeration (12 for 250 iterations) and 0.8 after, delta-bar-delta gains (+0.2 / x0.8,
// min 0.01, reset between the two phases as scikit-learn does), learning rate max(N / 12 / 4, 50).
//
// Gradient: dC/dy_i = 4 [ exaggeration * sum_j p_ij k_ij (y_i - y_j) - (1/Z) sum_j k_ij^2 (y_i - y_j) ],
// k_ij = 1 / (1 + |y_i - y_j|^2), Z = sum_{i != j} k_ij. The attractive sum runs over the sparse P only.
// The repulsive sums run over all pairs, either
//   - exactly, in [block, N] tiles (O(N^2) per iteration; the reference, and fine for a few thousand points), or
//   - by polynomial interpolation on an equispaced grid + FFT convolution, as FIt-SNE (Linderman et al.
//     2019, "Fast interpolation-based t-SNE for improved visualization of single-cell RNA-seq data"):
//     the kernel k^2 is smooth, so the charges (1, y_x, y_y, |y|^2) of each point are spread by Lagrange
//     weights to the 3 x 3 interpolation nodes of its grid box, convolved with k^2 sampled on the node grid
//     (an aperiodic convolution done as a circular one on a zero-padded 2M x 2M grid by real FFTs), and the
//     potentials are interpolated back with the same weights. Z follows from the same four potentials
//     (k = k^2 (1 + |y_i - y_j|^2)). O(N + M^2 log M) per iteration; its error against the exact sums is
//     checked in tests/projection. 2-D layouts only.
// Everything runs on the device of the input tensor (CPU or CUDA). Deterministic: the same data, options and
// seed give the same layout on the same device and thread count.

#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "analysis/Knn.h"
#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

// Called every `callbackEvery` iterations (or epochs) and at the end with the current layout [N, dims]
// (valid during the call only: clone it to keep it) and the number of iterations done. Return false to
// stop early: the result then holds that layout, with `stopped` set.
using LayoutCallback = std::function<bool(const torch::Tensor& layout, int iteration)>;

enum class TsneRepulsion {
  Auto,           // Exact up to `exactLimit` points (or when dims != 2), Interpolation above
  Exact,          // all pairs in tiles
  Interpolation,  // FIt-SNE's grid interpolation + FFT (2-D only)
};
const char* tsneRepulsionName(TsneRepulsion repulsion);

enum class ProjectionInit {
  Pca,     // the first principal axes, scaled (t-SNE: std of the first axis 1e-4, as scikit-learn's init='pca')
  Random,  // seeded Gaussian (t-SNE: std 1e-4) / uniform (UMAP: [0, 10]) coordinates
};

struct TsneOptions {
  int dims = 2;
  double perplexity = 30.0;
  int iterations = 1000;  // total, exaggeration phase included (scikit-learn's n_iter)
  double earlyExaggeration = 12.0;
  int exaggerationIterations = 250;
  double learningRate = 0.0;  // <= 0: auto, max(N / earlyExaggeration / 4, 50)
  double initialMomentum = 0.5;
  double finalMomentum = 0.8;
  double minGain = 0.01;
  TsneRepulsion repulsion = TsneRepulsion::Auto;
  std::int64_t exactLimit = 2000;
  // Interpolation grid (FIt-SNE's defaults): boxes per dimension = clamp(range * intervalsPerUnit,
  // minIntervals, maxIntervals), `interpolationNodes` nodes per box and dimension.
  int interpolationNodes = 3;
  double intervalsPerUnit = 1.0;
  int minIntervals = 50;
  int maxIntervals = 400;
  KnnMetric metric = KnnMetric::Euclidean;  // used when no neighbour graph is passed
  ProjectionInit init = ProjectionInit::Pca;
  torch::Tensor initialLayout;  // optional [N, dims]: used as given instead of `init`
  std::uint64_t seed = 0;
  int callbackEvery = 50;
};

struct TsneResult {
  torch::Tensor layout;  // float32 or float64 [N, dims], on the input's device
  int iterations = 0;    // iterations done
  bool stopped = false;  // the callback asked to stop
  double kl = 0.0;       // KL(P || Q) of the final layout (from the last gradient evaluation)
  double learningRate = 0.0;
  TsneRepulsion repulsion = TsneRepulsion::Exact;  // what Auto resolved to
};

// The symmetric input similarities P as a coalesced COO list (each unordered pair in both directions).
struct TsneAffinities {
  torch::Tensor rows;    // int64 [E]
  torch::Tensor cols;    // int64 [E]
  torch::Tensor values;  // float64 [E], sums to 1
  std::int64_t n = 0;
};

// Conditional P_{j|i} [N, k] (float64, rows sum to 1) of each point over its graph neighbours, calibrated so
// that each row's entropy is log(perplexity) (binary search on the precision, 100 steps, tolerance 1e-5
// nats, as scikit-learn's _binary_search_perplexity). Euclidean distances are squared first.
Result<torch::Tensor> tsneConditionalAffinities(const KnnGraph& graph, double perplexity);
// P = (P_cond + P_cond^T) / sum, from the graph (k may exceed 3 * perplexity + 1; all columns are used).
Result<TsneAffinities> tsneAffinities(const KnnGraph& graph, double perplexity);

// The t-SNE gradient (the factor 4 included) at `layout` for similarities `p` multiplied by `exaggeration`;
// `kl` (optional) receives KL(P || Q), meaningful at exaggeration 1. `options` supplies the repulsion method
// (Auto resolves as in tsne()) and the interpolation grid.
Result<torch::Tensor> tsneGradient(const TsneAffinities& p, const torch::Tensor& layout, double exaggeration,
                                   const TsneOptions& options, double* kl = nullptr);

// Initial layout from the first `dims` principal axes of `points` (covariance eigenvectors in float64, sign
// fixed so each axis' largest loading is positive: deterministic), returned in the points' float type.
Result<torch::Tensor> pcaLayout(const torch::Tensor& points, int dims);

// t-SNE of the rows of `points` [N, D] (finite floats, N > dims + 1). `knn`, when given, is used instead of
// computing exact neighbours (e.g. FAISS's); it must have N rows. Cancellation is checked every iteration.
Result<TsneResult> tsne(const torch::Tensor& points, const TsneOptions& options = {}, const KnnGraph* knn = nullptr,
                        const LayoutCallback& callback = {}, const CancelToken& cancel = {}, Progress progress = {});

}  // namespace loupe::analysis
