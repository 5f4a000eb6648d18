// SupCon: supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020),
// as the authors' losses.py (HobbitLong/SupContrast) with contrast_mode "all":
//   every view of every sample is an anchor; its positives are all other views with the same label;
//   L = -(T / T_base) * mean over anchors of [ mean over positives p of log softmax_{a != i}(z_i.z_a / T)[p] ].
// As the current official code, an anchor without any positive contributes 0 (and still counts in the mean).
// Input: features [B, V, D] (or [B, D]), L2-normalised here; labels int64 [B].
// Parameters: temperature (0.07), base_temperature (0.07).
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class SupConLoss final : public Loss {
 public:
  SupConLoss(double t, double base) : t_(t), base_(base) {}
  std::string name() const override { return "supcon"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    auto views = asViews(name(), in.features);
    if (!views) return views.error();
    const int64_t b = views->size(0), v = views->size(1);
    if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
      return badInput(name(), "needs labels [" + std::to_string(b) + "] (one per sample)");
    if (b * v < 2) return badInput(name(), "needs at least two views in the batch");
    // View-major order, as torch.cat(torch.unbind(features, dim=1)): row r = view r / B of sample r % B.
    const torch::Tensor z = normalize(views->transpose(0, 1).reshape({b * v, views->size(2)}));
    const torch::Tensor y = in.labels.to(z.device()).repeat({v});
    const torch::Tensor self = torch::eye(b * v, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
    const torch::Tensor positive = y.unsqueeze(0).eq(y.unsqueeze(1)).logical_and_(self.logical_not());
    const torch::Tensor logits = torch::matmul(z, z.t()) / t_;
    const torch::Tensor logProb = logits - logits.masked_fill(self, -INFINITY).logsumexp(1, true);
    const torch::Tensor pos = positive.to(z.scalar_type());
    const torch::Tensor count = pos.sum(1).clamp_min(1.0);
    const torch::Tensor meanLogProbPos = (pos * logProb.masked_fill(self, 0.0)).sum(1) / count;
    return -(t_ / base_) * meanLogProbPos.mean();
  }

 private:
  double t_, base_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("supcon", p, {"temperature", "base_temperature"}); !ok) return ok.error();
  const double t = param(p, "temperature", 0.07), base = param(p, "base_temperature", 0.07);
  if (t <= 0 || base <= 0) return badInput("supcon", "temperatures must be positive");
  return std::unique_ptr<Loss>(std::make_unique<SupConLoss>(t, base));
}
}  // namespace

LOUPE_REGISTER_LOSS("supcon", "supervised contrastive (Khosla et al. 2020): same-label views are positives", make);

}  // namespace loupe::train
