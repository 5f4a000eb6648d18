// loupe-cli neighbours --store STORE (--id N | --image FILE --model PACKAGE) [--k 10] [--recall R] [--json]
// The k nearest stored embeddings (cosine similarity) of a stored item (itself excluded) or of an image
// embedded with the store's model, with their metadata. Uses the store's index as saved; a stale index is
// rebuilt in memory (with a notice). An approximate index's calibration (efSearch / nprobe and its measured
// recall) is printed on stderr; --recall R recalibrates it in memory for recall@k >= R (not saved).
#ifdef LOUPE_HAVE_INDEX

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "Command.h"
#include "EmbedImages.h"
#include "host/ExitCodes.h"
#include "index/EmbeddingStore.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string store, image, model, device = "auto";
  std::int64_t id = -1;
  int k = 10;
  double recall = 0.0;
  bool json = false;
} opt;

int run() {
  if ((opt.id >= 0) == !opt.image.empty()) return fail(host::Usage, "give exactly one of --id N or --image FILE");
  std::vector<std::string> notices;
  auto store = index::EmbeddingStore::open(opt.store, {}, &notices);
  if (!store) return fail(host::BadInput, store.error().message);
  for (const auto& n : notices) std::fprintf(stderr, "loupe-cli: notice: %s\n", n.c_str());
  index::IndexOptions calibration;
  calibration.targetRecall = opt.recall > 0 ? opt.recall : calibration.targetRecall;
  calibration.recallK = opt.recall > 0 ? opt.k : calibration.recallK;
  if (!store->hasIndex()) {
    auto built = store->buildIndex(calibration, interruptToken());
    if (!built) return fail(built.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, built.error().message);
  } else if (opt.recall > 0 && store->indexKind() != index::IndexKind::Flat) {
    const auto& c = store->manifest().calibration;
    if (!c.done || c.targetRecall != opt.recall || c.k != std::min<std::int64_t>(opt.k, store->size() - 1)) {
      auto cal = store->calibrateSearch(calibration, interruptToken());
      if (!cal) return fail(cal.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, cal.error().message);
      std::fprintf(stderr, "loupe-cli: recalibrated in memory (not saved; `loupe-cli index --store %s --recall %g --recall-k %d` keeps it)\n",
                   opt.store.c_str(), opt.recall, opt.k);
    }
  }
  // The index's recall on stderr (JSON consumers get it from manifest.json; a recalibration is always said).
  if (opt.json) {
  } else if (store->indexKind() != index::IndexKind::Flat && store->manifest().calibration.done)
    std::fprintf(stderr, "loupe-cli: %s index: %s\n", index::indexKindName(store->indexKind()),
                 index::describeCalibration(store->manifest().calibration).c_str());
  else if (store->indexKind() != index::IndexKind::Flat)
    std::fprintf(stderr, "loupe-cli: %s index with %s %d, recall not measured (`loupe-cli index --store %s --recall 0.95` measures it)\n",
                 index::indexKindName(store->indexKind()), store->indexKind() == index::IndexKind::Hnsw ? "efSearch" : "nprobe",
                 store->indexKind() == index::IndexKind::Hnsw ? store->manifest().indexOptions.hnswEfSearch
                                                              : store->manifest().indexOptions.ivfProbe,
                 opt.store.c_str());

  Result<std::vector<index::Neighbour>> found = std::vector<index::Neighbour>{};
  if (opt.id >= 0) {
    found = store->neighboursOf(opt.id, opt.k);
  } else {
    if (store->manifest().source.modelId == "precomputed")
      return fail(host::Usage, "the store holds precomputed embeddings: there is no model to embed --image with");
    auto embedder = ImageEmbedder::open(opt.model, opt.device, 1);
    if (!embedder) return fail(embedder.error().code == ErrorCode::DeviceUnavailable ? host::NoDevice : host::BadInput, embedder.error().message);
    if (embedder->package().id != store->manifest().source.modelId)
      return fail(host::BadInput, "the store was made with model '" + store->manifest().source.modelId + "', not '" +
                                      embedder->package().id + "': their embeddings are not comparable");
    auto image = io::loadImage(opt.image);
    if (!image) return fail(host::BadInput, image.error().message);
    auto e = embedder->embed({*image}, interruptToken());
    if (!e) return fail(host::TaskFailed, e.error().message);
    auto r = store->search(*e, opt.k);
    if (r) found = r->front();
    else found = r.error();
  }
  if (!found) return fail(found.error().code == ErrorCode::InvalidArgument ? host::Usage : host::TaskFailed, found.error().message);

  const auto& meta = store->meta();
  if (opt.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& nb : *found) {
      nlohmann::json row = {{"id", nb.id}, {"similarity", nb.similarity}};
      for (const auto& c : meta.columns()) row[c.name] = c.text[std::size_t(nb.id)];
      out.push_back(row);
    }
    std::cout << out.dump(2) << "\n";
    return host::Ok;
  }
  std::printf("rank\tid\tsimilarity");
  for (const auto& c : meta.columns()) std::printf("\t%s", c.name.c_str());
  std::printf("\n");
  int rank = 1;
  for (const auto& nb : *found) {
    std::printf("%d\t%lld\t%.4f", rank++, (long long)nb.id, nb.similarity);
    for (const auto& c : meta.columns()) std::printf("\t%s", c.text[std::size_t(nb.id)].c_str());
    std::printf("\n");
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  group.group("");
  auto* app = group.get_parent()->add_subcommand("neighbours", "Nearest neighbours (cosine) in an embedding store");
  app->alias("neighbors");
  app->add_option("--store", opt.store, "Store folder")->required();
  app->add_option("--id", opt.id, "A stored item (0-based row)")->check(CLI::NonNegativeNumber);
  app->add_option("--image", opt.image, "An image file, embedded with --model");
  app->add_option("--model", opt.model, "The model package that made the store (for --image)");
  app->add_option("--k", opt.k, "Neighbours to list")->check(CLI::Range(1, 10000))->capture_default_str();
  app->add_option("--recall", opt.recall,
                  "HNSW/IVF: recalibrate efSearch / nprobe in memory for this recall@k (default: the store's saved "
                  "calibration)")
      ->check(CLI::Range(0.0, 1.0));
  app->add_option("--device", opt.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app->add_flag("--json", opt.json, "JSON array instead of a table");
  return {app, run};
}

LOUPE_CLI_COMMAND("store", setup);

}  // namespace
}  // namespace loupe::cli

#endif  // LOUPE_HAVE_INDEX
