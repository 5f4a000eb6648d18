// loupe-cli embed --data DIR|fashion-mnist|IDX_DIR|X.npy [--meta CSV] [--labels CSV] [--model PACKAGE]
//                 --out STORE [--index auto|flat|hnsw|ivf|none]
// Builds an embedding store (backend/index/EmbeddingStore.h, docs/embeddings.md) from
//  - a folder of images: labels from the first-level sub-folder names, or from --labels CSV (a `path`
//    column relative to the folder, any other columns become metadata); unreadable images are skipped
//    with a count and their reasons, never fatal;
//  - Fashion-MNIST / MNIST-style IDX files (both splits; label, split and index per row);
//  - precomputed embeddings: a 2-D float32/float64 .npy plus an optional metadata CSV (one row per
//    embedding). Rows with NaN/Inf are dropped and listed (or refused with --refuse-nonfinite).
// Images are embedded in batches with a model package whose output is an embedding or a native package
// trained by `loupe-cli train embeddings`, on --device (CUDA when present with auto).
#ifdef LOUPE_HAVE_INDEX

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "Command.h"
#include "CommonOptions.h"
#include "EmbedImages.h"
#include "core/Sha256.h"
#include "host/ExitCodes.h"
#include "index/Csv.h"
#include "index/EmbeddingStore.h"
#include "index/Npy.h"
#include "train/data/Idx.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string data, meta, labels, model, out, device = "auto", index = "auto";
  int batch = 64, threads = 0;
  bool quiet = false, refuseNonFinite = false, force = false;
} opt;

struct Collected {
  torch::Tensor vectors;
  index::MetaTable meta;
  index::StoreSource source;
};

std::string listRows(const std::vector<std::int64_t>& rows) {
  std::string s;
  for (std::size_t i = 0; i < rows.size() && i < 20; ++i) s += (i ? ", " : "") + std::to_string(rows[i]);
  if (rows.size() > 20) s += ", ... (all in the store's manifest.json, dropped_rows)";
  return s;
}

bool isIdxFolder(const fs::path& p) {
  for (const char* f : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte",
                        "t10k-images-idx3-ubyte.gz"})
    if (fs::exists(p / f)) return true;
  return false;
}

// .npy + optional CSV.
Result<Collected> fromNpy() {
  auto x = index::readNpyMatrix(opt.data);
  if (!x) return x.error();
  Collected c;
  c.vectors = *x;
  const std::int64_t n = x->size(0);
  if (!opt.meta.empty()) {
    auto csv = index::readCsv(opt.meta);
    if (!csv) return csv.error();
    if (std::int64_t(csv->rows.size()) != n)
      return Error(ErrorCode::InvalidArgument, opt.meta + " has " + std::to_string(csv->rows.size()) + " data rows but " +
                                                   opt.data + " has " + std::to_string(n) +
                                                   " embeddings; each embedding needs exactly one metadata row (in the same order)");
    auto meta = index::metaFromCsv(*csv, opt.meta);
    if (!meta) return meta.error();
    c.meta = std::move(*meta);
  } else {
    c.meta = index::MetaTable(n);
  }
  std::vector<std::string> rows;
  for (std::int64_t i = 0; i < n; ++i) rows.push_back(std::to_string(i));
  if (!c.meta.find("row")) (void)c.meta.setColumn("row", std::move(rows));
  c.source.modelId = "precomputed";
  return c;
}

Result<Collected> fromIdx(ImageEmbedder& embedder, const CancelToken& cancel, Progress progress) {
  const std::string folder = opt.data == "fashion-mnist" ? std::string() : opt.data;
  Collected c;
  std::vector<torch::Tensor> parts;
  std::vector<std::string> label, labelId, split, index;
  const train::Split splits[] = {train::Split::Train, train::Split::Test};
  for (int s = 0; s < 2; ++s) {
    auto set = train::loadFashionMnist(splits[s], folder);
    if (!set) return set.error();
    if (embedder.package().format != runtime::ModelFormat::Native)
      return Error(ErrorCode::InvalidArgument, "IDX images are embedded with a native package (trained by `loupe-cli train embeddings`); " +
                                                   embedder.package().id + " is not one");
    const std::int64_t n = set->size();
    const std::int64_t chunk = 4096;
    for (std::int64_t b = 0; b < n; b += chunk) {
      if (cancel.isCancelled()) return Error::cancelled();
      // The native embedder takes the uint8 tensor directly (its own preprocessing).
      auto e = embedder.embedTensor(set->images.narrow(0, b, std::min(chunk, n - b)));
      if (!e) return e.error();
      parts.push_back(*e);
      progress.report((s + double(std::min(n, b + chunk)) / double(n)) / 2.0, "embedding " + std::string(s ? "test" : "train") + " images");
    }
    auto labels = set->labels.to(torch::kInt64).contiguous();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto l = labels[i].item<std::int64_t>();
      label.push_back(l >= 0 && l < std::int64_t(set->classNames.size()) ? set->classNames[std::size_t(l)] : std::to_string(l));
      labelId.push_back(std::to_string(l));
      split.push_back(s ? "test" : "train");
      index.push_back(std::to_string(i));
    }
  }
  c.vectors = torch::cat(parts);
  (void)c.meta.setColumn("label", std::move(label));
  (void)c.meta.setColumn("label_id", std::move(labelId));
  (void)c.meta.setColumn("split", std::move(split));
  (void)c.meta.setColumn("index", std::move(index));
  return c;
}

Result<Collected> fromFolder(ImageEmbedder& embedder, const CancelToken& cancel, Progress progress) {
  const fs::path root(opt.data);
  // What to embed: (path relative to root, metadata cells).
  std::vector<std::string> paths;
  std::map<std::string, std::vector<std::string>> extra;  // column -> cells, per listed path
  std::vector<std::string> columns;
  if (!opt.labels.empty()) {
    auto csv = index::readCsv(opt.labels);
    if (!csv) return csv.error();
    const auto it = std::find(csv->header.begin(), csv->header.end(), "path");
    if (it == csv->header.end())
      return Error(ErrorCode::InvalidArgument, opt.labels + ": needs a 'path' column (image paths relative to " + opt.data + ")");
    const std::size_t pathCol = std::size_t(it - csv->header.begin());
    for (std::size_t c = 0; c < csv->header.size(); ++c)
      if (c != pathCol) columns.push_back(csv->header[c]);
    for (const auto& row : csv->rows) {
      paths.push_back(row[pathCol]);
      for (std::size_t c = 0, k = 0; c < row.size(); ++c)
        if (c != pathCol) extra[columns[k++]].push_back(row[c]);
    }
  } else {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && io::hasImageExtension(it->path().string())) paths.push_back(fs::relative(it->path(), root).generic_string());
    if (ec) return Error(ErrorCode::Io, "cannot list " + opt.data + ": " + ec.message());
    std::sort(paths.begin(), paths.end());
    columns.push_back("label");
    for (const auto& p : paths) {
      const auto slash = p.find('/');
      extra["label"].push_back(slash == std::string::npos ? std::string() : p.substr(0, slash));
    }
  }
  if (paths.empty())
    return Error(ErrorCode::NotFound, opt.data + " holds no images (.jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp)");

  std::vector<torch::Tensor> parts;
  std::vector<bool> kept(paths.size(), false);
  std::vector<std::string> skipped;
  const std::size_t batch = std::size_t(std::max(1, opt.batch));
  for (std::size_t b = 0; b < paths.size(); b += batch) {
    if (cancel.isCancelled()) return Error::cancelled();
    std::vector<Image> images;
    std::vector<std::size_t> which;
    for (std::size_t i = b; i < std::min(paths.size(), b + batch); ++i) {
      const fs::path file = fs::path(paths[i]).is_absolute() ? fs::path(paths[i]) : root / paths[i];
      auto image = io::loadImage(file.string());
      if (!image) {
        skipped.push_back(paths[i] + ": " + image.error().message);
        continue;
      }
      images.push_back(std::move(*image));
      which.push_back(i);
    }
    if (!images.empty()) {
      auto e = embedder.embed(images, cancel);
      if (!e) return e.error();
      parts.push_back(*e);
      for (std::size_t i : which) kept[i] = true;
    }
    progress.report(double(std::min(paths.size(), b + batch)) / double(paths.size()),
                    "embedding images (" + std::to_string(skipped.size()) + " skipped)");
  }
  finishProgress();
  if (!skipped.empty()) {
    std::fprintf(stderr, "loupe-cli: warning: skipped %zu of %zu image(s) that could not be read:\n", skipped.size(), paths.size());
    for (std::size_t i = 0; i < skipped.size() && i < 20; ++i) std::fprintf(stderr, "  %s\n", skipped[i].c_str());
    if (skipped.size() > 20) std::fprintf(stderr, "  ... and %zu more\n", skipped.size() - 20);
  }
  if (parts.empty()) return Error(ErrorCode::InvalidArgument, "none of the " + std::to_string(paths.size()) + " image(s) in " + opt.data + " could be read");
  Collected c;
  c.vectors = torch::cat(parts);
  std::vector<std::string> keptPaths;
  for (std::size_t i = 0; i < paths.size(); ++i)
    if (kept[i]) keptPaths.push_back(paths[i]);
  (void)c.meta.setColumn("path", std::move(keptPaths));
  for (const auto& col : columns) {
    std::vector<std::string> cells;
    for (std::size_t i = 0; i < paths.size(); ++i)
      if (kept[i]) cells.push_back(extra[col][i]);
    (void)c.meta.setColumn(col, std::move(cells));
  }
  return c;
}

int run() {
  const CancelToken& cancel = interruptToken();
  configureThreads(opt.threads);
  auto indexKind = index::IndexKind::Auto;
  if (opt.index != "none") {
    auto k = index::parseIndexKind(opt.index);
    if (!k) return fail(host::Usage, "--index: " + k.error().message + " or none");
    indexKind = *k;
  }
  if (fs::exists(fs::path(opt.out) / "manifest.json") && !opt.force)
    return fail(host::Usage, opt.out + " already holds an embedding store; pass --force to replace it");
  const auto t0 = Clock::now();
  const bool npy = fs::path(opt.data).extension() == ".npy";
  const bool idx = opt.data == "fashion-mnist" || (fs::is_directory(opt.data) && isIdxFolder(opt.data));
  if (!npy && !idx && !fs::is_directory(opt.data))
    return fail(host::BadInput, "--data " + opt.data + ": expected a folder of images, fashion-mnist, a folder of IDX files or a .npy file");
  if (!opt.meta.empty() && !npy) return fail(host::Usage, "--meta goes with a .npy file; for an image folder use --labels");

  Progress progress = terminalProgress(opt.quiet);
  Result<Collected> collected = Error(ErrorCode::Internal, "");
  std::string deviceName = "cpu";
  if (npy) {
    collected = fromNpy();
  } else {
    auto embedder = ImageEmbedder::open(opt.model, opt.device, opt.batch);
    if (!embedder) {
      finishProgress();
      return fail(exitCodeFor(embedder.error(), host::BadInput), embedder.error().message);
    }
    deviceName = embedder->deviceName();
    collected = idx ? fromIdx(*embedder, cancel, progress) : fromFolder(*embedder, cancel, progress);
    if (collected) {
      collected->source.modelId = embedder->package().id;
      auto h = Sha256::ofFile(embedder->package().folder + "/loupe-model.json");
      if (h) collected->source.modelSha256 = *h;
    }
  }
  finishProgress();
  if (!collected) return fail(exitCodeFor(collected.error(), host::BadInput), collected.error().message);
  collected->source.input = opt.data;

  // Non-finite rows: dropped and listed (or refused).
  const auto bad = index::nonFiniteRows(collected->vectors);
  if (!bad.empty()) {
    if (opt.refuseNonFinite)
      return fail(host::BadInput, std::to_string(bad.size()) + " embedding row(s) hold NaN or Inf: " + listRows(bad));
    std::vector<bool> keep(std::size_t(collected->vectors.size(0)), true);
    for (auto r : bad) keep[std::size_t(r)] = false;
    auto mask = torch::ones({collected->vectors.size(0)}, torch::kBool);
    mask.index_fill_(0, torch::tensor(bad, torch::kInt64), false);
    collected->vectors = collected->vectors.index({mask}).contiguous();
    collected->meta = collected->meta.filtered(keep);
    std::fprintf(stderr, "loupe-cli: warning: dropped %zu row(s) holding NaN or Inf (0-based rows of the input): %s\n",
                 bad.size(), listRows(bad).c_str());
    if (collected->vectors.size(0) == 0) return fail(host::BadInput, "every row holds NaN or Inf: nothing left to store");
  }
  auto store = index::EmbeddingStore::create(collected->vectors, std::move(collected->meta), collected->source);
  if (!store) return fail(host::BadInput, store.error().message);
  store->manifest().droppedRows = bad;
  progress = terminalProgress(opt.quiet);
  if (opt.index != "none") {
    index::IndexOptions io;
    io.kind = indexKind;
    auto built = store->buildIndex(io, cancel, progress.slice(0.0, 0.7));
    if (!built) {
      finishProgress();
      return fail(exitCodeFor(built.error(), host::TaskFailed), built.error().message);
    }
  }
  auto saved = store->save(opt.out, cancel, progress.slice(0.7, 1.0));
  finishProgress();
  if (!saved) return fail(exitCodeFor(saved.error(), host::OutputFailed), saved.error().message);
  if (!opt.quiet)
    std::printf("%lld embeddings (%lld-d) from %s, model %s on %s, index %s: %s (%.1f s)\n", (long long)store->size(),
                (long long)store->dim(), opt.data.c_str(), store->manifest().source.modelId.c_str(), deviceName.c_str(),
                store->manifest().indexKind.empty() ? "none" : store->manifest().indexKind.c_str(), opt.out.c_str(),
                std::chrono::duration<double>(Clock::now() - t0).count());
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  group.group("");  // the "store" group only carries top-level commands (embed, index, neighbours, project)
  auto* app = group.get_parent()->add_subcommand("embed", "Embed images, Fashion-MNIST or a .npy into an embedding store");
  app->add_option("--data", opt.data, "Folder of images, fashion-mnist, a folder of IDX files, or embeddings.npy")->required();
  app->add_option("--meta", opt.meta, "Metadata CSV for a .npy (one row per embedding, same order)");
  app->add_option("--labels", opt.labels, "CSV for an image folder: a 'path' column (relative to --data) + metadata columns");
  app->add_option("--model", opt.model, "Model package whose output is an embedding, a package id, or default (the Fashion-MNIST embedder Loupe trained)");
  app->add_option("--out", opt.out, "Store folder to write")->required();
  app->add_option("--index", opt.index, "auto (flat up to 200k vectors, else hnsw), flat, hnsw, ivf or none")->capture_default_str();
  app->add_option("--batch", opt.batch, "Images per forward")->check(CLI::Range(1, 4096))->capture_default_str();
  addDeviceOption(app, opt.device);
  addThreadsOption(app, opt.threads);
  app->add_flag("--refuse-nonfinite", opt.refuseNonFinite, "Fail on NaN/Inf rows instead of dropping and listing them");
  app->add_flag("--force", opt.force, "Replace an existing store");
  addQuietFlag(app, opt.quiet, true, "No progress bar or summary");
  return {app, run};
}

LOUPE_CLI_COMMAND("store", setup);

}  // namespace
}  // namespace loupe::cli

#endif  // LOUPE_HAVE_INDEX
