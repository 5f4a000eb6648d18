#pragma once
// Trains Loupe's forgery feature extractor (ForgeryExtractor.h) with FOCAL's per-image pixel InfoNCE
// (losses/FocalPixel.cpp, temperature 0.1) on splices synthesised from pristine photos (data/SpliceSynth.h).
// The loss sees the network's 1/4-resolution features and the mask pooled to that grid: a position is
// pristine (0) when all its 4 x 4 pixels are, forged (1) when all are, and left out (-1) when mixed.
// Samples are indexed (epoch * stepsPerEpoch + step) * batch + i, so a run is deterministic for a seed and
// a resumed run sees the same samples as an uninterrupted one. AdamW, linear warm-up then cosine decay.
// Checkpoints (model, optimiser, epoch, losses) after every epoch, written to a temporary name and renamed.

#include <functional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "train/ForgeryExtractor.h"
#include "train/data/SpliceSynth.h"

namespace loupe::train {

struct ForgeryTrainOptions {
  ForgeryFcnConfig model;
  int epochs = 10;
  int stepsPerEpoch = 100;
  int batchSize = 8;
  double learningRate = 1e-3;  // peak
  int warmupSteps = 50;
  double weightDecay = 1e-4;
  double temperature = 0.1;  // FOCAL's
  int maxSamples = 1000;     // FOCAL's dict_size: pixels per class and image in the loss
  uint64_t seed = 0;
  int threads = 0;  // 0: one per core
  std::string checkpointPath;  // empty: no checkpoints
  bool resume = false;
  // After each epoch (model in eval mode); returning false stops early.
  std::function<bool(int epoch, double meanLoss, ForgeryFcn& model)> onEpoch;
};

struct ForgeryTrainResult {
  ForgeryFcn model{nullptr};
  std::vector<double> epochLoss;  // mean loss per epoch (from the start when resumed)
  int startEpoch = 0;
  double seconds = 0.0;
};

// uint8 [B, 3, H, W] -> the network's input (pixel / 255 - 0.5) / 0.25, as the package's manifest says.
torch::Tensor forgeryInput(const torch::Tensor& u8);
// int64 / uint8 masks [B, H, W] (0/1) -> [B, ceil(H/4), ceil(W/4)] int64: 0, 1, or -1 for mixed cells.
torch::Tensor poolForgeryMask(const torch::Tensor& mask, int factor = 4);

Result<ForgeryTrainResult> trainForgeryExtractor(const SpliceSynth& data, const ForgeryTrainOptions& options,
                                                 Progress progress = {}, const CancelToken& cancel = {});

}  // namespace loupe::train
