#pragma once
// An image model ready to use: a TorchScript package bound to a device, fed exactly as its manifest
// says (channel order, scaling, mean/std, size policy: fixed -> resized, multiple_of -> padded,
// sliding_window -> tiled and blended), with typed results instead of raw tensors.

#include <torch/types.h>

#include <string>
#include <vector>

#include "ModelPackage.h"
#include "SlidingWindow.h"
#include "TorchScriptModel.h"
#include "core/CancelToken.h"
#include "core/Device.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Progress.h"

namespace loupe::runtime {

struct ClassScore {
  std::string label;
  float probability = 0.f;
};

struct ImageModelOptions {
  DeviceRequest device;         // auto | cpu | cuda[:N]
  bool allowHalf = true;        // float16/bfloat16 on CUDA when the package lists it
  int warmupRuns = 1;           // untimed runs after loading (CUDA kernels, allocator)
};

class ImageModel {
 public:
  static Result<ImageModel> open(const std::string& packageFolder, const std::string& taskId, const ImageModelOptions& options);
  static Result<ImageModel> fromPackage(const ModelPackage& package, const ImageModelOptions& options);

  // Raw outputs (manifest order, float32, on the model's device) for one image, at the model's resolution.
  Result<std::vector<torch::Tensor>> run(const Image& image, const CancelToken& cancel = {}, Progress progress = {});

  // Typed views of one output (index in the manifest), each checked against the output's declared kind.
  // heatmap / probabilities with one channel: [1,1,h,w] resized (bilinear) to the image's size.
  Result<Heatmap> heatmap(const torch::Tensor& output, std::size_t outputIndex, int width, int height) const;
  // logits / probabilities: [1, K] -> K scores with the package's labels, sorted by probability.
  Result<std::vector<ClassScore>> classScores(const torch::Tensor& output, std::size_t outputIndex) const;
  // embedding: [N, D] -> L2-normalised float32 rows on the CPU.
  Result<torch::Tensor> embedding(const torch::Tensor& output, std::size_t outputIndex) const;
  // per_pixel_features: [1, C, h, w] -> [h*w, C] L2-normalised rows (row-major positions) on the model's device.
  Result<torch::Tensor> pixelFeatures(const torch::Tensor& output, std::size_t outputIndex) const;

  const ModelPackage& package() const { return model_.package(); }
  torch::Device device() const { return model_.device(); }
  torch::ScalarType precision() const { return precision_; }

 private:
  ImageModel(TorchScriptModel m, torch::ScalarType p) : model_(std::move(m)), precision_(p) {}
  Result<void> checkKind(std::size_t index, std::initializer_list<const char*> kinds) const;
  Result<torch::Tensor> forwardOnce(const torch::Tensor& x);
  TorchScriptModel model_;
  torch::ScalarType precision_;
};

}  // namespace loupe::runtime
