#include "MoCo.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace loupe::train {
using namespace loss_detail;

MocoLoss::MocoLoss(double temperature, int64_t queueSize, uint64_t seed)
    : t_(temperature), size_(queueSize), seed_(seed) {}

void MocoLoss::ensureQueue(int64_t dim, const torch::TensorOptions& options) {
  if (queue_.defined() && queue_.size(1) == dim) return;
  at::Generator gen = at::detail::createCPUGenerator(seed_);
  queue_ = normalize(torch::randn({size_, dim}, gen, torch::kFloat)).to(options);
  ptr_ = 0;
}

void MocoLoss::setQueue(const torch::Tensor& queue) {
  queue_ = normalize(queue.detach());
  size_ = queue_.size(0);
  ptr_ = 0;
}

Result<torch::Tensor> MocoLoss::compute(const LossInput& in) {
  auto views = asViews(name(), in.features);
  if (!views) return views.error();
  const torch::Tensor q = normalize(views->select(1, 0));
  if (!in.keys.defined() || in.keys.sizes() != q.sizes())
    return badInput(name(), "needs keys [B, D] from the momentum encoder, one per query");
  const torch::Tensor k = normalize(in.keys.detach().to(q.options()));
  ensureQueue(q.size(1), q.options().requires_grad(false));
  const torch::Tensor negatives = queue_.to(q.options());
  const torch::Tensor positive = (q * k).sum(1, true);
  const torch::Tensor logits = torch::cat({positive, torch::matmul(q, negatives.t())}, 1) / t_;
  return (logits.logsumexp(1) - logits.select(1, 0)).mean();
}

void MocoLoss::update(const LossInput& in) {
  if (!in.keys.defined() || !queue_.defined()) return;
  torch::NoGradGuard noGrad;
  torch::Tensor k = normalize(in.keys.detach().to(queue_.options()));
  if (k.size(0) > size_) k = k.narrow(0, k.size(0) - size_, size_);
  const int64_t n = k.size(0);
  const int64_t first = std::min(n, size_ - ptr_);
  queue_.narrow(0, ptr_, first).copy_(k.narrow(0, 0, first));
  if (first < n) queue_.narrow(0, 0, n - first).copy_(k.narrow(0, first, n - first));
  ptr_ = (ptr_ + n) % size_;
}

Result<void> momentumUpdate(const std::vector<torch::Tensor>& online, const std::vector<torch::Tensor>& target,
                            double momentum) {
  if (online.size() != target.size())
    return Error{ErrorCode::InvalidArgument, "momentum update: the encoders have " + std::to_string(online.size()) +
                                                 " and " + std::to_string(target.size()) + " parameters"};
  if (momentum < 0 || momentum > 1) return Error{ErrorCode::InvalidArgument, "momentum must be in [0, 1]"};
  torch::NoGradGuard noGrad;
  for (std::size_t i = 0; i < online.size(); ++i) {
    if (online[i].sizes() != target[i].sizes())
      return Error{ErrorCode::InvalidArgument, "momentum update: parameter " + std::to_string(i) + " differs in shape"};
    torch::Tensor t = target[i];
    t.mul_(momentum).add_(online[i].detach(), 1.0 - momentum);
  }
  return {};
}

namespace {
Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("moco", p, {"temperature", "queue", "seed"}); !ok) return ok.error();
  const double t = param(p, "temperature", 0.07), k = param(p, "queue", 4096), seed = param(p, "seed", 0);
  if (t <= 0) return badInput("moco", "temperature must be positive");
  if (k < 1) return badInput("moco", "queue must hold at least one key");
  return std::unique_ptr<Loss>(std::make_unique<MocoLoss>(t, int64_t(k), uint64_t(seed)));
}
}  // namespace

LOUPE_REGISTER_LOSS("moco", "MoCo (He et al. 2020): momentum-encoder key against a queue of negatives", make);

}  // namespace loupe::train
