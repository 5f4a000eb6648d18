#include "Hdbscan.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace loupe::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string mebibytes(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

// ---- Prim's algorithm ---------------------------------------------------------------------------------
// With core distances given, an edge weighs max(w[i][j], core[i], core[j]): the mutual reachability is
// taken on the fly instead of being written into the N x N matrix.

template <class T>
Result<std::vector<MstEdge>> primHostLoop(const torch::Tensor& weights, const torch::Tensor& core,
                                          const CancelToken& cancel) {
  const std::int64_t n = weights.size(0);
  const T* w = weights.data_ptr<T>();
  const std::vector<T> floor = core.defined() ? std::vector<T>(core.data_ptr<T>(), core.data_ptr<T>() + n)
                                              : std::vector<T>(static_cast<std::size_t>(n), T(0));
  std::vector<T> dist(n, std::numeric_limits<T>::infinity());
  std::vector<std::int64_t> source(n, 0);
  // Vertices not yet in the tree, kept compact: each step scans only those.
  std::vector<std::int64_t> outside(n - 1);
  std::iota(outside.begin(), outside.end(), std::int64_t(1));
  std::vector<MstEdge> edges;
  edges.reserve(n > 0 ? n - 1 : 0);
  std::int64_t current = 0;
  while (!outside.empty()) {
    if ((edges.size() & 255) == 0 && cancel.isCancelled()) return Error::cancelled();
    const T* row = w + current * n;
    const T rowFloor = floor[current];
    T best = std::numeric_limits<T>::infinity();
    std::size_t bestAt = 0;
    std::int64_t bestVertex = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < outside.size(); ++i) {
      const std::int64_t j = outside[i];
      const T v = std::max(row[j], std::max(rowFloor, floor[j]));
      if (v < dist[j]) {
        dist[j] = v;
        source[j] = current;
      }
      // Lower index on ties, like a scan in index order would pick.
      if (dist[j] < best || (dist[j] == best && j < bestVertex)) {
        best = dist[j];
        bestAt = i;
        bestVertex = j;
      }
    }
    if (bestVertex == std::numeric_limits<std::int64_t>::max()) bestVertex = outside[bestAt];  // all infinite
    edges.push_back({source[bestVertex], bestVertex, static_cast<double>(dist[bestVertex])});
    outside[bestAt] = outside.back();
    outside.pop_back();
    current = bestVertex;
  }
  return edges;
}

Result<std::vector<MstEdge>> primTensorOps(const torch::Tensor& weights, const torch::Tensor& core,
                                           const CancelToken& cancel) {
  const std::int64_t n = weights.size(0);
  const auto longs = torch::TensorOptions().dtype(torch::kLong).device(weights.device());
  torch::Tensor dist = torch::full({n}, std::numeric_limits<double>::infinity(), weights.options());
  torch::Tensor source = torch::zeros({n}, longs);
  torch::Tensor inTree = torch::zeros({n}, longs.dtype(torch::kBool));
  torch::Tensor from = torch::empty({std::max<std::int64_t>(n - 1, 0)}, longs);
  torch::Tensor to = torch::empty_like(from);
  torch::Tensor weight = torch::empty({std::max<std::int64_t>(n - 1, 0)}, weights.options());
  torch::Tensor current = torch::zeros({1}, longs);
  for (std::int64_t step = 0; step + 1 < n; ++step) {
    if ((step & 255) == 0 && cancel.isCancelled()) return Error::cancelled();
    inTree.index_fill_(0, current, true);
    torch::Tensor row = weights.index_select(0, current).squeeze(0);
    if (core.defined()) row = torch::maximum(row, torch::maximum(core, core.index_select(0, current)));
    const torch::Tensor closer = row < dist;
    dist = torch::where(closer, row, dist);
    source = torch::where(closer, current.expand({n}), source);
    // argmin returns the first minimum: the lower index on ties.
    const torch::Tensor next = dist.masked_fill(inTree, std::numeric_limits<double>::infinity()).argmin().view({1});
    to.narrow(0, step, 1).copy_(next);
    from.narrow(0, step, 1).copy_(source.index_select(0, next));
    weight.narrow(0, step, 1).copy_(dist.index_select(0, next));
    current = next;
  }
  const torch::Tensor f = from.cpu(), t = to.cpu(), w = weight.to(torch::kCPU, torch::kDouble);
  std::vector<MstEdge> edges(static_cast<std::size_t>(std::max<std::int64_t>(n - 1, 0)));
  for (std::size_t i = 0; i < edges.size(); ++i)
    edges[i] = {f.data_ptr<std::int64_t>()[i], t.data_ptr<std::int64_t>()[i], w.data_ptr<double>()[i]};
  return edges;
}

// ---- distances ----------------------------------------------------------------------------------------

// The k-th smallest (1-based) of n values in [0, hi]: a 1024-bucket histogram finds the bucket that
// holds it, and only that bucket's values are partially sorted. Bucket = floor(v * scale) is
// non-decreasing in v in floating point too, so lower buckets hold only values <= those of higher ones.
// About 4x faster than std::nth_element on rows of thousands, and 8x faster than LibTorch's kthvalue.
template <class T>
T kthSmallest(const T* v, std::int64_t n, int k, T hi, std::vector<std::int32_t>& hist, std::vector<T>& pick) {
  if (!(hi > 0)) return T(0);
  constexpr int buckets = 1024;
  const T scale = T(buckets) / hi;
  auto bucketOf = [&](T x) { return std::min(buckets - 1, static_cast<int>(x * scale)); };
  hist.assign(buckets, 0);
  for (std::int64_t j = 0; j < n; ++j) ++hist[bucketOf(v[j])];
  int target = 0;
  std::int64_t below = 0;
  while (below + hist[target] < k) below += hist[target++];
  pick.clear();
  for (std::int64_t j = 0; j < n; ++j)
    if (bucketOf(v[j]) == target) pick.push_back(v[j]);
  const auto kth = pick.begin() + (k - 1 - below);
  std::nth_element(pick.begin(), kth, pick.end());
  return *kth;
}

// The k-th smallest of each row of a contiguous CPU block of distances (>= 0), rows in parallel.
template <class T>
void kthSmallestRows(const torch::Tensor& rows, int k, torch::Tensor out) {
  const std::int64_t n = rows.size(1);
  const torch::Tensor rowMax = rows.amax(1).contiguous();
  const T* src = rows.data_ptr<T>();
  const T* hi = rowMax.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, rows.size(0), 8, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::int32_t> hist;
    std::vector<T> pick;
    for (std::int64_t i = begin; i < end; ++i) dst[i] = kthSmallest(src + i * n, n, k, hi[i], hist, pick);
  });
}

// m[i][j] = m[j][i] for rows [s, s + b) and columns [0, s) of a contiguous CPU [n, n] matrix, in tiles
// that stay in cache (a strided copy_ of the transpose is several times slower).
template <class T>
void mirrorLower(torch::Tensor& matrix, std::int64_t s, std::int64_t b) {
  const std::int64_t n = matrix.size(0);
  T* m = matrix.data_ptr<T>();
  constexpr std::int64_t tile = 64;
  at::parallel_for(0, (s + tile - 1) / tile, 1, [&](std::int64_t t0, std::int64_t t1) {
    for (std::int64_t jt = t0 * tile; jt < std::min(s, t1 * tile); jt += tile)
      for (std::int64_t it = s; it < s + b; it += tile)
        for (std::int64_t i = it; i < std::min(s + b, it + tile); ++i)
          for (std::int64_t j = jt; j < std::min(s, jt + tile); ++j) m[i * n + j] = m[j * n + i];
  });
}

// Distances between all rows of x, stored [N, N], and core distances [N]. Euclidean distances are kept
// squared: core distances (a k-th smallest), mutual reachability (a maximum) and the spanning tree (an
// order) are the same for any increasing function of the distance, so the square root is taken only of
// the N - 1 tree edges and the N core distances. The matrix is symmetric: each row block computes its
// part on and above the diagonal with one matrix product and copies the rest from the blocks above.
Result<std::pair<torch::Tensor, torch::Tensor>> distancesAndCore(torch::Tensor x, ClusterMetric metric, int minSamples,
                                                                 std::int64_t rowsPerBlock, const CancelToken& cancel,
                                                                 Progress& progress) {
  const std::int64_t n = x.size(0);
  if (metric == ClusterMetric::Cosine) {
    x = x / x.norm(2, 1, true).clamp_min(1e-12);
  } else {
    // Translation changes no distance but shrinks |x|^2, and with it the rounding error of
    // |a|^2 + |b|^2 - 2 a.b when points lie far from the origin.
    x = x - x.mean(0, true);
  }
  const torch::Tensor xt = x.t();
  const torch::Tensor sq = (x * x).sum(1);
  torch::Tensor matrix = torch::empty({n, n}, x.options());
  torch::Tensor core = torch::empty({n}, x.options());
  const std::int64_t rowBytes = n * static_cast<std::int64_t>(x.element_size());
  const std::int64_t block =
      rowsPerBlock > 0
          ? rowsPerBlock
          : std::clamp<std::int64_t>((std::int64_t(8) << 20) / std::max<std::int64_t>(rowBytes, 1), 64, 1024);
  double total = 0, work = 0;  // matrix entries computed, for progress
  for (std::int64_t s = 0; s < n; s += block) total += double(std::min(block, n - s)) * double(n - s);
  for (std::int64_t s = 0; s < n; s += block) {
    if (cancel.isCancelled()) return Error::cancelled();
    const std::int64_t b = std::min(block, n - s);
    torch::Tensor rows = matrix.narrow(0, s, b);
    torch::Tensor upper;  // [b, n - s]: columns s.. of these rows
    if (metric == ClusterMetric::Cosine) {
      upper = torch::addmm(torch::ones({1, 1}, x.options()), x.narrow(0, s, b), xt.narrow(1, s, n - s), 1, -1);
    } else {
      upper = torch::addmm(sq.narrow(0, s, n - s).unsqueeze(0), x.narrow(0, s, b), xt.narrow(1, s, n - s), 1, -2);
      upper.add_(sq.narrow(0, s, b).unsqueeze(1));
    }
    upper.clamp_min_(0);
    upper.diagonal().zero_();  // a point's distance to itself is 0, whatever the rounding says
    rows.narrow(1, s, n - s).copy_(upper);
    if (s > 0) {
      if (!matrix.is_cpu())
        rows.narrow(1, 0, s).copy_(matrix.narrow(0, 0, s).narrow(1, s, b).t());
      else if (matrix.scalar_type() == torch::kDouble)
        mirrorLower<double>(matrix, s, b);
      else
        mirrorLower<float>(matrix, s, b);
    }
    // min_samples-th smallest in the row, the point itself (distance 0) being the first.
    if (rows.is_cpu()) {
      if (rows.scalar_type() == torch::kDouble)
        kthSmallestRows<double>(rows, minSamples, core.narrow(0, s, b));
      else
        kthSmallestRows<float>(rows, minSamples, core.narrow(0, s, b));
    } else {
      core.narrow(0, s, b).copy_(std::get<0>(rows.kthvalue(minSamples, 1)));
    }
    work += double(b) * double(n - s);
    progress.report(0.5 * work / total, "Distances");
  }
  progress.report(0.5, "Spanning tree");
  return std::make_pair(matrix, core);
}

// ---- hierarchy ----------------------------------------------------------------------------------------

// Single linkage (scipy format) from spanning-tree edges: merge along edges by increasing weight.
std::vector<LinkageRow> singleLinkage(std::vector<MstEdge> edges, std::int64_t n) {
  std::stable_sort(edges.begin(), edges.end(), [](const MstEdge& a, const MstEdge& b) { return a.weight < b.weight; });
  std::vector<std::int64_t> parent(2 * n - 1);
  std::iota(parent.begin(), parent.end(), std::int64_t(0));
  std::vector<std::int64_t> size(2 * n - 1, 1);
  auto find = [&](std::int64_t v) {
    std::int64_t root = v;
    while (parent[root] != root) root = parent[root];
    while (parent[v] != root) {  // path compression
      const std::int64_t next = parent[v];
      parent[v] = root;
      v = next;
    }
    return root;
  };
  std::vector<LinkageRow> rows;
  rows.reserve(edges.size());
  std::int64_t next = n;
  for (const MstEdge& e : edges) {
    const std::int64_t a = find(e.from), b = find(e.to);
    rows.push_back({a, b, e.weight, size[a] + size[b]});
    size[next] = size[a] + size[b];
    parent[a] = parent[b] = next;
    ++next;
  }
  return rows;
}

// The condensed tree, row for row as hdbscan's condense_tree: breadth first from the root; clusters are
// numbered N, N+1, ... in the order they appear.
std::vector<CondensedRow> condenseTree(const std::vector<LinkageRow>& hierarchy, std::int64_t n, int minClusterSize) {
  std::vector<CondensedRow> rows;
  if (n < 2) {
    for (std::int64_t p = 0; p < n; ++p) rows.push_back({n, p, kInf, 1});
    return rows;
  }
  const std::int64_t root = 2 * n - 2;
  auto count = [&](std::int64_t node) { return node >= n ? hierarchy[node - n].size : std::int64_t(1); };
  std::vector<std::int64_t> relabel(2 * n - 1, 0);
  relabel[root] = n;
  std::int64_t nextLabel = n + 1;
  std::vector<std::int64_t> sub;
  // All points below `node` leave cluster `label` at `lambda` (breadth first, as hdbscan lists them).
  auto fallOut = [&](std::int64_t node, std::int64_t label, double lambda) {
    sub.assign(1, node);
    for (std::size_t i = 0; i < sub.size(); ++i) {
      const std::int64_t v = sub[i];
      if (v < n) {
        rows.push_back({label, v, lambda, 1});
      } else {
        sub.push_back(hierarchy[v - n].left);
        sub.push_back(hierarchy[v - n].right);
      }
    }
  };
  std::vector<std::int64_t> queue{root};
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::int64_t node = queue[q];
    const LinkageRow& m = hierarchy[node - n];
    const double lambda = m.distance > 0 ? 1.0 / m.distance : kInf;
    const std::int64_t left = m.left, right = m.right;
    const bool bigLeft = count(left) >= minClusterSize, bigRight = count(right) >= minClusterSize;
    const std::int64_t label = relabel[node];
    if (bigLeft && bigRight) {
      relabel[left] = nextLabel++;
      rows.push_back({label, relabel[left], lambda, count(left)});
      relabel[right] = nextLabel++;
      rows.push_back({label, relabel[right], lambda, count(right)});
      queue.push_back(left);
      queue.push_back(right);
    } else if (!bigLeft && !bigRight) {
      fallOut(left, label, lambda);
      fallOut(right, label, lambda);
    } else if (!bigLeft) {
      relabel[right] = label;
      fallOut(left, label, lambda);
      queue.push_back(right);
    } else {
      relabel[left] = label;
      fallOut(right, label, lambda);
      queue.push_back(left);
    }
  }
  return rows;
}

struct Flat {
  std::vector<std::int64_t> labels;
  std::vector<float> probabilities;
  std::vector<double> stabilities;
  std::vector<std::int64_t> selected;
};

// Stability, excess-of-mass selection, labelling and probabilities, as hdbscan's get_clusters.
Flat flatClusters(const std::vector<CondensedRow>& tree, std::int64_t n, bool allowSingleCluster) {
  Flat out;
  out.labels.assign(n, -1);
  out.probabilities.assign(n, 0.f);
  std::int64_t clusters = 1;
  for (const CondensedRow& r : tree) clusters = std::max(clusters, std::max(r.parent, r.child) - n + 1);
  std::vector<double> birth(clusters, 0.0), stability(clusters, 0.0), death(clusters, 0.0);
  std::vector<std::int64_t> parentOf(clusters, -1);
  std::vector<std::vector<std::int64_t>> children(clusters);
  for (const CondensedRow& r : tree)
    if (r.child >= n) {
      birth[r.child - n] = r.lambda;
      parentOf[r.child - n] = r.parent - n;
      children[r.parent - n].push_back(r.child - n);
    }
  for (const CondensedRow& r : tree) {
    stability[r.parent - n] += (r.lambda - birth[r.parent - n]) * static_cast<double>(r.size);
    death[r.parent - n] = std::max(death[r.parent - n], r.lambda);
  }
  const std::vector<double> ownStability = stability;

  // Bottom up (a child's id is always larger than its parent's): keep a cluster when it is at least as
  // stable as its best selection of descendants, and then drop those descendants.
  std::vector<char> isCluster(clusters, 1);
  if (!allowSingleCluster) isCluster[0] = 0;
  const std::int64_t last = allowSingleCluster ? 0 : 1;
  for (std::int64_t c = clusters - 1; c >= last; --c) {
    double subtree = 0.0;
    for (std::int64_t child : children[c]) subtree += stability[child];
    if (subtree > stability[c]) {
      isCluster[c] = 0;
      stability[c] = subtree;
    } else {
      std::vector<std::int64_t> stack(children[c].begin(), children[c].end());
      while (!stack.empty()) {
        const std::int64_t d = stack.back();
        stack.pop_back();
        isCluster[d] = 0;
        stack.insert(stack.end(), children[d].begin(), children[d].end());
      }
    }
  }
  std::vector<std::int64_t> labelOf(clusters, -1);
  for (std::int64_t c = 0; c < clusters; ++c)
    if (isCluster[c]) {
      labelOf[c] = static_cast<std::int64_t>(out.selected.size());
      out.selected.push_back(c + n);
      out.stabilities.push_back(ownStability[c]);
    }
  // Each cluster's nearest selected ancestor (itself included), top down.
  std::vector<std::int64_t> owner(clusters, -1);
  for (std::int64_t c = 0; c < clusters; ++c)
    owner[c] = isCluster[c] ? c : (parentOf[c] >= 0 ? owner[parentOf[c]] : -1);

  for (const CondensedRow& r : tree) {
    if (r.child >= n) continue;
    const std::int64_t c = owner[r.parent - n];
    if (c < 0) continue;  // under no selected cluster: noise
    // The root as the single cluster keeps only the points still in it at its last lambda.
    if (c == 0 && !(r.lambda >= death[0])) continue;
    out.labels[r.child] = labelOf[c];
    const double maxLambda = death[c];
    out.probabilities[r.child] = (maxLambda == 0.0 || std::isinf(r.lambda))
                                     ? 1.f
                                     : static_cast<float>(std::min(r.lambda, maxLambda) / maxLambda);
  }
  return out;
}

}  // namespace

Result<std::vector<MstEdge>> primMinimumSpanningTree(const torch::Tensor& weights, PrimMethod method,
                                                     const CancelToken& cancel, const torch::Tensor& core) {
  if (!weights.defined() || weights.dim() != 2 || weights.size(0) != weights.size(1))
    return Error{ErrorCode::InvalidArgument, "Prim's algorithm needs a square [N, N] weight matrix"};
  if (!weights.is_floating_point())
    return Error{ErrorCode::InvalidArgument, "Prim's algorithm needs floating-point weights"};
  if (core.defined() && (core.dim() != 1 || core.size(0) != weights.size(0) || core.device() != weights.device()))
    return Error{ErrorCode::InvalidArgument, "Core distances must be [N] on the weight matrix's device"};
  const bool toHost = method == PrimMethod::Auto && !weights.is_cpu();
  if (method == PrimMethod::Auto) method = PrimMethod::HostLoop;
  if (method == PrimMethod::HostLoop && !weights.is_cpu() && !toHost)
    return Error{ErrorCode::InvalidArgument, "Prim's host loop needs a CPU matrix"};
  try {
    torch::NoGradGuard noGrad;
    if (weights.size(0) == 0) return std::vector<MstEdge>{};
    const auto dtype = weights.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    const torch::Device where = toHost ? torch::Device(torch::kCPU) : weights.device();
    const torch::Tensor w = weights.to(where, dtype).contiguous();
    const torch::Tensor c = core.defined() ? core.to(where, dtype).contiguous() : torch::Tensor();
    if (method == PrimMethod::TensorOps) return primTensorOps(w, c, cancel);
    if (dtype == torch::kDouble) return primHostLoop<double>(w, c, cancel);
    return primHostLoop<float>(w, c, cancel);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal,
                 std::string("Prim's algorithm failed in LibTorch: ") + e.what_without_backtrace()};
  }
}

Result<HdbscanResult> hdbscan(const torch::Tensor& features, const HdbscanOptions& options, const CancelToken& cancel,
                              Progress progress) {
  if (!features.defined()) return Error{ErrorCode::InvalidArgument, "HDBSCAN needs a feature tensor"};
  if (features.dim() != 2)
    return Error{ErrorCode::InvalidArgument,
                 "HDBSCAN needs an [N, D] feature tensor, got " + std::to_string(features.dim()) + " dimensions"};
  if (!features.is_floating_point()) return Error{ErrorCode::InvalidArgument, "HDBSCAN needs floating-point features"};
  if (features.size(1) < 1) return Error{ErrorCode::InvalidArgument, "HDBSCAN needs at least one feature per row"};
  if (options.minClusterSize < 2)
    return Error{ErrorCode::InvalidArgument,
                 "HDBSCAN needs min_cluster_size >= 2, got " + std::to_string(options.minClusterSize)};
  if (options.rowsPerBlock < 0) return Error{ErrorCode::InvalidArgument, "HDBSCAN needs rowsPerBlock >= 0"};
  if (options.minSamples < 0)
    return Error{ErrorCode::InvalidArgument, "HDBSCAN needs min_samples >= 1 (or 0 for the default)"};
  const int minSamples = options.minSamples > 0 ? options.minSamples : options.minClusterSize;
  const std::int64_t n = features.size(0);
  if (n < minSamples)
    return Error{ErrorCode::InvalidArgument, "HDBSCAN with min_samples = " + std::to_string(minSamples) +
                                                 " needs at least that many points, got " + std::to_string(n)};
  const auto dtype = features.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const double matrixBytes = double(n) * double(n) * double(dtype == torch::kDouble ? 8 : 4);
  if (matrixBytes > double(options.maxMatrixBytes))
    return Error{ErrorCode::TooLarge, "HDBSCAN on " + std::to_string(n) + " points needs a " + mebibytes(matrixBytes) +
                                          " distance matrix, over the limit of " +
                                          mebibytes(double(options.maxMatrixBytes)) +
                                          ": subsample the points or raise the limit"};
  try {
    torch::NoGradGuard noGrad;
    if (!torch::isfinite(features).all().item<bool>())
      return Error{ErrorCode::InvalidArgument, "Features contain NaN or infinite values"};
    const torch::Tensor x = features.to(dtype).contiguous();
    progress.report(0.0, "Distances");
    auto dc = distancesAndCore(x, options.metric, minSamples, options.rowsPerBlock, cancel, progress);
    if (!dc) return dc.error();
    auto [matrix, core] = std::move(dc).value();
    auto edges = primMinimumSpanningTree(matrix, PrimMethod::Auto, cancel, core);
    if (!edges) return edges.error();
    matrix = torch::Tensor();  // free the N x N matrix before the host-side tree work
    if (options.metric == ClusterMetric::Euclidean) {
      // Tree edges and core distances were squared distances so far.
      for (MstEdge& e : *edges) e.weight = std::sqrt(e.weight);
      core = core.sqrt();
    }
    progress.report(0.9, "Cluster tree");
    if (cancel.isCancelled()) return Error::cancelled();

    HdbscanResult r;
    r.coreDistances = core;
    r.singleLinkage = singleLinkage(std::move(edges).value(), n);
    r.condensedTree = condenseTree(r.singleLinkage, n, options.minClusterSize);
    Flat flat = flatClusters(r.condensedTree, n, options.allowSingleCluster);
    r.clusterCount = static_cast<int>(flat.selected.size());
    r.stabilities = std::move(flat.stabilities);
    r.selectedClusters = std::move(flat.selected);
    r.labels = torch::tensor(flat.labels, torch::kLong).to(features.device());
    r.probabilities = torch::tensor(flat.probabilities, torch::kFloat).to(features.device());
    progress.report(1.0, "Done");
    return r;
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal, std::string("HDBSCAN failed in LibTorch: ") + e.what_without_backtrace()};
  }
}

}  // namespace loupe::analysis
