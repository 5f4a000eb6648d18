#pragma once
// ONNX model packages (format "onnx") run by OpenCV's DNN module on the CPU, behind the same Model
// interface as TorchScript. Built only when OpenCV is available (not in LOUPE_BACKEND_ONLY builds);
// loupe_runtime's loadModel() loads this library on first use.

#include <memory>

#include "runtime/Model.h"

namespace loupe::runtime {

// Reads the package's .onnx entry. OpenCV DNN here runs on the CPU only: asking for CUDA is an error
// that says so (use --device cpu or a TorchScript package).
Result<std::unique_ptr<Model>> loadOnnxModel(const ModelPackage& package, const torch::Device& device);

}  // namespace loupe::runtime
