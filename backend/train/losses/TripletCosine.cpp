// Triplet margin loss on cosine similarity, as used for age features (Chae et al., "Age Prediction From
// Face Images Via Contrastive Learning"): with s = cosine similarity,
//   L_tri = mean over all valid triplets (a, p, n) of max(0, s(a, n) - s(a, p) + margin)
// where y_a = y_p, a != p, y_n != y_a (batch-all mining over the batch), plus an optional cosine-similarity
// term that pulls positives together: L = L_tri + cosine_weight * mean over positive pairs (1 - s(a, p)).
// Input: features [B, D] or [B, V, D] (every view is a sample with its sample's label), labels [B].
// Parameters: margin (0.2), cosine_weight (0).
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class TripletCosineLoss final : public Loss {
 public:
  TripletCosineLoss(double margin, double cosineWeight) : margin_(margin), w_(cosineWeight) {}
  std::string name() const override { return "triplet_cosine"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    auto views = asViews(name(), in.features);
    if (!views) return views.error();
    const int64_t b = views->size(0), v = views->size(1);
    if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
      return badInput(name(), "needs labels [" + std::to_string(b) + "]");
    const torch::Tensor z = normalize(views->transpose(0, 1).reshape({b * v, views->size(2)}));
    const torch::Tensor y = in.labels.to(z.device()).repeat({v});
    const int64_t n = z.size(0);
    const torch::Tensor s = torch::matmul(z, z.t());
    const torch::Tensor eye = torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
    const torch::Tensor same = y.unsqueeze(0).eq(y.unsqueeze(1));
    const torch::Tensor pos = same.logical_and(eye.logical_not());  // [a, p]
    const torch::Tensor neg = same.logical_not();                   // [a, n]
    const torch::Tensor valid = pos.unsqueeze(2).logical_and(neg.unsqueeze(1));  // [a, p, n]
    const int64_t triplets = valid.sum().item<int64_t>();
    if (triplets == 0) return badInput(name(), "the batch holds no triplet (needs two samples of one label and one of another)");
    const torch::Tensor hinge = (s.unsqueeze(1) - s.unsqueeze(2) + margin_).clamp_min(0.0);  // s(a,n) - s(a,p)
    torch::Tensor loss = hinge.masked_select(valid).sum() / double(triplets);
    if (w_ != 0.0) loss = loss + w_ * (1.0 - s.masked_select(pos)).mean();
    return loss;
  }

 private:
  double margin_, w_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("triplet_cosine", p, {"margin", "cosine_weight"}); !ok) return ok.error();
  const double margin = param(p, "margin", 0.2), w = param(p, "cosine_weight", 0.0);
  if (margin < 0) return badInput("triplet_cosine", "margin must not be negative");
  return std::unique_ptr<Loss>(std::make_unique<TripletCosineLoss>(margin, w));
}
}  // namespace

LOUPE_REGISTER_LOSS("triplet_cosine", "triplet margin on cosine similarity, batch-all (age paper)", make);

}  // namespace loupe::train
