#include "Tsne.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace loupe::analysis {

const char* tsneRepulsionName(TsneRepulsion repulsion) {
  switch (repulsion) {
    case TsneRepulsion::Auto: return "auto";
    case TsneRepulsion::Exact: return "exact";
    case TsneRepulsion::Interpolation: return "interpolation";
  }
  return "?";
}

namespace {

constexpr std::int64_t kEdgeChunk = std::int64_t(1) << 21;  // attractive term: edges per chunk (memory bound)

bool allFinite(const torch::Tensor& x) {
  if (x.numel() == 0) return true;
  const auto [lo, hi] = at::aminmax(x);
  const torch::Tensor both = at::stack({lo, hi}).to(torch::kCPU, torch::kDouble);
  return std::isfinite(both[0].item<double>()) && std::isfinite(both[1].item<double>());
}

TsneRepulsion resolve(const TsneOptions& o, std::int64_t n, std::int64_t dims) {
  if (o.repulsion != TsneRepulsion::Auto) return o.repulsion;
  return (n <= o.exactLimit || dims != 2) ? TsneRepulsion::Exact : TsneRepulsion::Interpolation;
}

// P in the layout's dtype and device, with the constant part of the KL divergence.
struct Workspace {
  torch::Tensor rows, cols, values;
  double pLogP = 0.0;  // sum p log p
  std::int64_t n = 0;
};

Workspace workspaceFor(const TsneAffinities& p, const torch::Tensor& y) {
  Workspace w;
  w.rows = p.rows.to(y.device());
  w.cols = p.cols.to(y.device());
  w.values = p.values.to(y.device(), y.scalar_type());
  const torch::Tensor v = p.values.to(torch::kDouble);
  w.pLogP = (v * v.clamp_min(1e-300).log()).sum().item<double>();
  w.n = p.n;
  return w;
}

// sum_j p_ij k_ij (y_i - y_j) over the sparse P, and sum p_ij log k_ij (for the KL divergence).
torch::Tensor attractive(const Workspace& w, const torch::Tensor& y, double* sumPLogK) {
  torch::Tensor force = torch::zeros_like(y);
  torch::Tensor pLogK = torch::zeros({}, y.options().dtype(torch::kDouble));
  const std::int64_t edges = w.rows.size(0);
  for (std::int64_t s = 0; s < edges; s += kEdgeChunk) {
    const std::int64_t len = std::min(kEdgeChunk, edges - s);
    const torch::Tensor r = w.rows.narrow(0, s, len);
    const torch::Tensor c = w.cols.narrow(0, s, len);
    const torch::Tensor pv = w.values.narrow(0, s, len);
    const torch::Tensor diff = y.index_select(0, r) - y.index_select(0, c);
    const torch::Tensor k = (diff * diff).sum(1).add_(1).reciprocal_();
    force.index_add_(0, r, diff * (pv * k).unsqueeze(1));
    if (sumPLogK) pLogK += (pv.to(torch::kDouble) * k.to(torch::kDouble).log()).sum();
  }
  if (sumPLogK) *sumPLogK = pLogK.item<double>();
  return force;
}

// Exact repulsion: (sum_j k_ij^2 (y_i - y_j), Z) in [block, N] tiles with the differences formed directly
// (no |a|^2 + |b|^2 - 2ab cancellation).
std::pair<torch::Tensor, double> repulsionExact(const torch::Tensor& y) {
  const std::int64_t n = y.size(0), dims = y.size(1);
  const std::int64_t block = std::clamp<std::int64_t>((std::int64_t(32) << 20) / std::max<std::int64_t>(1, n), 1, n);
  torch::Tensor rep = torch::empty_like(y);
  torch::Tensor z = torch::zeros({}, y.options().dtype(torch::kDouble));
  for (std::int64_t s = 0; s < n; s += block) {
    const std::int64_t len = std::min(block, n - s);
    const torch::Tensor yb = y.narrow(0, s, len);
    torch::Tensor d2 = torch::zeros({len, n}, y.options());
    for (std::int64_t d = 0; d < dims; ++d) {
      const torch::Tensor diff = yb.select(1, d).unsqueeze(1) - y.select(1, d).unsqueeze(0);
      d2.addcmul_(diff, diff);
    }
    torch::Tensor k = d2.add_(1).reciprocal_();
    k.diagonal(s).zero_();
    z += k.sum(torch::kDouble);
    const torch::Tensor k2 = k * k;
    rep.narrow(0, s, len).copy_(yb * k2.sum(1, true) - at::mm(k2, y));
  }
  return {rep, z.item<double>()};
}

// Lagrange weights [N, p] of the p equispaced nodes (at (j + 0.5) / p) of a unit box, at local positions t [N].
torch::Tensor lagrangeWeights(const torch::Tensor& t, int p) {
  std::vector<torch::Tensor> columns;
  for (int j = 0; j < p; ++j) {
    const double uj = (j + 0.5) / p;
    torch::Tensor l = torch::ones_like(t);
    for (int m = 0; m < p; ++m) {
      if (m == j) continue;
      const double um = (m + 0.5) / p;
      l = l * (t - um) / (uj - um);
    }
    columns.push_back(l);
  }
  return at::stack(columns, 1);
}

// FIt-SNE repulsion for 2-D layouts (see Tsne.h), in the layout's dtype. The charges use coordinates relative
// to the grid's centre: the forces are translation-invariant, and small coordinates keep the cancellation in
// y_i * phi_0 - phi_1 harmless in float32 (its error is then far below the interpolation's).
std::pair<torch::Tensor, double> repulsionInterpolated(const torch::Tensor& y, const TsneOptions& o) {
  const std::int64_t n = y.size(0);
  const int p = std::max(2, o.interpolationNodes);
  const auto [lo, hi] = at::aminmax(y);
  const double yMin = lo.item<double>();
  double range = hi.item<double>() - yMin;
  if (!(range > 1e-12)) range = 1e-12;
  const std::int64_t boxes = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(range * o.intervalsPerUnit)), std::max(1, o.minIntervals),
      std::max(std::max(1, o.minIntervals), o.maxIntervals));
  const double boxWidth = range / double(boxes);
  const double h = boxWidth / p;  // node spacing
  const std::int64_t m = boxes * p;  // nodes per dimension

  // Box, local position and weights per dimension.
  std::vector<torch::Tensor> weights, nodes;
  const torch::Tensor offsets = at::arange(p, y.options().dtype(torch::kLong));
  for (int d = 0; d < 2; ++d) {
    const torch::Tensor t = (y.select(1, d) - yMin) / boxWidth;
    const torch::Tensor box = t.floor().clamp_(0, double(boxes - 1));
    weights.push_back(lagrangeWeights(t - box, p));                                           // [N, p]
    nodes.push_back(box.to(torch::kLong).unsqueeze(1) * p + offsets.unsqueeze(0));           // [N, p]
  }
  const torch::Tensor w = (weights[0].unsqueeze(2) * weights[1].unsqueeze(1)).reshape({n, p * p});
  const torch::Tensor g = (nodes[0].unsqueeze(2) * m + nodes[1].unsqueeze(1)).reshape({-1});  // [N * p * p]

  // Charges (1, y_x, y_y, |y|^2) spread to the node grid.
  const torch::Tensor centred = y - (yMin + range / 2);
  const torch::Tensor yx = centred.select(1, 0), yy = centred.select(1, 1);
  const torch::Tensor charges = at::stack({torch::ones_like(yx), yx, yy, yx * yx + yy * yy});  // [4, N]
  torch::Tensor grid = torch::zeros({4, m * m}, y.options());
  grid.index_add_(1, g, (charges.unsqueeze(2) * w.unsqueeze(0)).reshape({4, -1}));

  // Aperiodic convolution with k^2 as a circular one on the zero-padded 2M x 2M grid. Transforms one axis at
  // a time so that the zero half is never transformed: rows of the grid (M of them, zero-padded to 2M columns
  // by the transform), then columns (padded to 2M); on the way back only the first M rows are needed.
  const torch::Tensor idx = at::arange(2 * m, y.options().dtype(torch::kLong));
  const torch::Tensor delta = at::where(idx < m, idx, idx - 2 * m).to(y.scalar_type()) * h;  // [2M]
  const torch::Tensor d2 = delta.unsqueeze(1).pow(2) + delta.unsqueeze(0).pow(2);
  const torch::Tensor kernel = (d2 + 1).pow(-2);                          // [2M, 2M]
  const torch::Tensor kernelSpectrum = at::fft_rfft2(kernel);             // [2M, M + 1]
  const torch::Tensor gridSpectrum = at::fft_fft(at::fft_rfft(grid.view({4, m, m}), 2 * m, 2), 2 * m, 1);
  const torch::Tensor rowsBack = at::fft_ifft(gridSpectrum * kernelSpectrum.unsqueeze(0), c10::nullopt, 1).narrow(1, 0, m);
  const torch::Tensor potential = at::fft_irfft(rowsBack, 2 * m, 2).narrow(2, 0, m).reshape({4, m * m});

  // Potentials interpolated back to the points.
  const torch::Tensor phi = (potential.index_select(1, g).view({4, n, p * p}) * w.unsqueeze(0)).sum(2);  // [4, N]
  const torch::Tensor sq = charges[3];
  const double z =
      ((1 + sq) * phi[0] - 2 * (yx * phi[1] + yy * phi[2]) + phi[3]).sum(torch::kDouble).item<double>() - double(n);
  return {at::stack({yx * phi[0] - phi[1], yy * phi[0] - phi[2]}, 1), z};
}

torch::Tensor gradientAt(const Workspace& w, const torch::Tensor& y, double exaggeration, TsneRepulsion method,
                         const TsneOptions& o, double* kl) {
  double sumPLogK = 0.0;
  const torch::Tensor attr = attractive(w, y, kl ? &sumPLogK : nullptr);
  auto [rep, z] = method == TsneRepulsion::Interpolation ? repulsionInterpolated(y, o) : repulsionExact(y);
  z = std::max(z, std::numeric_limits<double>::min());
  // KL(P || Q) = sum p log p - sum p log k + log Z (P sums to 1).
  if (kl) *kl = w.pLogP - sumPLogK + std::log(z);
  return (attr * exaggeration - rep / z) * 4;
}

}  // namespace

Result<torch::Tensor> tsneConditionalAffinities(const KnnGraph& graph, double perplexity) {
  if (auto valid = validateKnnGraph(graph, graph.size()); !valid) return valid.error();
  if (!(perplexity > 0) || !std::isfinite(perplexity))
    return Error(ErrorCode::InvalidArgument, "t-SNE: the perplexity must be a positive number");
  torch::Tensor d = graph.distances.to(torch::kDouble);
  if (graph.metric == KnnMetric::Euclidean) d = d * d;
  // Shifting a row's distances leaves its normalised distribution (and entropy) unchanged and keeps exp()
  // away from underflow on far-away neighbourhoods.
  d = d - std::get<0>(d.min(1, true));
  const std::int64_t n = d.size(0);
  const auto opts = d.options();
  torch::Tensor beta = torch::ones({n}, opts);
  torch::Tensor betaMin = torch::full({n}, -std::numeric_limits<double>::infinity(), opts);
  torch::Tensor betaMax = torch::full({n}, std::numeric_limits<double>::infinity(), opts);
  torch::Tensor done = torch::zeros({n}, opts.dtype(torch::kBool));
  const double desired = std::log(perplexity);
  for (int step = 0; step < 100; ++step) {
    const torch::Tensor pr = (-d * beta.unsqueeze(1)).exp();
    const torch::Tensor sumP = pr.sum(1).clamp_min(1e-8);
    const torch::Tensor entropy = sumP.log() + beta * (d * pr).sum(1) / sumP;
    const torch::Tensor diff = entropy - desired;
    done = done.logical_or(diff.abs() <= 1e-5);
    if (done.all().item<bool>()) break;
    const torch::Tensor up = diff.gt(0).logical_and(done.logical_not());   // too flat: sharpen
    const torch::Tensor down = diff.le(0).logical_and(done.logical_not());  // too peaked: widen
    const torch::Tensor upBeta = at::where(betaMax.isinf(), beta * 2, (beta + betaMax) / 2);
    const torch::Tensor downBeta = at::where(betaMin.isinf(), beta / 2, (beta + betaMin) / 2);
    betaMin = at::where(up, beta, betaMin);
    betaMax = at::where(down, beta, betaMax);
    beta = at::where(up, upBeta, at::where(down, downBeta, beta));
  }
  torch::Tensor pr = (-d * beta.unsqueeze(1)).exp();
  return pr / pr.sum(1, true).clamp_min(1e-8);
}

Result<TsneAffinities> tsneAffinities(const KnnGraph& graph, double perplexity) {
  auto conditional = tsneConditionalAffinities(graph, perplexity);
  if (!conditional) return conditional.error();
  const std::int64_t n = graph.size(), k = graph.k();
  const torch::Tensor rows = at::arange(n, graph.indices.options()).repeat_interleave(k);
  const torch::Tensor cols = graph.indices.reshape({-1});
  const torch::Tensor vals = conditional->reshape({-1});
  const torch::Tensor ij = at::stack({at::cat({rows, cols}), at::cat({cols, rows})});
  const torch::Tensor sym = at::sparse_coo_tensor(ij, at::cat({vals, vals}), {n, n}).coalesce();
  TsneAffinities p;
  p.rows = sym.indices()[0].contiguous();
  p.cols = sym.indices()[1].contiguous();
  p.values = sym.values() / sym.values().sum().clamp_min(std::numeric_limits<double>::min());
  p.n = n;
  return p;
}

Result<torch::Tensor> tsneGradient(const TsneAffinities& p, const torch::Tensor& layout, double exaggeration,
                                   const TsneOptions& options, double* kl) {
  if (!layout.defined() || layout.dim() != 2 || layout.size(0) != p.n || !layout.is_floating_point())
    return Error(ErrorCode::InvalidArgument, "t-SNE gradient: the layout must be [N, dims] floats with N = " +
                                                 std::to_string(p.n));
  const TsneRepulsion method = resolve(options, p.n, layout.size(1));
  if (method == TsneRepulsion::Interpolation && layout.size(1) != 2)
    return Error(ErrorCode::InvalidArgument, "t-SNE: interpolated repulsion supports 2-D layouts only");
  return gradientAt(workspaceFor(p, layout), layout, exaggeration, method, options, kl);
}

Result<torch::Tensor> pcaLayout(const torch::Tensor& points, int dims) {
  if (!points.defined() || points.dim() != 2 || !points.is_floating_point())
    return Error(ErrorCode::InvalidArgument, "PCA initialisation needs an [N, D] matrix of floats");
  if (dims < 1 || dims > points.size(1))
    return Error(ErrorCode::InvalidArgument, "PCA initialisation: cannot take " + std::to_string(dims) +
                                                 " axes of " + std::to_string(points.size(1)) + "-D points");
  const torch::Tensor x = points.to(torch::kDouble);
  const torch::Tensor xc = x - x.mean(0, true);
  const torch::Tensor cov = at::mm(xc.t(), xc) / std::max<std::int64_t>(1, x.size(0) - 1);
  const auto [values, vectors] = at::linalg_eigh(cov);  // ascending
  torch::Tensor axes = vectors.narrow(1, vectors.size(1) - dims, dims).flip({1});
  const torch::Tensor largest = axes.abs().argmax(0);
  const torch::Tensor sign = axes.gather(0, largest.unsqueeze(0)).sign().squeeze(0);
  axes = axes * at::where(sign.eq(0), torch::ones_like(sign), sign).unsqueeze(0);
  return at::mm(xc, axes).to(points.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat);
}

Result<TsneResult> tsne(const torch::Tensor& points, const TsneOptions& o, const KnnGraph* knn,
                        const LayoutCallback& callback, const CancelToken& cancel, Progress progress) {
  if (!points.defined() || points.dim() != 2 || !points.is_floating_point())
    return Error(ErrorCode::InvalidArgument, "t-SNE needs an [N, D] matrix of floating-point vectors");
  const std::int64_t n = points.size(0);
  if (o.dims < 1) return Error(ErrorCode::InvalidArgument, "t-SNE: the layout needs at least one dimension");
  if (n < o.dims + 2)
    return Error(ErrorCode::InvalidArgument, "t-SNE needs at least " + std::to_string(o.dims + 2) + " points, got " +
                                                 std::to_string(n));
  if (!(o.perplexity > 0) || o.perplexity >= double(n))
    return Error(ErrorCode::InvalidArgument, "t-SNE: the perplexity (" + std::to_string(o.perplexity) +
                                                 ") must be positive and below the number of points (" +
                                                 std::to_string(n) + ")");
  if (o.iterations < 0 || o.exaggerationIterations < 0)
    return Error(ErrorCode::InvalidArgument, "t-SNE: iteration counts must not be negative");
  if (!allFinite(points))
    return Error(ErrorCode::InvalidArgument, "t-SNE: the vectors contain NaN or infinite values");
  const TsneRepulsion method = resolve(o, n, o.dims);
  if (method == TsneRepulsion::Interpolation && o.dims != 2)
    return Error(ErrorCode::InvalidArgument, "t-SNE: interpolated repulsion supports 2-D layouts only");

  // Neighbours (k = 3 * perplexity + 1, as scikit-learn) and P.
  KnnGraph own;
  if (!knn) {
    KnnOptions ko;
    ko.k = static_cast<int>(std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(3.0 * o.perplexity + 1)));
    ko.metric = o.metric;
    auto g = exactKnn(points, ko, cancel, progress.slice(0.0, 0.1));
    if (!g) return g.error();
    own = std::move(*g);
    knn = &own;
  } else if (auto valid = validateKnnGraph(*knn, n); !valid) {
    return valid.error().withContext("t-SNE");
  }
  if (cancel.isCancelled()) return Error::cancelled();
  auto p = tsneAffinities(*knn, o.perplexity);
  if (!p) return p.error();

  // Initial layout.
  const auto dtype = points.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  torch::Tensor y;
  if (o.initialLayout.defined()) {
    if (o.initialLayout.dim() != 2 || o.initialLayout.size(0) != n || o.initialLayout.size(1) != o.dims)
      return Error(ErrorCode::InvalidArgument, "t-SNE: the initial layout must be [N, dims]");
    y = o.initialLayout.to(points.device(), dtype).clone();
  } else if (o.init == ProjectionInit::Pca && o.dims <= points.size(1)) {
    auto pca = pcaLayout(points, o.dims);
    if (!pca) return pca.error();
    y = pca->to(dtype);
    const double sd = y.select(1, 0).to(torch::kDouble).std(/*unbiased=*/false).item<double>();
    if (!(sd > 0))
      return Error(ErrorCode::InvalidArgument, "t-SNE: all vectors are identical; there is nothing to lay out");
    y = y / sd * 1e-4;
  } else {
    auto gen = at::detail::createCPUGenerator(o.seed);
    y = (at::randn({n, o.dims}, gen, at::TensorOptions().dtype(torch::kDouble)) * 1e-4).to(points.device(), dtype);
  }

  const Workspace w = workspaceFor(*p, y);
  const double lr = o.learningRate > 0 ? o.learningRate : std::max(double(n) / o.earlyExaggeration / 4.0, 50.0);
  torch::Tensor update = torch::zeros_like(y);
  torch::Tensor gains = torch::ones_like(y);
  TsneResult result;
  result.learningRate = lr;
  result.repulsion = method;
  Progress optimise = progress.slice(0.1, 1.0);
  int it = 0;
  for (; it < o.iterations; ++it) {
    if (cancel.isCancelled()) return Error::cancelled();
    const bool exaggerating = it < o.exaggerationIterations;
    if (it == o.exaggerationIterations) {  // scikit-learn starts its second _gradient_descent call afresh
      update.zero_();
      gains.fill_(1);
    }
    torch::Tensor grad = gradientAt(w, y, exaggerating ? o.earlyExaggeration : 1.0, method, o, nullptr);
    const torch::Tensor increase = (update * grad).lt(0);
    gains = at::where(increase, gains + 0.2, gains * 0.8).clamp_min_(o.minGain);
    grad.mul_(gains);
    update = update * (exaggerating ? o.initialMomentum : o.finalMomentum) - grad * lr;
    y.add_(update);
    optimise.report(double(it + 1) / std::max(1, o.iterations), "t-SNE");
    if (callback && o.callbackEvery > 0 && (it + 1) % o.callbackEvery == 0 && it + 1 < o.iterations) {
      if (!callback(y, it + 1)) {
        result.stopped = true;
        ++it;
        break;
      }
    }
  }
  result.iterations = it;
  if (!allFinite(y))
    return Error(ErrorCode::Internal, "t-SNE diverged (non-finite coordinates); try a smaller learning rate");
  double kl = 0.0;
  (void)gradientAt(w, y, 1.0, method, o, &kl);
  result.kl = kl;
  result.layout = y;
  if (callback && !result.stopped) (void)callback(y, it);
  return result;
}

}  // namespace loupe::analysis
