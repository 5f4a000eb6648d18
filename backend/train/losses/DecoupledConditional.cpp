#include "DecoupledConditional.h"

namespace loupe::train {
using namespace loss_detail;

Result<MetadataConsensus> piradsConsensus(const std::vector<int>& scores) {
  std::vector<int> kept;
  for (int s : scores) {
    if (s < 1 || s > 5)
      return Error{ErrorCode::InvalidArgument, "PI-RADS score " + std::to_string(s) + " is outside 1..5"};
    if (s != 3) kept.push_back(s > 3 ? 1 : 0);
  }
  MetadataConsensus out;
  if (kept.empty()) return out;
  int ones = 0;
  for (int k : kept) ones += k;
  const int zeros = int(kept.size()) - ones;
  out.label = ones > zeros ? 1 : zeros > ones ? 0 : kept.front();
  out.confidence = double(std::max(ones, zeros)) / double(kept.size());
  return out;
}

namespace {

class DecoupledConditionalLoss final : public Loss {
 public:
  explicit DecoupledConditionalLoss(double t) : t_(t) {}
  std::string name() const override { return "decoupled_conditional"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    auto views = asViews(name(), in.features);
    if (!views) return views.error();
    const int64_t b = views->size(0), v = views->size(1);
    if (v < 2) return badInput(name(), "needs at least two views per sample: features [B, V, D]");
    if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
      return badInput(name(), "needs labels [" + std::to_string(b) + "] (-1 = no metadata)");
    const torch::Tensor z = normalize(views->transpose(0, 1).reshape({b * v, views->size(2)}));
    const auto dev = z.device();
    torch::Tensor conf = in.confidence.defined() ? in.confidence.to(z.options()).detach() : torch::ones({b}, z.options());
    if (conf.dim() != 1 || conf.size(0) != b) return badInput(name(), "confidence must be [B]");
    if (conf.min().item<double>() < 0 || conf.max().item<double>() > 1) return badInput(name(), "confidence must be in [0, 1]");
    const int64_t n = b * v;
    const torch::Tensor sample = torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(dev)).repeat({v});
    const torch::Tensor y = in.labels.to(dev, torch::kLong).repeat({v});
    const torch::Tensor c = conf.repeat({v});
    const torch::Tensor eye = torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(dev));
    const torch::Tensor sameSample = sample.unsqueeze(0).eq(sample.unsqueeze(1)).logical_and(eye.logical_not());
    const torch::Tensor sameMeta = y.unsqueeze(0).eq(y.unsqueeze(1)).logical_and(y.unsqueeze(1).ge(0))
                                       .logical_and(sameSample.logical_not()).logical_and(eye.logical_not());
    const torch::Tensor w = sameSample.to(z.scalar_type()) + sameMeta.to(z.scalar_type()) * (c.unsqueeze(1) * c.unsqueeze(0));
    const torch::Tensor positive = w > 0;
    const torch::Tensor logits = torch::matmul(z, z.t()) / t_;
    const torch::Tensor negative = positive.logical_or(eye).logical_not();
    const torch::Tensor hasNeg = negative.any(1);
    if (!hasNeg.any().item<bool>()) return badInput(name(), "the batch has no negatives (every pair is positive)");
    const torch::Tensor logDen = logits.masked_fill(negative.logical_not(), -INFINITY).logsumexp(1, true);
    const torch::Tensor perPair = (logits - logDen.masked_fill(hasNeg.logical_not().unsqueeze(1), 0.0)) * w;
    const torch::Tensor perAnchor = -perPair.masked_fill(positive.logical_not(), 0.0).sum(1) / w.sum(1);
    return perAnchor.masked_select(hasNeg).mean();
  }

 private:
  double t_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("decoupled_conditional", p, {"temperature"}); !ok) return ok.error();
  const double t = param(p, "temperature", 0.1);
  if (t <= 0) return badInput("decoupled_conditional", "temperature must be positive");
  return std::unique_ptr<Loss>(std::make_unique<DecoupledConditionalLoss>(t));
}
}  // namespace

LOUPE_REGISTER_LOSS("decoupled_conditional",
                    "decoupled conditional contrastive with metadata confidence (prostate paper)", make);

}  // namespace loupe::train
