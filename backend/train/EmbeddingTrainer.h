#pragma once
// Trains the native embedding CNN (runtime/NativeModels.h) on a labelled image set with one of the
// registered losses: "ce" (classifier head), "supcon" (two augmented views through the projection head),
// "cone" (embedding + classifier, neighbour bank inside the loss), or any other registered loss that takes
// [B, 2, D] views and labels. Deterministic for a seed (model init, shuffling and augmentation all derive
// from it; LibTorch CPU kernels are deterministic for a fixed thread count). Checkpoints hold the model,
// the optimiser, the epoch and the loss's memory; they are written to a temporary name and renamed.

#include <functional>
#include <random>
#include <map>
#include <string>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "runtime/NativeModels.h"
#include "train/data/Idx.h"
#include "train/losses/Loss.h"

namespace loupe::train {

struct TrainOptions {
  std::string loss = "supcon";  // ce | supcon | cone | any registered loss taking views + labels
  LossParams lossParams;
  runtime::EmbeddingCnnConfig model;
  int epochs = 10;
  int64_t batchSize = 256;
  std::string optimizer = "adam";  // adam | sgd
  double learningRate = 2e-3;      // peak; cosine decay to 0 over all steps after a linear warm-up
  int warmupSteps = 100;
  double weightDecay = 5e-4;
  double momentum = 0.9;  // SGD
  // Augmentation: random crop after zero padding of `cropPadding` pixels, random horizontal flip.
  int cropPadding = 2;
  bool horizontalFlip = true;
  // For losses on two views (SupCon, InfoNCE, ...): add `ceWeight` x cross-entropy of the classifier head on
  // both views (0: the contrastive loss alone, as SupCon's two-stage recipe; > 0: the joint objective).
  double ceWeight = 0.0;
  // Activations in channels-last memory order (oneDNN convolutions; measure before turning on).
  bool channelsLast = false;
  uint64_t seed = 0;
  int threads = 0;  // 0: one per core
  // Checkpoint after every epoch (empty: none); resume from it when `resume` and it exists.
  std::string checkpointPath;
  bool resume = false;
  // Called after each epoch (e.g. to print or evaluate); returning false stops training early.
  // The model is in eval mode during the call.
  std::function<bool(int epoch, double meanLoss, const std::map<std::string, double>& terms, runtime::EmbeddingCnn& model)>
      onEpoch;
  // Called after every optimiser step with the global step (0-based, counted from the first epoch), the
  // steps of the whole run and the batch's loss: live loss plots. Must be cheap.
  std::function<void(int64_t step, int64_t totalSteps, double loss)> onStep;
};

struct TrainResult {
  runtime::EmbeddingCnn model{nullptr};
  std::vector<double> epochLoss;  // mean training loss per epoch (from the start when resumed)
  int startEpoch = 0;             // > 0 when resumed from a checkpoint
  double seconds = 0.0;           // wall time of this call
};

// `data.images`: uint8 [N, C, H, W]; preprocessing = pixel / 255 then (x - mean) / std per channel.
Result<TrainResult> trainEmbeddingCnn(const ImageSet& data, const TrainOptions& options, const std::vector<double>& mean,
                                      const std::vector<double>& stdv, Progress progress = {},
                                      const CancelToken& cancel = {});

// Fashion-MNIST's per-channel statistics over the training split (pixel / 255): mean 0.2860, std 0.3530.
inline const std::vector<double> kFashionMnistMean = {0.2860}, kFashionMnistStd = {0.3530};

// Random crop (zero padding `pad`) and horizontal flip of a uint8 or float batch [B, C, H, W], drawn from `rng`.
torch::Tensor augmentBatch(const torch::Tensor& images, int pad, bool flip, std::mt19937_64& rng);

}  // namespace loupe::train
