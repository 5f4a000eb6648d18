#include "ProstateBaseline.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace loupe::analysis {

namespace {

double quantile(std::vector<float> v, double q) {
  if (v.empty()) return 0.0;
  const auto k = static_cast<std::size_t>(q * double(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Result<Volume> baselineLikelihood(const Volume& t2w, const Volume& adc, const Volume& dwi,
                                  const BaselineOptions& options, const CancelToken& cancel) {
  if (t2w.empty()) return Error{ErrorCode::InvalidArgument, "The T2W volume is empty"};
  if (!sameGeometry(t2w, adc) || !sameGeometry(t2w, dwi))
    return Error{ErrorCode::InvalidArgument, "Baseline: T2W, ADC and DWI must share one grid; resample them first"};
  const std::size_t count = std::size_t(t2w.voxelCount());
  std::vector<float> t2(count);
  for (std::size_t i = 0; i < count; ++i) t2[i] = static_cast<float>(t2w.value(i));
  const double bodyLevel = options.bodyFraction * quantile(t2, 0.99);

  std::vector<std::uint8_t> region(count, 0);
  const Vec3 centre{(double(t2w.size[0]) - 1) / 2, (double(t2w.size[1]) - 1) / 2, (double(t2w.size[2]) - 1) / 2};
  std::vector<float> adcIn, dwiIn;
  for (std::int64_t k = 0; k < t2w.size[2]; ++k) {
    if (cancel.isCancelled()) return Error::cancelled();
    for (std::int64_t j = 0; j < t2w.size[1]; ++j)
      for (std::int64_t i = 0; i < t2w.size[0]; ++i) {
        const double dx = (double(i) - centre[0]) * t2w.spacing[0] / options.regionSemiAxesMm[0];
        const double dy = (double(j) - centre[1]) * t2w.spacing[1] / options.regionSemiAxesMm[1];
        const double dz = (double(k) - centre[2]) * t2w.spacing[2] / options.regionSemiAxesMm[2];
        const std::size_t at = t2w.offset(i, j, k);
        if (dx * dx + dy * dy + dz * dz > 1.0 || t2[at] <= bodyLevel) continue;
        const double a = adc.value(at), d = dwi.value(at);
        if (!std::isfinite(a) || !std::isfinite(d)) continue;
        region[at] = 1;
        adcIn.push_back(float(a));
        dwiIn.push_back(float(d));
      }
  }
  Volume out = t2w.sameGrid(VoxelType::Float32);
  out.warnings.clear();
  out.description = "training-free baseline likelihood (low ADC + high DWI)";
  if (adcIn.size() < 27) {
    out.warnings.push_back("Baseline: the region (body near the centre of the field of view) is almost empty; "
                           "no likelihood was computed");
    return out;
  }
  auto robust = [](const std::vector<float>& v, double& med, double& scale) {
    med = quantile(v, 0.5);
    std::vector<float> dev(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) dev[i] = std::abs(v[i] - float(med));
    scale = 1.4826 * quantile(dev, 0.5);
    if (scale <= 0) scale = 1.0;
  };
  double adcMed, adcScale, dwiMed, dwiScale;
  robust(adcIn, adcMed, adcScale);
  robust(dwiIn, dwiMed, dwiScale);
  std::vector<float> raw(count, 0.f);
  for (std::size_t at = 0; at < count; ++at) {
    if (!region[at]) continue;
    const double za = (adc.value(at) - adcMed) / adcScale;
    const double zd = (dwi.value(at) - dwiMed) / dwiScale;
    raw[at] = float(sigmoid(options.steepness * (-za - options.zOffset)) * sigmoid(options.steepness * (zd - options.zOffset)));
  }
  // 3x3 in-plane mean (slices are thick): single noisy voxels do not become candidates.
  for (std::int64_t k = 0; k < t2w.size[2]; ++k) {
    if (cancel.isCancelled()) return Error::cancelled();
    for (std::int64_t j = 0; j < t2w.size[1]; ++j)
      for (std::int64_t i = 0; i < t2w.size[0]; ++i) {
        const std::size_t at = t2w.offset(i, j, k);
        if (!region[at]) continue;
        double sum = 0;
        int n = 0;
        for (std::int64_t dj = -1; dj <= 1; ++dj)
          for (std::int64_t di = -1; di <= 1; ++di) {
            if (!t2w.contains(i + di, j + dj, k)) continue;
            sum += raw[t2w.offset(i + di, j + dj, k)];
            ++n;
          }
        out.floats[at] = float(sum / n);
      }
  }
  return out;
}

}  // namespace loupe::analysis
