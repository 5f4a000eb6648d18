// CUDA kernels for LoupeKernels.h. Plain CUDA C++ (no LibTorch), compiled by nvcc.

#include <cuda_runtime.h>

#include "LoupeKernels.h"

namespace loupe::cuda {
namespace {

__global__ void windowAccumulateKernel(const float* __restrict__ windows, const float* __restrict__ weight,
                                       const std::int64_t* __restrict__ ys, const std::int64_t* __restrict__ xs,
                                       float* accum, float* norm, int B, int C, int h, int w, int H, int W) {
  const long long total = static_cast<long long>(B) * C * h * w;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(idx % w);
    const int i = static_cast<int>((idx / w) % h);
    const int c = static_cast<int>((idx / (static_cast<long long>(w) * h)) % C);
    const int b = static_cast<int>(idx / (static_cast<long long>(w) * h * C));
    const long long y = ys[b] + i, x = xs[b] + j;
    if (y < 0 || y >= H || x < 0 || x >= W) continue;
    const float wt = weight[i * w + j];
    atomicAdd(&accum[(static_cast<long long>(c) * H + y) * W + x], windows[idx] * wt);
    if (c == 0) atomicAdd(&norm[y * W + x], wt);
  }
}

// One warp per row: the row's squared norm and its dot product with every centroid, reduced with shuffles.
__global__ void cosineAssignKernel(const float* __restrict__ x, const float* __restrict__ centroids, int N, int D,
                                   int K, std::int64_t* labels, float* similarity) {
  const int warpsPerBlock = blockDim.x / 32;
  const int row = blockIdx.x * warpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= N) return;
  const float* xr = x + static_cast<long long>(row) * D;
  float sq = 0.f;
  for (int d = lane; d < D; d += 32) sq += xr[d] * xr[d];
  for (int o = 16; o > 0; o /= 2) sq += __shfl_xor_sync(0xffffffffu, sq, o);
  const float inv = 1.f / fmaxf(sqrtf(sq), 1e-12f);  // F.normalize's eps
  float best = -3.402823466e38f;
  int bestK = 0;
  for (int k = 0; k < K; ++k) {
    const float* cr = centroids + static_cast<long long>(k) * D;
    float dot = 0.f;
    for (int d = lane; d < D; d += 32) dot += xr[d] * cr[d];
    for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    const float s = dot * inv;
    if (s > best) {
      best = s;
      bestK = k;
    }
  }
  if (lane == 0) {
    labels[row] = bestK;
    similarity[row] = best;
  }
}

const char* status(cudaError_t e) { return e == cudaSuccess ? nullptr : cudaGetErrorString(e); }

}  // namespace

const char* windowAccumulate2d(const float* windows, const float* weight, const std::int64_t* ys,
                               const std::int64_t* xs, float* accum, float* norm, int B, int C, int h, int w, int H,
                               int W, void* stream) {
  const long long total = static_cast<long long>(B) * C * h * w;
  if (total == 0) return nullptr;
  const int threads = 256;
  const long long wanted = (total + threads - 1) / threads;
  const int blocks = static_cast<int>(wanted < 65535 * 8 ? wanted : 65535 * 8);
  windowAccumulateKernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(windows, weight, ys, xs, accum,
                                                                                      norm, B, C, h, w, H, W);
  return status(cudaGetLastError());
}

const char* cosineAssign(const float* x, const float* centroids, int N, int D, int K, std::int64_t* labels,
                         float* similarity, void* stream) {
  if (N == 0) return nullptr;
  if (K <= 0 || D <= 0) return "cosineAssign: K and D must be positive";
  const int threads = 256;  // 8 rows per block
  const int blocks = (N + threads / 32 - 1) / (threads / 32);
  cosineAssignKernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(x, centroids, N, D, K, labels,
                                                                                 similarity);
  return status(cudaGetLastError());
}

}  // namespace loupe::cuda
