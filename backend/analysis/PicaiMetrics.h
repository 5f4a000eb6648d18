#pragma once
// PI-CAI's evaluation (picai_eval 1.x): lesion-level average precision, patient-level AUROC and the PI-CAI
// score (AUROC + AP) / 2. A candidate hits a lesion when their IoU >= minOverlap (0.1); candidates and
// lesions are matched one-to-one maximising (hit first, then overlap) as picai_eval's linear_sum_assignment
// does; unmatched candidates that still overlap a lesion enough are not counted as false positives
// (allow_unmatched_candidates_with_minimal_overlap = True, its default). Patient score = max of the map.

#include <string>
#include <vector>

#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::analysis {

struct LesionOutcome {
  int isLesion = 0;         // 1: a ground-truth lesion (hit or missed), 0: a false positive candidate
  double confidence = 0.0;  // candidate likelihood; 0 for a missed lesion
  double overlap = 0.0;     // IoU with the matched lesion, 0 otherwise
};

struct CaseEvaluation {
  std::string id;
  std::vector<LesionOutcome> lesions;
  double caseConfidence = 0.0;  // max of the detection map
  int caseTarget = 0;           // 1 when the label holds a lesion
  int numLesions = 0;
  int numCandidates = 0;
};

// One case: detection map (>= 0, connected components of constant likelihood) against a binary label on
// the same grid. Errors on different sizes or negative values.
Result<CaseEvaluation> evaluateCase(const Volume& detectionMap, const Volume& label, double minOverlap = 0.1);

// Maximum-weight one-to-one assignment for a rows x cols matrix (row-major) of non-negative weights:
// returns, for each row, its column or -1. The Hungarian algorithm (exact).
std::vector<int> maxWeightAssignment(const std::vector<double>& weights, int rows, int cols);

// Average precision as picai_eval computes it: sklearn's precision_recall_curve over (isLesion, confidence),
// precision set to 0 at a threshold of 0, AP = sum over thresholds of (recall step) * precision.
double averagePrecision(const std::vector<LesionOutcome>& outcomes);
// Area under the ROC curve with ties counted half (equal to sklearn's roc_curve + auc). NaN when one class
// is absent.
double auroc(const std::vector<int>& targets, const std::vector<double>& scores);

struct PicaiMetrics {
  double ap = 0.0;
  double auroc = 0.0;
  double score = 0.0;  // (auroc + ap) / 2
  int numCases = 0;
  int numLesions = 0;
  int truePositives = 0;   // lesions hit at any threshold > 0
  int falsePositives = 0;  // candidates counted as false positives
};

PicaiMetrics summarise(const std::vector<CaseEvaluation>& cases);

}  // namespace loupe::analysis
