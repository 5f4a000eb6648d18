// FAISS query latency through Loupe's EmbeddingStore at 1e6 vectors (D = 128 and 256): exact inner
// product (IndexFlatIP) vs HNSW (IndexHNSWFlat, inner product), one query at a time and 1000 queries in
// one call; HNSW recall@10 against the exact results; HNSW build time. The peer, run in the same process
// run on the same vectors: NumPy brute force (normalised matmul + argpartition, tests/bench/faiss_peer.py
// with /usr/bin/python3), whose top-10 is also checked against FAISS flat.
//
// Data: clustered synthetic embeddings (1000 Gaussian centres + noise, seeded), the shape real embedding
// sets have; queries are 1000 further draws from the same clusters, not stored vectors.
// Usage: bench_faiss [--n 1000000] [--dims 128,256] [--queries 1000] [--hnsw-m 16] [--ef-construction 40]
//                    [--no-peer] [--no-hnsw] [--work DIR]
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "index/EmbeddingStore.h"
#include "index/Npy.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {
double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

struct Data {
  torch::Tensor base, queries;
};
Data makeData(int64_t n, int64_t d, int64_t q, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto centres = at::randn({1000, d}, gen);
  auto which = at::randint(1000, {n + q}, gen);
  auto all = centres.index_select(0, which) + 0.7 * at::randn({n + q, d}, gen);
  return {all.slice(0, 0, n).contiguous(), all.slice(0, n, n + q).contiguous()};
}

torch::Tensor ids(const std::vector<std::vector<index::Neighbour>>& r, int k) {
  auto t = torch::full({int64_t(r.size()), k}, -1, torch::kInt64);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t j = 0; j < r[i].size() && int(j) < k; ++j) a[int64_t(i)][int64_t(j)] = r[i][j].id;
  return t;
}
double recallAt(const torch::Tensor& got, const torch::Tensor& truth) {
  int64_t hit = 0;
  auto g = got.accessor<int64_t, 2>();
  auto t = truth.accessor<int64_t, 2>();
  for (int64_t i = 0; i < got.size(0); ++i)
    for (int64_t a = 0; a < got.size(1); ++a)
      for (int64_t b = 0; b < truth.size(1); ++b)
        if (g[i][a] == t[i][b]) {
          ++hit;
          break;
        }
  return double(hit) / double(truth.numel());
}

// Median and mean of per-query latency, one query per call.
std::pair<double, double> singleQueryMs(index::EmbeddingStore& store, const torch::Tensor& q, int count) {
  std::vector<double> t;
  for (int i = 0; i < count; ++i) {
    auto a = Clock::now();
    auto r = store.search(q.slice(0, i, i + 1), 10);
    auto b = Clock::now();
    if (!r) {
      std::fprintf(stderr, "search failed: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    t.push_back(ms(a, b));
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], std::accumulate(t.begin(), t.end(), 0.0) / double(t.size())};
}
}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as they are measured, also in a log file
  int64_t n = 1000000, nq = 1000;
  std::vector<int64_t> dims = {128, 256};
  int hnswM = 16, efC = 40, singles = 200;
  bool peer = true, hnsw = true;
  std::string work = (fs::temp_directory_path() / "loupe-bench-faiss").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--n") n = std::stoll(next());
    else if (a == "--queries") nq = std::stoll(next());
    else if (a == "--hnsw-m") hnswM = std::stoi(next());
    else if (a == "--ef-construction") efC = std::stoi(next());
    else if (a == "--no-peer") peer = false;
    else if (a == "--no-hnsw") hnsw = false;
    else if (a == "--work") work = next();
    else if (a == "--dims") {
      dims.clear();
      std::stringstream s(next());
      std::string part;
      while (std::getline(s, part, ',')) dims.push_back(std::stoll(part));
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  singles = int(std::min<int64_t>(singles, nq));
  fs::create_directories(work);
  std::printf("bench_faiss: N = %lld, %lld queries, k = 10, HNSW M = %d efConstruction = %d; threads: FAISS OpenMP default\n",
              (long long)n, (long long)nq, hnswM, efC);
  for (const int64_t d : dims) {
    auto data = makeData(n, d, nq, 1234 + uint64_t(d));
    auto store = index::EmbeddingStore::create(data.base, {}, {"bench", "", "synthetic", ""});
    if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), 1;

    // Exact.
    index::IndexOptions flat;
    flat.kind = index::IndexKind::Flat;
    auto t0 = Clock::now();
    if (!store->buildIndex(flat).ok()) return 1;
    auto t1 = Clock::now();
    std::printf("\nD = %lld: flat index built in %.2f s\n", (long long)d, ms(t0, t1) / 1000);
    auto [flatMed, flatMean] = singleQueryMs(*store, data.queries, singles);
    t0 = Clock::now();
    auto exact = store->search(data.queries, 10);
    t1 = Clock::now();
    const double flatBatch = ms(t0, t1) / double(nq);
    auto truth = ids(*exact, 10);
    std::printf("  Loupe/FAISS flat (exact):   1 query: median %.2f ms, mean %.2f ms; %lld queries in one call: %.3f ms/query\n",
                flatMed, flatMean, (long long)nq, flatBatch);

    // HNSW.
    index::IndexOptions h;
    h.kind = index::IndexKind::Hnsw;
    h.hnswM = hnswM;
    h.hnswEfConstruction = efC;
    t0 = Clock::now();
    if (hnsw && !store->buildIndex(h).ok()) return 1;
    t1 = Clock::now();
    if (hnsw) std::printf("  HNSW (M %d, efConstruction %d) built in %.1f s\n", hnswM, efC, ms(t0, t1) / 1000);
    for (int ef : {32, 64, 128, 256}) {
      if (!hnsw) break;
      index::IndexOptions e = h;
      e.hnswEfSearch = ef;
      if (!store->setSearchOptions(e).ok()) return 1;
      auto [med, mean] = singleQueryMs(*store, data.queries, singles);
      t0 = Clock::now();
      auto approx = store->search(data.queries, 10);
      t1 = Clock::now();
      const double r = recallAt(ids(*approx, 10), truth);
      std::printf("  Loupe/FAISS HNSW efSearch %3d: 1 query: median %.3f ms, mean %.3f ms; batch: %.4f ms/query; recall@10 %.4f\n",
                  ef, med, mean, ms(t0, t1) / double(nq), r);
    }
    store = Error(ErrorCode::Internal, "freed");  // release the index before the peer loads its copy

    if (peer) {
      const std::string basePath = work + "/base.npy", queryPath = work + "/queries.npy", truthPath = work + "/truth.npy";
      if (!index::writeNpyMatrix(basePath, data.base).ok() || !index::writeNpyMatrix(queryPath, data.queries).ok() ||
          !index::writeNpyMatrix(truthPath, truth.to(torch::kFloat32)).ok())
        return std::fprintf(stderr, "cannot write the peer's inputs to %s\n", work.c_str()), 1;
      const std::string cmd = "/usr/bin/python3 " + std::string(LOUPE_SOURCE_DIR) + "/tests/bench/faiss_peer.py " + basePath +
                              " " + queryPath + " " + truthPath + " " + std::to_string(singles);
      std::fflush(stdout);
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "the NumPy peer failed (python3-numpy installed?)\n");
      fs::remove(basePath);
      fs::remove(queryPath);
      fs::remove(truthPath);
    }
  }
  return 0;
}
