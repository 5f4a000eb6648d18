#include "ExactScan.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LOUPE_HALF_SCAN 1
#endif

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

Result<void> checkArguments(const float* base, std::int64_t n, std::int64_t d, const float* queries, std::int64_t nq,
                            std::int64_t k, const float* scores, const std::int64_t* ids) {
  if (n < 1 || d < 1 || nq < 0 || !base || (nq > 0 && (!queries || !scores || !ids)))
    return Error(ErrorCode::InvalidArgument, "exact search needs at least one stored row and one dimension");
  if (k < 1 || k > n)
    return Error(ErrorCode::InvalidArgument, "exact search: k = " + std::to_string(k) + " must be between 1 and the " +
                                                 std::to_string(n) + " stored rows");
  return {};
}

// The rows' blocks in steps of kStep, handed to the threads from a shared counter: one task per thread (at
// most one per step), each taking steps until none is left, so a thread that gets less CPU (a busy machine)
// does less of the work instead of holding everyone up. A thread's steps come in ascending order.
struct Steps {
  std::int64_t blocks, steps, workers;
  std::atomic<std::int64_t> next{0};
  explicit Steps(std::int64_t n)
      : blocks((n + kBlock - 1) / kBlock),
        steps((blocks + kStep - 1) / kStep),
        workers(std::max<std::int64_t>(1, std::min<std::int64_t>(at::get_num_threads(), steps))) {}
  // The next step's blocks [begin, end); false when none is left.
  bool take(std::int64_t& begin, std::int64_t& end) {
    const std::int64_t step = next.fetch_add(1, std::memory_order_relaxed);
    if (step >= steps) return false;
    begin = step * kStep;
    end = std::min(blocks, begin + kStep);
    return true;
  }
};

// Keeps the k best (score, id) of a stream of rows in ascending id order; `front()` is the weakest kept.
struct TopHeap {
  std::vector<Hit> h;
  std::int64_t k = 0;
  // Pushes when the heap is not full or `s` beats the weakest; returns the current threshold (the weakest
  // kept score, or -infinity while filling).
  float push(float s, std::int64_t id) {
    if (std::int64_t(h.size()) < k) {
      h.push_back({s, id});
      std::push_heap(h.begin(), h.end(), better);
    } else if (s > h.front().score) {
      std::pop_heap(h.begin(), h.end(), better);
      h.back() = {s, id};
      std::push_heap(h.begin(), h.end(), better);
    }
    return std::int64_t(h.size()) < k ? -std::numeric_limits<float>::infinity() : h.front().score;
  }
};

#ifdef LOUPE_HALF_SCAN
// Approximate scores of m rows stored as fp16 against Q (1..4) float queries; out[c * kBlock + r].
template <int Q>
__attribute__((target("avx2,f16c"))) inline void halfRows(const std::uint16_t* rows, std::int64_t m, std::int64_t d,
                                                         const float* q, float* out) {
  for (std::int64_t r = 0; r < m; ++r) {
    const std::uint16_t* x = rows + r * d;
    __m256 acc[Q];
    for (int c = 0; c < Q; ++c) acc[c] = _mm256_setzero_ps();
    std::int64_t j = 0;
    for (; j + 8 <= d; j += 8) {
      const __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + j)));
      for (int c = 0; c < Q; ++c) acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(xv, _mm256_loadu_ps(q + c * d + j)));
    }
    for (int c = 0; c < Q; ++c) {
      alignas(32) float lanes[8];
      _mm256_store_ps(lanes, acc[c]);
      float s = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
      for (std::int64_t t = j; t < d; ++t) s += _cvtsh_ss(x[t]) * q[c * d + t];
      out[c * kBlock + r] = s;
    }
  }
}

__attribute__((target("avx2,f16c"))) void scoreBlockHalf(const std::uint16_t* rows, std::int64_t m, std::int64_t d,
                                                        const float* queries, std::int64_t nq, float* out) {
  for (std::int64_t q0 = 0; q0 < nq; q0 += 4) {
    const float* q = queries + q0 * d;
    float* o = out + q0 * kBlock;
    switch (std::min<std::int64_t>(4, nq - q0)) {
      case 4: halfRows<4>(rows, m, d, q, o); break;
      case 3: halfRows<3>(rows, m, d, q, o); break;
      case 2: halfRows<2>(rows, m, d, q, o); break;
      default: halfRows<1>(rows, m, d, q, o); break;
    }
  }
}

__attribute__((target("avx2,f16c"))) void toHalfRange(const float* x, std::int64_t count, std::uint16_t* out) {
  std::int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < count; ++i) out[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
#endif

}  // namespace

Result<void> exactTopK(const float* base, std::int64_t n, std::int64_t d, const float* queries, std::int64_t nq,
                       std::int64_t k, float* scores, std::int64_t* ids, const CancelToken& cancel) {
  if (auto ok = checkArguments(base, n, d, queries, nq, k, scores, ids); !ok || nq == 0) return ok;
  static const ScoreBlock score = pickKernel();
  Steps work(n);
  std::vector<std::vector<Hit>> merged(static_cast<std::size_t>(nq));
  std::mutex mutex;
  std::atomic<bool> stopped{false};
  try {
    // Which thread scores a row never changes the result: ties are settled by id in the merge.
    at::parallel_for(0, work.workers, 1, [&](std::int64_t, std::int64_t) {
      std::vector<float> buf(static_cast<std::size_t>(nq * kBlock));
      std::vector<std::vector<Hit>> heaps(static_cast<std::size_t>(nq));
      for (auto& h : heaps) h.reserve(static_cast<std::size_t>(k));
      for (std::int64_t first, end; work.take(first, end);)
        for (std::int64_t b = first; b < end; ++b) {
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

bool halfScanAvailable() {
#ifdef LOUPE_HALF_SCAN
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  }();
  return available;
#else
  return false;
#endif
}

void toHalf(const float* x, std::int64_t count, std::uint16_t* out) {
#ifdef LOUPE_HALF_SCAN
  at::parallel_for(0, count, 1 << 20, [&](std::int64_t b, std::int64_t e) { toHalfRange(x + b, e - b, out + b); });
#else
  (void)x, (void)count, (void)out;
#endif
}

Result<void> exactTopKHalf(const float* base, const std::uint16_t* half, std::int64_t n, std::int64_t d,
                           const float* queries, std::int64_t nq, std::int64_t k, float* scores, std::int64_t* ids,
                           const CancelToken& cancel) {
#ifdef LOUPE_HALF_SCAN
  if (!halfScanAvailable() || !half) return exactTopK(base, n, d, queries, nq, k, scores, ids, cancel);
  if (auto ok = checkArguments(base, n, d, queries, nq, k, scores, ids); !ok || nq == 0) return ok;
  static const ScoreBlock exact = pickKernel();
  constexpr float margin = 2 * kHalfScoreBound;
  Steps work(n);
  // Per query, from every thread: its approximate top-k and its candidates (approximate score within the
  // margin of its running k-th best when seen; that threshold only rises, so nothing that can reach the
  // final top-k is ever dropped).
  std::vector<std::vector<Hit>> approxTop(static_cast<std::size_t>(nq)), candidates(static_cast<std::size_t>(nq));
  std::mutex mutex;
  std::atomic<bool> stopped{false};
  try {
    at::parallel_for(0, work.workers, 1, [&](std::int64_t, std::int64_t) {
      std::vector<float> buf(static_cast<std::size_t>(nq * kBlock));
      std::vector<TopHeap> heaps(static_cast<std::size_t>(nq));
      std::vector<std::vector<Hit>> cand(static_cast<std::size_t>(nq));
      for (auto& h : heaps) h.k = k;
      for (std::int64_t first, end; work.take(first, end);) {
        for (std::int64_t b = first; b < end; ++b) {
          if (cancel.isCancelled() || stopped.load(std::memory_order_relaxed)) {
            stopped = true;
            return;
          }
          const std::int64_t r0 = b * kBlock, m = std::min(kBlock, n - r0);
          scoreBlockHalf(half + r0 * d, m, d, queries, nq, buf.data());
          for (std::int64_t q = 0; q < nq; ++q) {
            auto& h = heaps[std::size_t(q)];
            auto& c = cand[std::size_t(q)];
            const float* s = buf.data() + q * kBlock;
            float threshold = std::int64_t(h.h.size()) < k ? -std::numeric_limits<float>::infinity() : h.h.front().score;
            for (std::int64_t r = 0; r < m; ++r) {
              if (!(s[r] >= threshold - margin)) continue;
              c.push_back({s[r], r0 + r});
              threshold = h.push(s[r], r0 + r);
            }
            if (std::int64_t(c.size()) > 4 * k + 4096) {  // drop what the risen threshold has ruled out
              c.erase(std::remove_if(c.begin(), c.end(), [&](const Hit& x) { return !(x.score >= threshold - margin); }),
                      c.end());
            }
          }
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      for (std::int64_t q = 0; q < nq; ++q) {
        auto& t = approxTop[std::size_t(q)];
        t.insert(t.end(), heaps[std::size_t(q)].h.begin(), heaps[std::size_t(q)].h.end());
        auto& c = candidates[std::size_t(q)];
        c.insert(c.end(), cand[std::size_t(q)].begin(), cand[std::size_t(q)].end());
      }
    });
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, std::string("exact search failed: ") + e.what());
  }
  if (stopped || cancel.isCancelled()) return Error::cancelled();
  // Rescore every candidate within the margin of the final k-th best approximate score, exactly.
  float exactScore[4 * kBlock];
  for (std::int64_t q = 0; q < nq; ++q) {
    auto& t = approxTop[std::size_t(q)];
    std::nth_element(t.begin(), t.begin() + (k - 1), t.end(), better);
    const float kth = t[std::size_t(k - 1)].score;
    TopHeap top;
    top.k = k;
    auto& c = candidates[std::size_t(q)];
    std::sort(c.begin(), c.end(), [](const Hit& a, const Hit& b) { return a.id < b.id; });
    for (const Hit& x : c) {
      if (!(x.score >= kth - margin)) continue;
      exact(base + x.id * d, 1, d, queries + q * d, 1, exactScore);
      top.push(exactScore[0], x.id);
    }
    std::sort(top.h.begin(), top.h.end(), better);
    for (std::int64_t j = 0; j < k; ++j) {
      scores[q * k + j] = top.h[std::size_t(j)].score;
      ids[q * k + j] = top.h[std::size_t(j)].id;
    }
  }
  return {};
#else
  (void)half;
  return exactTopK(base, n, d, queries, nq, k, scores, ids, cancel);
#endif
}

}  // namespace loupe::index
