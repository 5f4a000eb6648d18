// Age-ordered cosine-similarity + triplet-margin loss for age features (Chae, Raha, Kim, Stenger, "Age
// Prediction From Face Images Via Contrastive Learning", 2023). The paper's public description (abstract;
// no code was released) says: learn features of *different people* at different ages so that age-related
// features are emphasised and identity-related ones suppressed, with a combination of a cosine-similarity
// loss and a triplet-margin loss. Loupe's reading of it, with ages y and s_ij = cos(z_i, z_j):
//
//   cosine term   L_cos = mean over ordered pairs i != j of (s_ij - t_ij)^2,
//                 t_ij  = 1 - 2 min(|y_i - y_j| / span, 1)
//     Two different people of the same age must have similarity 1 (whatever identifies them is pushed out of
//     the embedding), people `span` or more years apart similarity -1, linearly in between: the embedding
//     is ordered by age.
//   triplet term  L_tri = mean over triplets (a, p, n) with a != p, |y_a - y_p| <= pos_years and
//                 |y_a - y_n| >= neg_years of max(0, s_an - s_ap + margin)
//     (batch-all mining; 0 when the batch holds no such triplet).
//   L = cosine_weight * L_cos + triplet_weight * L_tri
//
// Input: features [B, D] or [B, V, D] (every view is a sample with its sample's age), labels [B] = ages in
// years (int64 or floating point; negative = unknown is not allowed). Parameters: span (40), pos_years (3),
// neg_years (10), margin (0.2), cosine_weight (1), triplet_weight (1). lastTerms(): "cosine", "triplet".
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class AgeCosineLoss final : public Loss {
 public:
  AgeCosineLoss(double span, double posYears, double negYears, double margin, double wCos, double wTri)
      : span_(span), pos_(posYears), neg_(negYears), margin_(margin), wCos_(wCos), wTri_(wTri) {}
  std::string name() const override { return "age_cosine"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    auto views = asViews(name(), in.features);
    if (!views) return views.error();
    const int64_t b = views->size(0), v = views->size(1);
    if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
      return badInput(name(), "needs ages as labels [" + std::to_string(b) + "]");
    if (b * v < 2) return badInput(name(), "needs at least two samples in a batch");
    const torch::Tensor z = normalize(views->transpose(0, 1).reshape({b * v, views->size(2)}));
    const torch::Tensor age = in.labels.to(z.device(), z.scalar_type()).repeat({v});
    if (age.lt(0).any().item<bool>()) return badInput(name(), "ages must not be negative");
    const int64_t n = z.size(0);
    const torch::Tensor s = torch::matmul(z, z.t());
    const torch::Tensor gap = (age.unsqueeze(0) - age.unsqueeze(1)).abs();
    const torch::Tensor offDiag =
        torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(z.device())).logical_not();

    const torch::Tensor target = 1.0 - 2.0 * (gap / span_).clamp_max(1.0);
    const torch::Tensor cosine = (s - target).pow(2).masked_select(offDiag).mean();

    const torch::Tensor pos = gap.le(pos_).logical_and(offDiag);                     // [a, p]
    const torch::Tensor neg = gap.ge(neg_);                                          // [a, n]
    const torch::Tensor valid = pos.unsqueeze(2).logical_and(neg.unsqueeze(1));     // [a, p, n]
    const int64_t triplets = valid.sum().item<int64_t>();
    torch::Tensor triplet = torch::zeros({}, z.options());
    if (triplets > 0) {
      const torch::Tensor hinge = (s.unsqueeze(1) - s.unsqueeze(2) + margin_).clamp_min(0.0);  // s(a,n) - s(a,p)
      triplet = hinge.masked_select(valid).sum() / double(triplets);
    }
    last_ = {{"cosine", cosine.item<double>()}, {"triplet", triplet.item<double>()}};
    return wCos_ * cosine + wTri_ * triplet;
  }

  std::map<std::string, double> lastTerms() const override { return last_; }

 private:
  double span_, pos_, neg_, margin_, wCos_, wTri_;
  std::map<std::string, double> last_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  const char* n = "age_cosine";
  if (auto ok = checkKnown(n, p, {"span", "pos_years", "neg_years", "margin", "cosine_weight", "triplet_weight"}); !ok)
    return ok.error();
  const double span = param(p, "span", 40.0), pos = param(p, "pos_years", 3.0), neg = param(p, "neg_years", 10.0);
  const double margin = param(p, "margin", 0.2), wCos = param(p, "cosine_weight", 1.0), wTri = param(p, "triplet_weight", 1.0);
  if (!(span > 0)) return badInput(n, "span must be positive (years at which two faces count as opposite)");
  if (pos < 0 || !(neg > pos))
    return badInput(n, "needs 0 <= pos_years < neg_years (positives are closer in age than negatives)");
  if (margin < 0) return badInput(n, "margin must not be negative");
  if (wCos < 0 || wTri < 0 || wCos + wTri == 0) return badInput(n, "the weights must not be negative and not both 0");
  return std::unique_ptr<Loss>(std::make_unique<AgeCosineLoss>(span, pos, neg, margin, wCos, wTri));
}
}  // namespace

LOUPE_REGISTER_LOSS("age_cosine", "age-ordered cosine similarity + triplet margin, identity suppressed (age paper)", make);

}  // namespace loupe::train
