#pragma once
// Principal component analysis of an embedding matrix on LibTorch (CPU or CUDA: the work runs on the
// input's device). Centred; for N >= D the D x D covariance is accumulated in float64 chunk by chunk (the
// data is never copied whole to float64) and eigen-decomposed with torch::linalg::eigh; for N < D a
// float64 SVD of the centred data is used instead. Variances use N - 1, as scikit-learn's PCA does.
//
// Deterministic signs: each component is flipped so that its entry of largest magnitude is positive (the
// convention scikit-learn's PCA uses from 1.5 on; older versions decided by the scores' signs).
// Zero variance (all rows identical, or fewer directions than asked for) never gives NaN: the affected
// components have zero variance and ratio, the projection is zero along them, and a notice says so.

#include <torch/types.h>

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

struct PcaOptions {
  int components = 2;
  std::int64_t chunkRows = 65536;  // rows per covariance update (memory bound, cancellation points)
};

struct PcaModel {
  torch::Tensor mean;                    // float32 [D]
  torch::Tensor components;              // float32 [K, D], orthonormal rows, signs as above
  torch::Tensor explainedVariance;       // float64 [K], eigenvalues of the covariance (N - 1 denominator)
  torch::Tensor explainedVarianceRatio;  // float64 [K], share of the total variance (0 when there is none)
  torch::Tensor singularValues;          // float64 [K], of the centred data
  double totalVariance = 0.0;            // trace of the covariance
  std::int64_t samples = 0;
  std::vector<std::string> notices;      // e.g. zero variance

  // (x - mean) @ components^T, float32 [N, K] on x's device.
  torch::Tensor transform(const torch::Tensor& x) const;
};

// Fits on x ([N, D], floating point, finite).
Result<PcaModel> fitPca(const torch::Tensor& x, const PcaOptions& options = {}, const CancelToken& cancel = {},
                        Progress progress = {});

}  // namespace loupe::analysis
