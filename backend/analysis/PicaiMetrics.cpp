#include "PicaiMetrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "DetectionMap.h"

namespace loupe::analysis {

std::vector<int> maxWeightAssignment(const std::vector<double>& weights, int rows, int cols) {
  std::vector<int> result(std::size_t(std::max(rows, 0)), -1);
  if (rows <= 0 || cols <= 0) return result;
  const int n = std::max(rows, cols);
  double maxW = 0.0;
  for (double w : weights) maxW = std::max(maxW, w);
  // Square min-cost problem: cost = maxW - weight, padding cells have weight 0.
  auto cost = [&](int i, int j) {
    const double w = (i < rows && j < cols) ? weights[std::size_t(i) * std::size_t(cols) + std::size_t(j)] : 0.0;
    return maxW - w;
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(std::size_t(n) + 1, 0.0), v(std::size_t(n) + 1, 0.0);
  std::vector<int> p(std::size_t(n) + 1, 0), way(std::size_t(n) + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(std::size_t(n) + 1, inf);
    std::vector<char> used(std::size_t(n) + 1, 0);
    do {
      used[std::size_t(j0)] = 1;
      const int i0 = p[std::size_t(j0)];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[std::size_t(j)]) continue;
        const double cur = cost(i0 - 1, j - 1) - u[std::size_t(i0)] - v[std::size_t(j)];
        if (cur < minv[std::size_t(j)]) {
          minv[std::size_t(j)] = cur;
          way[std::size_t(j)] = j0;
        }
        if (minv[std::size_t(j)] < delta) {
          delta = minv[std::size_t(j)];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[std::size_t(j)]) {
          u[std::size_t(p[std::size_t(j)])] += delta;
          v[std::size_t(j)] -= delta;
        } else {
          minv[std::size_t(j)] -= delta;
        }
      }
      j0 = j1;
    } while (p[std::size_t(j0)] != 0);
    do {
      const int j1 = way[std::size_t(j0)];
      p[std::size_t(j0)] = p[std::size_t(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= n; ++j) {
    const int i = p[std::size_t(j)] - 1;
    if (i >= 0 && i < rows && j - 1 < cols) result[std::size_t(i)] = j - 1;
  }
  return result;
}

Result<CaseEvaluation> evaluateCase(const Volume& detectionMap, const Volume& label, double minOverlap) {
  if (detectionMap.size != label.size) {
    auto dims = [](const Volume& v) {
      return std::to_string(v.size[0]) + "x" + std::to_string(v.size[1]) + "x" + std::to_string(v.size[2]);
    };
    return Error{ErrorCode::InvalidArgument, "The detection map (" + dims(detectionMap) + ") and the label (" +
                                                 dims(label) + ") have different sizes; resample the map into the label's grid"};
  }
  CaseEvaluation out;
  double mx = 0.0;
  for (std::size_t i = 0; i < std::size_t(detectionMap.voxelCount()); ++i) {
    const double v = detectionMap.value(i);
    if (std::isnan(v) || v < 0)
      return Error{ErrorCode::InvalidArgument, "The detection map has negative or NaN values; confidences must be >= 0"};
    mx = std::max(mx, v);
  }
  out.caseConfidence = mx;
  std::vector<std::int32_t> indexed;
  const std::vector<double> confidences = parseDetectionMap(detectionMap, indexed);
  out.numCandidates = int(confidences.size());

  std::vector<std::uint8_t> gtMask(std::size_t(label.voxelCount()));
  bool any = false;
  for (std::size_t i = 0; i < gtMask.size(); ++i) {
    gtMask[i] = label.value(i) != 0;
    any = any || gtMask[i];
  }
  if (!any) {
    for (double c : confidences) out.lesions.push_back({0, c, 0.0});
    return out;
  }
  std::vector<std::int32_t> gt;
  const int numGt = labelComponents26(gtMask, label.size, gt);
  out.numLesions = numGt;
  out.caseTarget = 1;
  const int numPred = int(confidences.size());
  std::vector<std::int64_t> gtSize(std::size_t(numGt) + 1, 0), predSize(std::size_t(numPred) + 1, 0);
  std::vector<double> inter(std::size_t(numGt) * std::size_t(std::max(numPred, 1)), 0.0);
  for (std::size_t i = 0; i < gt.size(); ++i) {
    ++gtSize[std::size_t(gt[i])];
    ++predSize[std::size_t(indexed[i])];
    if (gt[i] > 0 && indexed[i] > 0) inter[std::size_t(gt[i] - 1) * std::size_t(numPred) + std::size_t(indexed[i] - 1)] += 1;
  }
  // IoU, zeroed below minOverlap, +1 where a hit: matching prefers hits, then overlap (as picai_eval).
  std::vector<double> w(std::size_t(numGt) * std::size_t(numPred), 0.0);
  for (int g = 0; g < numGt; ++g)
    for (int p = 0; p < numPred; ++p) {
      const std::size_t at = std::size_t(g) * std::size_t(numPred) + std::size_t(p);
      const double uni = double(gtSize[std::size_t(g + 1)] + predSize[std::size_t(p + 1)]) - inter[at];
      const double iou = uni > 0 ? inter[at] / uni : 0.0;
      w[at] = iou < minOverlap ? 0.0 : iou;
      if (w[at] > 0) w[at] += 1.0;
    }
  const std::vector<int> match = maxWeightAssignment(w, numGt, numPred);
  std::set<int> sufficient;
  for (int p = 0; p < numPred; ++p)
    for (int g = 0; g < numGt; ++g)
      if (w[std::size_t(g) * std::size_t(numPred) + std::size_t(p)] > 0) sufficient.insert(p);
  for (int g = 0; g < numGt; ++g) {
    const int p = match[std::size_t(g)];
    const double weight = p >= 0 ? w[std::size_t(g) * std::size_t(numPred) + std::size_t(p)] : 0.0;
    if (p >= 0 && weight > 0) out.lesions.push_back({1, confidences[std::size_t(p)], weight - 1.0});
    else out.lesions.push_back({1, 0.0, 0.0});
  }
  for (int p = 0; p < numPred; ++p)
    if (!sufficient.count(p)) out.lesions.push_back({0, confidences[std::size_t(p)], 0.0});
  return out;
}

double averagePrecision(const std::vector<LesionOutcome>& outcomes) {
  double positives = 0;
  for (const auto& o : outcomes) positives += o.isLesion;
  if (positives == 0) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> thresholds;
  for (const auto& o : outcomes) thresholds.push_back(o.confidence);
  std::sort(thresholds.begin(), thresholds.end(), std::greater<double>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  double ap = 0.0, prevRecall = 0.0;
  for (double t : thresholds) {
    double tp = 0, fp = 0;
    for (const auto& o : outcomes) {
      if (o.confidence < t) continue;
      if (o.isLesion) ++tp;
      else ++fp;
    }
    const double recall = tp / positives;
    const double precision = (t == 0.0 || tp + fp == 0) ? 0.0 : tp / (tp + fp);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

double auroc(const std::vector<int>& targets, const std::vector<double>& scores) {
  double pos = 0, neg = 0, wins = 0;
  for (std::size_t a = 0; a < targets.size(); ++a) {
    if (targets[a]) ++pos;
    else ++neg;
  }
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  for (std::size_t a = 0; a < targets.size(); ++a) {
    if (!targets[a]) continue;
    for (std::size_t b = 0; b < targets.size(); ++b) {
      if (targets[b]) continue;
      if (scores[a] > scores[b]) wins += 1.0;
      else if (scores[a] == scores[b]) wins += 0.5;
    }
  }
  return wins / (pos * neg);
}

PicaiMetrics summarise(const std::vector<CaseEvaluation>& cases) {
  PicaiMetrics m;
  std::vector<LesionOutcome> all;
  std::vector<int> targets;
  std::vector<double> scores;
  for (const auto& c : cases) {
    all.insert(all.end(), c.lesions.begin(), c.lesions.end());
    targets.push_back(c.caseTarget);
    scores.push_back(c.caseConfidence);
  }
  for (const auto& o : all) {
    m.numLesions += o.isLesion;
    if (o.isLesion && o.confidence > 0) ++m.truePositives;
    if (!o.isLesion) ++m.falsePositives;
  }
  m.numCases = int(cases.size());
  m.ap = averagePrecision(all);
  m.auroc = auroc(targets, scores);
  m.score = (m.ap + m.auroc) / 2.0;
  return m;
}

}  // namespace loupe::analysis
