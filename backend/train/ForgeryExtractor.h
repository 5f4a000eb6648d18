#pragma once
// Loupe's own forgery feature extractor (architecture "loupe.forgery_fcn"): a small fully-convolutional
// network that maps an RGB image to D-dimensional features per position at 1/4 resolution, trained with
// FOCAL's per-image pixel InfoNCE on synthesised splices (ForgeryTrainer.h) and clustered per image by
// forgery.localize exactly like FOCAL's extractors.
//
//   input  [N, 3, H, W]  (pixel / 255 - 0.5) / 0.25
//   stem   the input plus 3 fixed high-pass residuals of its luminance (SRM kernels: 2nd-order 3x3
//          "square", 3rd-order 5x5 "KV", 2nd-order horizontal line), x kHighPassGain
//   body   conv3x3/2 (6 -> w), conv3x3 (w -> w), conv3x3/2 (w -> 2w), conv3x3 dilation 2, conv3x3
//          dilation 4 (2w -> 2w), each followed by BatchNorm and ReLU; conv1x1 (2w -> D)
//   output [N, D, ceil(H/4), ceil(W/4)], not normalised (the runtime L2-normalises per position)
//
// Packages are of format "native" (model.pt = torch::save of the module, architecture.json, listed with their
// SHA-256 in loupe-model.json, task forgery.localize, one output of kind per_pixel_features). Calling
// registerForgeryExtractorLoader() makes runtime::loadModel (and so runtime::ImageModel and forgery.localize's
// package path) open them; native packages of other architectures get an error naming the architecture.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/Result.h"
#include "runtime/ModelPackage.h"
#include "train/ForgeryExtractorLoader.h"

namespace loupe::train {

constexpr const char* kForgeryFcnArchitecture = "loupe.forgery_fcn";
constexpr double kHighPassGain = 4.0;

struct ForgeryFcnConfig {
  int width = 32;       // channels of the first stage (the second has 2 * width)
  int featureDim = 32;  // D
};

class ForgeryFcnImpl : public torch::nn::Module {
 public:
  explicit ForgeryFcnImpl(const ForgeryFcnConfig& config = {});
  torch::Tensor forward(const torch::Tensor& x);
  const ForgeryFcnConfig& config() const { return config_; }

 private:
  ForgeryFcnConfig config_;
  torch::Tensor highPass_;  // fixed [3, 1, 5, 5] buffer
  torch::nn::Sequential body_{nullptr};
};
TORCH_MODULE(ForgeryFcn);

std::string forgeryFcnArchitectureJson(const ForgeryFcnConfig& config);
Result<ForgeryFcnConfig> parseForgeryFcnArchitecture(const std::string& jsonText);

// What goes into loupe-model.json besides the weights (licence and provenance are required).
struct ForgeryPackageInfo {
  std::string id = "forgery-fcn", name, version = "1.0.0";
  std::string licence, provenance, description, citation;
  std::vector<std::pair<std::string, std::string>> extraFiles;  // (name, text) written and listed too, e.g. photos.txt
};
// Writes model.pt, architecture.json and loupe-model.json (SHA-256 of both files) into `folder`, each through
// a temporary name and a rename.
Result<void> saveForgeryFcnPackage(ForgeryFcn& model, const ForgeryPackageInfo& info, const std::string& folder);
// Loads a package written by saveForgeryFcnPackage (files verified) onto `device`, in eval mode.
Result<ForgeryFcn> loadForgeryFcnPackage(const runtime::ModelPackage& package, const torch::Device& device = torch::kCPU);

}  // namespace loupe::train
