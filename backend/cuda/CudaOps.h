#pragma once
// The kernels of LoupeKernels.h as tensor functions (checks, current CUDA stream). Built only against a
// CUDA LibTorch (LOUPE_HAVE_CUDA_KERNELS); every function has a plain LibTorch reference in
// tools/gpu-check/gpu_check.cpp that it is checked against on a GPU machine.

#include <torch/types.h>

#include <utility>
#include <vector>

#include "core/Result.h"

namespace loupe::cuda {

// accum [1, C, H, W] and norm [1, 1, H, W] (float32, CUDA) gain every window [B, C, h, w] times weight
// [h, w] at its corner {y, x}, and the weight itself (SlidingWindow's blending accumulate).
Result<void> windowAccumulate(const torch::Tensor& windows, const torch::Tensor& weight,
                              const std::vector<std::vector<std::int64_t>>& corners, torch::Tensor& accum,
                              torch::Tensor& norm);

// Cosine k-means assignment: rows of x [N, D] against unit centroids [K, D] -> (labels [N] int64,
// cosine similarity [N] float32), x normalised on the fly.
Result<std::pair<torch::Tensor, torch::Tensor>> cosineAssign(const torch::Tensor& x, const torch::Tensor& centroids);

}  // namespace loupe::cuda
