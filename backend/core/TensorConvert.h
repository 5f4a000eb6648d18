#pragma once
// Image <-> tensor conversion for models: HWC interleaved samples <-> NCHW float,
// with scaling, per-channel mean/std and an optional channel swap, on CPU or CUDA.

#include <torch/types.h>

#include <vector>

#include "Image.h"
#include "Result.h"

namespace loupe {

struct TensorSpec {
  float scale = 1.f / 255.f;     // applied first: x * scale
  std::vector<float> mean;       // then (x - mean[c]) / std[c]; empty = 0 / 1
  std::vector<float> std;
  bool bgr = false;              // channel order the model expects for 3/4-channel images
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

// [1, C, H, W] tensor on spec.device. Colour images are reordered to RGB (or BGR if spec.bgr).
Result<torch::Tensor> imageToTensor(const Image& image, const TensorSpec& spec);
// Inverse: [1, C, H, W] or [C, H, W] (any device) -> interleaved image of `depth`, values rounded and clamped.
Result<Image> tensorToImage(const torch::Tensor& tensor, const TensorSpec& spec, PixelDepth depth = PixelDepth::U8);

}  // namespace loupe
