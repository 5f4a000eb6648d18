// Synthetic embeddings and neighbour-list helpers shared by the index tests and bench_faiss (header-only,
// LibTorch only). Include as "../support/EmbeddingData.h".
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace loupe::test {

// Clustered data (what embeddings look like): `clusters` Gaussian centres (N(0, 1) per coordinate) plus
// N(0, noise^2) per coordinate, seeded. Rows 0 .. n-1; draw more rows than stored to get held-out queries
// from the same clusters.
inline torch::Tensor clustered(std::int64_t n, std::int64_t d, std::int64_t clusters, std::uint64_t seed,
                               double noise = 0.35) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto centres = at::randn({clusters, d}, gen);
  auto which = at::randint(clusters, {n}, gen);
  return (centres.index_select(0, which) + noise * at::randn({n, d}, gen)).contiguous();
}

// Exact top-k cosine neighbours in float64 (ids, similarities), most similar first; the diagonal (self) is
// excluded when `excludeSelf` (queries are then the base rows themselves).
inline std::pair<torch::Tensor, torch::Tensor> exactKnn(const torch::Tensor& base, const torch::Tensor& queries, int k,
                                                        bool excludeSelf) {
  auto b = base.to(torch::kFloat64);
  b = b / b.norm(2, 1, true);
  auto q = queries.to(torch::kFloat64);
  q = q / q.norm(2, 1, true);
  auto s = q.matmul(b.t());
  if (excludeSelf) s.fill_diagonal_(-10.0);
  auto top = s.topk(k, 1);
  return {std::get<1>(top), std::get<0>(top)};
}

// recall@k: the share of `truth`'s ids (int64 [Q, k]) found in the same row of `got` (int64 [Q, k'], -1 for
// none), averaged over all rows.
inline double recallAt(const torch::Tensor& got, const torch::Tensor& truth) {
  std::int64_t hit = 0;
  auto g = got.accessor<std::int64_t, 2>();
  auto t = truth.accessor<std::int64_t, 2>();
  for (std::int64_t i = 0; i < got.size(0); ++i)
    for (std::int64_t b = 0; b < truth.size(1); ++b)
      for (std::int64_t a = 0; a < got.size(1); ++a)
        if (g[i][a] == t[i][b]) {
          ++hit;
          break;
        }
  return double(hit) / double(truth.numel());
}

}  // namespace loupe::test
