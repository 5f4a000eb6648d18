#pragma once
// The contrastive loss library: every loss is one file under losses/ that registers itself by name
// (LOUPE_REGISTER_LOSS), so adding a loss is adding a file. A loss maps a batch (embeddings plus labels
// or metadata) to a scalar tensor that autograd can differentiate; all work stays on the embeddings'
// device (CPU or CUDA) and in their dtype (float32 for training, float64 for gradient checks).
//
// Losses with memory (MoCo's queue, CoNe's neighbour bank) keep it inside the loss object: compute()
// reads it, update() writes the batch's keys into it after the optimiser step.

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/Result.h"

namespace loupe::train {

// What a loss may read. Each loss documents which fields it needs and checks their shapes.
struct LossInput {
  torch::Tensor features;    // [B, V, D] V views per sample, or [B, D] (one view); FOCAL: [B, D, H, W]
  torch::Tensor labels;      // int64 [B] class or metadata label; -1 = unknown (where a loss allows it)
  torch::Tensor logits;      // [B, C] classifier outputs (cross-entropy, CoNe)
  torch::Tensor confidence;  // [B] metadata confidence in [0, 1] (decoupled conditional loss)
  torch::Tensor mask;        // int64 [B, H, W] per-pixel labels, 0 pristine / 1 forged (FOCAL)
  torch::Tensor keys;        // [B, D] momentum-encoder embeddings, no gradient (MoCo, CoNe)
  torch::Tensor keyLogits;   // [B, C] momentum-encoder logits, no gradient (CoNe)
};

using LossParams = std::map<std::string, double>;

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  // Scalar loss of the batch, differentiable with respect to the input tensors that require grad.
  virtual Result<torch::Tensor> compute(const LossInput& input) = 0;
  // After the optimiser step: losses with memory enqueue the batch's keys. Default: nothing.
  virtual void update(const LossInput& input) {}
  // Named parts of the last compute() (e.g. CoNe's three terms) for logs; empty when there is one term.
  virtual std::map<std::string, double> lastTerms() const { return {}; }
};

using LossFactory = Result<std::unique_ptr<Loss>> (*)(const LossParams& params);

bool registerLoss(const char* name, const char* summary, LossFactory factory);
// A loss by name with its parameters (unknown parameter names are errors that list the known ones).
Result<std::unique_ptr<Loss>> makeLoss(const std::string& name, const LossParams& params = {});
// Registered names with a one-line summary, sorted by name.
std::vector<std::pair<std::string, std::string>> registeredLosses();

// Helpers for loss files.
namespace loss_detail {
// Reads `key` from params (or `fallback`); errors if params holds a key not in `known`.
Result<void> checkKnown(const std::string& loss, const LossParams& params, std::initializer_list<const char*> known);
double param(const LossParams& params, const char* key, double fallback);
Error badInput(const std::string& loss, const std::string& what);
// Rows scaled to unit L2 norm along `dim` (zero rows stay zero), as torch.nn.functional.normalize.
torch::Tensor normalize(const torch::Tensor& x, int64_t dim = -1);
// features as [B, V, D]: [B, D] becomes [B, 1, D]; other ranks are an error.
Result<torch::Tensor> asViews(const std::string& loss, const torch::Tensor& features);
}  // namespace loss_detail

}  // namespace loupe::train

#define LOUPE_LOSS_CONCAT_INNER(a, b) a##b
#define LOUPE_LOSS_CONCAT(a, b) LOUPE_LOSS_CONCAT_INNER(a, b)
#define LOUPE_REGISTER_LOSS(name, summary, factory) \
  static const bool LOUPE_LOSS_CONCAT(loupeLoss_, __LINE__) = ::loupe::train::registerLoss(name, summary, factory)
