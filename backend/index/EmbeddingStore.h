#pragma once
// An embedding store: N float32 vectors of dimension D, one metadata row per vector, and a FAISS index
// over the L2-normalised vectors (inner product = cosine similarity), kept together in one folder:
//
//   STORE/manifest.json  format version, N, D, SHA-256 of vectors.f32, the model/source that produced the
//                        vectors, the metadata columns, the index (kind, parameters, file, SHA-256 of the
//                        index file and of the vectors it was built from), rows dropped on import
//   STORE/vectors.f32    N x D float32, little-endian, row-major, as given (not normalised)
//   STORE/meta.csv       RFC 4180 CSV, a header row then one row per vector (id order)
//   STORE/index.faiss    faiss::write_index of the index (absent until an index is built)
//
// open() checks vectors.f32 against the manifest (size, SHA-256) and reloads index.faiss without
// recomputation when it was built from exactly these vectors; otherwise the index is reported stale and
// is rebuilt (in memory, or on disk by `loupe-cli index`). Ids are row numbers 0 .. N-1.
// Documented for users in docs/embeddings.md.

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "MetaTable.h"
#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::index {

constexpr int kStoreFormatVersion = 1;

enum class IndexKind {
  Auto,  // Flat up to IndexOptions::flatMaxRows rows, HNSW above
  Flat,  // exact inner product (faiss::IndexFlatIP)
  Hnsw,  // faiss::IndexHNSWFlat with the inner-product metric (approximate, no training)
  Ivf,   // faiss::IndexIVFFlat over an IndexFlatIP coarse quantizer (approximate, trained by k-means)
};
const char* indexKindName(IndexKind kind);  // "auto", "flat", "hnsw", "ivf"
Result<IndexKind> parseIndexKind(const std::string& text);

struct SearchCalibration;
// One line for users: "ef_search 87 reaches recall@10 0.9620 (target 0.95, ...)" or why the target was missed.
std::string describeCalibration(const SearchCalibration& c);

struct IndexOptions {
  IndexKind kind = IndexKind::Auto;
  std::int64_t flatMaxRows = 200000;  // Auto: exact search up to this many vectors
  int hnswM = 32;                     // HNSW graph degree
  int hnswEfConstruction = 80;
  int hnswEfSearch = 128;             // search-time beam width; used as given only when targetRecall is 0
  int ivfLists = 0;                   // IVF cells; 0: 4 * sqrt(N), clamped to [1, N / 39]
  int ivfProbe = 16;                  // cells visited per query; used as given only when targetRecall is 0
  std::uint64_t seed = 1234;          // IVF training sample and k-means; the calibration sample
  // Recall calibration of an approximate index (see EmbeddingStore::calibrateSearch), run after building
  // HNSW or IVF: the smallest efSearch / nprobe whose recall@recallK reaches targetRecall. 0: off.
  double targetRecall = 0.95;
  int recallK = 10;
  int calibrationQueries = 1000;  // stored vectors sampled as queries (searched as new queries)
  int maxEfSearch = 4096;         // HNSW: give up above this efSearch (IVF: at nprobe = lists, i.e. exact)
};

// What the calibration measured, kept in the manifest with the index (so reopening does not recompute).
struct SearchCalibration {
  bool done = false;
  std::string parameter;          // "ef_search" (HNSW) or "nprobe" (IVF)
  int value = 0;                  // the chosen efSearch / nprobe
  double targetRecall = 0.0;
  double recall = 0.0;            // mean recall@k over the sampled queries at `value`
  double recallLowerBound = 0.0;  // one-sided 95% lower confidence bound of that mean
  bool reached = false;           // recallLowerBound >= targetRecall; false: `value` is the best found up to the cap
  int k = 10;
  int queries = 0;
  std::uint64_t seed = 0;
  int evaluations = 0;            // values of the parameter tried
  double seconds = 0.0;
};

// Where the vectors came from, recorded in the manifest.
struct StoreSource {
  std::string modelId;      // model package id, or "precomputed" for .npy input
  std::string modelSha256;  // the package's manifest hash when there is one
  std::string input;        // the --data argument (folder, IDX folder, .npy file)
  std::string created;      // UTC ISO-8601 time of creation (filled by create() when empty)
};

struct StoreManifest {
  int formatVersion = kStoreFormatVersion;
  std::int64_t count = 0, dim = 0;
  std::string vectorsSha256;
  StoreSource source;
  std::vector<std::int64_t> droppedRows;  // input rows left out on import (non-finite values), 0-based
  // Index part (empty kind: no index yet).
  std::string indexKind;
  std::string indexFile;
  std::string indexSha256;         // of index.faiss
  std::string indexVectorsSha256;  // vectors the index was built from
  IndexOptions indexOptions;
  SearchCalibration calibration;  // of the current approximate index (done = false: none)
};

struct Neighbour {
  std::int64_t id = -1;
  float similarity = 0.f;  // cosine similarity in [-1, 1]
};

// The k nearest neighbours of every stored vector (cosine), self excluded, for t-SNE/UMAP/graph code.
struct KnnGraph {
  torch::Tensor indices;       // int64 [N, k], row i: neighbours of i, most similar first
  torch::Tensor similarities;  // float32 [N, k], cosine similarity
  torch::Tensor distances;     // float32 [N, k], Euclidean distance of the normalised vectors, sqrt(2 - 2 s)
  bool exact = true;           // false when an approximate index (HNSW, IVF) produced it
};

struct OpenOptions {
  bool verifyVectors = true;  // hash vectors.f32 and compare with the manifest
  bool loadIndex = true;      // read index.faiss when it is current
};

class EmbeddingStore {
 public:
  EmbeddingStore();
  ~EmbeddingStore();
  EmbeddingStore(EmbeddingStore&&) noexcept;
  EmbeddingStore& operator=(EmbeddingStore&&) noexcept;

  // A store in memory. vectors: float32 (or float64, converted) [N, D] on any device (copied to the CPU),
  // every value finite (use dropNonFiniteRows first); meta: N rows, or an empty table.
  static Result<EmbeddingStore> create(torch::Tensor vectors, MetaTable meta, StoreSource source);
  // Reads a store folder (see the top of this file); `notices` receives what the user should know
  // (e.g. "index.faiss is stale: it was built from other vectors; rebuild with loupe-cli index").
  static Result<EmbeddingStore> open(const std::string& folder, const OpenOptions& options = {},
                                     std::vector<std::string>* notices = nullptr, const CancelToken& cancel = {},
                                     Progress progress = {});
  // Writes manifest.json, vectors.f32, meta.csv and index.faiss (when built) into `folder` (created), each
  // through a temporary file renamed into place.
  Result<void> save(const std::string& folder, const CancelToken& cancel = {}, Progress progress = {});

  // (Re)builds the index over the L2-normalised vectors, then (HNSW/IVF, targetRecall > 0) calibrates its
  // search parameter. Cancellable; HNSW/IVF report progress per batch.
  Result<void> buildIndex(const IndexOptions& options = {}, const CancelToken& cancel = {}, Progress progress = {});
  bool hasIndex() const;        // built or loaded, and current
  IndexKind indexKind() const;  // Flat / Hnsw / Ivf of the current index (Auto when none)
  bool indexWasLoaded() const;  // true when open() read index.faiss instead of building
  // Search-time parameters of the current index (HNSW efSearch, IVF nprobe), no rebuild; kept in the
  // manifest by the next save(). Drops a stored calibration (it measured another value).
  Result<void> setSearchOptions(const IndexOptions& options);
  // Chooses the HNSW efSearch (IVF nprobe) for a recall the user asks for: `options.calibrationQueries`
  // stored vectors drawn with `options.seed` are searched as new queries (HNSW: their own graph node is
  // skipped, so it cannot lead the search to their neighbours; IVF: their own id is dropped) and compared
  // with their exact top-k among the others (ExactScan); the parameter is doubled until the sample's recall@k reaches
  // `options.targetRecall` with 95% confidence (one-sided lower bound), then bisected down to the smallest
  // such value (within 1/16). When the cap is reached first, the best value found is kept and `reached`
  // is false. The result is applied and stored in the manifest (saved by save()). A flat index needs none:
  // it returns recall 1 without searching. Cancellable; progress per step.
  Result<SearchCalibration> calibrateSearch(const IndexOptions& options, const CancelToken& cancel = {},
                                            Progress progress = {});

  // k nearest stored vectors of each query row (float32 [Q, D], normalised here); builds the default index
  // first when there is none. Results: one list per query, most similar first (fewer than k when N < k).
  // Flat index, fewer than 32 queries: ExactScan (ties to the lowest id); from the second such search on,
  // 1-3 queries scan an fp16 copy first (kept in memory: 2 bytes per value) with the same results. HNSW,
  // fewer than 4 queries: searched on the calling thread.
  Result<std::vector<std::vector<Neighbour>>> search(const torch::Tensor& queries, int k);
  // Neighbours of stored vector `id`, itself excluded.
  Result<std::vector<Neighbour>> neighboursOf(std::int64_t id, int k);
  // k nearest neighbours of every stored vector, self excluded, queried `batch` rows at a time with
  // progress and cancellation between batches. k must be < N.
  Result<KnnGraph> knnGraph(int k, const CancelToken& cancel = {}, Progress progress = {}, std::int64_t batch = 4096);

  std::int64_t size() const;
  std::int64_t dim() const;
  const torch::Tensor& vectors() const;  // float32 [N, D] on the CPU, as stored (not normalised)
  const MetaTable& meta() const;
  const StoreManifest& manifest() const;
  StoreManifest& manifest();

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

// Rows of `vectors` ([N, D]) that hold NaN or +-Inf, ascending. Import code drops them (and their metadata
// rows) and lists them: one broken row should not block exploring a million good ones, and the user sees
// exactly which rows were left out (the manifest keeps them in droppedRows).
std::vector<std::int64_t> nonFiniteRows(const torch::Tensor& vectors);

}  // namespace loupe::index
