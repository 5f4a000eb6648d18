#include "Cone.h"

#include <torch/torch.h>

namespace loupe::train {
using namespace loss_detail;

torch::Tensor ConeLoss::bankKeys() const { return keys_.defined() ? keys_.narrow(0, 0, filled_) : torch::Tensor(); }
torch::Tensor ConeLoss::bankLabels() const { return labels_.defined() ? labels_.narrow(0, 0, filled_) : torch::Tensor(); }
torch::Tensor ConeLoss::bankProbs() const { return probs_.defined() ? probs_.narrow(0, 0, filled_) : torch::Tensor(); }

void ConeLoss::setBank(const torch::Tensor& keys, const torch::Tensor& labels, const torch::Tensor& probs) {
  const int64_t f = std::min<int64_t>(keys.size(0), o_.queue);
  keys_ = torch::zeros({o_.queue, keys.size(1)}, keys.options());
  labels_ = torch::full({o_.queue}, -1, labels.options().dtype(torch::kLong));
  probs_ = torch::zeros({o_.queue, probs.size(1)}, probs.options());
  keys_.narrow(0, 0, f).copy_(normalize(keys.detach().narrow(0, 0, f)));
  labels_.narrow(0, 0, f).copy_(labels.narrow(0, 0, f));
  probs_.narrow(0, 0, f).copy_(probs.detach().narrow(0, 0, f));
  filled_ = f;
  ptr_ = f % o_.queue;
}

Result<torch::Tensor> ConeLoss::compute(const LossInput& in) {
  auto views = asViews(name(), in.features);
  if (!views) return views.error();
  const torch::Tensor q = normalize(views->select(1, 0));
  const int64_t b = q.size(0);
  if (!in.logits.defined() || in.logits.dim() != 2 || in.logits.size(0) != b)
    return badInput(name(), "needs logits [B, C] for the same B samples as the features");
  if (!in.labels.defined() || in.labels.dim() != 1 || in.labels.size(0) != b)
    return badInput(name(), "needs labels [B]");
  const int64_t c = in.logits.size(1);
  if (c < 2) return badInput(name(), "needs at least two classes");
  const torch::Tensor y = in.labels.to(q.device(), torch::kLong);
  if (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= c)
    return badInput(name(), "labels must be in 0.." + std::to_string(c - 1));
  if (in.keys.defined() && in.keys.sizes() != q.sizes()) return badInput(name(), "keys must be [B, D] like the features");

  const torch::Tensor logp = in.logits.log_softmax(1);
  // Class-centre supervision (label smoothing as the official onehot: eps / (C - 1) off the true class).
  const double eps = o_.labelSmoothing;
  const torch::Tensor onehot =
      torch::full_like(logp, eps / double(c - 1)).scatter_(1, y.unsqueeze(1), 1.0 - eps).detach();
  const torch::Tensor rowOk = (logp.detach().exp().amin(1) > 1e-8).to(logp.scalar_type());  // [B]
  const torch::Tensor ce = -(onehot * logp).sum(1).mul(rowOk).sum() / double(b);

  torch::Tensor sup = torch::zeros({}, q.options()), dc = torch::zeros({}, q.options());
  if (filled_ > 0) {
    const torch::Tensor bank = bankKeys().to(q.options()).detach();
    const torch::Tensor bankY = bankLabels().to(q.device());
    // Similar-neighbour anchors.
    const torch::Tensor sim = torch::matmul(q, bank.t());  // [B, F]
    const int64_t k = std::min<int64_t>(o_.knnK, filled_);
    const auto [topSim, topIdx] = sim.topk(k, 1);
    const torch::Tensor weight = (topSim / o_.tSup).softmax(1);
    const torch::Tensor same = y.unsqueeze(1).eq(bankY.index({topIdx})).to(q.scalar_type());
    const torch::Tensor p = (weight * same).sum(1);
    const torch::Tensor usable = p.detach() > 1e-8;
    sup = -p.masked_select(usable).log().sum() / double(b);
    // Distributional consistency.
    torch::Tensor target;
    {
      torch::NoGradGuard noGrad;
      const torch::Tensor key = in.keys.defined() ? normalize(in.keys.detach().to(q.options())) : q.detach();
      target = torch::matmul((torch::matmul(key, bank.t()) / o_.tDc).softmax(1), bankProbs().to(q.options()));
    }
    const torch::Tensor kl = (torch::xlogy(target, target) - target * logp).sum(1);
    dc = kl.mul(rowOk).sum() / double(b);
  }
  terms_ = {{"ce", ce.item<double>()}, {"sup", sup.item<double>()}, {"dc", dc.item<double>()}};
  return ce + o_.alphaSup * sup + o_.alphaDc * dc;
}

void ConeLoss::update(const LossInput& in) {
  torch::NoGradGuard noGrad;
  auto views = asViews(name(), in.features);
  if (!views || !in.labels.defined() || !in.logits.defined()) return;
  const torch::Tensor key = normalize((in.keys.defined() ? in.keys : views->select(1, 0)).detach().to(torch::kFloat));
  const torch::Tensor prob = (in.keyLogits.defined() ? in.keyLogits : in.logits).detach().to(torch::kFloat).softmax(1);
  if (!keys_.defined() || keys_.size(1) != key.size(1) || probs_.size(1) != prob.size(1)) {
    keys_ = torch::zeros({o_.queue, key.size(1)}, key.options());
    labels_ = torch::full({o_.queue}, -1, key.options().dtype(torch::kLong));
    probs_ = torch::zeros({o_.queue, prob.size(1)}, key.options());
    ptr_ = filled_ = 0;
  }
  const torch::Tensor y = in.labels.to(key.device(), torch::kLong);
  int64_t n = key.size(0), from = 0;
  if (n > o_.queue) {
    from = n - o_.queue;
    n = o_.queue;
  }
  for (int64_t done = 0; done < n;) {
    const int64_t len = std::min(n - done, o_.queue - ptr_);
    keys_.narrow(0, ptr_, len).copy_(key.narrow(0, from + done, len));
    labels_.narrow(0, ptr_, len).copy_(y.narrow(0, from + done, len));
    probs_.narrow(0, ptr_, len).copy_(prob.narrow(0, from + done, len));
    ptr_ = (ptr_ + len) % o_.queue;
    done += len;
  }
  filled_ = std::min(o_.queue, filled_ + n);
}

namespace {
Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("cone", p, {"t_sup", "t_dc", "knn_k", "alpha_sup", "alpha_dc", "label_smoothing", "queue"}); !ok)
    return ok.error();
  ConeOptions o;
  o.tSup = param(p, "t_sup", o.tSup);
  o.tDc = param(p, "t_dc", o.tDc);
  o.knnK = int64_t(param(p, "knn_k", double(o.knnK)));
  o.alphaSup = param(p, "alpha_sup", o.alphaSup);
  o.alphaDc = param(p, "alpha_dc", o.alphaDc);
  o.labelSmoothing = param(p, "label_smoothing", o.labelSmoothing);
  o.queue = int64_t(param(p, "queue", double(o.queue)));
  if (o.tSup <= 0 || o.tDc <= 0) return badInput("cone", "temperatures must be positive");
  if (o.knnK < 1 || o.queue < 1) return badInput("cone", "knn_k and queue must be at least 1");
  if (o.labelSmoothing < 0 || o.labelSmoothing >= 1) return badInput("cone", "label_smoothing must be in [0, 1)");
  return std::unique_ptr<Loss>(std::make_unique<ConeLoss>(o));
}
}  // namespace

LOUPE_REGISTER_LOSS("cone", "CoNe (Zheng et al. 2023): class centres + neighbour anchors + distributional consistency", make);

}  // namespace loupe::train
