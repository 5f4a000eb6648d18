// Exact and approximate k-NN through Loupe's EmbeddingStore, with a NumPy peer in the same run:
//  1. Exact search at N = 1e6 (D = 128 and 256): one query per call and 8 queries per call through the store
//     (ExactScan: one pass over the normalised vectors on every core, a top-k per thread; 1-3 queries from
//     the store's second exact search on: over its fp16 copy first, candidates rescored exactly), next to the path
//     it replaced (LibTorch matmul + topk over the same vectors, measured here) and, in the same run on the
//     same vectors, NumPy brute force (tests/bench/faiss_peer.py: normalised matmul + argpartition); plus
//     1000 queries in one call (FAISS IndexFlatIP's sgemm path). Every exact result is checked against
//     FAISS flat's top-10 (ids), the peer's too.
//  2. HNSW (IndexHNSWFlat, inner product) at --hnsw-n vectors (the first rows of the same data): built once,
//     then calibrated for recall@10 0.90 and 0.95 (EmbeddingStore::calibrateSearch: stored vectors as
//     queries, their own graph node skipped); for each, the chosen efSearch, the calibration's own recall and time, and
//     the recall measured here on the 1000 held-out queries against exact search over those rows, with
//     query latency.
//
// Data: clustered synthetic embeddings (1000 Gaussian centres + noise 0.7 per coordinate, seeded,
// tests/support/EmbeddingData.h); queries are 1000 further draws from the same clusters, not stored vectors.
// Usage: bench_faiss [--n 1000000] [--dims 128,256] [--queries 1000] [--hnsw-n 200000] [--hnsw-m 32]
//                    [--ef-construction 80] [--hnsw-dims 128] [--no-peer] [--no-hnsw] [--no-exact] [--work DIR]
#include <torch/types.h>

#include <ATen/Parallel.h>

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

#include "../support/EmbeddingData.h"
#include "core/Device.h"
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
  auto all = test::clustered(n + q, d, 1000, seed, 0.7);
  return {all.slice(0, 0, n).contiguous(), all.slice(0, n, n + q).contiguous()};
}

torch::Tensor ids(const std::vector<std::vector<index::Neighbour>>& r, int k) {
  auto t = torch::full({int64_t(r.size()), k}, -1, torch::kInt64);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < r.size(); ++i)
    for (size_t j = 0; j < r[i].size() && int(j) < k; ++j) a[int64_t(i)][int64_t(j)] = r[i][j].id;
  return t;
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// FAISS flat's full answer (ids and scores) for the held-out queries: mismatches are printed with scores.
std::vector<std::vector<index::Neighbour>> faissAnswer;

// Median latency of `calls` store searches of `per` queries each (queries i*per ...), and the ids found.
std::pair<double, torch::Tensor> perCallMs(index::EmbeddingStore& store, const torch::Tensor& q, int per, int calls) {
  std::vector<double> t;
  auto found = torch::full({int64_t(per) * calls, 10}, -1, torch::kInt64);
  for (int i = 0; i < calls; ++i) {
    auto a = Clock::now();
    auto r = store.search(q.slice(0, int64_t(i) * per, int64_t(i + 1) * per), 10);
    auto b = Clock::now();
    if (!r) {
      std::fprintf(stderr, "search failed: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    t.push_back(ms(a, b));
    found.slice(0, int64_t(i) * per, int64_t(i + 1) * per).copy_(ids(*r, 10));
    for (int j = 0; j < per && !faissAnswer.empty(); ++j) {
      const auto& mine = (*r)[size_t(j)];
      const auto& ref = faissAnswer[size_t(i * per + j)];
      for (size_t m = 0; m < mine.size() && m < ref.size(); ++m)
        if (mine[m].id != ref[m].id)
          std::printf("    query %d rank %zu: FAISS id %lld (%.8f), store id %lld (%.8f)\n", i * per + j, m + 1,
                      (long long)ref[m].id, ref[m].similarity, (long long)mine[m].id, mine[m].similarity);
    }
  }
  return {median(t), found};
}

// The path ExactScan replaced: LibTorch matmul + topk over a normalised copy.
double torchMatmulTopkMs(const torch::Tensor& normalisedBase, const torch::Tensor& q, int per, int calls) {
  std::vector<double> t;
  for (int i = 0; i < calls; ++i) {
    auto qs = q.slice(0, int64_t(i) * per, int64_t(i + 1) * per);
    auto a = Clock::now();
    auto qn = qs / qs.norm(2, 1, true);
    auto top = normalisedBase.matmul(qn.t()).t().topk(10, 1);
    (void)std::get<1>(top).contiguous();
    t.push_back(ms(a, Clock::now()));
  }
  return median(t);
}

double agreement(const torch::Tensor& got, const torch::Tensor& truth) { return test::recallAt(got, truth); }
}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as they are measured, also in a log file
  int64_t n = 1000000, nq = 1000, hnswN = 200000;
  std::vector<int64_t> dims = {128, 256}, hnswDims = {128};
  int hnswM = 32, efC = 80, singles = 200, eights = 50;
  bool peer = true, hnsw = true, exact = true;
  std::string work = (fs::temp_directory_path() / "loupe-bench-faiss").string();
  auto parseList = [](const std::string& text) {
    std::vector<int64_t> out;
    std::stringstream s(text);
    std::string part;
    while (std::getline(s, part, ',')) out.push_back(std::stoll(part));
    return out;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--n") n = std::stoll(next());
    else if (a == "--queries") nq = std::stoll(next());
    else if (a == "--hnsw-n") hnswN = std::stoll(next());
    else if (a == "--hnsw-m") hnswM = std::stoi(next());
    else if (a == "--ef-construction") efC = std::stoi(next());
    else if (a == "--no-peer") peer = false;
    else if (a == "--no-hnsw") hnsw = false;
    else if (a == "--no-exact") exact = false;
    else if (a == "--work") work = next();
    else if (a == "--dims") dims = parseList(next());
    else if (a == "--hnsw-dims") hnswDims = parseList(next());
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  singles = int(std::min<int64_t>(singles, nq));
  eights = int(std::min<int64_t>(eights, nq / 8));
  hnswN = std::min(hnswN, n);
  fs::create_directories(work);
  configureThreads(0);  // one per core, as loupe and loupe-cli do (Debian's LibTorch otherwise uses one)
  std::printf("bench_faiss: N = %lld, %lld held-out queries, k = 10; LibTorch/OpenMP threads %d; HNSW at N = %lld, M %d, "
              "efConstruction %d\n",
              (long long)n, (long long)nq, at::get_num_threads(), (long long)hnswN, hnswM, efC);
  for (const int64_t d : dims) {
    const bool doHnsw = hnsw && std::find(hnswDims.begin(), hnswDims.end(), d) != hnswDims.end();
    if (!exact && !doHnsw) continue;
    auto data = makeData(n, d, nq, 1234 + uint64_t(d));
    auto store = index::EmbeddingStore::create(data.base, {}, {"bench", "", "synthetic", ""});
    if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), 1;
    std::printf("\nD = %lld\n", (long long)d);
    torch::Tensor truth;  // FAISS flat's top-10 of the held-out queries over all N rows
    if (exact) {
      index::IndexOptions flat;
      flat.kind = index::IndexKind::Flat;
      auto t0 = Clock::now();
      if (!store->buildIndex(flat).ok()) return 1;
      auto t1 = Clock::now();
      auto all = store->search(data.queries, 10);  // 1000 queries: FAISS's sgemm path
      auto t2 = Clock::now();
      truth = ids(*all, 10);
      faissAnswer = *all;
      std::printf("  flat index built in %.2f s; %lld queries in one call (FAISS IndexFlatIP sgemm): %.3f ms/query\n",
                  ms(t0, t1) / 1000, (long long)nq, ms(t1, t2) / double(nq));
      auto [one, oneIds] = perCallMs(*store, data.queries, 1, singles);
      auto [eight, eightIds] = perCallMs(*store, data.queries, 8, eights);
      const int threads = at::get_num_threads();
      at::set_num_threads(1);
      auto [one1, one1Ids] = perCallMs(*store, data.queries, 1, std::min(singles, 50));
      auto [eight1, eight1Ids] = perCallMs(*store, data.queries, 8, std::min(eights, 20));
      at::set_num_threads(threads);
      std::printf("  Loupe ExactScan via the store:  1 query: median %.2f ms; 8 queries per call: median %.2f ms "
                  "(%.2f ms/query); top-10 agreement with FAISS flat %.4f / %.4f\n",
                  one, eight, eight / 8, agreement(oneIds, truth.slice(0, 0, singles)),
                  agreement(eightIds, truth.slice(0, 0, int64_t(eights) * 8)));
      std::printf("  Loupe ExactScan on 1 thread:    1 query: median %.2f ms; 8 queries per call: median %.2f ms\n", one1,
                  eight1);
      {
        auto normalised = (data.base / data.base.norm(2, 1, true)).contiguous();
        const double t1q = torchMatmulTopkMs(normalised, data.queries, 1, std::min(singles, 50));
        const double t8q = torchMatmulTopkMs(normalised, data.queries, 8, std::min(eights, 20));
        std::printf("  LibTorch matmul + topk (replaced): 1 query: median %.2f ms; 8 queries per call: median %.2f ms\n",
                    t1q, t8q);
      }
    }

    if (doHnsw) {
      // Exact top-10 of the held-out queries over the first hnswN rows: the ground truth for HNSW.
      auto sub = data.base.slice(0, 0, hnswN).contiguous();
      auto flatSub = index::EmbeddingStore::create(sub, {}, {});
      index::IndexOptions flat;
      flat.kind = index::IndexKind::Flat;
      if (!flatSub->buildIndex(flat).ok()) return 1;
      auto subTruth = ids(*flatSub->search(data.queries, 10), 10);
      flatSub = Error(ErrorCode::Internal, "freed");
      auto hs = index::EmbeddingStore::create(sub, {}, {});
      index::IndexOptions h;
      h.kind = index::IndexKind::Hnsw;
      h.hnswM = hnswM;
      h.hnswEfConstruction = efC;
      h.targetRecall = 0;  // calibrated below, per target
      auto t0 = Clock::now();
      if (!hs->buildIndex(h).ok()) return 1;
      std::printf("  HNSW over the first %lld rows (M %d, efConstruction %d) built in %.1f s\n", (long long)hnswN, hnswM,
                  efC, ms(t0, Clock::now()) / 1000);
      for (double target : {0.90, 0.95}) {
        index::IndexOptions c = h;
        c.targetRecall = target;
        auto cal = hs->calibrateSearch(c);
        if (!cal) return std::fprintf(stderr, "calibration failed: %s\n", cal.error().message.c_str()), 1;
        auto [one, oneIds] = perCallMs(*hs, data.queries, 1, singles);
        auto a = Clock::now();
        auto all = hs->search(data.queries, 10);
        const double batch = ms(a, Clock::now()) / double(nq);
        std::printf("  HNSW target recall@10 %.2f: efSearch %d (calibration: recall %.4f, lower bound %.4f, %d values, "
                    "%.1f s); held-out queries: recall@10 %.4f, 1 query median %.3f ms, %lld in one call %.4f ms/query\n",
                    target, cal->value, cal->recall, cal->recallLowerBound, cal->evaluations, cal->seconds,
                    test::recallAt(ids(*all, 10), subTruth), one, (long long)nq, batch);
      }
    }
    store = Error(ErrorCode::Internal, "freed");  // release the index before the peer loads its copy

    if (peer && exact) {
      const std::string basePath = work + "/base.npy", queryPath = work + "/queries.npy", truthPath = work + "/truth.npy";
      if (!index::writeNpyMatrix(basePath, data.base).ok() || !index::writeNpyMatrix(queryPath, data.queries).ok() ||
          !index::writeNpyMatrix(truthPath, truth.to(torch::kFloat32)).ok())
        return std::fprintf(stderr, "cannot write the peer's inputs to %s\n", work.c_str()), 1;
      const std::string cmd = "/usr/bin/python3 " + std::string(LOUPE_SOURCE_DIR) + "/tests/bench/faiss_peer.py " + basePath +
                              " " + queryPath + " " + truthPath + " " + std::to_string(singles) + " " + std::to_string(eights);
      std::fflush(stdout);
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "the NumPy peer failed (python3-numpy installed?)\n");
      fs::remove(basePath);
      fs::remove(queryPath);
      fs::remove(truthPath);
    }
  }
  return 0;
}
