#pragma once
// Decoupled conditional contrastive loss with metadata confidence (Ruppli et al., "Decoupled conditional
// contrastive learning with variable metadata for prostate lesion detection", MILLanD 2023).
//
// Views of one sample are always positives (weight 1). Two different samples whose (binarised) metadata
// agree are positives too, weighted by the confidence of both labels, w = c_i * c_j; unannotated samples
// (label -1) only have their own views. "Decoupled" (Yeh et al. 2022, as the authors' contrastive_loss.py):
// positives are removed from the denominator. With s cosine similarity and T the temperature:
//   l_i = - sum_{p in P(i)} w_ip [ s_ip / T - log sum_{k not in P(i), k != i} exp(s_ik / T) ] / sum_p w_ip
// L = mean over anchors that have at least one negative. Input: features [B, V, D] (V >= 2), labels [B]
// (0/1 binarised PI-RADS or -1), confidence [B] in [0, 1]. Parameter: temperature (0.1).
//
// The authors' code (TensorFlow) holds the decoupled SimCLR term and the confidence database; how the
// confidence enters the loss (the product weight above) follows the paper's description and is ours.

#include <vector>

#include "Loss.h"

namespace loupe::train {

// One lesion's reads: PI-RADS 3 reads are dropped, < 3 becomes 0 (benign), > 3 becomes 1 (suspicious);
// label = the majority of what is left (ties: the value read first), confidence = the share of the left
// reads that agree with it. No read left -> label -1, confidence 0. Scores outside 1..5 are an error.
struct MetadataConsensus {
  int label = -1;
  double confidence = 0.0;
};
Result<MetadataConsensus> piradsConsensus(const std::vector<int>& scores);

}  // namespace loupe::train
