// Cross-entropy on classifier logits, the baseline the contrastive losses are compared with.
// L = mean_i sum_c -q_ic log softmax(logits_i)_c with q = (1 - eps) onehot(y) + eps / C (PyTorch's
// label_smoothing convention). Input: logits [B, C], labels int64 [B]. Parameter: label_smoothing (0).
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class CrossEntropyLoss final : public Loss {
 public:
  explicit CrossEntropyLoss(double eps) : eps_(eps) {}
  std::string name() const override { return "ce"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    if (!in.logits.defined() || in.logits.dim() != 2) return badInput(name(), "needs logits [B, C]");
    const int64_t b = in.logits.size(0), c = in.logits.size(1);
    if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
      return badInput(name(), "needs labels [" + std::to_string(b) + "]");
    const torch::Tensor y = in.labels.to(in.logits.device(), torch::kLong);
    if (b > 0 && (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= c))
      return badInput(name(), "labels must be in 0.." + std::to_string(c - 1));
    const torch::Tensor logp = in.logits.log_softmax(1);
    const torch::Tensor target = torch::full_like(logp, eps_ / double(c)).scatter_(1, y.unsqueeze(1), 1.0 - eps_ + eps_ / double(c));
    return -(target * logp).sum(1).mean();
  }

 private:
  double eps_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("ce", p, {"label_smoothing"}); !ok) return ok.error();
  const double eps = param(p, "label_smoothing", 0.0);
  if (eps < 0 || eps >= 1) return badInput("ce", "label_smoothing must be in [0, 1)");
  return std::unique_ptr<Loss>(std::make_unique<CrossEntropyLoss>(eps));
}
}  // namespace

LOUPE_REGISTER_LOSS("ce", "cross-entropy on classifier logits (optional label smoothing)", make);

}  // namespace loupe::train
