#include "TorchScriptModel.h"

#include <torch/torch.h>

#include <sstream>

namespace loupe::runtime {
namespace {
std::string shapeText(at::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}
std::string shapeText(const std::vector<long>& s) {
  std::vector<int64_t> v(s.begin(), s.end());
  return shapeText(at::IntArrayRef(v));
}
}  // namespace

Result<void> checkOutput(const OutputSpec& spec, const torch::Tensor& t, std::int64_t batch) {
  if (!spec.shape.empty()) {
    bool ok = t.dim() == static_cast<int64_t>(spec.shape.size());
    for (int64_t d = 0; ok && d < t.dim(); ++d) {
      const long want = spec.shape[static_cast<std::size_t>(d)];
      if (d == 0 && want != -1) ok = t.size(0) == batch;  // the manifest's batch size is an example
      else ok = want == -1 || t.size(d) == want;
    }
    if (!ok)
      return Error{ErrorCode::ModelError, "output '" + spec.name + "' has shape " + shapeText(t.sizes()) +
                                              " but the package declares " + shapeText(spec.shape)};
  }
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
    return Error{ErrorCode::ModelError, "output '" + spec.name + "' contains NaN or infinite values"};
  return {};
}

Result<TorchScriptModel> TorchScriptModel::load(const ModelPackage& package, const torch::Device& device) {
  if (package.format != ModelFormat::TorchScript)
    return Error{ErrorCode::ModelError, package.id + " is " + modelFormatName(package.format) + ", not torchscript"};
  try {
    torch::jit::Module m = torch::jit::load(package.entryPath(), device);
    m.eval();
    return TorchScriptModel(package, std::move(m), device);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::ModelError, "Cannot load " + package.entry + " as TorchScript: " + e.msg()};
  } catch (const std::exception& e) {
    return Error{ErrorCode::ModelError, "Cannot load " + package.entry + " as TorchScript: " + e.what()};
  }
}

bool TorchScriptModel::supportsPrecision(torch::ScalarType precision) const {
  return precision == torch::kFloat32 || device_.is_cuda();
}

Result<void> TorchScriptModel::setPrecision(torch::ScalarType precision) {
  if (!supportsPrecision(precision))
    return Error{ErrorCode::InvalidArgument, std::string("half precision runs on CUDA only, not ") + device_.str()};
  try {
    module_.to(precision);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::ModelError, package_.id + ": cannot cast the weights: " + e.msg().substr(0, e.msg().find('\n'))};
  }
  return {};
}

Result<std::vector<torch::Tensor>> TorchScriptModel::forward(const std::vector<torch::Tensor>& inputs) {
  if (inputs.empty()) return Error{ErrorCode::InvalidArgument, package_.id + ": no input tensor"};
  const torch::Tensor& input = inputs.front();
  c10::InferenceMode guard;
  torch::IValue out;
  try {
    std::vector<torch::IValue> args;
    for (const auto& t : inputs) args.emplace_back(t.to(device_));
    out = module_.forward(args);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::ModelError, package_.id + " failed on an input of shape " + shapeText(input.sizes()) + ": " +
                                            e.msg().substr(0, e.msg().find('\n'))};
  } catch (const std::bad_alloc&) {
    return Error{ErrorCode::TooLarge, package_.id + " ran out of memory on an input of shape " + shapeText(input.sizes())};
  }
  std::vector<torch::Tensor> tensors;
  if (out.isTensor()) {
    tensors.push_back(out.toTensor());
  } else if (out.isTuple()) {
    for (const auto& e : out.toTupleRef().elements()) {
      if (!e.isTensor()) return Error{ErrorCode::ModelError, package_.id + " returned a tuple holding a non-tensor"};
      tensors.push_back(e.toTensor());
    }
  } else if (out.isTensorList()) {
    for (const auto& t : out.toTensorVector()) tensors.push_back(t);
  } else if (out.isGenericDict()) {
    auto dict = out.toGenericDict();
    for (const auto& spec : package_.outputs) {
      auto it = dict.find(spec.name);
      if (it == dict.end() || !it->value().isTensor())
        return Error{ErrorCode::ModelError, package_.id + " returned no tensor named '" + spec.name + "'"};
      tensors.push_back(it->value().toTensor());
    }
  } else {
    return Error{ErrorCode::ModelError, package_.id + " returned " + out.tagKind() + ", expected tensors"};
  }
  if (auto ok = checkOutputs(package_, tensors, input.dim() > 0 ? input.size(0) : 1); !ok) return ok.error();
  return tensors;
}

Result<void> checkOutputs(const ModelPackage& package, const std::vector<torch::Tensor>& tensors, std::int64_t batch) {
  if (tensors.size() != package.outputs.size())
    return Error{ErrorCode::ModelError, package.id + " returned " + std::to_string(tensors.size()) +
                                            " output(s) but the package declares " + std::to_string(package.outputs.size())};
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (auto ok = checkOutput(package.outputs[i], tensors[i], batch); !ok) return ok.error().withContext(package.id);
  return {};
}

}  // namespace loupe::runtime
