#pragma once
// An image model ready to use: a model package (TorchScript, ONNX, ...) bound to a device, fed exactly
// as its manifest says (channel order, scaling, mean/std, size policy: fixed -> resized, multiple_of ->
// padded, sliding_window -> tiled and blended), with typed results instead of raw tensors.
// Device policy: half precision on CUDA where the package allows it, warm-up runs, batches of images in
// one forward, and when the device runs out of memory: fewer images per forward -> smaller tiles -> the
// CPU, each step reported as a notice in the result so the user sees why a run was slow.

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "Model.h"
#include "ModelPackage.h"
#include "SlidingWindow.h"
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
  int batchSize = 8;            // images (or sliding windows) per forward
  bool cpuFallback = true;      // after running out of CUDA memory at batch 1 and the smallest tile
  int minTile = 128;            // smallest tile tried after out-of-memory (models without a fixed size)
  // Test hook, called before every forward with the batch about to run and whether it runs on the CPU
  // fallback. An error it returns is handled as the model's own, so "CUDA out of memory" here exercises
  // the out-of-memory path on any machine; while a hook is set the CPU fallback is allowed on a CPU
  // primary device too (the hook stands in for the GPU).
  std::function<Result<void>(const torch::Tensor& batch, bool onFallback)> forwardHook;
};

// One image's outputs and what the runtime had to do to get them.
struct ModelRun {
  std::vector<torch::Tensor> outputs;  // manifest order, float32, on the device that ran them
  std::vector<std::string> notices;    // e.g. "CUDA ran out of memory ...; ran on the CPU instead"
};

class ImageModel {
 public:
  static Result<ImageModel> open(const std::string& packageFolder, const std::string& taskId, const ImageModelOptions& options);
  static Result<ImageModel> fromPackage(const ModelPackage& package, const ImageModelOptions& options);

  // Raw outputs (manifest order, float32) for one image, at the model's resolution; notices of the run in
  // lastNotices().
  Result<std::vector<torch::Tensor>> run(const Image& image, const CancelToken& cancel = {}, Progress progress = {});
  // The same with the run's notices.
  Result<ModelRun> infer(const Image& image, const CancelToken& cancel = {}, Progress progress = {});
  // N images: preprocessed one by one, then run options.batchSize at a time (images of the same
  // preprocessed size share a forward), results split back per image in input order. Gives the same
  // numbers as N calls of infer().
  Result<std::vector<ModelRun>> inferBatch(const std::vector<Image>& images, const CancelToken& cancel = {},
                                           Progress progress = {});
  const std::vector<std::string>& lastNotices() const { return lastNotices_; }

  // The preprocessed input tensor for one image ([1, C, h, w] after the size policy, on the device).
  Result<torch::Tensor> prepare(const Image& image) const;

  // Typed views of one output (index in the manifest), each checked against the output's declared kind.
  // heatmap / probabilities with one channel: [1,1,h,w] resized (bilinear) to the image's size.
  Result<Heatmap> heatmap(const torch::Tensor& output, std::size_t outputIndex, int width, int height) const;
  // logits / probabilities: [1, K] -> K scores with the package's labels, sorted by probability.
  Result<std::vector<ClassScore>> classScores(const torch::Tensor& output, std::size_t outputIndex) const;
  // embedding: [N, D] -> L2-normalised float32 rows on the CPU.
  Result<torch::Tensor> embedding(const torch::Tensor& output, std::size_t outputIndex) const;
  // per_pixel_features: [1, C, h, w] -> [h*w, C] L2-normalised rows (row-major positions) on the output's device.
  Result<torch::Tensor> pixelFeatures(const torch::Tensor& output, std::size_t outputIndex) const;

  const ModelPackage& package() const { return model_->package(); }
  torch::Device device() const { return model_->device(); }
  torch::ScalarType precision() const { return precision_; }

 private:
  ImageModel(std::shared_ptr<Model> m, torch::ScalarType p, ImageModelOptions o)
      : model_(std::move(m)), precision_(p), options_(std::move(o)) {}
  Result<void> checkKind(std::size_t index, std::initializer_list<const char*> kinds) const;
  Result<std::vector<torch::Tensor>> call(Model& model, const torch::Tensor& x, bool onFallback);
  Result<std::vector<torch::Tensor>> forwardChunks(Model& model, const torch::Tensor& x, int chunk, bool onFallback,
                                                   const CancelToken& cancel);
  Result<std::vector<torch::Tensor>> forwardAdaptive(const torch::Tensor& x, std::vector<std::string>& notices,
                                                     const CancelToken& cancel, Progress progress);
  Result<torch::Tensor> slidingAdaptive(const torch::Tensor& x, std::vector<std::string>& notices,
                                        const CancelToken& cancel, Progress progress);
  Result<Model*> fallbackModel(std::vector<std::string>& notices, const Error& cause);
  std::vector<torch::Tensor> finish(std::vector<torch::Tensor> outputs, std::int64_t paddedH, std::int64_t paddedW,
                                    std::int64_t h, std::int64_t w) const;
  std::shared_ptr<Model> model_;
  std::shared_ptr<Model> cpuModel_;  // loaded on the first CPU fallback
  torch::ScalarType precision_;
  ImageModelOptions options_;
  std::vector<std::string> lastNotices_;
};

}  // namespace loupe::runtime
