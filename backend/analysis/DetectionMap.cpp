#include "DetectionMap.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace loupe::analysis {

namespace {

using Size3 = std::array<std::int64_t, 3>;

std::size_t index3(const Size3& n, std::int64_t i, std::int64_t j, std::int64_t k) {
  return static_cast<std::size_t>((k * n[1] + j) * n[0] + i);
}

// PI-CAI's extract_lesion_candidates_static on `values`: components of values >= threshold (and > 0), those of
// <= minVoxels dropped, each kept one set to its maximum. `blobs` gets the component ids (dropped ones 0),
// `hard` the constant-likelihood map; returns the kept ids with their likelihoods.
std::vector<std::pair<int, double>> staticCandidates(const std::vector<float>& values, const Size3& n,
                                                     double threshold, int minVoxels, std::vector<std::int32_t>& blobs,
                                                     std::vector<float>& hard) {
  std::vector<std::uint8_t> mask(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) mask[i] = values[i] >= threshold && values[i] != 0.f;
  const int count = labelComponents26(mask, n, blobs);
  std::vector<std::int64_t> sizes(std::size_t(count) + 1, 0);
  std::vector<float> maxima(std::size_t(count) + 1, 0.f);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto b = std::size_t(blobs[i]);
    if (b == 0) continue;
    ++sizes[b];
    maxima[b] = std::max(maxima[b], values[i]);
  }
  hard.assign(values.size(), 0.f);
  std::vector<std::pair<int, double>> kept;
  for (int b = 1; b <= count; ++b)
    if (sizes[std::size_t(b)] > minVoxels) kept.emplace_back(b, maxima[std::size_t(b)]);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto b = std::size_t(blobs[i]);
    if (b == 0) continue;
    if (sizes[b] <= minVoxels) blobs[i] = 0;
    else hard[i] = maxima[b];
  }
  return kept;
}

}  // namespace

int labelComponents26(const std::vector<std::uint8_t>& mask, const Size3& n, std::vector<std::int32_t>& labels) {
  labels.assign(mask.size(), 0);
  int count = 0;
  std::deque<std::array<std::int64_t, 3>> queue;
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i) {
        const std::size_t at = index3(n, i, j, k);
        if (!mask[at] || labels[at] != 0) continue;
        labels[at] = ++count;
        queue.push_back({i, j, k});
        while (!queue.empty()) {
          const auto [x, y, z] = queue.front();
          queue.pop_front();
          for (std::int64_t dz = -1; dz <= 1; ++dz)
            for (std::int64_t dy = -1; dy <= 1; ++dy)
              for (std::int64_t dx = -1; dx <= 1; ++dx) {
                const std::int64_t a = x + dx, b = y + dy, c = z + dz;
                if (a < 0 || b < 0 || c < 0 || a >= n[0] || b >= n[1] || c >= n[2]) continue;
                const std::size_t o = index3(n, a, b, c);
                if (mask[o] && labels[o] == 0) {
                  labels[o] = count;
                  queue.push_back({a, b, c});
                }
              }
        }
      }
  return count;
}

LesionCandidate describeCandidate(const Volume& labels, const Volume& map, int id) {
  LesionCandidate c;
  c.id = id;
  const auto& n = labels.size;
  std::vector<Vec3> boundary;
  double peak = -std::numeric_limits<double>::infinity();
  Vec3 sum{0, 0, 0};
  auto inside = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return labels.contains(i, j, k) && labels.ints[labels.offset(i, j, k)] == id;
  };
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i) {
        const std::size_t at = labels.offset(i, j, k);
        if (labels.ints[at] != id) continue;
        ++c.voxels;
        sum[0] += double(i);
        sum[1] += double(j);
        sum[2] += double(k);
        const double v = map.empty() ? 0.0 : map.value(at);
        if (v > peak) {
          peak = v;
          c.peakIndex = {i, j, k};
        }
        // The farthest pair of voxel centres always lies on the boundary: only boundary voxels are compared.
        if (!inside(i - 1, j, k) || !inside(i + 1, j, k) || !inside(i, j - 1, k) || !inside(i, j + 1, k) ||
            !inside(i, j, k - 1) || !inside(i, j, k + 1))
          boundary.push_back(labels.indexToWorld({double(i), double(j), double(k)}));
      }
  if (c.voxels == 0) return c;
  c.likelihood = peak;
  c.centroidIndex = {sum[0] / double(c.voxels), sum[1] / double(c.voxels), sum[2] / double(c.voxels)};
  c.centroidWorld = labels.indexToWorld(c.centroidIndex);
  c.volumeMl = double(c.voxels) * labels.voxelVolumeMm3() / 1000.0;
  double best = 0.0;
  for (std::size_t a = 0; a < boundary.size(); ++a)
    for (std::size_t b = a + 1; b < boundary.size(); ++b) {
      const double dx = boundary[a][0] - boundary[b][0], dy = boundary[a][1] - boundary[b][1],
                   dz = boundary[a][2] - boundary[b][2];
      best = std::max(best, dx * dx + dy * dy + dz * dz);
    }
  c.maxDiameterMm = std::sqrt(best);
  return c;
}

Result<DetectionMap> extractLesionCandidates(const Volume& likelihood, const CandidateOptions& options,
                                             const CancelToken& cancel) {
  if (likelihood.empty()) return Error{ErrorCode::InvalidArgument, "The likelihood volume is empty"};
  if (options.dynamicFactor <= 1.0)
    return Error{ErrorCode::InvalidArgument, "The dynamic threshold factor must be above 1 (PI-CAI uses 2.5)"};
  const Size3 n = likelihood.size;
  std::vector<float> values(std::size_t(likelihood.voxelCount()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = likelihood.value(i);
    if (std::isnan(v)) return Error{ErrorCode::InvalidArgument, "The likelihood volume contains NaN values"};
    if (v < 0) return Error{ErrorCode::InvalidArgument, "The likelihood volume has negative values; expected >= 0"};
    values[i] = static_cast<float>(v);
  }
  DetectionMap out;
  out.map = likelihood.sameGrid(VoxelType::Float32);
  out.labels = likelihood.sameGrid(VoxelType::Int32);
  out.map.warnings.clear();
  out.labels.warnings.clear();
  std::vector<std::int32_t> blobs;
  std::vector<float> hard;
  int found = 0;

  if (options.mode != ThresholdMode::Dynamic) {
    double threshold = options.staticThreshold;
    if (options.mode == ThresholdMode::DynamicFast) {
      const float mx = values.empty() ? 0.f : *std::max_element(values.begin(), values.end());
      threshold = double(mx) / options.dynamicFactor;
    }
    const auto kept = staticCandidates(values, n, threshold, options.minVoxels, blobs, hard);
    std::vector<std::int32_t> renumber(blobs.empty() ? 1 : std::size_t(*std::max_element(blobs.begin(), blobs.end())) + 1, 0);
    for (const auto& [b, conf] : kept) renumber[std::size_t(b)] = ++found;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (blobs[i] == 0) continue;
      out.labels.ints[i] = renumber[std::size_t(blobs[i])];
      out.map.floats[i] = hard[i];
    }
  } else {
    std::vector<float> working = values;
    std::vector<std::uint8_t> current(values.size());
    std::vector<std::int32_t> parts;
    while (found < options.maxCandidates) {
      if (cancel.isCancelled()) return Error::cancelled();
      const float maxProb = *std::max_element(working.begin(), working.end());
      if (maxProb <= 0.f || double(maxProb) < options.stopBelow) break;
      const double threshold = double(maxProb) / options.dynamicFactor;
      staticCandidates(working, n, threshold, options.minVoxels, blobs, hard);
      const float best = *std::max_element(hard.begin(), hard.end());
      if (best == 0.f) {
        // Only small blobs at this level (picai "dynamic-v2"): drop them and go on.
        for (float& w : working)
          if (double(w) > threshold) w = 0.f;
        continue;
      }
      // The candidate: the first (raster order) connected part of the voxels at the best likelihood.
      for (std::size_t i = 0; i < hard.size(); ++i) current[i] = hard[i] == best;
      labelComponents26(current, n, parts);
      bool touches = false;
      for (std::int64_t k = 0; k < n[2]; ++k)
        for (std::int64_t j = 0; j < n[1]; ++j)
          for (std::int64_t i = 0; i < n[0]; ++i) {
            const std::size_t at = index3(n, i, j, k);
            current[at] = parts[at] == 1;
            if (!current[at] || touches || !options.removeAdjacent) continue;
            for (std::int64_t dz = -1; dz <= 1 && !touches; ++dz)
              for (std::int64_t dy = -1; dy <= 1 && !touches; ++dy)
                for (std::int64_t dx = -1; dx <= 1 && !touches; ++dx) {
                  const std::int64_t a = i + dx, b = j + dy, c = k + dz;
                  if (a < 0 || b < 0 || c < 0 || a >= n[0] || b >= n[1] || c >= n[2]) continue;
                  touches = out.labels.ints[index3(n, a, b, c)] != 0;
                }
          }
      if (!touches) {
        ++found;
        for (std::size_t i = 0; i < current.size(); ++i)
          if (current[i]) {
            out.labels.ints[i] = found;
            out.map.floats[i] = best;
          }
      }
      for (std::size_t i = 0; i < current.size(); ++i)
        if (current[i]) working[i] = 0.f;
    }
  }
  for (int id = 1; id <= found; ++id) out.candidates.push_back(describeCandidate(out.labels, out.map, id));
  std::stable_sort(out.candidates.begin(), out.candidates.end(),
                   [](const LesionCandidate& a, const LesionCandidate& b) { return a.likelihood > b.likelihood; });
  return out;
}

std::vector<double> parseDetectionMap(const Volume& map, std::vector<std::int32_t>& indexed) {
  std::vector<std::uint8_t> mask(std::size_t(map.voxelCount()));
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = map.value(i) > 0;
  const int count = labelComponents26(mask, map.size, indexed);
  std::vector<double> confidences(std::size_t(count), 0.0);
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (indexed[i] > 0) {
      double& c = confidences[std::size_t(indexed[i] - 1)];
      c = std::max(c, map.value(i));
    }
  return confidences;
}

}  // namespace loupe::analysis
