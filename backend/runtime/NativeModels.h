#pragma once
// Native models: network architectures that Loupe itself trains (backend/train) and ships as model
// packages of format "native": the weights as a LibTorch archive (torch::save of the module, no Python
// pickle) plus `architecture.json`, which names the architecture and its hyper-parameters. Both files are
// listed, with their SHA-256, in loupe-model.json like any other package file.
//
// Architecture "loupe.embedding_cnn": a small VGG-style CNN embedder for small grey or colour images
// (Fashion-MNIST 28 x 28): per stage `convsPerStage` conv3x3-BN-ReLU blocks, max-pool between stages,
// global average pooling, a linear layer to the embedding; a linear classifier on the embedding
// (cross-entropy, CoNe) and an MLP projection head (SupCon) are used in training only.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "core/Result.h"
#include "runtime/ModelPackage.h"

namespace loupe::runtime {

constexpr const char* kEmbeddingCnnArchitecture = "loupe.embedding_cnn";
constexpr const char* kNativeArchitectureFile = "architecture.json";

// Package files are written through a temporary name and renamed into place, so a crash never leaves a
// half-written file under its final name. `write` writes the temporary path and says whether it worked.
// Every native package writer (embedding CNN, forgery extractor, age head) uses these.
Result<void> writeFileAtomically(const std::string& target, const std::function<bool(const std::string&)>& write);
Result<void> writeTextFileAtomically(const std::string& target, const std::string& text);
// A module's weights through torch::save (a ModuleHolder such as EmbeddingCnn, or a module).
template <class Module>
Result<void> saveModuleAtomically(Module& module, const std::string& target) {
  return writeFileAtomically(target, [&](const std::string& tmp) {
    try {
      torch::save(module, tmp);
      return true;
    } catch (const c10::Error&) {
      return false;
    }
  });
}

struct EmbeddingCnnConfig {
  int inChannels = 1;
  std::vector<int> widths = {32, 64, 128};  // channels per stage
  int convsPerStage = 1;                    // conv3x3-BN-ReLU blocks per stage
  int embeddingDim = 128;
  int classes = 10;         // classifier outputs (0: no classifier)
  int projectionDim = 128;  // projection head outputs (0: no projection head)
};

struct EmbeddingCnnOutput {
  torch::Tensor embedding;   // [N, embeddingDim], not normalised
  torch::Tensor logits;      // [N, classes] or undefined
  torch::Tensor projection;  // [N, projectionDim] or undefined
};

class EmbeddingCnnImpl : public torch::nn::Module {
 public:
  explicit EmbeddingCnnImpl(const EmbeddingCnnConfig& config = {});
  EmbeddingCnnOutput forward(const torch::Tensor& x);
  torch::Tensor embed(const torch::Tensor& x);  // embedding only (no heads)
  const EmbeddingCnnConfig& config() const { return config_; }

 private:
  EmbeddingCnnConfig config_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear toEmbedding_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  torch::nn::Sequential projection_{nullptr};
};
TORCH_MODULE(EmbeddingCnn);

// architecture.json text for a config, and back (strict: unknown keys and bad values are errors).
std::string embeddingCnnArchitectureJson(const EmbeddingCnnConfig& config);
Result<EmbeddingCnnConfig> parseEmbeddingCnnArchitecture(const std::string& jsonText);

// What a native package says about itself beyond the weights.
struct NativePackageInfo {
  std::string id, name, version = "1.0.0", task = "embeddings.embed";
  InputSpec input;  // layout/size/scale/mean/std the network was trained with
  std::vector<std::string> labels;
  std::string licence = "MIT", citation, provenance, description;
};

// Writes model.pt, architecture.json and loupe-model.json (with SHA-256s) into `folder`, each written to a
// temporary name first and renamed, so a crash never leaves a half-written package under the final names.
Result<void> saveEmbeddingCnnPackage(EmbeddingCnn& model, const NativePackageInfo& info, const std::string& folder);

// A loaded native embedder: the package (verified) and the network in eval mode on `device`.
struct NativeEmbedder {
  ModelPackage package;
  EmbeddingCnn model{nullptr};
  torch::Device device = torch::kCPU;
  // uint8 images [N, C, H, W] (or float already scaled) -> float32 embeddings [N, D] on the CPU, in batches.
  Result<torch::Tensor> embed(const torch::Tensor& images, int batchSize = 512) const;
  // The package's preprocessing: (pixel * scale - mean) / std, float32, on `device`.
  torch::Tensor preprocess(const torch::Tensor& images) const;
};
Result<NativeEmbedder> loadNativeEmbedder(const std::string& folder, const torch::Device& device = torch::kCPU);

}  // namespace loupe::runtime
