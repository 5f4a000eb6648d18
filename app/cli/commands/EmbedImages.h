#pragma once
// Shared by `loupe-cli embed` and `loupe-cli neighbours --image`: one embedder for image files, whatever
// the package format. Native packages (Loupe's own EmbeddingCnn) get the image converted to the package's
// channels and fixed input size by io::modelInputU8 (luma 0.299/0.587/0.114, antialiased bilinear), as training did;
// other packages (TorchScript, ONNX) run through runtime::ImageModel, which applies the package's own
// preprocessing, and their first output of kind "embedding" is used. Files that cannot be decoded are
// skipped with their reason, never fatal.

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/DeviceRequest.h"
#include "core/Device.h"
#include "core/TensorConvert.h"
#include "io/ImageReader.h"
#include "io/LabelledFolder.h"
#include "runtime/ImageModel.h"
#include "runtime/ModelPackage.h"
#include "runtime/NativeModels.h"
#if __has_include("train/DefaultEmbedder.h")
#include "train/DefaultEmbedder.h"
#define LOUPE_HAVE_DEFAULT_EMBEDDER 1
#endif

namespace loupe::cli {

// --model: a package folder or .zip, a package id on the model search path, or "default" / nothing (the
// Fashion-MNIST demo's embedder that Loupe trained itself, see train/DefaultEmbedder.h).
inline Result<std::string> resolveModelPackage(const std::string& model) {
#ifdef LOUPE_HAVE_DEFAULT_EMBEDDER
  return train::resolveEmbedderPackage(model.empty() ? "default" : model);
#else
  if (model.empty() || model == "default")
    return Error(ErrorCode::NotFound, "this build has no default embedder; pass --model PACKAGE");
  return model;
#endif
}

class ImageEmbedder {
 public:
  static Result<ImageEmbedder> open(const std::string& modelName, const std::string& deviceText, int batchSize) {
    auto folder = resolveModelPackage(modelName);
    if (!folder) return folder.error();
    const std::string packageFolder = *folder;
    auto request = DeviceRequest::parse(deviceText);
    if (!request) return request.error();
    auto package = runtime::openModelPackage(packageFolder);
    if (!package) return package.error();
    ImageEmbedder e;
    e.package_ = *package;
    e.batch_ = std::max(1, batchSize);
    if (package->format == runtime::ModelFormat::Native) {
      auto device = resolveDevice(*request);
      if (!device) return device.error();
      auto native = runtime::loadNativeEmbedder(packageFolder, *device);
      if (!native) return native.error();
      e.native_ = std::move(*native);
      return e;
    }
    int out = -1;
    for (std::size_t i = 0; i < package->outputs.size(); ++i)
      if (package->outputs[i].kind == "embedding") {
        out = int(i);
        break;
      }
    if (out < 0)
      return Error(ErrorCode::ModelError, package->id + " has no output of kind \"embedding\"; `loupe-cli embed` needs a "
                                                        "model whose output is an embedding (see docs/model-packages.md)");
    runtime::ImageModelOptions o;
    o.device = *request;
    o.batchSize = e.batch_;
    auto model = runtime::ImageModel::fromPackage(*package, o);
    if (!model) return model.error();
    e.model_.emplace(std::move(*model));
    e.output_ = std::size_t(out);
    return e;
  }

  const runtime::ModelPackage& package() const { return package_; }
  std::string deviceName() const {
    return native_ ? describeDevice(native_->device) : describeDevice(model_->device());
  }

  // Native packages only: uint8 images [N, C, H, W] already at the model's size (IDX data).
  Result<torch::Tensor> embedTensor(const torch::Tensor& images) {
    if (!native_) return Error(ErrorCode::InvalidArgument, package_.id + " is not a native package");
    return native_->embed(images, batch_);
  }

  // Embeddings [images.size(), D] float32 on the CPU, in input order.
  Result<torch::Tensor> embed(const std::vector<Image>& images, const CancelToken& cancel) {
    if (images.empty()) return Error(ErrorCode::InvalidArgument, "no images to embed");
    if (native_) {
      std::vector<torch::Tensor> batch;
      for (const auto& image : images) {
        auto t = nativeInput(image);
        if (!t) return t.error();
        batch.push_back(*t);
      }
      return native_->embed(torch::cat(batch), batch_);
    }
    auto runs = model_->inferBatch(images, cancel);
    if (!runs) return runs.error();
    std::vector<torch::Tensor> rows;
    for (const auto& run : *runs) {
      auto e = model_->embedding(run.outputs.at(output_), output_);
      if (!e) return e.error();
      rows.push_back(e->reshape({1, -1}).to(torch::kCPU));
    }
    return torch::cat(rows);
  }

 private:
  // uint8 [1, C, H, W] at the package's fixed size and channel count (the conversion training used).
  Result<torch::Tensor> nativeInput(const Image& image) const {
    const auto& size = package_.input.size;
    if (size.kind != runtime::SizePolicy::Kind::Fixed || size.width < 1 || size.height < 1)
      return Error(ErrorCode::ModelError, package_.id + ": a native package needs a fixed input size (input.size) to embed image files");
    return io::modelInputU8(image, native_->model->config().inChannels, size.width, size.height);
  }

  runtime::ModelPackage package_;
  std::optional<runtime::NativeEmbedder> native_;
  std::optional<runtime::ImageModel> model_;
  std::size_t output_ = 0;
  int batch_ = 64;
};

}  // namespace loupe::cli
