#include "Pca.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace loupe::analysis {

torch::Tensor PcaModel::transform(const torch::Tensor& x) const {
  const auto dev = x.device();
  return (x.to(torch::kFloat32) - mean.to(dev)).matmul(components.to(dev).t());
}

Result<PcaModel> fitPca(const torch::Tensor& x, const PcaOptions& options, const CancelToken& cancel, Progress progress) {
  if (!x.defined() || x.dim() != 2 || x.size(0) < 1 || x.size(1) < 1)
    return Error(ErrorCode::InvalidArgument, "PCA needs a non-empty 2-D matrix (rows x dimensions)");
  if (!x.is_floating_point()) return Error(ErrorCode::InvalidArgument, "PCA needs floating-point data");
  const std::int64_t n = x.size(0), d = x.size(1);
  const int k = options.components;
  if (k < 1 || k > d)
    return Error(ErrorCode::InvalidArgument, "PCA to " + std::to_string(k) + " dimensions: the data has " + std::to_string(d) +
                                                 " dimensions (choose 1 to " + std::to_string(d) + ")");
  if (k > n)
    return Error(ErrorCode::InvalidArgument, "PCA to " + std::to_string(k) + " dimensions needs at least " +
                                                 std::to_string(k) + " rows; the data has " + std::to_string(n));
  if (!at::isfinite(x).all().item<bool>())
    return Error(ErrorCode::InvalidArgument, "PCA input holds NaN or Inf values; drop those rows first");
  const auto f64 = x.options().dtype(at::kDouble);
  const std::int64_t chunk = std::max<std::int64_t>(1, options.chunkRows);

  // Mean in float64, chunk by chunk.
  progress.report(0.0, "PCA: mean");
  auto sum = at::zeros({d}, f64);
  for (std::int64_t b = 0; b < n; b += chunk) {
    if (cancel.isCancelled()) return Error::cancelled();
    sum += x.slice(0, b, std::min(n, b + chunk)).to(at::kDouble).sum(0);
  }
  const auto mean = sum / double(n);
  const double dof = n > 1 ? double(n - 1) : 1.0;

  at::Tensor values, vectors;  // eigenvalues descending [min(n, d)], eigenvectors as rows
  if (n >= d) {
    auto cov = at::zeros({d, d}, f64);
    for (std::int64_t b = 0; b < n; b += chunk) {
      if (cancel.isCancelled()) return Error::cancelled();
      auto c = x.slice(0, b, std::min(n, b + chunk)).to(at::kDouble) - mean;
      cov.addmm_(c.t(), c);
      progress.report(0.9 * double(std::min(n, b + chunk)) / double(n), "PCA: covariance");
    }
    cov /= dof;
    cov = (cov + cov.t()) * 0.5;  // exactly symmetric for eigh
    auto [w, v] = at::linalg_eigh(cov);
    values = w.flip(0);
    vectors = v.flip(1).t();
  } else {
    auto c = x.to(at::kDouble) - mean;
    auto [u, s, vh] = at::linalg_svd(c, false);
    values = s.square() / dof;
    vectors = vh;
  }
  if (cancel.isCancelled()) return Error::cancelled();
  values = values.clamp_min(0.0);  // round-off can make zero eigenvalues slightly negative

  PcaModel m;
  m.samples = n;
  m.totalVariance = values.sum().item<double>();
  auto comps = vectors.slice(0, 0, k).clone();
  auto ev = values.slice(0, 0, k).clone();
  // Directions without variance are arbitrary: use unit axes for them so the result is deterministic, and
  // orthogonalise against the components that do carry variance.
  // "No variance": below round-off of the eigen-solver, or below what float32 input can resolve around its
  // mean (float32 has ~7 significant digits, so variances under (|mean| * 1e-7)^2 are noise).
  const double maxEigen = values.max().item<double>();
  const double tiny = std::max(maxEigen * 1e-12 * double(d), mean.square().max().item<double>() * 1e-14);
  const std::int64_t carrying = (ev > tiny).sum().item<std::int64_t>();
  if (carrying < k) {
    ev.slice(0, carrying, k).zero_();
    auto basis = comps.slice(0, 0, carrying);
    std::int64_t axis = 0;
    for (std::int64_t r = carrying; r < k; ++r) {
      while (axis < d) {
        auto e = at::zeros({d}, f64);
        e[axis++] = 1.0;
        auto prev = comps.slice(0, 0, r);
        auto resid = e - prev.t().matmul(prev.matmul(e));
        const double norm = resid.norm().item<double>();
        if (norm > 1e-6) {
          comps[r] = resid / norm;
          break;
        }
      }
    }
    if (m.totalVariance <= tiny) {
      m.notices.push_back("all " + std::to_string(n) + " vectors are identical (zero variance): the PCA projection is all zeros");
    } else {
      m.notices.push_back("the data varies along only " + std::to_string(carrying) + " direction(s); the other " +
                          std::to_string(k - carrying) + " PCA component(s) have zero variance and project to 0");
    }
  }
  // Signs: the entry of largest magnitude of each component is positive.
  auto maxIdx = comps.abs().argmax(1, true);
  auto signs = comps.gather(1, maxIdx).sign();
  signs = at::where(signs == 0, at::ones_like(signs), signs);
  comps = comps * signs;

  m.mean = mean.to(at::kFloat);
  m.components = comps.to(at::kFloat).contiguous();
  m.explainedVariance = ev.cpu();
  m.explainedVarianceRatio = m.totalVariance > tiny ? (ev / m.totalVariance).cpu() : at::zeros({k}, at::kDouble);
  m.singularValues = (ev * dof).sqrt().cpu();
  progress.report(1.0, "PCA done");
  return m;
}

}  // namespace loupe::analysis
