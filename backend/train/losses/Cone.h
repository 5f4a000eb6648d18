#pragma once
// CoNe (Zheng et al., "CoNe: Contrast Your Neighbours for Supervised Image Classification", 2023), as the
// authors' network/cone.py (mingkai-zheng/CoNe):
//  - class-centre supervision: cross-entropy (optional label smoothing eps/(C-1) as the official code) of
//    the classifier logits, whose weight rows are the class centres;
//  - similar-neighbour anchors: for each normalised embedding q_i, its knn_k most similar entries of a bank
//    of past keys; p_i = sum over those neighbours with the same label of softmax(sim / t_sup);
//    L_sup = sum_{i: p_i > 1e-8} -log p_i / B;
//  - distributional consistency: the target distribution is the bank's stored class probabilities averaged
//    with weights softmax(k_i . bank / t_dc) (k_i = the sample's key); L_dc = sum_i KL(target_i || softmax(
//    logits_i)) / B.
//  L = L_ce + alpha_sup * L_sup + alpha_dc * L_dc.
// Rows whose softmax has an entry <= 1e-8 are left out of L_ce and L_dc, as the official code.
// The bank is a ring of `queue` entries (key, label, softmax(key logits)); only filled entries are used, so
// the first batch (empty bank) is plain cross-entropy — the official code instead starts CoNe after one
// cross-entropy epoch with a random-filled queue.
// Input: features [B, D] (embeddings), logits [B, C], labels [B]; keys [B, D] and keyLogits [B, C] from a
// momentum encoder (when absent the detached features and logits serve as keys, i.e. momentum 0).
// Parameters: t_sup (0.1), t_dc (0.07), knn_k (512), alpha_sup (1), alpha_dc (1), label_smoothing (0),
// queue (8192).

#include "Loss.h"

namespace loupe::train {

struct ConeOptions {
  double tSup = 0.1, tDc = 0.07;
  int64_t knnK = 512;
  double alphaSup = 1.0, alphaDc = 1.0, labelSmoothing = 0.0;
  int64_t queue = 8192;
};

class ConeLoss final : public Loss {
 public:
  explicit ConeLoss(const ConeOptions& options) : o_(options) {}
  std::string name() const override { return "cone"; }
  Result<torch::Tensor> compute(const LossInput& input) override;
  void update(const LossInput& input) override;
  std::map<std::string, double> lastTerms() const override { return terms_; }

  // The filled part of the bank: keys [F, D] (unit rows), labels [F], class probabilities [F, C].
  torch::Tensor bankKeys() const;
  torch::Tensor bankLabels() const;
  torch::Tensor bankProbs() const;
  // Replaces the bank (tests, resuming): rows are normalised, F <= queue.
  void setBank(const torch::Tensor& keys, const torch::Tensor& labels, const torch::Tensor& probs);

 private:
  ConeOptions o_;
  torch::Tensor keys_, labels_, probs_;
  int64_t ptr_ = 0, filled_ = 0;
  std::map<std::string, double> terms_;
};

}  // namespace loupe::train
