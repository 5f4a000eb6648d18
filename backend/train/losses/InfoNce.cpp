// InfoNCE / NT-Xent (Chen et al., SimCLR 2020; van den Oord et al. 2018): two views of each sample; for
// each of the 2B embeddings the other view of the same sample is the positive and the remaining 2B - 2 are
// negatives:  l_i = -log( exp(s(i, j(i)) / T) / sum_{k != i} exp(s(i, k) / T) ),  L = mean over the 2B.
// s is cosine similarity. Input: features [B, 2, D]. Parameter: temperature (0.1).
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class InfoNceLoss final : public Loss {
 public:
  explicit InfoNceLoss(double t) : t_(t) {}
  std::string name() const override { return "infonce"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    auto views = asViews(name(), in.features);
    if (!views) return views.error();
    const int64_t b = views->size(0);
    if (views->size(1) != 2) return badInput(name(), "needs exactly two views per sample: features [B, 2, D]");
    if (b < 1) return badInput(name(), "empty batch");
    const torch::Tensor z = normalize(views->transpose(0, 1).reshape({2 * b, views->size(2)}));
    const torch::Tensor self = torch::eye(2 * b, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
    const torch::Tensor logits = (torch::matmul(z, z.t()) / t_).masked_fill(self, -INFINITY);
    const torch::Tensor idx = torch::arange(2 * b, torch::TensorOptions().dtype(torch::kLong).device(z.device()));
    const torch::Tensor partner = (idx + b).remainder(2 * b);
    const torch::Tensor positive = logits.gather(1, partner.unsqueeze(1)).squeeze(1);
    return (logits.logsumexp(1) - positive).mean();
  }

 private:
  double t_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("infonce", p, {"temperature"}); !ok) return ok.error();
  const double t = param(p, "temperature", 0.1);
  if (t <= 0) return badInput("infonce", "temperature must be positive");
  return std::unique_ptr<Loss>(std::make_unique<InfoNceLoss>(t));
}
}  // namespace

LOUPE_REGISTER_LOSS("infonce", "InfoNCE / NT-Xent (SimCLR): the other view is the positive", make);

}  // namespace loupe::train
