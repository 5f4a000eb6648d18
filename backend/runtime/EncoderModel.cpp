#include "EncoderModel.h"

#include <ATen/ATen.h>

#include "core/Device.h"

namespace loupe::runtime {

Result<EncoderModel> EncoderModel::open(const std::string& packageFolder, const std::string& taskId,
                                        const DeviceRequest& device) {
  auto package = openModelPackage(packageFolder);
  if (!package) return package.error();
  if (auto ok = checkPackageTask(*package, taskId); !ok) return ok.error();
  return fromPackage(*package, device);
}

Result<EncoderModel> EncoderModel::fromPackage(const ModelPackage& package, const DeviceRequest& request) {
  if (package.input.kind != "tokens" && package.input.kind != "vectors")
    return Error{ErrorCode::ModelError, package.id + " takes images, not tokens or vectors (use ImageModel)"};
  bool embedding = false;
  for (const auto& o : package.outputs) embedding = embedding || o.kind == "embedding";
  if (!embedding) return Error{ErrorCode::ModelError, package.id + " has no embedding output"};
  auto device = resolveDevice(request);
  if (!device) return device.error();
  auto model = loadModel(package, *device);
  if (!model) return model.error();
  return EncoderModel(std::shared_ptr<Model>(std::move(*model)));
}

Result<torch::Tensor> EncoderModel::embeddingOf(const std::vector<torch::Tensor>& inputs) {
  auto out = model_->forward(inputs);
  if (!out) return out.error();
  const auto& outs = package().outputs;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    if (outs[i].kind != "embedding") continue;
    const at::Tensor& t = (*out)[i];
    if (t.dim() != 2) return Error{ErrorCode::ModelError, "output '" + outs[i].name + "' must be [N, D]"};
    return t.to(at::kCPU, at::kFloat).contiguous();
  }
  return Error{ErrorCode::ModelError, package().id + " has no embedding output"};
}

Result<torch::Tensor> EncoderModel::encodeTokens(const std::vector<std::vector<std::int64_t>>& ids) {
  const InputSpec& in = package().input;
  if (in.kind != "tokens") return Error{ErrorCode::InvalidArgument, package().id + " does not take tokens"};
  if (ids.empty()) return Error{ErrorCode::InvalidArgument, "no token sequences"};
  at::Tensor t = at::zeros({static_cast<std::int64_t>(ids.size()), in.contextLength}, at::kLong);
  auto* p = t.data_ptr<std::int64_t>();
  for (std::size_t n = 0; n < ids.size(); ++n) {
    if (static_cast<int>(ids[n].size()) > in.contextLength)
      return Error{ErrorCode::InvalidArgument, "text " + std::to_string(n + 1) + " has " + std::to_string(ids[n].size()) +
                                                   " tokens; " + package().id + " reads at most " +
                                                   std::to_string(in.contextLength)};
    std::copy(ids[n].begin(), ids[n].end(), p + n * static_cast<std::size_t>(in.contextLength));
  }
  return encodeTokens(t);
}

Result<torch::Tensor> EncoderModel::encodeTokens(const torch::Tensor& ids) {
  const InputSpec& in = package().input;
  if (in.kind != "tokens") return Error{ErrorCode::InvalidArgument, package().id + " does not take tokens"};
  if (ids.dim() != 2 || ids.size(1) != in.contextLength || ids.scalar_type() != at::kLong)
    return Error{ErrorCode::InvalidArgument, "token ids must be an int64 [N, " + std::to_string(in.contextLength) + "] tensor"};
  if (ids.numel() > 0 && (ids.min().item<std::int64_t>() < 0 || ids.max().item<std::int64_t>() >= in.vocabSize))
    return Error{ErrorCode::InvalidArgument, "token ids must lie in [0, " + std::to_string(in.vocabSize) + ")"};
  return embeddingOf({ids});
}

Result<torch::Tensor> EncoderModel::encodeVectors(const std::vector<torch::Tensor>& inputs) {
  const InputSpec& in = package().input;
  if (in.kind != "vectors") return Error{ErrorCode::InvalidArgument, package().id + " does not take vectors"};
  if (inputs.size() != in.dims.size())
    return Error{ErrorCode::InvalidArgument, package().id + " takes " + std::to_string(in.dims.size()) + " vectors, got " +
                                                 std::to_string(inputs.size())};
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dim() != 2 || inputs[i].size(1) != in.dims[i] || inputs[i].size(0) != inputs[0].size(0))
      return Error{ErrorCode::InvalidArgument, "input " + std::to_string(i + 1) + " must be [N, " + std::to_string(in.dims[i]) + "]"};
  std::vector<torch::Tensor> xs;
  for (const auto& t : inputs) xs.push_back(t.to(at::kFloat));
  return embeddingOf(xs);
}

}  // namespace loupe::runtime
