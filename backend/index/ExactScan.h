#pragma once
// Exact top-k inner products of a few queries against N stored rows in one pass over the rows.
//
// The rows are split into steps of 4096 that the threads (at::parallel_for, one task per thread) take from
// a shared counter, so a thread that gets less CPU does less of the work; each walks its rows in blocks of
// 256 whose scores (256 x queries floats) stay in the L1/L2 cache, computed by a register-tiled kernel
// (2-4 rows x 1-4 queries per tile, 8-wide vectors; AVX2 when the CPU has it, the same arithmetic on the
// baseline ISA otherwise, so scores are bit-identical on every x86-64 machine), and keeps its own top-k per
// query (a heap of k whose weakest entry is the threshold most scores fail at once). The threads' top-k are
// then merged. No N-sized score array and no second pass: memory traffic is one read of the rows.
//
// Order: score descending, ties by ascending id (the lowest ids win a tie at the k-th place). FAISS's
// IndexFlatIP returns the same top-k scores; among exactly equal scores its order depends on its heap
// layout (e.g. ids 5 3 1 for three equal scores), so ids match FAISS whenever no two scores tie.
// Used by EmbeddingStore::search for a few queries on a flat index and as the ground truth of the
// HNSW/IVF recall calibration. Device-agnostic callers pass CPU memory; this is a CPU scan by design
// (the FAISS indexes live in CPU memory).

#include <cstdint>

#include "core/CancelToken.h"
#include "core/Result.h"

namespace loupe::index {

// Queries at or above this count are better served by FAISS's blocked sgemm (measured on a 2-core EPYC,
// docs/benchmarks.md); below it ExactScan is faster.
constexpr std::int64_t kExactScanMaxQueries = 32;

// `base`: n x d row-major float32; `queries`: nq x d. Writes nq x k scores (descending) and ids into
// `scores` / `ids`; k must be in [1, n]. Cancellation is checked between blocks (returns Error::cancelled()).
Result<void> exactTopK(const float* base, std::int64_t n, std::int64_t d, const float* queries, std::int64_t nq,
                       std::int64_t k, float* scores, std::int64_t* ids, const CancelToken& cancel = {});

// A half-precision (IEEE fp16) copy of the same rows makes a single pass read half the bytes: the scan
// scores every row from the fp16 copy, keeps each row whose approximate score can still be in the top-k
// (within 2 x kHalfScoreBound of the k-th best approximate score), then rescores those rows from the float32
// rows with the very kernel exactTopK uses. The result is exactTopK's, bit for bit: for unit-length rows
// and queries an fp16 rounding moves a score by at most 2^-11 (+ float32 accumulation, subnormals), well
// under the bound, so a true top-k row can never be left out. Needs a CPU with AVX2 and F16C.
constexpr float kHalfScoreBound = 1e-3f;
bool halfScanAvailable();
// `half` must hold n x d fp16 values (see toHalf) of rows with norm <= 1, as must the queries.
Result<void> exactTopKHalf(const float* base, const std::uint16_t* half, std::int64_t n, std::int64_t d,
                           const float* queries, std::int64_t nq, std::int64_t k, float* scores, std::int64_t* ids,
                           const CancelToken& cancel = {});
// Converts `count` floats to fp16 (round to nearest even), on every core. Needs halfScanAvailable().
void toHalf(const float* x, std::int64_t count, std::uint16_t* out);

}  // namespace loupe::index
