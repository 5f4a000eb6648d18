// loupe-cli project --store STORE --method pca [--dims 2] --out proj.csv
// Projects a store's embeddings to 2-D/3-D (or more) and writes id, the coordinates and the metadata as
// CSV. Methods live in projectionMethods() below: adding one (t-SNE, UMAP, ...) is one entry there.
#ifdef LOUPE_HAVE_INDEX

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>

#include "Command.h"
#include "CommonOptions.h"
#include "analysis/Pca.h"
#include "analysis/Tsne.h"
#include "analysis/Umap.h"
#include "core/Device.h"
#include "core/DeviceRequest.h"
#include "host/ExitCodes.h"
#include "index/Csv.h"
#include "index/EmbeddingStore.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string store, method = "pca", out, device = "auto";
  int dims = 2, threads = 0;
  std::uint64_t seed = 42;
  bool quiet = false;
} opt;

// What a projection method gets and gives back.
struct ProjectionRequest {
  index::EmbeddingStore* store = nullptr;  // vectors(), meta(), knnGraph(k) for neighbour-based methods
  int dims = 2;
  std::uint64_t seed = 42;
  torch::Device device = torch::kCPU;
};
struct Projection {
  torch::Tensor coordinates;           // float [N, dims], any device
  std::vector<std::string> notices;    // printed as notices
  std::string summary;                 // one line printed after the run (e.g. explained variance)
};
using ProjectionMethod = std::function<Result<Projection>(const ProjectionRequest&, const CancelToken&, Progress)>;

Result<Projection> projectPca(const ProjectionRequest& r, const CancelToken& cancel, Progress progress) {
  analysis::PcaOptions o;
  o.components = r.dims;
  const auto x = r.store->vectors().to(r.device);
  auto model = analysis::fitPca(x, o, cancel, progress);
  if (!model) return model.error();
  Projection p;
  p.coordinates = model->transform(x);
  p.notices = model->notices;
  char buf[64];
  p.summary = "explained variance ratio:";
  double total = 0;
  for (int i = 0; i < r.dims; ++i) {
    const double v = model->explainedVarianceRatio[i].item<double>();
    total += v;
    std::snprintf(buf, sizeof buf, " %.4f", v);
    p.summary += buf;
  }
  std::snprintf(buf, sizeof buf, " (total %.4f)", total);
  p.summary += buf;
  return p;
}

// t-SNE and UMAP (backend/analysis) on the L2-normalised vectors with the store's neighbour graph (FAISS;
// Euclidean distances of the normalised vectors, i.e. cosine geometry), library defaults otherwise.
Result<analysis::KnnGraph> storeGraph(const ProjectionRequest& r, int k, const CancelToken& cancel, Progress progress,
                                      std::vector<std::string>& notices) {
  if (r.store->size() < 3) return Error(ErrorCode::InvalidArgument, "t-SNE and UMAP need at least 3 embeddings");
  auto g = r.store->knnGraph(k, cancel, progress);
  if (!g) return g.error();
  if (!g->exact) notices.push_back("neighbours from the approximate index (" + std::to_string(k) + " per point)");
  analysis::KnnGraph graph;
  graph.indices = g->indices.to(r.device);
  graph.distances = g->distances.to(r.device);
  graph.metric = analysis::KnnMetric::Euclidean;
  return graph;
}

torch::Tensor unitRows(const ProjectionRequest& r) {
  const torch::Tensor x = r.store->vectors().to(r.device, torch::kFloat32);
  return x / x.norm(2, {1}, true).clamp_min(1e-12);
}

Result<Projection> projectTsne(const ProjectionRequest& r, const CancelToken& cancel, Progress progress) {
  analysis::TsneOptions o;
  o.dims = r.dims;
  o.seed = r.seed;
  Projection p;
  const int k = int(std::min<std::int64_t>(r.store->size() - 1, std::int64_t(3 * o.perplexity + 1)));
  auto graph = storeGraph(r, k, cancel, progress.slice(0.0, 0.2), p.notices);
  if (!graph) return graph.error();
  auto t = analysis::tsne(unitRows(r), o, &*graph, {}, cancel, progress.slice(0.2, 1.0));
  if (!t) return t.error();
  p.coordinates = t->layout;
  char buf[160];
  std::snprintf(buf, sizeof buf, "KL divergence %.4f after %d iterations (perplexity %.0f, %s repulsion)", t->kl,
                t->iterations, o.perplexity, analysis::tsneRepulsionName(t->repulsion));
  p.summary = buf;
  return p;
}

Result<Projection> projectUmap(const ProjectionRequest& r, const CancelToken& cancel, Progress progress) {
  analysis::UmapOptions o;
  o.dims = r.dims;
  o.seed = r.seed;
  Projection p;
  auto graph = storeGraph(r, o.nNeighbors - 1, cancel, progress.slice(0.0, 0.2), p.notices);
  if (!graph) return graph.error();
  auto u = analysis::umap(unitRows(r), o, &*graph, {}, cancel, progress.slice(0.2, 1.0));
  if (!u) return u.error();
  p.coordinates = u->layout;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d epochs (n_neighbors %d, min_dist %.2f: a %.3f, b %.3f)", u->epochs, o.nNeighbors,
                o.minDist, u->a, u->b);
  p.summary = buf;
  return p;
}

// The extension point: method name -> implementation (t-SNE and UMAP get added here).
const std::map<std::string, ProjectionMethod>& projectionMethods() {
  static const std::map<std::string, ProjectionMethod> methods = {
      {"pca", projectPca},
      {"tsne", projectTsne},
      {"umap", projectUmap},
  };
  return methods;
}

std::string methodNames() {
  std::string s;
  for (const auto& [name, fn] : projectionMethods()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

int run() {
  const CancelToken& cancel = interruptToken();
  configureThreads(opt.threads);
  const auto method = projectionMethods().find(opt.method);
  if (method == projectionMethods().end())
    return fail(host::Usage, "--method " + opt.method + ": unknown (available: " + methodNames() + ")");
  auto request = DeviceRequest::parse(opt.device);
  if (!request) return fail(host::Usage, request.error().message);
  auto device = resolveDevice(*request);
  if (!device) return fail(host::NoDevice, device.error().message);
  Progress progress = terminalProgress(opt.quiet);
  std::vector<std::string> notices;
  auto store = index::EmbeddingStore::open(opt.store, {}, &notices, cancel, progress.slice(0.0, 0.2));
  if (!store) {
    finishProgress();
    return fail(exitCodeFor(store.error(), host::BadInput), store.error().message);
  }
  if (opt.dims < 1 || opt.dims > store->dim())
    return fail(host::Usage, "--dims " + std::to_string(opt.dims) + ": the store's embeddings have " + std::to_string(store->dim()) + " dimensions");
  ProjectionRequest r;
  r.store = &*store;
  r.dims = opt.dims;
  r.seed = opt.seed;
  r.device = *device;
  const auto t0 = std::chrono::steady_clock::now();
  auto p = method->second(r, cancel, progress.slice(0.2, 0.95));
  finishProgress();
  for (const auto& n : notices) std::fprintf(stderr, "loupe-cli: notice: %s\n", n.c_str());
  if (!p) return fail(exitCodeFor(p.error(), host::TaskFailed), p.error().message);
  for (const auto& n : p->notices) std::fprintf(stderr, "loupe-cli: notice: %s\n", n.c_str());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  auto coords = p->coordinates.to(torch::kCPU, torch::kFloat32).contiguous();
  if (coords.dim() != 2 || coords.size(0) != store->size() || coords.size(1) != opt.dims)
    return fail(host::Internal, opt.method + " returned a projection of the wrong shape");
  std::ofstream out(opt.out, std::ios::binary | std::ios::trunc);
  if (!out) return fail(host::OutputFailed, "cannot write " + opt.out);
  std::vector<std::string> fields = {"id"};
  const char* axes[] = {"x", "y", "z"};
  for (int d = 0; d < opt.dims; ++d) fields.push_back(opt.dims <= 3 ? axes[d] : "c" + std::to_string(d + 1));
  const auto& meta = store->meta();
  for (const auto& c : meta.columns())
    if (c.name != "id") fields.push_back(c.name);
  out << index::csvRow(fields);
  const float* v = coords.data_ptr<float>();
  char buf[32];
  for (std::int64_t i = 0; i < store->size(); ++i) {
    fields.assign(1, std::to_string(i));
    for (int d = 0; d < opt.dims; ++d) {
      std::snprintf(buf, sizeof buf, "%.7g", double(v[i * opt.dims + d]));
      fields.push_back(buf);
    }
    for (const auto& c : meta.columns())
      if (c.name != "id") fields.push_back(c.text[std::size_t(i)]);
    out << index::csvRow(fields);
  }
  out.close();
  if (!out) return fail(host::OutputFailed, "cannot write " + opt.out + " (disk full?)");
  if (!opt.quiet)
    std::printf("%s of %lld embeddings to %d-D in %.2f s: %s; %s\n", opt.method.c_str(), (long long)store->size(), opt.dims,
                seconds, opt.out.c_str(), p->summary.c_str());
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  group.group("");
  auto* app = group.get_parent()->add_subcommand("project", "Project an embedding store to 2-D/3-D (CSV)");
  app->add_option("--store", opt.store, "Store folder")->required();
  app->add_option("--method", opt.method, "Projection method (pca, tsne, umap)")->capture_default_str();
  app->add_option("--dims", opt.dims, "Output dimensions")->check(CLI::Range(1, 4096))->capture_default_str();
  app->add_option("--out", opt.out, "CSV to write: id, x, y[, z], metadata")->required();
  app->add_option("--seed", opt.seed, "Random seed (for stochastic methods)")->capture_default_str();
  addDeviceOption(app, opt.device);
  addThreadsOption(app, opt.threads);
  addQuietFlag(app, opt.quiet, true, "No progress bar or summary");
  return {app, run};
}

LOUPE_CLI_COMMAND("store", setup);

}  // namespace
}  // namespace loupe::cli

#endif  // LOUPE_HAVE_INDEX
