#pragma once
// The contrastive age head (issue 8): a small network trained on top of *frozen* face features (faceres's
// 1024-d pooled features) that maps them to an age-ordered embedding and an age.
//
//   features [N, in] --standardise (training mean/std, kept as buffers)--> Dropout -> Linear(in, hidden)
//     -> ReLU -> Dropout -> Linear(hidden, embedding)                             = the embedding [N, E]
//   ReLU(embedding) -> Linear(E, 1, no bias) + one bias per threshold               = ordinal logits [N, K]
//   age = sum_k sigmoid(logit_k)                                                     (years, in [0, K])
//
// The age output is ordinal (CORAL, Cao, Mirjalili and Raschka 2020): logit k says "older than k + 0.5
// years"; sharing the weight vector across thresholds keeps the K answers rank-consistent. Training
// minimises the thresholds' binary cross-entropy plus, on the embedding, a contrastive loss from the loss
// registry (by default age_cosine: cosine similarity that follows the age gap and an age-ordered triplet
// margin, after Chae et al.; identity is suppressed because different people of one age must coincide).
//
// Packages: format "native", architecture "loupe.age_head" in architecture.json, weights in model.pt
// (torch::save of the module, buffers included, no Python pickle), all listed with SHA-256 in
// loupe-model.json; input kind "vectors" (dims [in]). Compute only: LibTorch, device-agnostic.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "runtime/ModelPackage.h"
#include "train/losses/Loss.h"

namespace loupe::train {

constexpr const char* kAgeHeadArchitecture = "loupe.age_head";
constexpr const char* kAgeHeadTask = "faces.age_head";

struct AgeHeadConfig {
  int inputDim = 1024;
  int hidden = 256;
  int embeddingDim = 64;
  int thresholds = 120;  // K: ordinal logits for "older than k + 0.5", k = 0 .. K-1 (ages 0 .. K)
  double dropout = 0.2;
};

struct AgeHeadOutput {
  torch::Tensor embedding;  // [N, E]
  torch::Tensor logits;     // [N, K]
  torch::Tensor age;        // [N] years
};

class AgeHeadImpl : public torch::nn::Module {
 public:
  explicit AgeHeadImpl(const AgeHeadConfig& config = {});
  // Raw (unstandardised) features [N, inputDim].
  AgeHeadOutput forward(const torch::Tensor& features);
  // Sets the standardisation buffers (per-feature mean and std of the training features; std floored).
  void setNormalisation(const torch::Tensor& mean, const torch::Tensor& std);
  const AgeHeadConfig& config() const { return config_; }

 private:
  AgeHeadConfig config_;
  torch::Tensor mean_, std_;
  torch::nn::Dropout drop1_{nullptr}, drop2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr}, ordinal_{nullptr};
  torch::Tensor thresholdBias_;
};
TORCH_MODULE(AgeHead);

struct AgeTrainOptions {
  AgeHeadConfig model;
  int epochs = 200;
  int64_t batchSize = 64;
  double learningRate = 1e-3;
  double weightDecay = 1e-2;
  std::string contrastiveLoss = "age_cosine";  // any registered loss that takes ages as labels
  LossParams lossParams;
  double contrastiveWeight = 1.0;  // 0: the ordinal term alone (the ablation)
  uint64_t seed = 0;
};

struct AgeTrainResult {
  AgeHead model{nullptr};
  std::vector<double> epochLoss;  // mean total loss per epoch
  double seconds = 0.0;
};

// Trains a head on features [N, inputDim] (float) and ages [N] (years). Deterministic for a seed on the CPU.
// Progress per epoch; cancellation is checked between batches.
Result<AgeTrainResult> trainAgeHead(const torch::Tensor& features, const torch::Tensor& ages,
                                    const AgeTrainOptions& options, Progress progress = {},
                                    const CancelToken& cancel = {});

// Ages [N] and embeddings [N, E] (float32, CPU) of features [N, inputDim], in eval mode, no gradients.
Result<AgeHeadOutput> predictAges(AgeHead& head, const torch::Tensor& features, int64_t batchSize = 1024);

std::string ageHeadArchitectureJson(const AgeHeadConfig& config);
Result<AgeHeadConfig> parseAgeHeadArchitecture(const std::string& jsonText);

struct AgeHeadPackageInfo {
  std::string id = "age-head", name, version = "1.0.0";
  std::string featureModel = "faceres";  // the package whose features the head reads
  std::string featureModelSha256;        // sha256 of that package's loupe-model.json, when known
  std::string featureSettings;           // how the features were taken (crops / detection, margin, align)
  std::string licence, provenance, description, citation;
};

// Writes model.pt, architecture.json and loupe-model.json (SHA-256 of each file) into `folder`, each through
// a temporary name renamed into place.
Result<void> saveAgeHeadPackage(AgeHead& head, const AgeHeadPackageInfo& info, const std::string& folder);

struct LoadedAgeHead {
  runtime::ModelPackage package;
  AgeHead model{nullptr};
  std::string featureModel, featureSettings;  // from architecture.json
};
// Opens and verifies (SHA-256) a package written by saveAgeHeadPackage; the head in eval mode on `device`.
Result<LoadedAgeHead> loadAgeHeadPackage(const std::string& folder, const torch::Device& device = torch::kCPU);

}  // namespace loupe::train
