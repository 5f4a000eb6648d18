#pragma once
// How good an embedding is, by the protocols the contrastive-learning papers report:
//  - kNN accuracy: cosine similarity, k = 20 neighbours from the training set, each voting for its class with
//    weight exp(sim / 0.07) — the weighted vote of Wu et al. 2018 (InstDisc, lemniscate.pytorch's kNN(),
//    sigma = 0.07), which later papers (MoCo, CoNe's kNN monitor, SupCon's follow-ups) reuse.
//  - linear probe accuracy: multinomial logistic regression on frozen, standardised embeddings (train split),
//    accuracy on the test split.
//  - Recall@K (Song et al. 2016, metric-learning retrieval): share of queries whose K nearest other items
//    (cosine) include at least one of the query's class.
// Everything runs on the embeddings' device in chunks; cancellation is checked between chunks.

#include <torch/types.h>

#include <map>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::train {

struct KnnOptions {
  int k = 20;
  double temperature = 0.07;
  int64_t chunk = 1024;  // queries per similarity block
};
// Predicted class of each query [Q] (int64) and the accuracy against `queryLabels`.
struct KnnResult {
  torch::Tensor predictions;
  double accuracy = 0.0;
};
Result<KnnResult> knnClassify(const torch::Tensor& bank, const torch::Tensor& bankLabels, const torch::Tensor& queries,
                              const torch::Tensor& queryLabels, const KnnOptions& options = {},
                              const CancelToken& cancel = {});

struct LinearProbeOptions {
  int epochs = 30;
  int64_t batchSize = 512;
  double learningRate = 1e-2;
  double weightDecay = 1e-4;
  uint64_t seed = 0;
};
struct LinearProbeResult {
  double trainAccuracy = 0.0, testAccuracy = 0.0;
};
Result<LinearProbeResult> linearProbe(const torch::Tensor& train, const torch::Tensor& trainLabels, const torch::Tensor& test,
                                      const torch::Tensor& testLabels, const LinearProbeOptions& options = {},
                                      Progress progress = {}, const CancelToken& cancel = {});

// Recall@K for each K in `ks` over all items of one set (each item is a query against all the others).
Result<std::map<int, double>> recallAtK(const torch::Tensor& embeddings, const torch::Tensor& labels, const std::vector<int>& ks,
                                        int64_t chunk = 1024, const CancelToken& cancel = {});

}  // namespace loupe::train
