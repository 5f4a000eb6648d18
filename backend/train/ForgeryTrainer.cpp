#include "ForgeryTrainer.h"
#include "train/Checkpoint.h"
#include "train/Schedule.h"
#include "train/TrainLoop.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/Device.h"
#include "train/losses/Loss.h"

namespace loupe::train {
namespace fs = std::filesystem;
namespace {

using Checkpoint = EpochState;

torch::Tensor architectureTensor(const ForgeryFcnConfig& c, int size) {
  return torch::tensor(std::vector<int64_t>{c.width, c.featureDim, size});
}

Result<void> saveCheckpoint(const std::string& path, ForgeryFcn& model, torch::optim::Optimizer& opt,
                            const Checkpoint& state, int size) {
  return saveTrainingCheckpoint(path, model, opt, state, architectureTensor(model->config(), size));
}

Result<Checkpoint> loadCheckpoint(const std::string& path, ForgeryFcn& model, torch::optim::Optimizer& opt, int size) {
  return loadTrainingCheckpoint(path, model, opt, architectureTensor(model->config(), size),
                                "another network or crop size; resume with the same options or start afresh");
}

}  // namespace

torch::Tensor forgeryInput(const torch::Tensor& u8) { return (u8.to(torch::kFloat32) / 255.0 - 0.5) / 0.25; }

torch::Tensor poolForgeryMask(const torch::Tensor& mask, int factor) {
  const torch::Tensor m = mask.to(torch::kFloat32).unsqueeze(1);
  // ceil_mode keeps the grid at ceil(H / factor); a partial last cell averages only the pixels it has.
  const torch::Tensor frac =
      torch::avg_pool2d(m, {factor, factor}, {factor, factor}, {0, 0}, /*ceil_mode*/ true, /*count_include_pad*/ false).squeeze(1);
  torch::Tensor out = torch::full(frac.sizes(), -1, torch::TensorOptions().dtype(torch::kLong).device(mask.device()));
  out.masked_fill_(frac.le(0.0), 0);
  out.masked_fill_(frac.ge(1.0), 1);
  return out;
}

Result<ForgeryTrainResult> trainForgeryExtractor(const SpliceSynth& data, const ForgeryTrainOptions& o, Progress progress,
                                                 const CancelToken& cancel) {
  if (o.epochs < 1 || o.stepsPerEpoch < 1 || o.batchSize < 1)
    return Error{ErrorCode::InvalidArgument, "epochs, steps per epoch and the batch size must be at least 1"};
  if (o.learningRate <= 0) return Error{ErrorCode::InvalidArgument, "the learning rate must be positive"};
  const int size = data.options().size;
  auto lossOr = makeLoss("focal_pixel", {{"temperature", o.temperature}, {"max_samples", double(o.maxSamples)}});
  if (!lossOr) return lossOr.error();
  Loss& loss = **lossOr;

  configureThreads(o.threads);
  torch::manual_seed(o.seed);
  ForgeryFcn model(o.model);
  model->train();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));

  Checkpoint state;
  ForgeryTrainResult result;
  std::error_code ec;
  if (o.resume && !o.checkpointPath.empty() && fs::exists(o.checkpointPath, ec)) {
    auto loaded = loadCheckpoint(o.checkpointPath, model, opt, size);
    if (!loaded) return loaded.error();
    state = *loaded;
    result.startEpoch = state.epoch;
  }
  const int64_t totalSteps = int64_t(o.epochs) * o.stepsPerEpoch;
  auto setLr = [&](int64_t step) {
    const double lr = warmupCosineLr(o.learningRate, step, o.warmupSteps, totalSteps);
    for (auto& g : opt.param_groups()) g.options().set_lr(lr);
  };

  const auto start = std::chrono::steady_clock::now();
  StepProgress stepProgress(progress, o.epochs, totalSteps);
  for (int epoch = state.epoch; epoch < o.epochs; ++epoch) {
    double sum = 0;
    int counted = 0;
    for (int s = 0; s < o.stepsPerEpoch; ++s) {
      if (cancel.isCancelled()) return Error::cancelled();
      const int64_t step = int64_t(epoch) * o.stepsPerEpoch + s;
      setLr(step);
      // Each step's loss subsampling draws from LibTorch's generator: seeded per step, so resuming repeats it.
      torch::manual_seed(o.seed * 1000003ULL + uint64_t(step));
      auto batch = data.batch(uint64_t(step) * uint64_t(o.batchSize), o.batchSize, cancel);
      if (!batch) return batch.error();
      LossInput in;
      in.features = model->forward(forgeryInput(batch->first));
      in.mask = poolForgeryMask(batch->second);
      if (in.mask.size(1) != in.features.size(2) || in.mask.size(2) != in.features.size(3))
        return Error{ErrorCode::Internal, "The pooled mask does not match the feature grid"};
      auto value = loss.compute(in);
      if (!value) return value.error();
      const double v = value->item<double>();
      if (!std::isfinite(v))
        return Error{ErrorCode::Internal, "The loss became " + std::to_string(v) + " at epoch " + std::to_string(epoch + 1) +
                                              " step " + std::to_string(s + 1) + ": lower the learning rate"};
      opt.zero_grad();
      value->backward();
      opt.step();
      sum += v;
      ++counted;
      stepProgress.stepDone(epoch, step, sum / counted);
    }
    auto goOn = finishEpoch(
        model, state, epoch, sum / std::max(1, counted),
        o.checkpointPath.empty() ? nullptr
                                 : std::function<Result<void>()>([&] { return saveCheckpoint(o.checkpointPath, model, opt, state, size); }),
        o.onEpoch ? std::function<bool()>([&] { return o.onEpoch(epoch + 1, state.losses.back(), model); }) : nullptr);
    if (!goOn) return goOn.error();
    if (!*goOn) break;
  }
  return finishRun(std::move(result), model, state, start);
}

}  // namespace loupe::train
