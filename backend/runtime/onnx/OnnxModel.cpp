#include "OnnxModel.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

namespace loupe::runtime {
namespace {

class OnnxModel : public Model {
 public:
  OnnxModel(ModelPackage p, cv::dnn::Net net) : package_(std::move(p)), net_(std::move(net)) {
    const auto unconnected = net_.getUnconnectedOutLayersNames();
    // Read outputs by the manifest's names when the graph has them all, else in the graph's order.
    bool named = unconnected.size() == package_.outputs.size();
    for (const auto& o : package_.outputs)
      named = named && std::find(unconnected.begin(), unconnected.end(), o.name) != unconnected.end();
    if (named)
      for (const auto& o : package_.outputs) outputNames_.push_back(o.name);
    else
      outputNames_ = unconnected;
  }

  Result<std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& inputs) override {
    if (inputs.size() != 1)
      return Error{ErrorCode::InvalidArgument, package_.id + ": ONNX models take one input tensor, got " +
                                                   std::to_string(inputs.size())};
    c10::InferenceMode guard;
    const at::Tensor x = inputs[0].to(at::kCPU, at::kFloat).contiguous();
    std::vector<int> dims(x.sizes().begin(), x.sizes().end());
    std::vector<cv::Mat> outs;
    try {
      // A header over the tensor's memory: setInput copies it into the network's blob.
      const cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, const_cast<float*>(x.data_ptr<float>()));
      net_.setInput(blob);
      net_.forward(outs, outputNames_);
    } catch (const cv::Exception& e) {
      return Error{ErrorCode::ModelError, package_.id + " (ONNX, OpenCV DNN) failed on an input of shape " +
                                              shapeOf(dims) + ": " + e.err};
    }
    std::vector<torch::Tensor> tensors;
    for (const cv::Mat& m : outs) {
      if (m.depth() != CV_32F || !m.isContinuous())
        return Error{ErrorCode::ModelError, package_.id + ": OpenCV DNN returned a non-float32 output"};
      std::vector<std::int64_t> shape(m.size.p, m.size.p + m.dims);
      tensors.push_back(at::from_blob(m.data, shape, at::kFloat).clone());
    }
    if (auto ok = checkOutputs(package_, tensors, x.dim() > 0 ? x.size(0) : 1); !ok) return ok.error();
    return tensors;
  }

  const ModelPackage& package() const override { return package_; }
  torch::Device device() const override { return torch::kCPU; }

 private:
  static std::string shapeOf(const std::vector<int>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
  ModelPackage package_;
  cv::dnn::Net net_;
  std::vector<std::string> outputNames_;
};

const bool kRegistered = [] {
  registerModelLoader(ModelFormat::Onnx, loadOnnxModel);
  return true;
}();

}  // namespace

Result<std::unique_ptr<Model>> loadOnnxModel(const ModelPackage& package, const torch::Device& device) {
  (void)kRegistered;
  if (package.format != ModelFormat::Onnx)
    return Error{ErrorCode::ModelError, package.id + " is " + modelFormatName(package.format) + ", not onnx"};
  if (!device.is_cpu())
    return Error{ErrorCode::DeviceUnavailable, package.id + " is an ONNX model, which Loupe runs on the CPU only "
                                                            "(OpenCV DNN); choose the cpu device"};
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(package.entryPath());
    if (net.empty()) return Error{ErrorCode::ModelError, "Cannot read " + package.entry + " as ONNX (empty network)"};
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return std::unique_ptr<Model>(new OnnxModel(package, std::move(net)));
  } catch (const cv::Exception& e) {
    return Error{ErrorCode::ModelError, "Cannot read " + package.entry + " as ONNX: " + e.err};
  }
}

}  // namespace loupe::runtime
