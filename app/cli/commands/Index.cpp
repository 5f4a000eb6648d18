// loupe-cli index --store STORE [--kind auto|flat|hnsw|ivf] [--recall R] [--recall-k K] [--hnsw-m M]
//                 [--ef-construction C] [--ef-search E] [--ivf-lists L] [--ivf-probe P] [--force]
// (Re)builds a store's FAISS index over its L2-normalised vectors and writes index.faiss + the manifest.
// HNSW and IVF are then calibrated for --recall (recall@K, default 0.95): the smallest efSearch / nprobe
// that reaches it on a sample of stored vectors, saved with the index and printed. A current index of
// that kind is kept (unless --force); only its calibration is redone when --recall or --recall-k differ.
#ifdef LOUPE_HAVE_INDEX

#include <chrono>
#include <cstdio>

#include "Command.h"
#include "core/Device.h"
#include "host/ExitCodes.h"
#include "index/EmbeddingStore.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string store, kind = "auto";
  int hnswM = 32, efConstruction = 80, efSearch = 128, ivfLists = 0, ivfProbe = 16, threads = 0;
  double recall = 0.95;
  int recallK = 10, calibrationQueries = 1000, maxEfSearch = 4096;
  bool force = false, quiet = false;
  CLI::App* app = nullptr;
} opt;

int run() {
  const CancelToken& cancel = interruptToken();
  configureThreads(opt.threads);
  auto kind = index::parseIndexKind(opt.kind);
  if (!kind) return fail(host::Usage, "--kind: " + kind.error().message);
  Progress progress = terminalProgress(opt.quiet);
  std::vector<std::string> notices;
  auto store = index::EmbeddingStore::open(opt.store, {}, &notices, cancel, progress.slice(0.0, 0.2));
  if (!store) {
    finishProgress();
    return fail(store.error().code == ErrorCode::Cancelled ? host::Cancelled : host::BadInput, store.error().message);
  }
  index::IndexOptions o;
  o.kind = *kind;
  o.hnswM = opt.hnswM;
  o.hnswEfConstruction = opt.efConstruction;
  o.hnswEfSearch = opt.efSearch;
  o.ivfLists = opt.ivfLists;
  o.ivfProbe = opt.ivfProbe;
  // A hand-set --ef-search / --ivf-probe without --recall is used as given.
  const bool searchGiven = opt.app->count("--ef-search") + opt.app->count("--ivf-probe") > 0;
  o.targetRecall = searchGiven && opt.app->count("--recall") == 0 ? 0.0 : opt.recall;
  o.recallK = opt.recallK;
  o.calibrationQueries = opt.calibrationQueries;
  o.maxEfSearch = opt.maxEfSearch;
  auto report = [&](const char* what) {
    const auto& c = store->manifest().calibration;
    if (opt.quiet || !c.done) return;
    std::printf("%s: %s\n", what, index::describeCalibration(c).c_str());
  };
  const auto resolved = o.kind == index::IndexKind::Auto
                            ? (store->size() <= o.flatMaxRows ? index::IndexKind::Flat : index::IndexKind::Hnsw)
                            : o.kind;
  if (store->hasIndex() && store->indexKind() == resolved && !opt.force) {
    const auto& c = store->manifest().calibration;
    const bool approximate = resolved != index::IndexKind::Flat;
    const bool recalibrate = approximate && o.targetRecall > 0 &&
                             (!c.done || c.targetRecall != o.targetRecall || c.k != std::min<std::int64_t>(o.recallK, store->size() - 1));
    if (recalibrate) {
      auto cal = store->calibrateSearch(o, cancel, progress.slice(0.2, 0.95));
      if (!cal) {
        finishProgress();
        return fail(cal.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, cal.error().message);
      }
      auto saved = store->save(opt.store, cancel, progress.slice(0.95, 1.0));
      finishProgress();
      if (!saved) return fail(host::OutputFailed, saved.error().message);
      report((opt.store + ": the " + index::indexKindName(resolved) + " index is current; recalibrated").c_str());
      return host::Ok;
    }
    if (approximate && o.targetRecall == 0 && searchGiven) {  // a hand-set search parameter, no rebuild
      auto set = store->setSearchOptions(o);
      if (set) set = store->save(opt.store, cancel, progress.slice(0.95, 1.0));
      finishProgress();
      if (!set) return fail(host::OutputFailed, set.error().message);
      if (!opt.quiet)
        std::printf("%s: the %s index is current; efSearch %d, nprobe %d (as given; recall not measured)\n",
                    opt.store.c_str(), index::indexKindName(resolved), o.hnswEfSearch, o.ivfProbe);
      return host::Ok;
    }
    finishProgress();
    if (!opt.quiet)
      std::printf("%s: the %s index is current (%lld vectors); nothing to do (--force rebuilds it)\n", opt.store.c_str(),
                  index::indexKindName(resolved), (long long)store->size());
    report(opt.store.c_str());
    return host::Ok;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto built = store->buildIndex(o, cancel, progress.slice(0.2, 0.9));
  if (!built) {
    finishProgress();
    return fail(built.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, built.error().message);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto saved = store->save(opt.store, cancel, progress.slice(0.9, 1.0));
  finishProgress();
  if (!saved) return fail(host::OutputFailed, saved.error().message);
  if (!opt.quiet)
    std::printf("%s: %s index over %lld vectors (%lld-d) built in %.2f s\n", opt.store.c_str(),
                index::indexKindName(store->indexKind()), (long long)store->size(), (long long)store->dim(), seconds);
  report(opt.store.c_str());
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  group.group("");
  auto* app = group.get_parent()->add_subcommand("index", "Build (or rebuild) the FAISS index of an embedding store");
  app->add_option("--store", opt.store, "Store folder (from `loupe-cli embed`)")->required();
  app->add_option("--kind", opt.kind, "auto (flat up to 200k vectors, else hnsw), flat (exact), hnsw or ivf")->capture_default_str();
  app->add_option("--recall", opt.recall,
                  "HNSW/IVF: the recall@K to reach; the smallest efSearch / nprobe that does is chosen and saved (0: use "
                  "--ef-search / --ivf-probe as given, the default when one of them is given)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->add_option("--recall-k", opt.recallK, "K of the recall target")->check(CLI::Range(1, 10000))->capture_default_str();
  app->add_option("--calibration-queries", opt.calibrationQueries, "Stored vectors sampled to measure recall")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--max-ef-search", opt.maxEfSearch, "HNSW: the largest efSearch the calibration tries")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app->add_option("--hnsw-m", opt.hnswM, "HNSW graph degree")->check(CLI::Range(2, 256))->capture_default_str();
  app->add_option("--ef-construction", opt.efConstruction, "HNSW build beam")->check(CLI::Range(1, 4096))->capture_default_str();
  app->add_option("--ef-search", opt.efSearch, "HNSW search beam (recall vs speed)")->check(CLI::Range(1, 4096))->capture_default_str();
  app->add_option("--ivf-lists", opt.ivfLists, "IVF cells (0: 4 sqrt(N))")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  app->add_option("--ivf-probe", opt.ivfProbe, "IVF cells visited per query")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app->add_option("--threads", opt.threads, "CPU threads (default: one per core)")->check(CLI::Range(1, 256));
  app->add_flag("--force", opt.force, "Rebuild even when the index is current");
  app->add_flag("--quiet,-q", opt.quiet, "No progress bar or summary");
  opt.app = app;
  return {app, run};
}

LOUPE_CLI_COMMAND("store", setup);

}  // namespace
}  // namespace loupe::cli

#endif  // LOUPE_HAVE_INDEX
