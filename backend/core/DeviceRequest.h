#pragma once
// A parsed --device value: "auto" (CUDA when present), "cpu", "cuda" or "cuda:N".
// Resolving it to a torch::Device lives in Device.h (which needs LibTorch).

#include <string>

#include "Result.h"

namespace loupe {

struct DeviceRequest {
  enum class Kind { Auto, Cpu, Cuda };
  Kind kind = Kind::Auto;
  int index = 0;  // for Cuda

  static Result<DeviceRequest> parse(const std::string& text);
  std::string toString() const;
};

}  // namespace loupe
