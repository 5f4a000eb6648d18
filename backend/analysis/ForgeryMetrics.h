#pragma once
// Localisation metrics for forgery maps against ground-truth masks (plain C++, no Qt, no LibTorch).
//
// - pixel F1 (binary): F1 of the forged class, 2 TP / (2 TP + FP + FN); 1 when both masks are empty
//   (nothing to find, nothing claimed), 0 when exactly one of them is empty.
// - FOCAL's F1: what FOCAL's released evaluation (github.com/HighwayWu/FOCAL, main.py, ForensicTesting)
//   computes per image: scikit-learn's f1_score(gt, prediction, average='macro'), i.e. the mean of the F1
//   of each class (pristine and forged) over the classes that occur in the ground truth or in the
//   prediction; a class that occurs in only one of them has F1 0 (scikit-learn's zero_division
//   default). No maximum over the inverted prediction is taken: FOCAL orients its prediction before
//   (the smaller cluster is forged), as Loupe does.
// - IoU: |pred AND gt| / |pred OR gt|, 1 when both are empty (FOCAL's metric_iou, without its 1e-6).
// - AUC: Mann-Whitney U / (n_pos * n_neg), ties between a positive and a negative counted one half;
//   undefined (NaN) when one class is absent.

#include <cstdint>
#include <vector>

namespace loupe::analysis {

struct ConfusionCounts {
  std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;
};

// `prediction` and `truth` hold 0 (pristine) / non-zero (forged), same length.
ConfusionCounts confusion(const std::vector<std::uint8_t>& prediction, const std::vector<std::uint8_t>& truth);
double binaryF1(const ConfusionCounts& c);
double macroF1(const ConfusionCounts& c);  // FOCAL's (scikit-learn's average='macro')
double intersectionOverUnion(const ConfusionCounts& c);

// Area under the ROC curve of `scores` for `positive` labels (non-zero = positive); NaN without both classes.
double rocAuc(const std::vector<float>& scores, const std::vector<std::uint8_t>& positive);

// Mean of the finite values (NaN when there is none).
double meanOfFinite(const std::vector<double>& values);

}  // namespace loupe::analysis
