#pragma once
// Shared by the clustering tests: synthetic data with known membership and partition comparisons.

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace clustering_test {

// Gaussian blobs: `counts[i]` points around `centres[i]` ([K, D]) with standard deviation `sigma`.
// Returns the points [N, D] (float64) and the true blob of each point (int64 [N]). Seeded: deterministic.
inline std::pair<torch::Tensor, torch::Tensor> blobs(const torch::Tensor& centres,
                                                     const std::vector<std::int64_t>& counts, double sigma,
                                                     std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> points, labels;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    points.push_back(centres[static_cast<std::int64_t>(i)].to(torch::kDouble).unsqueeze(0) +
                     sigma * torch::randn({counts[i], centres.size(1)}, torch::kDouble));
    labels.push_back(torch::full({counts[i]}, static_cast<std::int64_t>(i), torch::kLong));
  }
  return {torch::cat(points), torch::cat(labels)};
}

// Rows scaled to unit length (zero rows stay zero), as torch::nn::functional::normalize.
inline torch::Tensor unitRows(const torch::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); }

inline std::vector<std::int64_t> toVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
}

// True when the two labelings are the same partition, i.e. equal up to a renaming of the labels.
inline bool samePartition(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = toVector(a), y = toVector(b);
  if (x.size() != y.size()) return false;
  std::map<std::int64_t, std::int64_t> forward, backward;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto f = forward.emplace(x[i], y[i]).first;
    const auto g = backward.emplace(y[i], x[i]).first;
    if (f->second != y[i] || g->second != x[i]) return false;
  }
  return true;
}

// Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions, about 0 for chance agreement.
inline double adjustedRandIndex(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = toVector(a), y = toVector(b);
  std::map<std::pair<std::int64_t, std::int64_t>, double> cells;
  std::map<std::int64_t, double> rows, cols;
  for (std::size_t i = 0; i < x.size(); ++i) {
    cells[{x[i], y[i]}] += 1;
    rows[x[i]] += 1;
    cols[y[i]] += 1;
  }
  auto pairs = [](double m) { return m * (m - 1) / 2; };
  double index = 0, sumRows = 0, sumCols = 0;
  for (const auto& [key, m] : cells) index += pairs(m);
  for (const auto& [key, m] : rows) sumRows += pairs(m);
  for (const auto& [key, m] : cols) sumCols += pairs(m);
  const double expected = sumRows * sumCols / pairs(static_cast<double>(x.size()));
  const double maximum = (sumRows + sumCols) / 2;
  if (maximum == expected) return 1.0;
  return (index - expected) / (maximum - expected);
}

}  // namespace clustering_test
