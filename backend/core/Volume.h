#pragma once
// A 3-D scalar volume in patient space, as ITK and DICOM define it (LPS world coordinates, millimetres):
//   world = origin + direction * diag(spacing) * index
// where index = (i, j, k) runs along x (fastest), y, z of the voxel array and `direction` holds the
// unit axis vectors as columns. Voxels are float (intensities, likelihoods) or int32 (labels).
// Header-only, Qt-free, no ITK: readers live in backend/volume, users anywhere.

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loupe {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major: m[r * 3 + c]

inline Mat3 identity3() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

inline Vec3 mul3(const Mat3& m, const Vec3& v) {
  return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
          m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}

inline double det3(const Mat3& m) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

// Inverse of a non-singular 3x3 matrix (the caller checks det3 != 0).
inline Mat3 inverse3(const Mat3& m) {
  const double d = det3(m);
  Mat3 r{};
  r[0] = (m[4] * m[8] - m[5] * m[7]) / d;
  r[1] = (m[2] * m[7] - m[1] * m[8]) / d;
  r[2] = (m[1] * m[5] - m[2] * m[4]) / d;
  r[3] = (m[5] * m[6] - m[3] * m[8]) / d;
  r[4] = (m[0] * m[8] - m[2] * m[6]) / d;
  r[5] = (m[2] * m[3] - m[0] * m[5]) / d;
  r[6] = (m[3] * m[7] - m[4] * m[6]) / d;
  r[7] = (m[1] * m[6] - m[0] * m[7]) / d;
  r[8] = (m[0] * m[4] - m[1] * m[3]) / d;
  return r;
}

enum class VoxelType { Float32, Int32 };

struct Volume {
  std::array<std::int64_t, 3> size{0, 0, 0};  // voxels along x, y, z
  Vec3 spacing{1, 1, 1};                       // mm between voxel centres along each index axis
  Vec3 origin{0, 0, 0};                        // world position (LPS, mm) of voxel (0, 0, 0)'s centre
  Mat3 direction = identity3();                // columns: world direction of the x, y, z index axes
  VoxelType type = VoxelType::Float32;
  std::vector<float> floats;        // x fastest, then y, then z; used when type == Float32
  std::vector<std::int32_t> ints;   // same layout; used when type == Int32
  std::string description;          // e.g. the DICOM series description or the file name
  std::vector<std::string> warnings;  // what the reader changed or assumed (e.g. "took volume 1 of 3")

  static Volume floatVolume(std::array<std::int64_t, 3> n, Vec3 spacing = {1, 1, 1}, Vec3 origin = {0, 0, 0},
                            Mat3 direction = identity3()) {
    Volume v;
    v.size = n;
    v.spacing = spacing;
    v.origin = origin;
    v.direction = direction;
    v.type = VoxelType::Float32;
    v.floats.assign(static_cast<std::size_t>(n[0] * n[1] * n[2]), 0.f);
    return v;
  }
  static Volume intVolume(std::array<std::int64_t, 3> n, Vec3 spacing = {1, 1, 1}, Vec3 origin = {0, 0, 0},
                          Mat3 direction = identity3()) {
    Volume v = floatVolume({0, 0, 0}, spacing, origin, direction);
    v.size = n;
    v.type = VoxelType::Int32;
    v.ints.assign(static_cast<std::size_t>(n[0] * n[1] * n[2]), 0);
    return v;
  }
  // The same grid (size, spacing, origin, direction) with new voxels.
  Volume sameGrid(VoxelType t) const {
    return t == VoxelType::Float32 ? floatVolume(size, spacing, origin, direction)
                                   : intVolume(size, spacing, origin, direction);
  }

  std::int64_t voxelCount() const { return size[0] * size[1] * size[2]; }
  bool empty() const { return voxelCount() == 0; }
  std::size_t offset(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return static_cast<std::size_t>((k * size[1] + j) * size[0] + i);
  }
  bool contains(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < size[0] && j < size[1] && k < size[2];
  }
  // Voxel value as double, whatever the type.
  double value(std::size_t at) const { return type == VoxelType::Float32 ? floats[at] : ints[at]; }
  double value(std::int64_t i, std::int64_t j, std::int64_t k) const { return value(offset(i, j, k)); }

  // direction * diag(spacing): maps an index step to a world step.
  Mat3 indexToWorldMatrix() const {
    Mat3 m = direction;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) m[r * 3 + c] *= spacing[c];
    return m;
  }
  // Continuous index (voxel centres at integers) -> world (LPS, mm).
  Vec3 indexToWorld(const Vec3& index) const {
    const Vec3 d = mul3(indexToWorldMatrix(), index);
    return {origin[0] + d[0], origin[1] + d[1], origin[2] + d[2]};
  }
  // World -> continuous index (inverse of indexToWorld).
  Vec3 worldToIndex(const Vec3& world) const {
    const Vec3 rel{world[0] - origin[0], world[1] - origin[1], world[2] - origin[2]};
    return mul3(inverse3(indexToWorldMatrix()), rel);
  }
  double voxelVolumeMm3() const { return spacing[0] * spacing[1] * spacing[2]; }

  // World-space corners of the voxel-centre box (8 points), for overlap checks.
  std::array<Vec3, 8> cornersWorld() const {
    std::array<Vec3, 8> out{};
    for (int c = 0; c < 8; ++c) {
      const Vec3 idx{(c & 1) ? double(size[0] - 1) : 0.0, (c & 2) ? double(size[1] - 1) : 0.0,
                     (c & 4) ? double(size[2] - 1) : 0.0};
      out[c] = indexToWorld(idx);
    }
    return out;
  }
};

// True when two volumes share their grid: same size, and spacing/origin/direction equal within `tol`.
inline bool sameGeometry(const Volume& a, const Volume& b, double tol = 1e-4) {
  if (a.size != b.size) return false;
  for (int i = 0; i < 3; ++i)
    if (std::abs(a.spacing[i] - b.spacing[i]) > tol || std::abs(a.origin[i] - b.origin[i]) > tol) return false;
  for (int i = 0; i < 9; ++i)
    if (std::abs(a.direction[i] - b.direction[i]) > tol) return false;
  return true;
}

// A study: several named sequences ("t2w", "adc", "dwi", ...), each in its own geometry.
struct Study {
  std::string path;  // the folder or first file it came from
  std::vector<std::pair<std::string, Volume>> sequences;

  const Volume* find(const std::string& name) const {
    for (const auto& [n, v] : sequences)
      if (n == name) return &v;
    return nullptr;
  }
};

}  // namespace loupe
