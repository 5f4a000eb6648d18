#pragma once
// Label volumes whose right answer is known, for the 3-D view's tests: balls of given world centre and
// radius in an oblique, anisotropic grid (direction cosines from two rotations, spacing 0.8 x 1.1 x 2.5).

#include <cmath>
#include <vector>

#include "core/Volume.h"

namespace loupe::test {

// Rotation about z by `a` then about x by `b` (radians): an oblique acquisition's direction cosines.
inline Mat3 obliqueDirection(double a = 0.5236, double b = 0.3491) {
  const Mat3 rz{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
  const Mat3 rx{1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)};
  Mat3 m{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) m[r * 3 + c] += rx[r * 3 + k] * rz[k * 3 + c];
  return m;
}

struct Ball {
  Vec3 centre;  // world, LPS mm
  double radius;
  std::int32_t label;
};

// An int label volume on `grid`'s geometry: a voxel gets a ball's label when its centre lies inside it.
inline Volume ballLabels(const Volume& grid, const std::vector<Ball>& balls) {
  Volume v = grid.sameGrid(VoxelType::Int32);
  for (std::int64_t k = 0; k < v.size[2]; ++k)
    for (std::int64_t j = 0; j < v.size[1]; ++j)
      for (std::int64_t i = 0; i < v.size[0]; ++i) {
        const Vec3 w = v.indexToWorld({double(i), double(j), double(k)});
        for (const Ball& b : balls) {
          const double d = std::hypot(w[0] - b.centre[0], w[1] - b.centre[1], w[2] - b.centre[2]);
          if (d <= b.radius) v.ints[v.offset(i, j, k)] = b.label;
        }
      }
  return v;
}

// The oblique, anisotropic grid the tests use: 48 x 44 x 20 voxels of 0.8 x 1.1 x 2.5 mm, origin away
// from zero, so a wrong transposition, a lost direction or a swapped spacing moves the surface by
// millimetres.
inline Volume obliqueGrid() {
  return Volume::intVolume({48, 44, 20}, {0.8, 1.1, 2.5}, {-12.5, 30.2, 7.1}, obliqueDirection());
}

// Centre of the grid in world space (where balls are put).
inline Vec3 gridCentre(const Volume& g) {
  return g.indexToWorld({0.5 * double(g.size[0] - 1), 0.5 * double(g.size[1] - 1), 0.5 * double(g.size[2] - 1)});
}

// Half the voxel diagonal: every unsmoothed boundary vertex lies within this of the true sphere.
inline double halfVoxelDiagonal(const Volume& g) {
  return 0.5 * std::sqrt(g.spacing[0] * g.spacing[0] + g.spacing[1] * g.spacing[1] + g.spacing[2] * g.spacing[2]);
}

}  // namespace loupe::test
