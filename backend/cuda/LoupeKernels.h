#pragma once
// Plain CUDA kernels for hot loops LibTorch does not fuse, behind a C++ launcher API that takes raw
// device pointers and a cudaStream_t passed as void* (so this header needs no CUDA headers). Compiled by
// nvcc into loupe_cuda (backend/cuda/CMakeLists.txt) only in builds against a CUDA LibTorch; CudaOps.h
// wraps them as tensor functions. Each launcher returns nullptr on success or CUDA's error text.
// All buffers are float32 / int64, contiguous, on the same device.

#include <cstdint>

namespace loupe::cuda {

// Sliding-window blending, the accumulate step (SlidingWindow.cpp does it with 2 x B narrow/add_ calls):
// for each window b with top-left corner (ys[b], xs[b]) in the padded output:
//   accum[c, ys[b] + i, xs[b] + j] += windows[b, c, i, j] * weight[i, j]
//   norm[ys[b] + i, xs[b] + j]     += weight[i, j]
// windows [B, C, h, w], weight [h, w], accum [C, H, W], norm [H, W], corners [B] each (int64, device).
// Windows of one call may overlap: additions are atomic.
const char* windowAccumulate2d(const float* windows, const float* weight, const std::int64_t* ys,
                               const std::int64_t* xs, float* accum, float* norm, int B, int C, int h, int w, int H,
                               int W, void* stream);

// The assignment step of cosine k-means, fused: each row of x [N, D] is L2-normalised on the fly and
// compared with K unit-length centroids [K, D]; labels[n] = argmax_k cos(x_n, c_k) (lowest k on ties),
// similarity[n] = that cosine. Rows of zero norm get similarity 0 and label 0 (as x / max(|x|, eps) does).
const char* cosineAssign(const float* x, const float* centroids, int N, int D, int K, std::int64_t* labels,
                         float* similarity, void* stream);

}  // namespace loupe::cuda
