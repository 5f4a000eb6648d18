// FOCAL's per-image pixel InfoNCE (Wu et al., "Rethinking Image Forgery Detection via Contrastive Learning
// and Unsupervised Clustering", 2023), as the authors' main.py + losses.py (HighwayWu/FOCAL):
// for each image separately, the pristine pixels (mask 0) are queries and the forged pixels (mask 1)
// negatives, each subsampled to at most max_samples; for query i the positive logit is the mean cosine to the
// other queries, the negatives its cosines to the forged pixels:
//   l_i = -log( exp(mean_{j != i} s_ij / T) / (exp(mean_{j != i} s_ij / T) + sum_n exp(s_in / T)) )
// The image's loss is the mean over its queries; the batch's the mean over images. Images lacking either
// class (or with one pristine pixel) are skipped, as the official code; when every image is skipped the loss
// is 0 (still attached to the graph, so a training step is a no-op instead of an error).
// Input: features [B, D, H, W] (normalised along D here), mask integer [B, H, W] (0/1).
// Parameters: temperature (0.1, FOCAL's), max_samples (1000, FOCAL's dict_size). Subsampling draws from
// LibTorch's default generator (torch::manual_seed makes it repeatable).
#include "Loss.h"

namespace loupe::train {
namespace {
using namespace loss_detail;

class FocalPixelLoss final : public Loss {
 public:
  FocalPixelLoss(double t, int64_t maxSamples) : t_(t), max_(maxSamples) {}
  std::string name() const override { return "focal_pixel"; }

  Result<torch::Tensor> compute(const LossInput& in) override {
    const torch::Tensor& f = in.features;
    if (!f.defined() || f.dim() != 4 || !f.is_floating_point()) return badInput(name(), "needs features [B, D, H, W]");
    const int64_t b = f.size(0), h = f.size(2), w = f.size(3);
    if (!in.mask.defined() || in.mask.dim() != 3 || in.mask.size(0) != b || in.mask.size(1) != h || in.mask.size(2) != w)
      return badInput(name(), "needs a mask [B, H, W] of the features' size (" + std::to_string(h) + " x " +
                                  std::to_string(w) + ")");
    const torch::Tensor z = normalize(f.permute({0, 2, 3, 1}).reshape({b, h * w, f.size(1)}));  // [B, HW, D]
    const torch::Tensor m = in.mask.to(f.device()).reshape({b, h * w});
    std::vector<torch::Tensor> losses;
    for (int64_t i = 0; i < b; ++i) {
      torch::Tensor query = z[i].index({m[i].eq(0)});
      torch::Tensor negative = z[i].index({m[i].eq(1)});
      if (query.size(0) < 2 || negative.size(0) == 0) continue;
      query = query.index_select(0, torch::randperm(query.size(0), torch::TensorOptions().dtype(torch::kLong).device(f.device())).narrow(0, 0, std::min(max_, query.size(0))));
      negative = negative.index_select(0, torch::randperm(negative.size(0), torch::TensorOptions().dtype(torch::kLong).device(f.device())).narrow(0, 0, std::min(max_, negative.size(0))));
      const int64_t nq = query.size(0);
      const torch::Tensor sim = torch::matmul(query, query.t());
      const torch::Tensor offDiag = torch::eye(nq, torch::TensorOptions().dtype(torch::kBool).device(f.device())).logical_not();
      const torch::Tensor pos = (sim * offDiag.to(sim.scalar_type())).sum(1, true) / double(nq - 1);
      const torch::Tensor logits = torch::cat({pos, torch::matmul(query, negative.t())}, 1) / t_;
      losses.push_back((logits.logsumexp(1) - logits.select(1, 0)).mean());
    }
    if (losses.empty()) return (f.sum() * 0.0);
    return torch::stack(losses).mean();
  }

 private:
  double t_;
  int64_t max_;
};

Result<std::unique_ptr<Loss>> make(const LossParams& p) {
  if (auto ok = checkKnown("focal_pixel", p, {"temperature", "max_samples"}); !ok) return ok.error();
  const double t = param(p, "temperature", 0.1), n = param(p, "max_samples", 1000);
  if (t <= 0) return badInput("focal_pixel", "temperature must be positive");
  if (n < 2) return badInput("focal_pixel", "max_samples must be at least 2");
  return std::unique_ptr<Loss>(std::make_unique<FocalPixelLoss>(t, int64_t(n)));
}
}  // namespace

LOUPE_REGISTER_LOSS("focal_pixel", "FOCAL's per-image pixel InfoNCE (pristine vs forged pixels)", make);

}  // namespace loupe::train
