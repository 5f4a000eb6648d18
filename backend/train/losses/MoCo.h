#pragma once
// MoCo (He et al., "Momentum Contrast for Unsupervised Visual Representation Learning", CVPR 2020):
// queries from the online encoder, keys from a momentum encoder, negatives from a queue of past keys.
//   logits_i = [q_i.k_i, q_i.queue_1, ..., q_i.queue_K] / T,   L = mean_i CE(logits_i, 0)
// q and k are L2-normalised here. Input: features [B, D] (or [B, V, D]: view 0 is the query), keys [B, D].
// Parameters: temperature (0.07), queue (4096 keys), seed (0; the queue starts as seeded random unit rows,
// as the official code's normalised randn).

#include <vector>

#include "Loss.h"

namespace loupe::train {

class MocoLoss final : public Loss {
 public:
  MocoLoss(double temperature, int64_t queueSize, uint64_t seed);
  std::string name() const override { return "moco"; }
  Result<torch::Tensor> compute(const LossInput& input) override;
  // Enqueues the batch's normalised keys (oldest first out), as _dequeue_and_enqueue.
  void update(const LossInput& input) override;

  const torch::Tensor& queue() const { return queue_; }  // [K, D], undefined before the first batch
  void setQueue(const torch::Tensor& queue);             // rows are normalised; resets the write position
  int64_t queuePosition() const { return ptr_; }

 private:
  void ensureQueue(int64_t dim, const torch::TensorOptions& options);
  double t_;
  int64_t size_;
  uint64_t seed_;
  torch::Tensor queue_;
  int64_t ptr_ = 0;
};

// The momentum encoder's update: target = m * target + (1 - m) * online, parameter by parameter, without
// autograd. Both lists must hold tensors of equal shapes in the same order (module.parameters()).
Result<void> momentumUpdate(const std::vector<torch::Tensor>& online, const std::vector<torch::Tensor>& target,
                            double momentum);

}  // namespace loupe::train
