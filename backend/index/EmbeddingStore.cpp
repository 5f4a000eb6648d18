#include "EmbeddingStore.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/HNSW.h>
#include <faiss/utils/Heap.h>
#include <faiss/index_io.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <map>
#include <mutex>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include <ATen/Parallel.h>

#include "Csv.h"
#include "ExactScan.h"
#include "core/Sha256.h"

namespace loupe::index {

namespace fs = std::filesystem;
using nlohmann::json;

const char* indexKindName(IndexKind kind) {
  switch (kind) {
    case IndexKind::Auto: return "auto";
    case IndexKind::Flat: return "flat";
    case IndexKind::Hnsw: return "hnsw";
    case IndexKind::Ivf: return "ivf";
  }
  return "auto";
}

Result<IndexKind> parseIndexKind(const std::string& text) {
  for (IndexKind k : {IndexKind::Auto, IndexKind::Flat, IndexKind::Hnsw, IndexKind::Ivf})
    if (text == indexKindName(k)) return k;
  return Error(ErrorCode::InvalidArgument, "unknown index kind '" + text + "' (expected auto, flat, hnsw or ivf)");
}

std::string describeCalibration(const SearchCalibration& c) {
  char buf[400];
  if (c.reached)
    std::snprintf(buf, sizeof buf,
                  "%s %d reaches recall@%d %.4f (target %.2f, >= %.4f with 95%% confidence; %d stored vectors as "
                  "queries, %s; %d values tried in %.1f s)",
                  c.parameter.c_str(), c.value, c.k, c.recall, c.targetRecall, c.recallLowerBound, c.queries,
                  c.parameter == "ef_search" ? "own graph node skipped" : "own id dropped", c.evaluations, c.seconds);
  else
    std::snprintf(buf, sizeof buf,
                  "the target recall@%d %.2f is not reachable: the best found is %.4f at %s %d (the cap); rebuild with "
                  "a larger --hnsw-m / --ef-construction, or use --kind flat (exact)",
                  c.k, c.targetRecall, c.recall, c.parameter.c_str(), c.value);
  return buf;
}

std::vector<std::int64_t> nonFiniteRows(const torch::Tensor& vectors) {
  std::vector<std::int64_t> rows;
  if (!vectors.defined() || vectors.dim() != 2 || vectors.size(0) == 0) return rows;
  auto bad = (~torch::isfinite(vectors)).any(1).to(torch::kCPU);
  auto idx = bad.nonzero().view(-1).contiguous();
  const auto* p = idx.data_ptr<std::int64_t>();
  rows.assign(p, p + idx.numel());
  return rows;
}

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kVectors = "vectors.f32";
constexpr const char* kMeta = "meta.csv";
constexpr const char* kIndex = "index.faiss";

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hashTensor(const torch::Tensor& t) {
  return Sha256::hex(t.data_ptr(), static_cast<std::size_t>(t.numel()) * t.element_size());
}

torch::Tensor normalisedRows(const torch::Tensor& x) {
  return (x / x.norm(2, 1, true).clamp_min(1e-12)).contiguous();
}

Result<void> writeAtomically(const fs::path& target, const std::function<Result<void>(const fs::path&)>& write) {
  const fs::path tmp = target.string() + ".tmp";
  auto r = write(tmp);
  if (!r) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return r;
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) return Error(ErrorCode::Io, "cannot rename " + tmp.string() + " to " + target.string() + ": " + ec.message());
  return {};
}

Result<void> writeBytes(const fs::path& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error(ErrorCode::Io, "cannot write " + path.string());
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) return Error(ErrorCode::Io, "cannot write " + path.string() + " (disk full?)");
  return {};
}

json optionsJson(const IndexOptions& o) {
  return {{"hnsw_m", o.hnswM},
          {"hnsw_ef_construction", o.hnswEfConstruction},
          {"hnsw_ef_search", o.hnswEfSearch},
          {"ivf_lists", o.ivfLists},
          {"ivf_probe", o.ivfProbe},
          {"seed", o.seed},
          {"target_recall", o.targetRecall},
          {"recall_k", o.recallK},
          {"calibration_queries", o.calibrationQueries},
          {"max_ef_search", o.maxEfSearch}};
}

json calibrationJson(const SearchCalibration& c) {
  return {{"parameter", c.parameter},       {"value", c.value},         {"target_recall", c.targetRecall},
          {"recall", c.recall},             {"recall_lower_bound", c.recallLowerBound},
          {"reached", c.reached},           {"k", c.k},                 {"queries", c.queries},
          {"seed", c.seed},                 {"evaluations", c.evaluations}, {"seconds", c.seconds}};
}

SearchCalibration readCalibration(const json& j) {
  SearchCalibration c;
  c.parameter = j.at("parameter").get<std::string>();
  c.value = j.at("value").get<int>();
  c.targetRecall = j.at("target_recall").get<double>();
  c.recall = j.at("recall").get<double>();
  c.recallLowerBound = j.value("recall_lower_bound", c.recall);
  c.reached = j.at("reached").get<bool>();
  c.k = j.value("k", 10);
  c.queries = j.value("queries", 0);
  c.seed = j.value("seed", std::uint64_t(0));
  c.evaluations = j.value("evaluations", 0);
  c.seconds = j.value("seconds", 0.0);
  c.done = true;
  return c;
}

// `count` distinct rows of 0 .. n-1 drawn with `seed` (partial Fisher-Yates), in draw order.
std::vector<std::int64_t> sampleRows(std::int64_t n, std::int64_t count, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  count = std::min(count, n);
  for (std::int64_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
    std::swap(order[std::size_t(i)], order[std::size_t(pick(rng))]);
  }
  order.resize(std::size_t(count));
  return order;
}

void readOptions(const json& j, IndexOptions& o) {
  o.hnswM = j.value("hnsw_m", o.hnswM);
  o.hnswEfConstruction = j.value("hnsw_ef_construction", o.hnswEfConstruction);
  o.hnswEfSearch = j.value("hnsw_ef_search", o.hnswEfSearch);
  o.ivfLists = j.value("ivf_lists", o.ivfLists);
  o.ivfProbe = j.value("ivf_probe", o.ivfProbe);
  o.seed = j.value("seed", o.seed);
  o.targetRecall = j.value("target_recall", 0.0);  // stores written before calibration existed: none
  o.recallK = j.value("recall_k", o.recallK);
  o.calibrationQueries = j.value("calibration_queries", o.calibrationQueries);
  o.maxEfSearch = j.value("max_ef_search", o.maxEfSearch);
}

// HNSW searches with distances (smaller is closer): inner products negated, as IndexHNSW does internally.
struct NegatedInnerProduct : faiss::DistanceComputer {
  std::unique_ptr<faiss::DistanceComputer> ip;
  explicit NegatedInnerProduct(faiss::DistanceComputer* base) : ip(base) {}
  void set_query(const float* x) override { ip->set_query(x); }
  float operator()(idx_t i) override { return -(*ip)(i); }
  float symmetric_dis(idx_t i, idx_t j) override { return -ip->symmetric_dis(i, j); }
};

// IndexHNSW::search's own loop, with two differences. (1) `skip` (optional, one id per query): that stored
// vector's node is marked visited before the search, so HNSW neither returns it nor walks through its
// neighbour list — the recall calibration searches stored vectors as if they were new queries (a new query
// has no node leading straight to its neighbours). Skipped nodes must live on level 0 only and not be the
// entry point, so that the upper-level descent cannot land on them either. (2) `parallel` false runs on the
// calling thread: for one or a few queries this avoids starting an OpenMP team, whose join on a busy machine
// can cost a scheduler time slice (16 ms measured for one HNSW query that itself takes 0.2 ms).
Result<void> searchHnsw(const faiss::IndexHNSW& index, const float* q, std::int64_t nq, std::int64_t k, float* sims,
                        faiss::Index::idx_t* ids, const std::vector<std::int64_t>* skip, bool parallel) {
  std::string failure;
  std::mutex mutex;
  auto work = [&](std::int64_t begin, std::int64_t end) {
    try {
      faiss::VisitedTable vt(int(index.ntotal));
      NegatedInnerProduct dis(index.storage->get_distance_computer());
      for (std::int64_t i = begin; i < end; ++i) {
        float* d = sims + i * k;
        faiss::Index::idx_t* I = ids + i * k;
        dis.set_query(q + i * index.d);
        faiss::maxheap_heapify(std::size_t(k), d, I);
        if (skip) vt.set(int((*skip)[std::size_t(i)]));  // HNSW::search advances the table when it is done
        index.hnsw.search(dis, int(k), I, d, vt);
        faiss::maxheap_reorder(std::size_t(k), d, I);
        for (std::int64_t j = 0; j < k; ++j) d[j] = -d[j];
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      failure = e.what();
    }
  };
  if (parallel) at::parallel_for(0, nq, 16, work);
  else work(0, nq);
  if (!failure.empty()) return Error(ErrorCode::Internal, "FAISS HNSW search failed: " + failure);
  return {};
}

}  // namespace

struct EmbeddingStore::Impl {
  torch::Tensor vectors;  // float32 [N, D], CPU, contiguous
  MetaTable meta;
  StoreManifest manifest;
  std::unique_ptr<faiss::Index> index;
  IndexKind kind = IndexKind::Auto;
  bool loaded = false;
  fs::path openedFrom;  // folder the vectors and metadata came from unchanged (save skips rewriting them)
  // fp16 copy of the flat index's vectors for ExactScan's half-the-bytes pass, made on the second exact
  // search (a one-shot query, e.g. one `loupe-cli neighbours`, does not pay for it).
  std::vector<std::uint16_t> half;
  int exactSearches = 0;

  void applySearchParameters() {
    if (auto* h = dynamic_cast<faiss::IndexHNSW*>(index.get())) h->hnsw.efSearch = manifest.indexOptions.hnswEfSearch;
    if (auto* v = dynamic_cast<faiss::IndexIVF*>(index.get()))
      v->nprobe = static_cast<std::size_t>(std::clamp<std::int64_t>(manifest.indexOptions.ivfProbe, 1, std::int64_t(v->nlist)));
  }
};

EmbeddingStore::EmbeddingStore() : d_(std::make_unique<Impl>()) {}
EmbeddingStore::~EmbeddingStore() = default;
EmbeddingStore::EmbeddingStore(EmbeddingStore&&) noexcept = default;
EmbeddingStore& EmbeddingStore::operator=(EmbeddingStore&&) noexcept = default;

std::int64_t EmbeddingStore::size() const { return d_->manifest.count; }
std::int64_t EmbeddingStore::dim() const { return d_->manifest.dim; }
const torch::Tensor& EmbeddingStore::vectors() const { return d_->vectors; }
const MetaTable& EmbeddingStore::meta() const { return d_->meta; }
const StoreManifest& EmbeddingStore::manifest() const { return d_->manifest; }
StoreManifest& EmbeddingStore::manifest() { return d_->manifest; }
bool EmbeddingStore::hasIndex() const { return d_->index != nullptr; }
IndexKind EmbeddingStore::indexKind() const { return d_->index ? d_->kind : IndexKind::Auto; }
bool EmbeddingStore::indexWasLoaded() const { return d_->index && d_->loaded; }

Result<void> EmbeddingStore::setSearchOptions(const IndexOptions& options) {
  if (options.hnswEfSearch < 1 || options.ivfProbe < 1)
    return Error(ErrorCode::InvalidArgument, "efSearch and the IVF probe count must be at least 1");
  d_->manifest.indexOptions.hnswEfSearch = options.hnswEfSearch;
  d_->manifest.indexOptions.ivfProbe = options.ivfProbe;
  d_->manifest.indexOptions.targetRecall = 0.0;
  d_->manifest.calibration = {};
  d_->applySearchParameters();
  return {};
}

Result<EmbeddingStore> EmbeddingStore::create(torch::Tensor vectors, MetaTable meta, StoreSource source) {
  if (!vectors.defined() || vectors.dim() != 2 || vectors.size(0) < 1 || vectors.size(1) < 1)
    return Error(ErrorCode::InvalidArgument, "embeddings must be a non-empty 2-D matrix (rows x dimensions)");
  if (!vectors.is_floating_point()) return Error(ErrorCode::InvalidArgument, "embeddings must be floating point");
  vectors = vectors.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto bad = nonFiniteRows(vectors);
  if (!bad.empty())
    return Error(ErrorCode::InvalidArgument, std::to_string(bad.size()) + " row(s) hold NaN or Inf (first: row " +
                                                 std::to_string(bad.front()) + "); drop them before creating a store");
  const std::int64_t n = vectors.size(0);
  if (meta.columns().empty()) meta = MetaTable(n);
  if (meta.rows() != n)
    return Error(ErrorCode::InvalidArgument, "the metadata has " + std::to_string(meta.rows()) + " rows but there are " +
                                                 std::to_string(n) + " embeddings; each embedding needs exactly one metadata row");
  EmbeddingStore store;
  auto& d = *store.d_;
  d.vectors = vectors;
  d.meta = std::move(meta);
  d.manifest.count = n;
  d.manifest.dim = vectors.size(1);
  d.manifest.vectorsSha256 = hashTensor(vectors);
  if (source.created.empty()) source.created = utcNow();
  d.manifest.source = std::move(source);
  return store;
}

Result<void> EmbeddingStore::buildIndex(const IndexOptions& options, const CancelToken& cancel, Progress progress) {
  auto& d = *d_;
  if (!d.vectors.defined()) return Error(ErrorCode::InvalidArgument, "the store holds no vectors");
  if (options.targetRecall < 0.0 || options.targetRecall > 1.0)
    return Error(ErrorCode::InvalidArgument, "the target recall must be between 0 (no calibration) and 1");
  const std::int64_t n = d.manifest.count;
  const int dim = static_cast<int>(d.manifest.dim);
  IndexKind kind = options.kind;
  if (kind == IndexKind::Auto) kind = n <= options.flatMaxRows ? IndexKind::Flat : IndexKind::Hnsw;
  IndexOptions used = options;
  used.kind = kind;
  const bool calibrate = kind != IndexKind::Flat && used.targetRecall > 0.0 && n >= 2;
  Progress buildProgress = progress.slice(0.0, calibrate ? 0.85 : 1.0);
  const torch::Tensor x = normalisedRows(d.vectors);
  const float* xp = x.data_ptr<float>();
  try {
    std::unique_ptr<faiss::Index> index;
    double addBegin = 0.0;
    if (kind == IndexKind::Flat) {
      index = std::make_unique<faiss::IndexFlatIP>(dim);
    } else if (kind == IndexKind::Hnsw) {
      if (used.hnswM < 2 || used.hnswEfConstruction < 1 || used.hnswEfSearch < 1)
        return Error(ErrorCode::InvalidArgument, "HNSW needs M >= 2, efConstruction >= 1 and efSearch >= 1");
      auto h = std::make_unique<faiss::IndexHNSWFlat>(dim, used.hnswM, faiss::METRIC_INNER_PRODUCT);
      h->hnsw.efConstruction = used.hnswEfConstruction;
      h->hnsw.efSearch = used.hnswEfSearch;
      index = std::move(h);
    } else {
      std::int64_t lists = used.ivfLists > 0 ? used.ivfLists : std::int64_t(4 * std::sqrt(double(n)));
      lists = std::clamp<std::int64_t>(lists, 1, std::max<std::int64_t>(1, n / 39));
      if (used.ivfLists > 0 && lists != used.ivfLists && n < std::int64_t(used.ivfLists))
        return Error(ErrorCode::InvalidArgument, "IVF with " + std::to_string(used.ivfLists) + " lists needs at least that many vectors; the store has " + std::to_string(n));
      used.ivfLists = static_cast<int>(lists);
      auto* quantizer = new faiss::IndexFlatIP(dim);
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, std::size_t(lists), faiss::METRIC_INNER_PRODUCT);
      ivf->own_fields = true;
      ivf->cp.seed = static_cast<int>(used.seed & 0x7fffffff);
      ivf->cp.spherical = true;  // centroids on the unit sphere: k-means for cosine similarity
      // Training sample: up to 256 vectors per list, drawn with the seed (faiss would subsample the same way).
      const std::int64_t sample = std::min<std::int64_t>(n, lists * 256);
      auto order = sampleRows(n, sample, used.seed);
      auto rows = torch::from_blob(order.data(), {sample}, torch::kInt64);
      auto train = x.index_select(0, rows).contiguous();
      buildProgress.report(0.0, "training the IVF quantizer (" + std::to_string(lists) + " lists)");
      if (cancel.isCancelled()) return Error::cancelled();
      ivf->train(sample, train.data_ptr<float>());
      addBegin = 0.3;
      index = std::move(ivf);
    }
    // Add in chunks: progress and cancellation between them (HNSW insertion is the slow part).
    const std::int64_t chunk = kind == IndexKind::Flat ? 262144 : std::max<std::int64_t>(4096, n / 100);
    for (std::int64_t b = 0; b < n; b += chunk) {
      if (cancel.isCancelled()) return Error::cancelled();
      const std::int64_t m = std::min(chunk, n - b);
      index->add(m, xp + b * dim);
      buildProgress.report(addBegin + (1.0 - addBegin) * double(b + m) / double(n),
                      std::string("adding vectors to the ") + indexKindName(kind) + " index");
    }
    d.index = std::move(index);
  } catch (const std::exception& e) {
    return Error(ErrorCode::Internal, std::string("FAISS failed to build the ") + indexKindName(kind) + " index: " + e.what());
  }
  d.kind = kind;
  d.loaded = false;
  d.half = {};
  d.exactSearches = 0;
  d.manifest.indexKind = indexKindName(kind);
  d.manifest.indexOptions = used;
  d.manifest.indexVectorsSha256 = d.manifest.vectorsSha256;
  d.manifest.indexFile.clear();
  d.manifest.indexSha256.clear();
  d.manifest.calibration = {};
  d.applySearchParameters();
  if (calibrate) {
    auto c = calibrateSearch(used, cancel, progress.slice(0.85, 1.0));
    if (!c) return c.error();
  }
  return {};
}

Result<SearchCalibration> EmbeddingStore::calibrateSearch(const IndexOptions& options, const CancelToken& cancel,
                                                          Progress progress) {
  auto& d = *d_;
  if (!d.index) return Error(ErrorCode::InvalidArgument, "the store has no index to calibrate; build one first");
  if (!(options.targetRecall > 0.0 && options.targetRecall <= 1.0))
    return Error(ErrorCode::InvalidArgument, "the target recall must be in (0, 1], e.g. 0.95");
  if (options.recallK < 1 || options.calibrationQueries < 1)
    return Error(ErrorCode::InvalidArgument, "calibration needs k >= 1 and at least one query");
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t n = d.manifest.count, dim = d.manifest.dim;
  SearchCalibration c;
  c.targetRecall = options.targetRecall;
  c.seed = options.seed;
  if (d.kind == IndexKind::Flat) {  // exact: nothing to choose
    c.parameter = "exact";
    c.recall = c.recallLowerBound = 1.0;
    c.reached = c.done = true;
    c.k = options.recallK;
    return c;
  }
  if (n < 2) return Error(ErrorCode::InvalidArgument, "recall calibration needs at least 2 stored vectors");
  auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(d.index.get());
  auto* ivf = dynamic_cast<faiss::IndexIVF*>(d.index.get());
  if (!hnsw && !ivf) return Error(ErrorCode::Internal, "recall calibration: unexpected index type");
  const std::int64_t k = std::min<std::int64_t>(options.recallK, n - 1);
  std::int64_t nq = std::min<std::int64_t>(options.calibrationQueries, n);
  c.k = int(k);
  c.parameter = hnsw ? "ef_search" : "nprobe";

  // The queries: sampled stored vectors, normalised as the index holds them.
  progress.report(0.0, "recall calibration: exact neighbours of " + std::to_string(nq) + " sampled vectors");
  torch::Tensor normalised;
  const float* xb = nullptr;
  if (auto* storage = hnsw ? dynamic_cast<faiss::IndexFlat*>(hnsw->storage) : nullptr) {
    xb = storage->get_xb();  // HNSWFlat keeps the normalised vectors: no copy
  } else {
    normalised = normalisedRows(d.vectors);
    xb = normalised.data_ptr<float>();
  }
  auto rows = sampleRows(n, hnsw ? std::min<std::int64_t>(n, 2 * nq + 64) : nq, options.seed);
  if (hnsw) {  // held-out queries need nodes that live on level 0 only (see searchHnsw)
    const auto& levels = hnsw->hnsw.levels;
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](std::int64_t r) { return levels[std::size_t(r)] != 1 || r == hnsw->hnsw.entry_point; }),
               rows.end());
    if (rows.size() > std::size_t(nq)) rows.resize(std::size_t(nq));
    if (rows.size() < 2) return Error(ErrorCode::InvalidArgument, "recall calibration: too few vectors to sample");
  }
  nq = std::int64_t(rows.size());
  auto q = torch::from_blob(const_cast<float*>(xb), {n, dim}, torch::kFloat32)
               .index_select(0, torch::from_blob(rows.data(), {nq}, torch::kInt64))
               .contiguous();
  const float* qp = q.data_ptr<float>();
  c.queries = int(nq);

  // Exact top-(k+1) of each query, then its own id (or, among exact duplicates, the last) dropped.
  const std::int64_t kk = k + 1;
  std::vector<std::vector<std::int64_t>> truth(static_cast<std::size_t>(nq));
  {
    const std::int64_t chunk = kExactScanMaxQueries / 2;
    std::vector<float> s(std::size_t(chunk * kk));
    std::vector<std::int64_t> ids(std::size_t(chunk * kk));
    for (std::int64_t b = 0; b < nq; b += chunk) {
      const std::int64_t m = std::min(chunk, nq - b);
      auto r = exactTopK(xb, n, dim, qp + b * dim, m, kk, s.data(), ids.data(), cancel);
      if (!r) return r.error();
      for (std::int64_t i = 0; i < m; ++i) {
        auto& t = truth[std::size_t(b + i)];
        for (std::int64_t j = 0; j < kk && std::int64_t(t.size()) < k; ++j)
          if (ids[std::size_t(i * kk + j)] != rows[std::size_t(b + i)]) t.push_back(ids[std::size_t(i * kk + j)]);
        std::sort(t.begin(), t.end());
      }
      progress.report(0.5 * double(b + m) / double(nq), "recall calibration: exact neighbours");
    }
  }

  // Recall of the index at one parameter value: mean and one-sided 95% lower bound over the queries.
  struct Measured {
    double mean = 0, lower = 0;
  };
  std::map<int, Measured> seen;
  std::vector<float> sims(std::size_t(nq * kk));
  std::vector<faiss::Index::idx_t> found(std::size_t(nq * kk));
  auto apply = [&](int value) {
    if (hnsw) hnsw->hnsw.efSearch = value;
    if (ivf) ivf->nprobe = std::size_t(value);
  };
  auto measure = [&](int value) -> Result<Measured> {
    if (auto it = seen.find(value); it != seen.end()) return it->second;
    if (cancel.isCancelled()) return Error::cancelled();
    apply(value);
    if (hnsw) {
      auto r = searchHnsw(*hnsw, qp, nq, kk, sims.data(), found.data(), &rows, true);
      if (!r) return r.error();
    } else {
      try {
        d.index->search(nq, qp, kk, sims.data(), found.data());
      } catch (const std::exception& e) {
        return Error(ErrorCode::Internal, std::string("FAISS search failed during recall calibration: ") + e.what());
      }
    }
    double sum = 0, sum2 = 0;
    for (std::int64_t i = 0; i < nq; ++i) {
      const auto& t = truth[std::size_t(i)];
      std::int64_t hit = 0, taken = 0;
      for (std::int64_t j = 0; j < kk && taken < k; ++j) {
        const auto id = found[std::size_t(i * kk + j)];
        if (id < 0 || id == rows[std::size_t(i)]) continue;
        ++taken;
        if (std::binary_search(t.begin(), t.end(), std::int64_t(id))) ++hit;
      }
      const double r = double(hit) / double(k);
      sum += r;
      sum2 += r * r;
    }
    Measured m;
    m.mean = sum / double(nq);
    const double var = nq > 1 ? std::max(0.0, (sum2 - double(nq) * m.mean * m.mean) / double(nq - 1)) : 0.0;
    m.lower = m.mean - 1.6449 * std::sqrt(var / double(nq));
    seen[value] = m;
    progress.report(0.5 + 0.5 * std::min(1.0, double(seen.size()) / 14.0),
                    "recall calibration: " + c.parameter + " " + std::to_string(value) + " gives recall@" +
                        std::to_string(k) + " " + std::to_string(m.mean).substr(0, 6));
    return m;
  };
  const int first = hnsw ? int(std::max<std::int64_t>(16, kk)) : 1;
  const int cap = hnsw ? std::max(first, options.maxEfSearch) : int(ivf->nlist);
  int lo = hnsw ? int(kk) - 1 : 0;  // below this nothing is tried (FAISS raises efSearch to k anyway)
  int hi = -1;
  for (int v = first;; v = int(std::min<std::int64_t>(cap, std::int64_t(v) * 2))) {
    auto m = measure(v);
    if (!m) return m.error();
    if (m->lower >= options.targetRecall) {
      hi = v;
      break;
    }
    lo = v;
    if (v >= cap) break;
  }
  if (hi > 0) {
    while (hi - lo > std::max(1, hi / 16)) {
      const int mid = lo + (hi - lo) / 2;
      auto m = measure(mid);
      if (!m) return m.error();
      if (m->lower >= options.targetRecall) hi = mid;
      else lo = mid;
    }
    c.value = hi;
    c.reached = true;
  } else {
    c.value = std::max_element(seen.begin(), seen.end(), [](const auto& a, const auto& b) {
                return a.second.mean < b.second.mean;
              })->first;
  }
  c.recall = seen[c.value].mean;
  c.recallLowerBound = seen[c.value].lower;
  c.evaluations = int(seen.size());
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.done = true;
  apply(c.value);
  auto& o = d.manifest.indexOptions;
  (hnsw ? o.hnswEfSearch : o.ivfProbe) = c.value;
  o.targetRecall = options.targetRecall;
  o.recallK = options.recallK;
  o.calibrationQueries = options.calibrationQueries;
  o.maxEfSearch = options.maxEfSearch;
  d.manifest.calibration = c;
  progress.report(1.0, "recall calibration done");
  return c;
}

Result<std::vector<std::vector<Neighbour>>> EmbeddingStore::search(const torch::Tensor& queries, int k) {
  auto& d = *d_;
  if (k < 1) return Error(ErrorCode::InvalidArgument, "k must be at least 1");
  if (!queries.defined() || queries.dim() != 2 || queries.size(1) != d.manifest.dim)
    return Error(ErrorCode::InvalidArgument, "queries must be [Q, " + std::to_string(d.manifest.dim) + "] to match the store");
  if (!d.index) {
    auto built = buildIndex();
    if (!built) return built.error();
  }
  auto q = normalisedRows(queries.to(torch::kCPU, torch::kFloat32));
  if (!torch::isfinite(q).all().item<bool>()) return Error(ErrorCode::InvalidArgument, "a query vector holds NaN or Inf");
  const std::int64_t nq = q.size(0);
  const std::int64_t kk = std::min<std::int64_t>(k, d.manifest.count);
  std::vector<float> sims(std::size_t(nq * kk));
  std::vector<faiss::Index::idx_t> ids(std::size_t(nq * kk));
  auto* flat = dynamic_cast<faiss::IndexFlat*>(d.index.get());
  if (flat && nq < kExactScanMaxQueries) {
    // A few exact queries: FAISS scans one query on one thread below its BLAS threshold (20 queries);
    // ExactScan reads the index's own normalised vectors once on every core with a top-k per thread.
    // From the second one on, 1-3 queries take a first pass over an fp16 copy that reads half the bytes
    // (same results, bit for bit).
    static_assert(sizeof(faiss::Index::idx_t) == sizeof(std::int64_t), "FAISS ids are 64-bit");
    const float* xb = flat->get_xb();
    const std::int64_t values = d.manifest.count * d.manifest.dim;
    if (d.half.empty() && ++d.exactSearches >= 2 && values >= (1 << 20) && halfScanAvailable()) {
      d.half.resize(std::size_t(values));
      toHalf(xb, values, d.half.data());
    }
    auto* out = reinterpret_cast<std::int64_t*>(ids.data());
    // The fp16 pass is for 1-3 queries: with 8 its single-row kernel lost to the float32 tiles (202 vs
    // 116 ms at 1e6 x 128, docs/benchmarks.md), which load each row once per 4 queries.
    auto r = d.half.empty() || nq > 3
                 ? exactTopK(xb, d.manifest.count, d.manifest.dim, q.data_ptr<float>(), nq, kk, sims.data(), out)
                 : exactTopKHalf(xb, d.half.data(), d.manifest.count, d.manifest.dim, q.data_ptr<float>(), nq, kk,
                                 sims.data(), out);
    if (!r) return r.error();
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(d.index.get()); hnsw && nq < 4) {
    auto r = searchHnsw(*hnsw, q.data_ptr<float>(), nq, kk, sims.data(), ids.data(), nullptr, false);
    if (!r) return r.error();
  } else {
    try {
      d.index->search(nq, q.data_ptr<float>(), kk, sims.data(), ids.data());
    } catch (const std::exception& e) {
      return Error(ErrorCode::Internal, std::string("FAISS search failed: ") + e.what());
    }
  }
  std::vector<std::vector<Neighbour>> out(static_cast<std::size_t>(nq));
  for (std::int64_t i = 0; i < nq; ++i)
    for (std::int64_t j = 0; j < kk; ++j) {
      const auto id = ids[std::size_t(i * kk + j)];
      if (id >= 0) out[std::size_t(i)].push_back({id, sims[std::size_t(i * kk + j)]});
    }
  return out;
}

Result<std::vector<Neighbour>> EmbeddingStore::neighboursOf(std::int64_t id, int k) {
  if (id < 0 || id >= size())
    return Error(ErrorCode::InvalidArgument, "id " + std::to_string(id) + " is not in the store (ids are 0 to " +
                                                 std::to_string(size() - 1) + ")");
  auto r = search(d_->vectors.slice(0, id, id + 1), k + 1);
  if (!r) return r.error();
  std::vector<Neighbour> out;
  for (const auto& nb : r->front())
    if (nb.id != id && int(out.size()) < k) out.push_back(nb);
  return out;
}

Result<KnnGraph> EmbeddingStore::knnGraph(int k, const CancelToken& cancel, Progress progress, std::int64_t batch) {
  auto& d = *d_;
  const std::int64_t n = size();
  if (k < 1 || k >= n)
    return Error(ErrorCode::InvalidArgument, "a k-NN graph needs 1 <= k < N (k = " + std::to_string(k) + ", N = " +
                                                 std::to_string(n) + ")");
  if (!d.index) {
    auto built = buildIndex({}, cancel, progress.slice(0.0, 0.2));
    if (!built) return built.error();
  }
  batch = std::max<std::int64_t>(1, batch);
  const torch::Tensor x = normalisedRows(d.vectors);
  KnnGraph g;
  g.exact = d.kind == IndexKind::Flat;
  g.indices = torch::empty({n, k}, torch::kInt64);
  g.similarities = torch::empty({n, k}, torch::kFloat32);
  auto* gi = g.indices.data_ptr<std::int64_t>();
  auto* gs = g.similarities.data_ptr<float>();
  const std::int64_t kk = k + 1;
  std::vector<float> sims;
  std::vector<faiss::Index::idx_t> ids;
  Progress p = progress.slice(d.loaded || g.exact ? 0.0 : 0.2, 1.0);
  for (std::int64_t b = 0; b < n; b += batch) {
    if (cancel.isCancelled()) return Error::cancelled();
    const std::int64_t m = std::min(batch, n - b);
    sims.resize(std::size_t(m * kk));
    ids.resize(std::size_t(m * kk));
    try {
      d.index->search(m, x.data_ptr<float>() + b * d.manifest.dim, kk, sims.data(), ids.data());
    } catch (const std::exception& e) {
      return Error(ErrorCode::Internal, std::string("FAISS search failed: ") + e.what());
    }
    for (std::int64_t i = 0; i < m; ++i) {
      const std::int64_t self = b + i;
      std::int64_t out = 0;
      for (std::int64_t j = 0; j < kk && out < k; ++j) {
        const auto id = ids[std::size_t(i * kk + j)];
        if (id == self || id < 0) continue;
        gi[self * k + out] = id;
        gs[self * k + out] = sims[std::size_t(i * kk + j)];
        ++out;
      }
      // An approximate index can return fewer than k others (or miss self): pad with the last one found,
      // or with self at similarity 1 when nothing came back, so every row has k valid entries.
      for (; out < k; ++out) {
        gi[self * k + out] = out > 0 ? gi[self * k + out - 1] : self;
        gs[self * k + out] = out > 0 ? gs[self * k + out - 1] : 1.f;
      }
    }
    p.report(double(b + m) / double(n), "k-NN graph (k = " + std::to_string(k) + ")");
  }
  g.distances = (2.0f - 2.0f * g.similarities).clamp_min(0.0f).sqrt();
  return g;
}

Result<void> EmbeddingStore::save(const std::string& folder, const CancelToken& cancel, Progress progress) {
  auto& d = *d_;
  if (!d.vectors.defined()) return Error(ErrorCode::InvalidArgument, "the store holds no vectors");
  const fs::path dir(folder);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::Io, "cannot create the store folder " + folder + ": " + ec.message());
  const bool sameFolder = !d.openedFrom.empty() && fs::equivalent(d.openedFrom, dir, ec);
  if (!sameFolder) {
    progress.report(0.0, "writing vectors");
    auto w = writeAtomically(dir / kVectors, [&](const fs::path& p) {
      return writeBytes(p, d.vectors.data_ptr(), std::size_t(d.vectors.numel()) * 4);
    });
    if (!w) return w;
    if (cancel.isCancelled()) return Error::cancelled();
    const std::string csv = metaToCsv(d.meta);
    w = writeAtomically(dir / kMeta, [&](const fs::path& p) { return writeBytes(p, csv.data(), csv.size()); });
    if (!w) return w;
  }
  progress.report(0.5, "writing the index");
  if (d.index && d.manifest.indexFile.empty() == false && sameFolder && d.loaded) {
    // index.faiss on disk is the one loaded: nothing to write.
  } else if (d.index) {
    if (cancel.isCancelled()) return Error::cancelled();
    auto w = writeAtomically(dir / kIndex, [&](const fs::path& p) -> Result<void> {
      try {
        faiss::write_index(d.index.get(), p.c_str());
      } catch (const std::exception& e) {
        return Error(ErrorCode::Io, "cannot write " + p.string() + ": " + e.what());
      }
      return {};
    });
    if (!w) return w;
    auto h = Sha256::ofFile((dir / kIndex).string());
    if (!h) return h.error();
    d.manifest.indexFile = kIndex;
    d.manifest.indexSha256 = *h;
  }
  const auto& m = d.manifest;
  json columns = json::array();
  for (const auto& c : d.meta.columns()) columns.push_back({{"name", c.name}, {"type", c.numeric ? "number" : "text"}});
  json j = {{"format", "loupe-embedding-store"},
            {"format_version", m.formatVersion},
            {"count", m.count},
            {"dim", m.dim},
            {"dtype", "float32"},
            {"byte_order", "little"},
            {"vectors", kVectors},
            {"vectors_sha256", m.vectorsSha256},
            {"metadata", kMeta},
            {"columns", columns},
            {"source",
             {{"model_id", m.source.modelId},
              {"model_sha256", m.source.modelSha256},
              {"input", m.source.input},
              {"created", m.source.created}}},
            {"dropped_rows", m.droppedRows}};
  if (!m.indexKind.empty()) {
    json ij = {{"kind", m.indexKind},
               {"file", m.indexFile},
               {"sha256", m.indexSha256},
               {"vectors_sha256", m.indexVectorsSha256},
               {"metric", "inner_product"},
               {"normalised", true}};
    ij.update(optionsJson(m.indexOptions));
    if (m.calibration.done) ij["calibration"] = calibrationJson(m.calibration);
    j["index"] = ij;
  }
  const std::string text = j.dump(2) + "\n";
  auto w = writeAtomically(dir / kManifest, [&](const fs::path& p) { return writeBytes(p, text.data(), text.size()); });
  if (!w) return w;
  d.openedFrom = dir;
  if (d.index) d.loaded = true;  // what is in memory is now what is on disk
  progress.report(1.0, "saved");
  return {};
}

Result<EmbeddingStore> EmbeddingStore::open(const std::string& folder, const OpenOptions& options,
                                            std::vector<std::string>* notices, const CancelToken& cancel, Progress progress) {
  const fs::path dir(folder);
  auto note = [&](const std::string& s) {
    if (notices) notices->push_back(s);
  };
  if (!fs::is_directory(dir)) return Error(ErrorCode::NotFound, "no embedding store at " + folder + " (not a folder)");
  const fs::path manifestPath = dir / kManifest;
  json j;
  {
    std::ifstream in(manifestPath);
    if (!in) return Error(ErrorCode::NotFound, folder + " is not an embedding store: it has no " + kManifest);
    try {
      in >> j;
    } catch (const std::exception& e) {
      return Error(ErrorCode::CorruptData, manifestPath.string() + ": not valid JSON (" + e.what() + ")");
    }
  }
  EmbeddingStore store;
  auto& d = *store.d_;
  auto& m = d.manifest;
  try {
    if (j.value("format", "") != "loupe-embedding-store")
      return Error(ErrorCode::UnsupportedFormat, manifestPath.string() + ": not a Loupe embedding store manifest");
    m.formatVersion = j.at("format_version").get<int>();
    if (m.formatVersion > kStoreFormatVersion)
      return Error(ErrorCode::UnsupportedFormat, folder + " was written by a newer Loupe (store format " +
                                                     std::to_string(m.formatVersion) + "); this one reads format " +
                                                     std::to_string(kStoreFormatVersion));
    m.count = j.at("count").get<std::int64_t>();
    m.dim = j.at("dim").get<std::int64_t>();
    m.vectorsSha256 = j.at("vectors_sha256").get<std::string>();
    if (j.contains("source")) {
      const auto& s = j["source"];
      m.source.modelId = s.value("model_id", "");
      m.source.modelSha256 = s.value("model_sha256", "");
      m.source.input = s.value("input", "");
      m.source.created = s.value("created", "");
    }
    if (j.contains("dropped_rows")) m.droppedRows = j["dropped_rows"].get<std::vector<std::int64_t>>();
    if (j.contains("index")) {
      const auto& ij = j["index"];
      m.indexKind = ij.value("kind", "");
      m.indexFile = ij.value("file", "");
      m.indexSha256 = ij.value("sha256", "");
      m.indexVectorsSha256 = ij.value("vectors_sha256", "");
      readOptions(ij, m.indexOptions);
      if (ij.contains("calibration")) m.calibration = readCalibration(ij["calibration"]);
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::CorruptData, manifestPath.string() + ": " + e.what());
  }
  if (m.count < 1 || m.dim < 1 || m.dim > (1 << 20))
    return Error(ErrorCode::CorruptData, manifestPath.string() + ": bad size " + std::to_string(m.count) + " x " + std::to_string(m.dim));

  // Vectors: size first (a truncated copy is common), then the hash.
  const fs::path vecPath = dir / kVectors;
  std::error_code ec;
  const auto bytes = fs::file_size(vecPath, ec);
  if (ec) return Error(ErrorCode::NotFound, "cannot read " + vecPath.string() + ": " + ec.message());
  const std::uint64_t expected = std::uint64_t(m.count) * std::uint64_t(m.dim) * 4;
  if (bytes != expected)
    return Error(ErrorCode::CorruptData, vecPath.string() + " holds " + std::to_string(bytes) + " bytes; the manifest says " +
                                             std::to_string(m.count) + " x " + std::to_string(m.dim) + " float32 = " +
                                             std::to_string(expected) + " bytes (truncated or replaced?)");
  progress.report(0.0, "reading vectors");
  d.vectors = torch::empty({m.count, m.dim}, torch::kFloat32);
  {
    std::ifstream in(vecPath, std::ios::binary);
    char* p = static_cast<char*>(d.vectors.data_ptr());
    const std::uint64_t block = 64ull << 20;
    for (std::uint64_t off = 0; off < expected; off += block) {
      if (cancel.isCancelled()) return Error::cancelled();
      in.read(p + off, static_cast<std::streamsize>(std::min(block, expected - off)));
      if (!in) return Error(ErrorCode::Io, "cannot read " + vecPath.string());
      progress.report(0.4 * double(off + block) / double(expected), "reading vectors");
    }
  }
  if (options.verifyVectors) {
    progress.report(0.4, "checking the vectors' SHA-256");
    const std::string actual = hashTensor(d.vectors);
    if (actual != m.vectorsSha256) {
      note(vecPath.string() + " does not match the SHA-256 in " + kManifest +
           " (changed after the store was written); its index is treated as stale");
      m.vectorsSha256 = actual;
    }
  }
  const auto bad = nonFiniteRows(d.vectors);
  if (!bad.empty())
    return Error(ErrorCode::CorruptData, vecPath.string() + ": " + std::to_string(bad.size()) +
                                             " row(s) hold NaN or Inf (first: row " + std::to_string(bad.front()) + ")");
  if (cancel.isCancelled()) return Error::cancelled();

  // Metadata.
  const fs::path metaPath = dir / kMeta;
  std::error_code sizeEc;
  if (fs::exists(metaPath) && fs::file_size(metaPath, sizeEc) > 0) {  // empty: a store without columns
    auto csv = readCsv(metaPath.string());
    if (!csv) return csv.error();
    auto meta = metaFromCsv(*csv, metaPath.string());
    if (!meta) return meta.error();
    if (!meta->columns().empty() && meta->rows() != m.count)
      return Error(ErrorCode::CorruptData, metaPath.string() + " has " + std::to_string(meta->rows()) +
                                               " rows but the store holds " + std::to_string(m.count) + " vectors");
    d.meta = meta->columns().empty() ? MetaTable(m.count) : std::move(*meta);
  } else {
    d.meta = MetaTable(m.count);
    if (!fs::exists(metaPath)) note(metaPath.string() + " is missing: the store has no metadata");
  }

  // Index: reloaded only when it was built from exactly these vectors and the file is intact.
  if (options.loadIndex && !m.indexKind.empty()) {
    const fs::path indexPath = dir / (m.indexFile.empty() ? kIndex : m.indexFile);
    std::string why;
    if (m.indexVectorsSha256 != m.vectorsSha256) {
      why = "it was built from other vectors";
    } else if (!fs::exists(indexPath)) {
      why = indexPath.filename().string() + " is missing";
    } else if (options.verifyVectors) {
      progress.report(0.7, "checking the index's SHA-256");
      auto h = Sha256::ofFile(indexPath.string());
      if (!h || *h != m.indexSha256) why = indexPath.filename().string() + " does not match its SHA-256 in the manifest";
    }
    if (why.empty()) {
      progress.report(0.8, "reading the index");
      try {
        std::unique_ptr<faiss::Index> index(faiss::read_index(indexPath.c_str()));
        if (index->d != m.dim || index->ntotal != m.count || index->metric_type != faiss::METRIC_INNER_PRODUCT) {
          why = "it does not match the vectors (dimension, count or metric)";
        } else {
          auto kind = parseIndexKind(m.indexKind);
          d.kind = kind ? *kind : IndexKind::Flat;
          d.index = std::move(index);
          d.loaded = true;
          d.applySearchParameters();
        }
      } catch (const std::exception& e) {
        why = std::string("FAISS cannot read it (") + e.what() + ")";
      }
    }
    if (!why.empty())
      note("the " + m.indexKind + " index in " + folder + " is stale: " + why +
           "; it is rebuilt in memory when needed (write it back with `loupe-cli index --store " + folder + "`)");
  }
  d.openedFrom = dir;
  progress.report(1.0, "store opened");
  return store;
}

}  // namespace loupe::index
