#pragma once
// One interface for every model format: a loaded package bound to a device that maps input tensors to
// the outputs its manifest declares (checked: count, shape, finite values). The factory picks the loader
// for the package's format: TorchScript is built in; ONNX (OpenCV DNN) lives in libloupe_runtime_onnx,
// which is loaded on first use when it was built (not in a LOUPE_BACKEND_ONLY build); other formats
// register their loader with registerModelLoader.

#include <torch/types.h>

#include <functional>
#include <memory>
#include <vector>

#include "ModelPackage.h"
#include "core/Result.h"

namespace loupe::runtime {

class Model {
 public:
  virtual ~Model() = default;
  // Inputs in the order the model takes them (one for images); outputs in manifest order, checked.
  virtual Result<std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& inputs) = 0;
  Result<std::vector<torch::Tensor>> forward(const torch::Tensor& input) { return forward(std::vector<torch::Tensor>{input}); }
  virtual const ModelPackage& package() const = 0;
  // Where inputs should be and outputs come back.
  virtual torch::Device device() const = 0;
  // Whether the model can run in `precision` (float16/bfloat16 need CUDA and a loader that casts weights).
  virtual bool supportsPrecision(torch::ScalarType precision) const { return precision == torch::kFloat32; }
  // Casts the weights (TorchScript: module.to(dtype)); the default refuses anything but float32.
  virtual Result<void> setPrecision(torch::ScalarType precision);
};

using ModelLoader = std::function<Result<std::unique_ptr<Model>>(const ModelPackage&, const torch::Device&)>;
// Registers (or replaces) the loader of a format; safe to call from static initialisers.
void registerModelLoader(ModelFormat format, ModelLoader loader);
// Loads `package` onto `device` with its format's loader; a clear error when no loader is available.
Result<std::unique_ptr<Model>> loadModel(const ModelPackage& package, const torch::Device& device);

// Checks raw outputs against the package (count, then each with checkOutput); `batch` = input batch size.
Result<void> checkOutputs(const ModelPackage& package, const std::vector<torch::Tensor>& outputs, std::int64_t batch);

}  // namespace loupe::runtime
