#pragma once
// Resampling a volume into another volume's grid through world coordinates (LPS, mm), so sequences with
// different spacing, origin and (oblique) direction line up voxel for voxel with a reference (the T2W).

#include "core/CancelToken.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::volume {

enum class Interpolation { Linear, Nearest };

struct ResampleOptions {
  Interpolation interpolation = Interpolation::Linear;  // use Nearest for label maps
  float outside = 0.f;  // value where the reference grid lies outside the source
};

// Samples `source` at the world position of every voxel centre of `reference`'s grid (trilinear or nearest).
// A reference voxel is inside the source when its continuous source index lies within half a voxel of the
// source's voxel-centre box (so thick slices cover their full thickness); neighbours beyond the edge
// repeat the edge. Int32 sources resampled with Nearest stay Int32, otherwise the result is float.
// Errors when the two volumes do not overlap at all; when under half of the reference is covered the
// result carries a warning saying how much is.
Result<Volume> resampleToGrid(const Volume& source, const Volume& reference, const ResampleOptions& options = {},
                              const CancelToken& cancel = {});

// A new grid covering the same world box as `volume` with the given spacing (same origin and direction).
Volume gridWithSpacing(const Volume& volume, const Vec3& spacing);

}  // namespace loupe::volume
