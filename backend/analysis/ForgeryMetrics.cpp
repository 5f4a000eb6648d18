#include "ForgeryMetrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace loupe::analysis {

ConfusionCounts confusion(const std::vector<std::uint8_t>& prediction, const std::vector<std::uint8_t>& truth) {
  ConfusionCounts c;
  const std::size_t n = std::min(prediction.size(), truth.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool p = prediction[i] != 0, t = truth[i] != 0;
    if (p && t) ++c.tp;
    else if (p) ++c.fp;
    else if (t) ++c.fn;
    else ++c.tn;
  }
  return c;
}

namespace {
// F1 of one class from its own true positives, false positives and false negatives; NaN when the class
// occurs neither in the truth nor in the prediction.
double classF1(std::int64_t tp, std::int64_t fp, std::int64_t fn) {
  const std::int64_t denom = 2 * tp + fp + fn;
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return 2.0 * static_cast<double>(tp) / static_cast<double>(denom);
}
}  // namespace

double binaryF1(const ConfusionCounts& c) {
  const double f = classF1(c.tp, c.fp, c.fn);
  return std::isnan(f) ? 1.0 : f;
}

double macroF1(const ConfusionCounts& c) {
  const double forged = classF1(c.tp, c.fp, c.fn);
  const double pristine = classF1(c.tn, c.fn, c.fp);  // the pristine class: its TP are our TN
  if (std::isnan(forged)) return pristine;
  if (std::isnan(pristine)) return forged;
  return 0.5 * (forged + pristine);
}

double intersectionOverUnion(const ConfusionCounts& c) {
  const std::int64_t uni = c.tp + c.fp + c.fn;
  return uni == 0 ? 1.0 : static_cast<double>(c.tp) / static_cast<double>(uni);
}

double rocAuc(const std::vector<float>& scores, const std::vector<std::uint8_t>& positive) {
  const std::size_t n = std::min(scores.size(), positive.size());
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return scores[a] < scores[b]; });
  // Sum of the (tie-averaged, 1-based) ranks of the positives: U = R_pos - n_pos (n_pos + 1) / 2.
  double rankSum = 0.0;
  std::int64_t nPos = 0;
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    std::int64_t posInTie = 0;
    while (j < n && scores[order[j]] == scores[order[i]]) {
      posInTie += positive[order[j]] != 0;
      ++j;
    }
    const double meanRank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    rankSum += meanRank * static_cast<double>(posInTie);
    nPos += posInTie;
    i = j;
  }
  const std::int64_t nNeg = static_cast<std::int64_t>(n) - nPos;
  if (nPos == 0 || nNeg == 0) return std::numeric_limits<double>::quiet_NaN();
  const double u = rankSum - static_cast<double>(nPos) * (static_cast<double>(nPos) + 1.0) / 2.0;
  return u / (static_cast<double>(nPos) * static_cast<double>(nNeg));
}

double meanOfFinite(const std::vector<double>& values) {
  double sum = 0.0;
  std::size_t count = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++count;
    }
  return count ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace loupe::analysis
