#include "ExactScan.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace loupe::index {
namespace {

constexpr std::int64_t kBlock = 256;  // rows scored at a time: 256 x queries floats of scores stay in cache
constexpr std::int64_t kStep = 16;    // blocks a thread takes at a time (4096 rows); small stores stay on one thread

// Eight floats; GCC/Clang lower it to one AVX register or two SSE registers. Never a parameter or return
// value (that would change the ABI between the two builds of the kernel).
using v8 = float __attribute__((vector_size(32)));

struct Hit {
  float score;
  std::int64_t id;
};
// Higher score first; the lower id first among equal scores.
inline bool better(const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); }

// Dot products of R consecutive rows with Q consecutive queries; out[c * kBlock + r].
template <int R, int Q>
inline __attribute__((always_inline)) void tile(const float* rows, std::int64_t d, const float* q, float* out) {
  v8 acc[R][Q];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < Q; ++c) acc[r][c] = v8{0, 0, 0, 0, 0, 0, 0, 0};
  std::int64_t j = 0;
  for (; j + 8 <= d; j += 8) {
    v8 x[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) std::memcpy(&x[r], rows + r * d + j, sizeof(v8));
#pragma GCC unroll 4
    for (int c = 0; c < Q; ++c) {
      v8 y;
      std::memcpy(&y, q + c * d + j, sizeof(v8));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][c] += x[r] * y;
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < Q; ++c) {
      const v8& a = acc[r][c];
      float s = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
      for (std::int64_t t = j; t < d; ++t) s += rows[r * d + t] * q[c * d + t];
      out[c * kBlock + r] = s;
    }
}

template <int R, int Q>
inline __attribute__((always_inline)) void rowsTimesQueries(const float* rows, std::int64_t m, std::int64_t d,
                                                            const float* q, float* out) {
  std::int64_t r = 0;
  for (; r + R <= m; r += R) tile<R, Q>(rows + r * d, d, q, out + r);
  for (; r < m; ++r) tile<1, Q>(rows + r * d, d, q, out + r);
}

// Scores of m <= kBlock rows against nq queries into out[q * kBlock + r]: queries four at a time, so a row
// is loaded once per four queries; rows per tile chosen so accumulators and loads fit 16 registers.
inline __attribute__((always_inline)) void scoreBlockImpl(const float* rows, std::int64_t m, std::int64_t d,
                                                          const float* queries, std::int64_t nq, float* out) {
  for (std::int64_t q0 = 0; q0 < nq; q0 += 4) {
    const float* q = queries + q0 * d;
    float* o = out + q0 * kBlock;
    switch (std::min<std::int64_t>(4, nq - q0)) {
      case 4:
        rowsTimesQueries<2, 4>(rows, m, d, q, o);
        break;
      case 3:
        rowsTimesQueries<2, 3>(rows, m, d, q, o);
        break;
      case 2:
        rowsTimesQueries<3, 2>(rows, m, d, q, o);
        break;
      default:
        rowsTimesQueries<4, 1>(rows, m, d, q, o);
        break;
    }
  }
}

using ScoreBlock = void (*)(const float*, std::int64_t, std::int64_t, const float*, std::int64_t, float*);

void scoreBlockBaseline(const float* rows, std::int64_t m, std::int64_t d, const float* queries, std::int64_t nq,
                        float* out) {
  scoreBlockImpl(rows, m, d, queries, nq, out);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same code with AVX2 (8-wide registers): multiply and add stay separate operations (no FMA), so the
// scores equal the baseline build's to the bit.
__attribute__((target("avx2"))) void scoreBlockAvx2(const float* rows, std::int64_t m, std::int64_t d,
                                                    const float* queries, std::int64_t nq, float* out) {
  scoreBlockImpl(rows, m, d, queries, nq, out);
}
ScoreBlock pickKernel() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") ? scoreBlockAvx2 : scoreBlockBaseline;
}
#else
ScoreBlock pickKernel() { return scoreBlockBaseline; }
#endif

}  // namespace

Result<void> exactTopK(const float* base, std::int64_t n, std::int64_t d, const float* queries, std::int64_t nq,
                       std::int64_t k, float* scores, std::int64_t* ids, const CancelToken& cancel) {
  if (n < 1 || d < 1 || nq < 0 || !base || (nq > 0 && (!queries || !scores || !ids)))
    return Error(ErrorCode::InvalidArgument, "exact search needs at least one stored row and one dimension");
  if (k < 1 || k > n)
    return Error(ErrorCode::InvalidArgument, "exact search: k = " + std::to_string(k) + " must be between 1 and the " +
                                                 std::to_string(n) + " stored rows");
  if (nq == 0) return {};
  static const ScoreBlock score = pickKernel();
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  const std::int64_t steps = (blocks + kStep - 1) / kStep;
  const std::int64_t workers = std::max<std::int64_t>(1, std::min<std::int64_t>(at::get_num_threads(), steps));
  std::vector<std::vector<Hit>> merged(static_cast<std::size_t>(nq));
  std::mutex mutex;
  std::atomic<bool> stopped{false};
  std::atomic<std::int64_t> nextStep{0};
  try {
    // One task per thread; each takes steps of 16 blocks from a shared counter until none is left, so a
    // thread that gets less CPU (a busy machine) does less of the work instead of holding everyone up.
    // Which thread scores a row never changes the result: ties are settled by id in the merge.
    at::parallel_for(0, workers, 1, [&](std::int64_t, std::int64_t) {
      std::vector<float> buf(static_cast<std::size_t>(nq * kBlock));
      std::vector<std::vector<Hit>> heaps(static_cast<std::size_t>(nq));
      for (auto& h : heaps) h.reserve(static_cast<std::size_t>(k));
      for (std::int64_t step; (step = nextStep.fetch_add(1, std::memory_order_relaxed)) < steps;)
        for (std::int64_t b = step * kStep, end = std::min(blocks, b + kStep); b < end; ++b) {
          if (cancel.isCancelled() || stopped.load(std::memory_order_relaxed)) {
            stopped = true;
            return;
          }
          const std::int64_t r0 = b * kBlock, m = std::min(kBlock, n - r0);
          score(base + r0 * d, m, d, queries, nq, buf.data());
          for (std::int64_t q = 0; q < nq; ++q) {
            auto& h = heaps[std::size_t(q)];
            const float* s = buf.data() + q * kBlock;
            std::int64_t r = 0;
            for (; r < m && std::int64_t(h.size()) < k; ++r) {
              h.push_back({s[r], r0 + r});
              std::push_heap(h.begin(), h.end(), better);  // front: the weakest of the k kept
            }
            if (r == m) continue;
            // A thread's rows come in ascending id order, so a score equal to the weakest kept one never
            // displaces it (that one has the lower id).
            float threshold = h.front().score;
            for (; r < m; ++r) {
              if (!(s[r] > threshold)) continue;
              std::pop_heap(h.begin(), h.end(), better);
              h.back() = {s[r], r0 + r};
              std::push_heap(h.begin(), h.end(), better);
              threshold = h.front().score;
            }
          }
        }
      std::lock_guard<std::mutex> lock(mutex);
      for (std::int64_t q = 0; q < nq; ++q) {
        auto& out = merged[std::size_t(q)];
        out.insert(out.end(), heaps[std::size_t(q)].begin(), heaps[std::size_t(q)].end());
      }
    });
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, std::string("exact search failed: ") + e.what());
  }
  if (stopped || cancel.isCancelled()) return Error::cancelled();
  for (std::int64_t q = 0; q < nq; ++q) {
    auto& all = merged[std::size_t(q)];
    std::partial_sort(all.begin(), all.begin() + k, all.end(), better);
    for (std::int64_t j = 0; j < k; ++j) {
      scores[q * k + j] = all[std::size_t(j)].score;
      ids[q * k + j] = all[std::size_t(j)].id;
    }
  }
  return {};
}

}  // namespace loupe::index
