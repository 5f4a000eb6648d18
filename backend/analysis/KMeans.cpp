#include "KMeans.h"

#include <torch/torch.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace loupe::analysis {

const char* clusterMetricName(ClusterMetric metric) {
  switch (metric) {
    case ClusterMetric::Euclidean: return "euclidean";
    case ClusterMetric::Cosine: return "cosine";
  }
  return "?";
}

namespace {

// One pass, no [N, D] boolean temporary: NaN and infinities show in the minimum or the maximum.
bool allFinite(const torch::Tensor& x) {
  if (x.numel() == 0) return true;
  const auto [lo, hi] = torch::aminmax(x);
  const torch::Tensor both = torch::stack({lo, hi}).to(torch::kCPU, torch::kDouble);
  return std::isfinite(both[0].item<double>()) && std::isfinite(both[1].item<double>());
}

// A uniform double in [0, 1) from 53 random bits. Written out rather than std::uniform_real_distribution,
// whose output differs between standard libraries: a seed must mean the same centres everywhere.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

struct Data {
  torch::Tensor x;         // [N, D], unit rows in cosine mode
  torch::Tensor xSq;       // [N], squared row norms
  double tolerance = 0.0;  // absolute bound on the summed squared centre shift
  ClusterMetric metric = ClusterMetric::Cosine;
  int k = 2;
};

// Squared Euclidean distances [M, N] from `centres` [M, D] to every row. On unit rows this is
// 2 - 2 cos, so cosine mode seeds with the same formula.
torch::Tensor sqDistances(const torch::Tensor& centres, const Data& d) {
  const torch::Tensor cSq = (centres * centres).sum(1, true);
  return torch::addmm(d.xSq.unsqueeze(0) + cSq, centres, d.x.t(), 1, -2).clamp_min_(0);
}

// Greedy k-means++: each new centre is the best (lowest potential) of a few rows drawn with probability
// proportional to their squared distance to the nearest centre chosen so far.
torch::Tensor seedCentres(const Data& d, std::mt19937_64& rng) {
  const std::int64_t n = d.x.size(0);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(d.k)));
  const std::int64_t first = std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(uniform01(rng) * n));
  torch::Tensor centres = torch::empty({d.k, d.x.size(1)}, d.x.options());
  centres[0].copy_(d.x[first]);
  torch::Tensor closest = sqDistances(centres.narrow(0, 0, 1), d).squeeze(0);  // [N]
  torch::Tensor potential = closest.sum(torch::kDouble);
  for (int c = 1; c < d.k; ++c) {
    std::vector<double> u(trials);
    for (double& v : u) v = uniform01(rng);
    // The draw stays on the device: no host round trip per centre.
    const torch::Tensor targets = torch::tensor(u, torch::kDouble).to(d.x.device()) * potential;
    const torch::Tensor cumulative = closest.to(torch::kDouble).cumsum(0);
    const torch::Tensor ids = torch::searchsorted(cumulative, targets).clamp_max_(n - 1);
    const torch::Tensor candidates = d.x.index_select(0, ids);
    const torch::Tensor dist = torch::minimum(sqDistances(candidates, d), closest.unsqueeze(0));  // [T, N]
    const torch::Tensor potentials = dist.sum(1, false, torch::kDouble);
    const torch::Tensor best = potentials.argmin().view({1});
    closest = dist.index_select(0, best).squeeze(0);
    potential = potentials.index_select(0, best).squeeze(0);
    centres[c].copy_(candidates.index_select(0, best).squeeze(0));
  }
  return centres;
}

// Labels [N] of the nearest centre and each row's share of the objective [N]: the squared distance to
// that centre, or 1 - cos in cosine mode. Ties go to the lower label.
std::pair<torch::Tensor, torch::Tensor> assign(const Data& d, const torch::Tensor& centres) {
  if (d.metric == ClusterMetric::Cosine) {
    auto [sim, labels] = d.x.mm(centres.t()).max(1);
    return {labels, sim.neg_().add_(1)};
  }
  // |x|^2 is the same for every centre of a row: argmin needs only |c|^2 - 2 x.c
  const torch::Tensor cSq = (centres * centres).sum(1).unsqueeze(0);
  auto [partial, labels] = torch::addmm(cSq, d.x, centres.t(), 1, -2).min(1);
  return {labels, partial.add_(d.xSq).clamp_min_(0)};
}

torch::Tensor centresFrom(const Data& d, const torch::Tensor& sums, const torch::Tensor& counts) {
  if (d.metric == ClusterMetric::Cosine)
    return torch::nn::functional::normalize(sums, torch::nn::functional::NormalizeFuncOptions().dim(1));
  return sums / counts.clamp_min(1).unsqueeze(1);
}

struct Step {
  torch::Tensor labels;   // under the centres the step started from
  torch::Tensor cost;     // per row, under those centres
  torch::Tensor centres;  // of those labels
  bool relocated = false;
};

// One Lloyd step: labels under `centres`, then the centres of those labels. A cluster left empty takes
// the row farthest from its own centre (as scikit-learn does), so k clusters survive.
Step lloydStep(const Data& d, const torch::Tensor& centres) {
  auto [labels, dist] = assign(d, centres);
  // One-hot products instead of index_add_: deterministic on CUDA too (no atomics).
  const torch::Tensor onehot = torch::zeros({d.x.size(0), d.k}, d.x.options()).scatter_(1, labels.unsqueeze(1), 1.0);
  torch::Tensor sums = onehot.t().mm(d.x);
  torch::Tensor counts = onehot.sum(0);
  const bool relocate = counts.min().item<double>() == 0;
  if (relocate) {
    const torch::Tensor empty = (counts == 0).nonzero().flatten().cpu();
    const std::int64_t nEmpty = empty.size(0);
    const torch::Tensor far = std::get<1>(dist.topk(std::min<std::int64_t>(nEmpty, dist.size(0)))).cpu();
    const torch::Tensor farLabels = labels.index_select(0, far.to(labels.device())).cpu();
    for (std::int64_t i = 0; i < far.size(0); ++i) {
      const std::int64_t to = empty[i].item<std::int64_t>();
      const std::int64_t row = far[i].item<std::int64_t>();
      const std::int64_t from = farLabels[i].item<std::int64_t>();
      sums[from] -= d.x[row];
      counts[from] -= 1;
      sums[to].copy_(d.x[row]);
      counts[to].fill_(1);
    }
  }
  return {labels, dist, centresFrom(d, sums, counts), relocate};
}

Result<KMeansResult> runOnce(const Data& d, std::mt19937_64& rng, int maxIterations, const CancelToken& cancel) {
  torch::Tensor centres = seedCentres(d, rng);
  torch::Tensor labels, cost, previous;
  KMeansResult r;
  bool strict = false;
  for (int it = 1; it <= maxIterations; ++it) {
    if (cancel.isCancelled()) return Error::cancelled();
    Step step = lloydStep(d, centres);
    const double shift = (step.centres - centres).pow(2).sum(torch::kDouble).item<double>();
    centres = step.centres;
    labels = step.labels;
    cost = step.cost;
    r.iterations = it;
    // Unchanged labels give unchanged centres: labels, costs and centres agree (unless a relocation
    // moved a centre without relabelling).
    if (previous.defined() && torch::equal(labels, previous)) {
      strict = !step.relocated;
      r.converged = true;
      break;
    }
    if (shift <= d.tolerance) {
      r.converged = true;
      break;
    }
    previous = labels;
  }
  // Unless the labels were already stable, relabel under the final centres so that labels, centres and
  // objective describe one and the same partition.
  if (!strict) std::tie(labels, cost) = assign(d, centres);
  r.labels = labels;
  r.centres = centres;
  r.objective = cost.sum(torch::kDouble).item<double>();
  return r;
}

}  // namespace

Result<KMeansResult> kmeans(const torch::Tensor& features, const KMeansOptions& options, const CancelToken& cancel) {
  if (!features.defined()) return Error{ErrorCode::InvalidArgument, "k-means needs a feature tensor"};
  if (features.dim() != 2)
    return Error{ErrorCode::InvalidArgument,
                 "k-means needs an [N, D] feature tensor, got " + std::to_string(features.dim()) + " dimensions"};
  if (!features.is_floating_point()) return Error{ErrorCode::InvalidArgument, "k-means needs floating-point features"};
  if (options.k < 1) return Error{ErrorCode::InvalidArgument, "k-means needs k >= 1"};
  if (features.size(0) < options.k)
    return Error{ErrorCode::InvalidArgument, "k-means with k = " + std::to_string(options.k) + " needs at least " +
                                                 std::to_string(options.k) + " rows, got " +
                                                 std::to_string(features.size(0))};
  if (features.size(1) < 1) return Error{ErrorCode::InvalidArgument, "k-means needs at least one feature per row"};
  if (options.maxIterations < 1) return Error{ErrorCode::InvalidArgument, "k-means needs maxIterations >= 1"};
  if (options.nInit < 1) return Error{ErrorCode::InvalidArgument, "k-means needs nInit >= 1"};
  if (!(options.tolerance >= 0)) return Error{ErrorCode::InvalidArgument, "k-means needs a tolerance >= 0"};

  try {
    torch::NoGradGuard noGrad;
    const auto dtype = features.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    Data d;
    d.metric = options.metric;
    d.k = options.k;
    d.x = features.to(dtype).contiguous();
    if (!allFinite(d.x)) return Error{ErrorCode::InvalidArgument, "Features contain NaN or infinite values"};
    torch::Tensor mean;
    if (d.metric == ClusterMetric::Cosine) {
      const torch::Tensor norms = d.x.norm(2, 1, true);
      d.x = d.x / norms.clamp_min(1e-12);
      d.xSq = (norms > 0).to(dtype).squeeze(1);  // 1, or 0 for a zero row
    } else {
      // Centred, as scikit-learn does: no distance changes, but |x|^2 - 2 x.c + |c|^2 loses less to
      // rounding. The mean goes back onto the centres at the end.
      mean = d.x.mean(0, true);
      d.x = d.x - mean;
      d.xSq = (d.x * d.x).sum(1);
    }
    // scikit-learn's tolerance scale: the mean over features of the per-feature variance, i.e.
    // (sum |x|^2 / N - |mean x|^2) / D, which is cheaper than a column-wise variance.
    const double n = double(d.x.size(0)), dims = double(d.x.size(1));
    const double meanSq = mean.defined() ? 0.0 : d.x.mean(0).pow(2).sum(torch::kDouble).item<double>();
    const double variance = std::max(0.0, (d.xSq.sum(torch::kDouble).item<double>() / n - meanSq) / dims);
    d.tolerance = options.tolerance * variance;

    std::mt19937_64 rng(options.seed);
    std::optional<KMeansResult> best;
    for (int run = 0; run < options.nInit; ++run) {
      auto r = runOnce(d, rng, options.maxIterations, cancel);
      if (!r) return r.error();
      if (!best || r->objective < best->objective) best = std::move(r).value();
    }
    if (mean.defined()) best->centres = best->centres + mean;
    return std::move(*best);
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal, std::string("k-means failed in LibTorch: ") + e.what_without_backtrace()};
  }
}

Result<ForgeryLabels> forgeryLabelsFromClusters(const torch::Tensor& labels) {
  if (!labels.defined() || labels.dim() != 1)
    return Error{ErrorCode::InvalidArgument, "Cluster labels must be a 1-D tensor"};
  if (labels.is_floating_point() || labels.is_complex() || labels.scalar_type() == torch::kBool)
    return Error{ErrorCode::InvalidArgument, "Cluster labels must be integers"};
  try {
    ForgeryLabels out;
    out.forged = torch::zeros({labels.size(0)}, labels.options().dtype(torch::kBool));
    if (labels.numel() == 0) return out;
    const torch::Tensor l = labels.to(torch::kLong);
    if (l.min().item<std::int64_t>() < -1)
      return Error{ErrorCode::InvalidArgument, "Cluster labels must be -1 (noise) or >= 0"};
    const torch::Tensor inCluster = l >= 0;
    const torch::Tensor clustered = l.masked_select(inCluster);
    if (clustered.numel() == 0) return out;  // all noise: no cluster, pristine
    const torch::Tensor counts = torch::bincount(clustered);
    out.clusterCount = static_cast<int>((counts > 0).sum().item<std::int64_t>());
    out.pristineCluster = counts.argmax().item<std::int64_t>();  // first maximum: lower label on ties
    out.forgeryFound = out.clusterCount >= 2;
    if (out.forgeryFound) out.forged = inCluster & (l != out.pristineCluster);
    return out;
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Internal,
                 std::string("Forgery labelling failed in LibTorch: ") + e.what_without_backtrace()};
  }
}

}  // namespace loupe::analysis
