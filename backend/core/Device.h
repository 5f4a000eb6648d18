#pragma once
// One device policy for every plugin: "auto" (CUDA when present), "cpu", "cuda" or "cuda:N".

#include <torch/types.h>

#include <string>

#include "DeviceRequest.h"
#include "Result.h"

namespace loupe {

// The device a request resolves to on this machine; asking for CUDA where there is none is an error
// (never a silent fallback), "auto" picks cuda:0 when available.
Result<torch::Device> resolveDevice(const DeviceRequest& request);

// Sets LibTorch's intra-op thread count; 0 means one per core. Returns the count in effect.
int configureThreads(int threads = 0);

// "cpu (2 threads)" or "cuda:0"
std::string describeDevice(const torch::Device& device);

}  // namespace loupe
