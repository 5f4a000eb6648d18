#pragma once
// Models whose input is not an image: text encoders fed token ids (input kind "tokens") and heads fed
// vectors (input kind "vectors", e.g. CLIP4Cir's Combiner of an image and a text embedding). Inputs are
// checked against the manifest (context length, vocabulary, vector sizes); the result is the package's
// embedding output, float32 on the CPU.

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "Model.h"
#include "ModelPackage.h"
#include "core/DeviceRequest.h"
#include "core/Result.h"

namespace loupe::runtime {

class EncoderModel {
 public:
  static Result<EncoderModel> open(const std::string& packageFolder, const std::string& taskId, const DeviceRequest& device);
  static Result<EncoderModel> fromPackage(const ModelPackage& package, const DeviceRequest& device);

  // tokens: one id sequence per text (at most context_length ids, each in [0, vocab_size)); shorter ones
  // are padded with 0 as CLIP's tokenizer pads. Returns [N, D].
  Result<torch::Tensor> encodeTokens(const std::vector<std::vector<std::int64_t>>& ids);
  // The same for a ready [N, context_length] int64 tensor.
  Result<torch::Tensor> encodeTokens(const torch::Tensor& ids);
  // vectors: one [N, dims[i]] tensor per declared input. Returns [N, D].
  Result<torch::Tensor> encodeVectors(const std::vector<torch::Tensor>& inputs);

  const ModelPackage& package() const { return model_->package(); }

 private:
  explicit EncoderModel(std::shared_ptr<Model> m) : model_(std::move(m)) {}
  Result<torch::Tensor> embeddingOf(const std::vector<torch::Tensor>& inputs);
  std::shared_ptr<Model> model_;
};

}  // namespace loupe::runtime
