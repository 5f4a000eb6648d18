#include "CudaOps.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <string>

#include "LoupeKernels.h"

namespace loupe::cuda {
namespace {
Result<void> need(bool ok, const std::string& what) {
  if (!ok) return Error{ErrorCode::InvalidArgument, what};
  return {};
}
Result<void> launched(const char* status, const char* name) {
  if (status) return Error{ErrorCode::Internal, std::string(name) + " kernel failed: " + status};
  return {};
}
bool f32cuda(const at::Tensor& t) { return t.defined() && t.is_cuda() && t.scalar_type() == at::kFloat && t.is_contiguous(); }
}  // namespace

Result<void> windowAccumulate(const torch::Tensor& windowsIn, const torch::Tensor& weightIn,
                              const std::vector<std::vector<std::int64_t>>& corners, torch::Tensor& accum,
                              torch::Tensor& norm) {
  const at::Tensor windows = windowsIn.to(at::kFloat).contiguous(), weight = weightIn.to(at::kFloat).contiguous();
  if (auto ok = need(f32cuda(windows) && f32cuda(weight) && f32cuda(accum) && f32cuda(norm),
                     "windowAccumulate: float32 contiguous CUDA tensors expected");
      !ok)
    return ok;
  if (auto ok = need(windows.dim() == 4 && weight.dim() == 2 && accum.dim() == 4 && norm.dim() == 4 &&
                         windows.size(0) == static_cast<std::int64_t>(corners.size()) && windows.size(1) == accum.size(1) &&
                         windows.size(2) == weight.size(0) && windows.size(3) == weight.size(1) &&
                         norm.size(2) == accum.size(2) && norm.size(3) == accum.size(3),
                     "windowAccumulate: shapes do not fit together");
      !ok)
    return ok;
  std::vector<std::int64_t> ys, xs;
  for (const auto& c : corners) {
    if (c.size() != 2) return Error{ErrorCode::InvalidArgument, "windowAccumulate: corners must be {y, x}"};
    ys.push_back(c[0]);
    xs.push_back(c[1]);
  }
  const c10::cuda::CUDAGuard guard(windows.device());
  const auto opts = at::TensorOptions().dtype(at::kLong).device(windows.device());
  const at::Tensor y = at::tensor(ys, at::kLong).to(opts), x = at::tensor(xs, at::kLong).to(opts);
  return launched(windowAccumulate2d(windows.data_ptr<float>(), weight.data_ptr<float>(), y.data_ptr<std::int64_t>(),
                                     x.data_ptr<std::int64_t>(), accum.data_ptr<float>(), norm.data_ptr<float>(),
                                     static_cast<int>(windows.size(0)), static_cast<int>(windows.size(1)),
                                     static_cast<int>(windows.size(2)), static_cast<int>(windows.size(3)),
                                     static_cast<int>(accum.size(2)), static_cast<int>(accum.size(3)),
                                     c10::cuda::getCurrentCUDAStream().stream()),
                  "windowAccumulate2d");
}

Result<std::pair<torch::Tensor, torch::Tensor>> cosineAssign(const torch::Tensor& xIn, const torch::Tensor& cIn) {
  const at::Tensor x = xIn.to(at::kFloat).contiguous(), c = cIn.to(at::kFloat).contiguous();
  if (auto ok = need(f32cuda(x) && f32cuda(c) && x.dim() == 2 && c.dim() == 2 && x.size(1) == c.size(1) && c.size(0) > 0 &&
                         x.device() == c.device(),
                     "cosineAssign: x [N, D] and centroids [K, D] float32 on one CUDA device expected");
      !ok)
    return ok.error();
  const c10::cuda::CUDAGuard guard(x.device());
  at::Tensor labels = at::empty({x.size(0)}, x.options().dtype(at::kLong));
  at::Tensor sim = at::empty({x.size(0)}, x.options());
  if (auto ok = launched(cosineAssign(x.data_ptr<float>(), c.data_ptr<float>(), static_cast<int>(x.size(0)),
                                      static_cast<int>(x.size(1)), static_cast<int>(c.size(0)),
                                      labels.data_ptr<std::int64_t>(), sim.data_ptr<float>(),
                                      c10::cuda::getCurrentCUDAStream().stream()),
                         "cosineAssign");
      !ok)
    return ok.error();
  return std::pair<torch::Tensor, torch::Tensor>{labels, sim};
}

}  // namespace loupe::cuda
