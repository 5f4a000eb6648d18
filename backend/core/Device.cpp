#include "Device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <cctype>
#include <thread>

namespace loupe {

Result<torch::Device> resolveDevice(const DeviceRequest& request) {
  const int count = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  switch (request.kind) {
    case DeviceRequest::Kind::Cpu: return torch::Device(torch::kCPU);
    case DeviceRequest::Kind::Auto:
      return count > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    case DeviceRequest::Kind::Cuda:
      if (count == 0)
        return Error{ErrorCode::DeviceUnavailable,
                     "CUDA was requested but this LibTorch build or machine has no CUDA device (use --device cpu or auto)"};
      if (request.index >= count)
        return Error{ErrorCode::DeviceUnavailable, "cuda:" + std::to_string(request.index) + " requested but only " +
                                                       std::to_string(count) + " CUDA device(s) present"};
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(request.index));
  }
  return torch::Device(torch::kCPU);
}

int configureThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return at::get_num_threads();
}

std::string describeDevice(const torch::Device& device) {
  if (device.is_cpu()) return "cpu (" + std::to_string(at::get_num_threads()) + " threads)";
  return device.str();
}

}  // namespace loupe
