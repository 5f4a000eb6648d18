#include "EmbeddingTrainer.h"
#include "train/Checkpoint.h"
#include "train/Schedule.h"
#include "train/TrainLoop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/Device.h"
#include "train/losses/Cone.h"

namespace loupe::train {
namespace fs = std::filesystem;
using runtime::EmbeddingCnn;

torch::Tensor augmentBatch(const torch::Tensor& images, int pad, bool flip, std::mt19937_64& rng) {
  // One gather for the whole batch: per sample a row offset, a first column and a column step (-1 when
  // flipped) into the zero-padded batch. The random draws are per sample in the order dy, dx, flip.
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (pad <= 0 && !flip) return images.clone();
  std::vector<int64_t> rowStart(std::size_t(b), 0), colStart(std::size_t(b), 0), colStep(std::size_t(b), 1);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t dy = pad > 0 ? int64_t(rng() % uint64_t(2 * pad + 1)) : 0;
    const int64_t dx = pad > 0 ? int64_t(rng() % uint64_t(2 * pad + 1)) : 0;
    const bool flipped = flip && (rng() & 1);
    rowStart[std::size_t(i)] = dy;
    colStart[std::size_t(i)] = flipped ? dx + w - 1 : dx;
    colStep[std::size_t(i)] = flipped ? -1 : 1;
  }
  const torch::Tensor padded = pad > 0 ? torch::constant_pad_nd(images, {pad, pad, pad, pad}, 0).contiguous() : images.contiguous();
  const int64_t hp = h + 2 * int64_t(std::max(pad, 0)), wp = w + 2 * int64_t(std::max(pad, 0));
  const auto longs = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor dev = torch::arange(h, longs);
  const torch::Tensor rows = torch::from_blob(rowStart.data(), {b, 1}, longs) + dev.view({1, h});  // [B, H]
  const torch::Tensor cols = torch::from_blob(colStart.data(), {b, 1}, longs) +
                             torch::from_blob(colStep.data(), {b, 1}, longs) * torch::arange(w, longs).view({1, w});  // [B, W]
  const torch::Tensor flat = (rows.view({b, h, 1}) * wp + cols.view({b, 1, w})).view({b, 1, h * w}).to(images.device());
  return padded.view({b, c, hp * wp}).gather(2, flat.expand({b, c, h * w})).view({b, c, h, w});
}

namespace {

torch::Tensor normaliseBatch(const torch::Tensor& u8, const torch::Tensor& mean, const torch::Tensor& stdv) {
  return (u8.to(torch::kFloat) / 255.0 - mean) / stdv;
}

using Checkpoint = EpochState;

torch::Tensor architectureTensor(const runtime::EmbeddingCnnConfig& c) {
  return torch::tensor(std::vector<int64_t>{c.inChannels, c.embeddingDim, c.classes, c.projectionDim});
}

// CoNe's neighbour bank goes into the checkpoint too, so a resumed run continues exactly.
Result<void> saveCheckpoint(const std::string& path, EmbeddingCnn& model, torch::optim::Optimizer& opt, Loss& loss,
                            const Checkpoint& state) {
  return saveTrainingCheckpoint(path, model, opt, state, architectureTensor(model->config()),
                                [&](torch::serialize::OutputArchive& archive) {
                                  if (auto* cone = dynamic_cast<ConeLoss*>(&loss); cone && cone->bankKeys().defined()) {
                                    archive.write("cone_keys", cone->bankKeys());
                                    archive.write("cone_labels", cone->bankLabels());
                                    archive.write("cone_probs", cone->bankProbs());
                                  }
                                });
}

Result<Checkpoint> loadCheckpoint(const std::string& path, EmbeddingCnn& model, torch::optim::Optimizer& opt, Loss& loss) {
  return loadTrainingCheckpoint(path, model, opt, architectureTensor(model->config()),
                                "another network configuration; resume with the same options or start afresh",
                                [&](torch::serialize::InputArchive& archive) {
                                  if (auto* cone = dynamic_cast<ConeLoss*>(&loss)) {
                                    torch::Tensor k, l, p;
                                    if (archive.try_read("cone_keys", k) && archive.try_read("cone_labels", l) &&
                                        archive.try_read("cone_probs", p))
                                      cone->setBank(k, l, p);
                                  }
                                });
}

}  // namespace

Result<TrainResult> trainEmbeddingCnn(const ImageSet& data, const TrainOptions& o, const std::vector<double>& meanIn,
                                      const std::vector<double>& stdIn, Progress progress, const CancelToken& cancel) {
  const auto start = std::chrono::steady_clock::now();
  if (!data.images.defined() || data.images.dim() != 4 || data.images.scalar_type() != torch::kUInt8)
    return Error{ErrorCode::InvalidArgument, "Training needs uint8 images [N, C, H, W]"};
  const int64_t n = data.size();
  if (n < 2 || data.labels.numel() != n) return Error{ErrorCode::InvalidArgument, "Training needs at least two labelled images"};
  if (o.epochs < 1 || o.batchSize < 2) return Error{ErrorCode::InvalidArgument, "epochs must be >= 1 and the batch size >= 2"};
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    return Error{ErrorCode::InvalidArgument, "Unknown optimiser '" + o.optimizer + "' (adam or sgd)"};
  const int64_t classes = data.labels.max().item<int64_t>() + 1;
  runtime::EmbeddingCnnConfig config = o.model;
  config.inChannels = int(data.images.size(1));
  config.classes = int(classes);
  auto lossOr = makeLoss(o.loss, o.lossParams);
  if (!lossOr) return lossOr.error();
  Loss& loss = **lossOr;
  const bool usesLogits = o.loss == "ce" || o.loss == "cone";
  if (!usesLogits && config.projectionDim <= 0) config.projectionDim = config.embeddingDim;

  configureThreads(o.threads);
  torch::manual_seed(o.seed);
  EmbeddingCnn model(config);
  if (o.channelsLast) {
    torch::NoGradGuard noGrad;
    for (auto& p : model->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  model->train();
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (o.optimizer == "adam")
    opt = std::make_unique<torch::optim::AdamW>(model->parameters(), torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
  else
    opt = std::make_unique<torch::optim::SGD>(model->parameters(),
                                              torch::optim::SGDOptions(o.learningRate).momentum(o.momentum).weight_decay(o.weightDecay).nesterov(true));

  Checkpoint state;
  TrainResult result;
  std::error_code ec;
  if (o.resume && !o.checkpointPath.empty() && fs::exists(o.checkpointPath, ec)) {
    auto loaded = loadCheckpoint(o.checkpointPath, model, *opt, loss);
    if (!loaded) return loaded.error();
    state = *loaded;
    result.startEpoch = state.epoch;
  }

  const int64_t c = data.images.size(1);
  std::vector<float> mv(meanIn.begin(), meanIn.end()), sv(stdIn.begin(), stdIn.end());
  if (int64_t(mv.size()) != c || int64_t(sv.size()) != c)
    return Error{ErrorCode::InvalidArgument, "mean/std need one value per channel (" + std::to_string(c) + ")"};
  const torch::Tensor mean = torch::tensor(mv).view({1, c, 1, 1}), stdv = torch::tensor(sv).view({1, c, 1, 1});
  const auto memoryFormat = o.channelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  auto prepare = [&](const torch::Tensor& u8) { return normaliseBatch(u8, mean, stdv).contiguous(memoryFormat); };
  const int64_t perEpoch = n / o.batchSize;  // drop_last, as the reference trainers
  if (perEpoch < 1) return Error{ErrorCode::InvalidArgument, "The batch size exceeds the number of images"};
  const int64_t totalSteps = int64_t(o.epochs) * perEpoch;
  auto setLr = [&](int64_t step) {
    const double lr = warmupCosineLr(o.learningRate, step, o.warmupSteps, totalSteps);
    for (auto& g : opt->param_groups()) g.options().set_lr(lr);
  };

  StepProgress stepProgress(progress, o.epochs, totalSteps);
  for (int epoch = state.epoch; epoch < o.epochs; ++epoch) {
    std::mt19937_64 rng(o.seed * 1000003ULL + uint64_t(epoch));
    at::Generator gen = at::detail::createCPUGenerator(o.seed * 7919ULL + uint64_t(epoch));
    const torch::Tensor order = torch::randperm(n, gen, torch::kLong);
    double sum = 0;
    std::map<std::string, double> termSums;
    for (int64_t s = 0; s < perEpoch; ++s) {
      if (cancel.isCancelled()) return Error::cancelled();
      const int64_t step = int64_t(epoch) * perEpoch + s;
      setLr(step);
      const torch::Tensor idx = order.narrow(0, s * o.batchSize, o.batchSize);
      const torch::Tensor raw = data.images.index_select(0, idx);
      LossInput in;
      in.labels = data.labels.index_select(0, idx);
      torch::Tensor extra;  // the mixed-in cross-entropy of two-view losses
      if (usesLogits) {
        const auto out = model->forward(prepare(augmentBatch(raw, o.cropPadding, o.horizontalFlip, rng)));
        in.features = out.embedding;
        in.logits = out.logits;
      } else {
        const torch::Tensor views = torch::cat({augmentBatch(raw, o.cropPadding, o.horizontalFlip, rng),
                                                augmentBatch(raw, o.cropPadding, o.horizontalFlip, rng)});
        const auto out = model->forward(prepare(views));
        const torch::Tensor z = out.projection;
        in.features = torch::stack({z.narrow(0, 0, o.batchSize), z.narrow(0, o.batchSize, o.batchSize)}, 1);
        if (o.ceWeight > 0 && out.logits.defined())
          extra = o.ceWeight * torch::nn::functional::cross_entropy(out.logits, torch::cat({in.labels, in.labels}));
      }
      auto value = loss.compute(in);
      if (!value) return value.error();
      if (extra.defined()) {
        termSums[o.loss] += value->item<double>();
        termSums["ce"] += extra.item<double>();
        *value = *value + extra;
      }
      const double v = value->item<double>();
      if (!std::isfinite(v))
        return Error{ErrorCode::Internal, "The " + o.loss + " loss became " + std::to_string(v) + " at epoch " +
                                              std::to_string(epoch + 1) + " step " + std::to_string(s + 1) +
                                              ": lower the learning rate"};
      opt->zero_grad();
      value->backward();
      opt->step();
      loss.update(in);
      sum += v;
      for (const auto& [k, t] : loss.lastTerms()) termSums[k] += t;
      if (o.onStep) o.onStep(step, totalSteps, v);
      stepProgress.stepDone(epoch, step, sum / double(s + 1));
    }
    for (auto& [k, t] : termSums) t /= double(perEpoch);
    auto goOn = finishEpoch(
        model, state, epoch, sum / double(perEpoch),
        o.checkpointPath.empty() ? nullptr
                                 : std::function<Result<void>()>([&] { return saveCheckpoint(o.checkpointPath, model, *opt, loss, state); }),
        o.onEpoch ? std::function<bool()>([&] { return o.onEpoch(epoch + 1, state.losses.back(), termSums, model); }) : nullptr);
    if (!goOn) return goOn.error();
    if (!*goOn) break;
  }
  return finishRun(std::move(result), model, state, start);
}

}  // namespace loupe::train
