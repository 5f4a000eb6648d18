#pragma once
// Runs a TorchScript model package: loads it onto a device, feeds tensors in inference mode, and checks
// every output against the package's output spec (count, shape, finite values) before anyone uses it.

#include <torch/script.h>

#include <vector>

#include "Model.h"
#include "ModelPackage.h"
#include "core/Result.h"

namespace loupe::runtime {

class TorchScriptModel : public Model {
 public:
  static Result<TorchScriptModel> load(const ModelPackage& package, const torch::Device& device);

  // Input tensors (already on any device; moved to the model's). Outputs in manifest order, on the
  // model's device. A tuple/list output is flattened; a dict is read by output name.
  using Model::forward;
  Result<std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& inputs) override;

  const ModelPackage& package() const override { return package_; }
  torch::Device device() const override { return device_; }
  bool supportsPrecision(torch::ScalarType precision) const override;
  Result<void> setPrecision(torch::ScalarType precision) override;

 private:
  TorchScriptModel(ModelPackage p, torch::jit::Module m, torch::Device d)
      : package_(std::move(p)), module_(std::move(m)), device_(d) {}
  ModelPackage package_;
  torch::jit::Module module_;
  torch::Device device_;
};

// Checks one output tensor against its spec: -1 matches any size, the batch dimension must equal `batch`.
Result<void> checkOutput(const OutputSpec& spec, const torch::Tensor& t, std::int64_t batch);

}  // namespace loupe::runtime
