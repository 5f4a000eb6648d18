#include "Umap.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace loupe::analysis {

namespace {

bool allFinite(const torch::Tensor& x) {
  if (x.numel() == 0) return true;
  const auto [lo, hi] = at::aminmax(x);
  const torch::Tensor both = at::stack({lo, hi}).to(torch::kCPU, torch::kDouble);
  return std::isfinite(both[0].item<double>()) && std::isfinite(both[1].item<double>());
}

// Sum of squared residuals of 1 / (1 + a x^(2b)) against `target`.
double residualNorm(const std::vector<double>& x, const std::vector<double>& target, double a, double b) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = 1.0 / (1.0 + a * std::pow(x[i], 2 * b)) - target[i];
    s += r * r;
  }
  return s;
}

// A sparse [n, n] COO matrix from (rows, cols, values), duplicates summed.
torch::Tensor sparse(const torch::Tensor& rows, const torch::Tensor& cols, const torch::Tensor& values, std::int64_t n) {
  return at::sparse_coo_tensor(at::stack({rows, cols}), values, {n, n}).coalesce();
}

// splitmix64: the sequential path's generator for negative samples (seeded from UmapOptions::seed).
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

double clip4(double v) { return v > 4.0 ? 4.0 : (v < -4.0 ? -4.0 : v); }

// One epoch of umap-learn's optimize_layout_euclidean_single_epoch on a CPU layout: the edges due in this
// epoch in their (row-sorted) order, each move applied at once, so later edges see the earlier moves.
// Attraction moves both ends; each edge's due negative samples (uniform random points, the point itself
// skipped) push the head only.
template <typename T>
void sequentialEpoch(T* y, int dims, std::int64_t n, std::int64_t edges, const std::int64_t* heads,
                     const std::int64_t* tails, const double* eps, const double* epsNeg, double* nextSample,
                     double* nextNegative, double epoch, double alpha, double a, double b, double gamma,
                     bool negatives, SplitMix64& rng) {
  const double twoAB = 2.0 * a * b, twoGB = 2.0 * gamma * b;
  for (std::int64_t i = 0; i < edges; ++i) {
    if (nextSample[i] > epoch) continue;
    const std::int64_t j = heads[i], k = tails[i];
    T* current = y + j * dims;
    T* other = y + k * dims;
    double d2 = 0;
    for (int d = 0; d < dims; ++d) {
      const double diff = double(current[d]) - double(other[d]);
      d2 += diff * diff;
    }
    if (d2 > 0) {
      const double p = std::pow(d2, b);  // d2^b; d2^(b - 1) = p / d2
      const double coeff = -twoAB * (p / d2) / (a * p + 1.0);
      for (int d = 0; d < dims; ++d) {
        const double g = clip4(coeff * (double(current[d]) - double(other[d]))) * alpha;
        current[d] = T(double(current[d]) + g);
        other[d] = T(double(other[d]) - g);
      }
    }
    nextSample[i] += eps[i];
    if (!negatives) continue;
    const std::int64_t count = static_cast<std::int64_t>(std::floor((epoch - nextNegative[i]) / epsNeg[i]));
    for (std::int64_t s = 0; s < count; ++s) {
      const std::int64_t m = static_cast<std::int64_t>(rng.next() % std::uint64_t(n));
      if (m == j) continue;
      const T* neg = y + m * dims;
      double e2 = 0;
      for (int d = 0; d < dims; ++d) {
        const double diff = double(current[d]) - double(neg[d]);
        e2 += diff * diff;
      }
      if (!(e2 > 0)) continue;
      const double coeff = twoGB / ((0.001 + e2) * (a * std::pow(e2, b) + 1.0));
      for (int d = 0; d < dims; ++d)
        current[d] = T(double(current[d]) + clip4(coeff * (double(current[d]) - double(neg[d]))) * alpha);
    }
    if (count > 0) nextNegative[i] += double(count) * epsNeg[i];
  }
}

}  // namespace

Result<std::pair<double, double>> umapFitAB(double spread, double minDist) {
  if (!(spread > 0) || !(minDist >= 0) || !std::isfinite(spread) || !std::isfinite(minDist))
    return Error(ErrorCode::InvalidArgument, "UMAP: spread must be positive and min_dist not negative");
  if (minDist > spread)
    return Error(ErrorCode::InvalidArgument, "UMAP: min_dist must not exceed spread");
  std::vector<double> x(300), target(300);
  for (int i = 0; i < 300; ++i) {
    x[i] = spread * 3.0 * i / 299.0;
    target[i] = x[i] < minDist ? 1.0 : std::exp(-(x[i] - minDist) / spread);
  }
  // Levenberg-Marquardt from (1, 1), scipy's curve_fit starting point.
  double a = 1.0, b = 1.0, lambda = 1e-3;
  double cost = residualNorm(x, target, a, b);
  for (int iter = 0; iter < 500; ++iter) {
    double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double u = x[i] > 0 ? std::pow(x[i], 2 * b) : 0.0;
      const double f = 1.0 / (1.0 + a * u);
      const double r = f - target[i];
      const double da = -u * f * f;
      const double db = x[i] > 0 ? -a * u * 2.0 * std::log(x[i]) * f * f : 0.0;
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    bool improved = false;
    for (int tries = 0; tries < 30 && !improved; ++tries) {
      const double m00 = jaa * (1 + lambda), m11 = jbb * (1 + lambda), m01 = jab;
      const double det = m00 * m11 - m01 * m01;
      if (!(std::abs(det) > 0)) break;
      const double stepA = -(m11 * ga - m01 * gb) / det;
      const double stepB = -(m00 * gb - m01 * ga) / det;
      const double na = a + stepA, nb = b + stepB;
      const double nc = (na > 0 && nb > 0) ? residualNorm(x, target, na, nb) : std::numeric_limits<double>::infinity();
      if (nc < cost) {
        const double change = cost - nc;
        a = na;
        b = nb;
        cost = nc;
        lambda = std::max(lambda / 10, 1e-12);
        improved = true;
        if (change < 1e-15 * std::max(1.0, cost)) iter = 1 << 20;  // converged
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;
  }
  if (!(a > 0) || !(b > 0) || !std::isfinite(a) || !std::isfinite(b))
    return Error(ErrorCode::Internal, "UMAP: fitting a and b for min_dist/spread failed");
  return std::make_pair(a, b);
}

Result<std::pair<torch::Tensor, torch::Tensor>> umapSmoothKnnDistances(const KnnGraph& graph,
                                                                       double localConnectivity) {
  if (auto valid = validateKnnGraph(graph, graph.size()); !valid) return valid.error().withContext("UMAP");
  if (!(localConnectivity >= 1.0))
    return Error(ErrorCode::InvalidArgument, "UMAP: local connectivity below 1 is not supported");
  const torch::Tensor d = graph.distances.to(torch::kDouble);
  const std::int64_t n = d.size(0), k = d.size(1);
  const auto opts = d.options();
  // rho: the local_connectivity-th smallest non-zero distance, interpolated (umap-learn); with fewer non-zero
  // distances, the largest one; 0 when all are zero.
  const torch::Tensor positive = d.gt(0);
  const torch::Tensor nonZero = positive.sum(1);
  const torch::Tensor sortedNonZero = std::get<0>(
      at::where(positive, d, torch::full({}, std::numeric_limits<double>::infinity(), opts)).sort(1));
  const std::int64_t index = static_cast<std::int64_t>(std::floor(localConnectivity));
  const double interpolation = localConnectivity - double(index);
  const std::int64_t first = std::min(index - 1, k - 1);
  torch::Tensor rho = sortedNonZero.select(1, first);
  if (interpolation > 1e-12 && index < k)
    rho = rho + interpolation * (sortedNonZero.select(1, index) - rho);
  const torch::Tensor largest = at::where(positive, d, torch::zeros({}, opts)).amax(1);
  rho = at::where(nonZero.ge(index), rho, largest);
  rho = at::where(rho.isinf(), largest, rho);

  const double target = std::log2(double(k + 1));
  torch::Tensor lo = torch::zeros({n}, opts);
  torch::Tensor hi = torch::full({n}, std::numeric_limits<double>::infinity(), opts);
  torch::Tensor mid = torch::ones({n}, opts);
  torch::Tensor done = torch::zeros({n}, opts.dtype(torch::kBool));
  const torch::Tensor shifted = d - rho.unsqueeze(1);
  for (int step = 0; step < 64; ++step) {
    const torch::Tensor psum =
        at::where(shifted.gt(0), (-shifted / mid.unsqueeze(1)).exp(), torch::ones({}, opts)).sum(1);
    done = done.logical_or((psum - target).abs() < 1e-5);
    if (done.all().item<bool>()) break;
    const torch::Tensor over = psum.gt(target).logical_and(done.logical_not());
    const torch::Tensor under = psum.le(target).logical_and(done.logical_not());
    hi = at::where(over, mid, hi);
    lo = at::where(under, mid, lo);
    const torch::Tensor next = at::where(hi.isinf(), mid * 2, (lo + hi) / 2);
    mid = at::where(over.logical_or(under), at::where(over, (lo + hi) / 2, next), mid);
  }
  const torch::Tensor meanRow = d.mean(1);
  const double meanAll = d.mean().item<double>();
  torch::Tensor sigma = at::where(rho.gt(0), at::maximum(mid, 1e-3 * meanRow), mid.clamp_min(1e-3 * meanAll));
  return std::make_pair(sigma, rho);
}

Result<FuzzyGraph> umapFuzzySimplicialSet(const KnnGraph& graph, double localConnectivity, double setOpMixRatio) {
  if (!(setOpMixRatio >= 0 && setOpMixRatio <= 1))
    return Error(ErrorCode::InvalidArgument, "UMAP: set_op_mix_ratio must be in [0, 1]");
  auto sr = umapSmoothKnnDistances(graph, localConnectivity);
  if (!sr) return sr.error();
  const auto& [sigma, rho] = *sr;
  const std::int64_t n = graph.size(), k = graph.k();
  const torch::Tensor d = graph.distances.to(torch::kDouble);
  const torch::Tensor excess = d - rho.unsqueeze(1);
  const torch::Tensor w = at::where(excess.le(0).logical_or(sigma.unsqueeze(1).eq(0)), torch::ones({}, d.options()),
                                    (-excess / sigma.unsqueeze(1)).exp());
  const torch::Tensor rows = at::arange(n, graph.indices.options()).repeat_interleave(k);
  const torch::Tensor cols = graph.indices.reshape({-1});
  const torch::Tensor vals = w.reshape({-1});
  const torch::Tensor a = sparse(rows, cols, vals, n);
  const torch::Tensor at_ = sparse(cols, rows, vals, n);
  const torch::Tensor both = at::mul(a, at_).coalesce();  // W o W^T
  torch::Tensor fuzzy = (a + at_).coalesce();
  // union * mix + intersection * (1 - mix), with union = W + W^T - W o W^T.
  fuzzy = (fuzzy * setOpMixRatio + both * (1.0 - 2.0 * setOpMixRatio)).coalesce();
  const torch::Tensor keep = fuzzy.values().gt(0);
  FuzzyGraph g;
  g.rows = fuzzy.indices()[0].masked_select(keep).contiguous();
  g.cols = fuzzy.indices()[1].masked_select(keep).contiguous();
  g.values = fuzzy.values().masked_select(keep).contiguous();
  g.n = n;
  return g;
}

Result<UmapResult> umap(const torch::Tensor& points, const UmapOptions& o, const KnnGraph* knn,
                        const LayoutCallback& callback, const CancelToken& cancel, Progress progress) {
  if (!points.defined() || points.dim() != 2 || !points.is_floating_point())
    return Error(ErrorCode::InvalidArgument, "UMAP needs an [N, D] matrix of floating-point vectors");
  const std::int64_t n = points.size(0);
  if (o.dims < 1) return Error(ErrorCode::InvalidArgument, "UMAP: the layout needs at least one dimension");
  if (o.nNeighbors < 2)
    return Error(ErrorCode::InvalidArgument, "UMAP: n_neighbors must be at least 2");
  if (n < std::max<std::int64_t>(o.dims + 2, o.nNeighbors))
    return Error(ErrorCode::InvalidArgument, "UMAP with n_neighbors " + std::to_string(o.nNeighbors) + " needs at least " +
                                                 std::to_string(std::max<std::int64_t>(o.dims + 2, o.nNeighbors)) +
                                                 " points, got " + std::to_string(n));
  if (o.negativeSampleRate < 0 || !(o.learningRate > 0))
    return Error(ErrorCode::InvalidArgument, "UMAP: the learning rate must be positive and the negative sample rate >= 0");
  if (!allFinite(points)) return Error(ErrorCode::InvalidArgument, "UMAP: the vectors contain NaN or infinite values");
  double a = o.a, b = o.b;
  if (!(a > 0 && b > 0)) {
    auto ab = umapFitAB(o.spread, o.minDist);
    if (!ab) return ab.error();
    std::tie(a, b) = *ab;
  }
  const int epochs = o.epochs > 0 ? o.epochs : (n <= 10000 ? 500 : 200);

  // Neighbours: nNeighbors - 1 others.
  KnnGraph own;
  const int others = o.nNeighbors - 1;
  if (!knn) {
    KnnOptions ko;
    ko.k = others;
    ko.metric = o.metric;
    auto g = exactKnn(points, ko, cancel, progress.slice(0.0, 0.1));
    if (!g) return g.error();
    own = std::move(*g);
  } else {
    if (auto valid = validateKnnGraph(*knn, n); !valid) return valid.error().withContext("UMAP");
    own = *knn;
    if (own.k() > others) {
      own.indices = own.indices.narrow(1, 0, others);
      own.distances = own.distances.narrow(1, 0, others);
    }
  }
  if (cancel.isCancelled()) return Error::cancelled();
  auto fuzzy = umapFuzzySimplicialSet(own, o.localConnectivity, o.setOpMixRatio);
  if (!fuzzy) return fuzzy.error();

  const torch::Device device = points.device();
  const auto dtype = points.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  // Prune weak edges (umap-learn: below max / epochs), then epochs per sample = max / w.
  const double maxW = fuzzy->values.max().item<double>();
  const torch::Tensor strong = fuzzy->values.ge(maxW / double(epochs));
  const torch::Tensor heads = fuzzy->rows.masked_select(strong).to(device);
  const torch::Tensor tails = fuzzy->cols.masked_select(strong).to(device);
  const torch::Tensor eps = (maxW / fuzzy->values.masked_select(strong)).to(device);  // float64
  const double negRate = double(o.negativeSampleRate);
  const torch::Tensor epsNeg = negRate > 0 ? eps / negRate : torch::full_like(eps, std::numeric_limits<double>::infinity());
  torch::Tensor nextSample = eps.clone();
  torch::Tensor nextNegative = epsNeg.clone();

  // Initial layout, scaled to [0, 10] per axis.
  auto gen = at::detail::createCPUGenerator(o.seed);
  const auto cpuDouble = at::TensorOptions().dtype(torch::kDouble);
  torch::Tensor y;
  if (o.initialLayout.defined()) {
    if (o.initialLayout.dim() != 2 || o.initialLayout.size(0) != n || o.initialLayout.size(1) != o.dims)
      return Error(ErrorCode::InvalidArgument, "UMAP: the initial layout must be [N, dims]");
    y = o.initialLayout.to(device, dtype).clone();
  } else {
    torch::Tensor start;
    if (o.init == ProjectionInit::Pca && o.dims <= points.size(1)) {
      auto pca = pcaLayout(points, o.dims);
      if (!pca) return pca.error();
      start = pca->to(torch::kCPU, torch::kDouble);
      const double scale = start.abs().max().item<double>();
      if (!(scale > 0)) return Error(ErrorCode::InvalidArgument, "UMAP: all vectors are identical; there is nothing to lay out");
      // umap-learn's noisy_scale_coords: largest coordinate 10, plus Gaussian noise of std 1e-4.
      start = start * (10.0 / scale) + at::randn({n, o.dims}, gen, cpuDouble) * 1e-4;
    } else {
      start = at::rand({n, o.dims}, gen, cpuDouble) * 20 - 10;
    }
    const torch::Tensor lo = std::get<0>(start.min(0, true)), hi = std::get<0>(start.max(0, true));
    start = (start - lo) * 10.0 / (hi - lo).clamp_min(1e-12);
    y = start.to(device, dtype);
  }

  const double twoAB = 2.0 * a * b, gamma = o.repulsionStrength;
  const auto longOpts = at::TensorOptions().dtype(torch::kLong);
  UmapResult result;
  result.a = a;
  result.b = b;
  Progress optimise = progress.slice(0.1, 1.0);
  // CPU: umap-learn's sequential per-edge SGD on the layout's own memory; CUDA: one batch per epoch.
  const bool sequential = device.is_cpu() && !o.batched;
  if (sequential) {
    y = y.contiguous();
    nextSample = nextSample.to(torch::kCPU).contiguous();
    nextNegative = nextNegative.to(torch::kCPU).contiguous();
  }
  const torch::Tensor headsCpu = sequential ? heads.to(torch::kCPU).contiguous() : torch::Tensor();
  const torch::Tensor tailsCpu = sequential ? tails.to(torch::kCPU).contiguous() : torch::Tensor();
  const torch::Tensor epsCpu = sequential ? eps.to(torch::kCPU).contiguous() : torch::Tensor();
  const torch::Tensor epsNegCpu = sequential ? epsNeg.to(torch::kCPU).contiguous() : torch::Tensor();
  SplitMix64 rng{o.seed ^ 0x5DEECE66Dull};
  int epoch = 0;
  for (; epoch < epochs; ++epoch) {
    if (cancel.isCancelled()) return Error::cancelled();
    const double alpha = o.learningRate * (1.0 - double(epoch) / double(epochs));
    if (sequential) {
      const std::int64_t edges = headsCpu.numel();
      const auto run = [&](auto* data) {
        sequentialEpoch(data, o.dims, n, edges, headsCpu.data_ptr<std::int64_t>(), tailsCpu.data_ptr<std::int64_t>(),
                        epsCpu.data_ptr<double>(), epsNegCpu.data_ptr<double>(), nextSample.data_ptr<double>(),
                        nextNegative.data_ptr<double>(), double(epoch), alpha, a, b, gamma, negRate > 0, rng);
      };
      if (dtype == torch::kDouble) run(y.data_ptr<double>());
      else run(y.data_ptr<float>());
    } else {
      const torch::Tensor due = nextSample.le(double(epoch)).nonzero().squeeze(1);
      if (due.numel() > 0) {
        const torch::Tensor j = heads.index_select(0, due), k = tails.index_select(0, due);
        torch::Tensor move = torch::zeros_like(y);
        // Attraction along the sampled edges, both ends.
        {
          const torch::Tensor diff = y.index_select(0, j) - y.index_select(0, k);
          const torch::Tensor d2 = (diff * diff).sum(1);
          const torch::Tensor coeff =
              at::where(d2.gt(0), -twoAB * d2.pow(b - 1.0) / (a * d2.pow(b) + 1.0), torch::zeros({}, d2.options()));
          const torch::Tensor g = (coeff.unsqueeze(1) * diff).clamp_(-4, 4) * alpha;
          move.index_add_(0, j, g);
          move.index_add_(0, k, -g);
        }
        const torch::Tensor dueEps = eps.index_select(0, due);
        nextSample.index_add_(0, due, dueEps);
        // Negative samples: as many as are due for each edge, from random points; only the sampling end moves.
        if (negRate > 0) {
          const torch::Tensor dueNeg = epsNeg.index_select(0, due);
          const torch::Tensor count =
              ((double(epoch) - nextNegative.index_select(0, due)) / dueNeg).floor().clamp_min(0).to(torch::kLong);
          nextNegative.index_add_(0, due, count.to(torch::kDouble) * dueNeg);
          const std::int64_t total = count.sum().item<std::int64_t>();
          if (total > 0) {
            const torch::Tensor jn = j.repeat_interleave(count);
            const torch::Tensor kn = at::randint(n, {total}, gen, longOpts).to(device);
            const torch::Tensor diff = y.index_select(0, jn) - y.index_select(0, kn);
            const torch::Tensor d2 = (diff * diff).sum(1);
            const torch::Tensor coeff = at::where(d2.gt(0).logical_and(jn.ne(kn)),
                                                  2.0 * gamma * b / ((0.001 + d2) * (a * d2.pow(b) + 1.0)),
                                                  torch::zeros({}, d2.options()));
            move.index_add_(0, jn, (coeff.unsqueeze(1) * diff).clamp_(-4, 4) * alpha);
          }
        }
        y.add_(move);
      }
    }
    optimise.report(double(epoch + 1) / double(epochs), "UMAP");
    if (callback && o.callbackEvery > 0 && (epoch + 1) % o.callbackEvery == 0 && epoch + 1 < epochs) {
      if (!callback(y, epoch + 1)) {
        result.stopped = true;
        ++epoch;
        break;
      }
    }
  }
  if (!allFinite(y)) return Error(ErrorCode::Internal, "UMAP diverged (non-finite coordinates)");
  result.epochs = epoch;
  result.layout = y;
  if (callback && !result.stopped) (void)callback(y, epoch);
  return result;
}

}  // namespace loupe::analysis
