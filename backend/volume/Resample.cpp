#include "Resample.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <sstream>

namespace loupe::volume {

Result<Volume> resampleToGrid(const Volume& source, const Volume& reference, const ResampleOptions& options,
                              const CancelToken& cancel) {
  if (source.empty() || reference.empty())
    return Error{ErrorCode::InvalidArgument, "Cannot resample: the source or the reference volume is empty"};
  const Mat3 srcM = source.indexToWorldMatrix();
  if (std::abs(det3(srcM)) < 1e-12)
    return Error{ErrorCode::InvalidArgument, "Cannot resample " + source.description + ": its geometry is degenerate"};
  // source index = A * reference index + b
  const Mat3 srcInv = inverse3(srcM);
  const Mat3 refM = reference.indexToWorldMatrix();
  Mat3 A{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) A[r * 3 + c] += srcInv[r * 3 + k] * refM[k * 3 + c];
  const Vec3 b = mul3(srcInv, {reference.origin[0] - source.origin[0], reference.origin[1] - source.origin[1],
                               reference.origin[2] - source.origin[2]});

  const bool keepInt = source.type == VoxelType::Int32 && options.interpolation == Interpolation::Nearest;
  Volume out = reference.sameGrid(keepInt ? VoxelType::Int32 : VoxelType::Float32);
  out.description = source.description;
  out.warnings = source.warnings;
  const std::int64_t nx = source.size[0], ny = source.size[1], nz = source.size[2];
  const std::int64_t rx = reference.size[0], ry = reference.size[1], rz = reference.size[2];
  std::atomic<std::int64_t> inside{0};
  std::atomic<bool> stop{false};

  auto clampI = [](std::int64_t v, std::int64_t n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); };
  at::parallel_for(0, rz * ry, 16, [&](std::int64_t begin, std::int64_t end) {
    std::int64_t localInside = 0;
    for (std::int64_t row = begin; row < end; ++row) {
      if (stop.load(std::memory_order_relaxed)) return;
      if (cancel.isCancelled()) {
        stop = true;
        return;
      }
      const std::int64_t k = row / ry, j = row % ry;
      for (std::int64_t i = 0; i < rx; ++i) {
        const double x = A[0] * i + A[1] * j + A[2] * k + b[0];
        const double y = A[3] * i + A[4] * j + A[5] * k + b[1];
        const double z = A[6] * i + A[7] * j + A[8] * k + b[2];
        const std::size_t at = reference.offset(i, j, k);
        if (x < -0.5 || y < -0.5 || z < -0.5 || x > nx - 0.5 || y > ny - 0.5 || z > nz - 0.5) {
          if (keepInt) out.ints[at] = static_cast<std::int32_t>(options.outside);
          else out.floats[at] = options.outside;
          continue;
        }
        ++localInside;
        if (options.interpolation == Interpolation::Nearest) {
          const std::size_t s = source.offset(clampI(std::llround(x), nx), clampI(std::llround(y), ny),
                                              clampI(std::llround(z), nz));
          if (keepInt) out.ints[at] = source.ints[s];
          else out.floats[at] = static_cast<float>(source.value(s));
          continue;
        }
        const double fx = std::floor(x), fy = std::floor(y), fz = std::floor(z);
        const double tx = x - fx, ty = y - fy, tz = z - fz;
        const std::int64_t x0 = clampI(std::int64_t(fx), nx), x1 = clampI(std::int64_t(fx) + 1, nx);
        const std::int64_t y0 = clampI(std::int64_t(fy), ny), y1 = clampI(std::int64_t(fy) + 1, ny);
        const std::int64_t z0 = clampI(std::int64_t(fz), nz), z1 = clampI(std::int64_t(fz) + 1, nz);
        auto v = [&](std::int64_t a, std::int64_t bb, std::int64_t c) { return source.value(source.offset(a, bb, c)); };
        const double c00 = v(x0, y0, z0) * (1 - tx) + v(x1, y0, z0) * tx;
        const double c10 = v(x0, y1, z0) * (1 - tx) + v(x1, y1, z0) * tx;
        const double c01 = v(x0, y0, z1) * (1 - tx) + v(x1, y0, z1) * tx;
        const double c11 = v(x0, y1, z1) * (1 - tx) + v(x1, y1, z1) * tx;
        const double c0 = c00 * (1 - ty) + c10 * ty, c1 = c01 * (1 - ty) + c11 * ty;
        out.floats[at] = static_cast<float>(c0 * (1 - tz) + c1 * tz);
      }
    }
    inside += localInside;
  });
  if (stop || cancel.isCancelled()) return Error::cancelled();
  const std::int64_t total = reference.voxelCount();
  if (inside == 0) {
    std::ostringstream m;
    m.precision(5);
    const Vec3 sc = source.indexToWorld({(nx - 1) / 2.0, (ny - 1) / 2.0, (nz - 1) / 2.0});
    const Vec3 rc = reference.indexToWorld({(rx - 1) / 2.0, (ry - 1) / 2.0, (rz - 1) / 2.0});
    m << "The sequences do not overlap in space: " << (source.description.empty() ? "the source" : source.description)
      << " (centre at " << sc[0] << ", " << sc[1] << ", " << sc[2] << " mm LPS) lies entirely outside "
      << (reference.description.empty() ? "the reference" : reference.description) << " (centre at " << rc[0] << ", "
      << rc[1] << ", " << rc[2] << " mm). Are they from the same study, with their original headers?";
    return Error{ErrorCode::InvalidArgument, m.str()};
  }
  if (inside * 2 < total) {
    std::ostringstream m;
    m << (source.description.empty() ? "The source" : source.description) << " covers only "
      << std::lround(100.0 * double(inside) / double(total)) << "% of the reference grid";
    out.warnings.push_back(m.str());
  }
  return out;
}

Volume gridWithSpacing(const Volume& volume, const Vec3& spacing) {
  std::array<std::int64_t, 3> n{};
  for (int i = 0; i < 3; ++i)
    n[i] = std::max<std::int64_t>(1, std::llround(double(volume.size[i]) * volume.spacing[i] / spacing[i]));
  Volume g = Volume::floatVolume(n, spacing, {0, 0, 0}, volume.direction);
  // Keep the world box: the first voxel centre sits half a new voxel inside the old box's corner.
  Vec3 shift{};
  for (int i = 0; i < 3; ++i) shift[i] = (spacing[i] - volume.spacing[i]) / 2.0 / volume.spacing[i];
  g.origin = volume.indexToWorld(shift);
  g.description = volume.description;
  return g;
}

}  // namespace loupe::volume
