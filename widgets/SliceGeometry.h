#pragma once
// The geometry behind SliceView: which plane of a reference volume (the study's T2W) a view shows, how a
// display pixel maps to the reference's voxel index and to world space (LPS, mm), and how any other volume
// (ADC, DWI, overlays, each in its own grid) is sampled on that plane.
//
// Display planes follow the radiological convention in the anatomical orientation closest to the
// reference's axes (as ITK-SNAP does): each display axis is the reference index axis whose direction cosine
// is closest to the anatomical axis, flipped where needed, so an oblique acquisition is shown in its own
// (oblique) slice plane.
//   axial:    screen right = patient left (+x LPS), screen down = posterior (+y), slices along z
//   sagittal: screen right = posterior (+y),        screen down = inferior (-z),  slices along x
//   coronal:  screen right = patient left (+x),      screen down = inferior (-z),  slices along y
// One display pixel is one reference voxel of the plane; pixel (u, v) covers [u, u+1) x [v, v+1) and its
// centre (u + 0.5, v + 0.5) is the voxel centre.
//
// Sampling another volume: its continuous index is an affine function of the reference index,
//   src = B * ref + c,  B = (D_s S_s)^-1 D_r S_r,  c = (D_s S_s)^-1 (o_r - o_s),
// so along a display row it moves by a constant step: computed once per volume and slice, no per-pixel
// matrix product and no virtual call. A display pixel is inside the source when its source index lies
// within half a voxel of the source's voxel-centre box (thick slices cover their thickness), the same rule
// as volume::resampleToGrid; neighbours past the edge repeat the edge.
// Qt-free; plain C++ on core/Volume.h.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/Volume.h"

namespace loupe::widgets {

enum class SlicePlane { Axial, Sagittal, Coronal };
const char* slicePlaneName(SlicePlane plane);  // "axial", "sagittal", "coronal"
std::optional<SlicePlane> slicePlaneFromName(const std::string& name);

struct SliceFrame {
  SlicePlane plane = SlicePlane::Axial;
  int uAxis = 0, vAxis = 1, nAxis = 2;  // reference index axes shown along u (right), v (down), normal
  bool flipU = false, flipV = false;    // display u = size-1-index along that axis
  int nu = 0, nv = 0, ns = 0;           // display width, height, slice count (reference voxels)
  double su = 1, sv = 1, sn = 1;        // mm per display pixel along u, v, and between slices

  bool valid() const { return nu > 0 && nv > 0 && ns > 0; }
  // Continuous reference index of display point (u, v) (pixel centres at u + 0.5) on slice s.
  Vec3 refIndex(double u, double v, double s) const;
  // Inverse: (u, v, s) of a continuous reference index, u/v in display pixel units (pixel centre u + 0.5).
  Vec3 display(const Vec3& refIndex) const;
  // Orientation letters (R/L/A/P/S/I) the +u and +v screen directions point to, from the reference's axes.
  char plusU = 'L', plusV = 'P';
};

// The frame for `plane` of `reference`.
SliceFrame makeSliceFrame(const Volume& reference, SlicePlane plane);
// The letter opposite an orientation letter (L<->R, P<->A, S<->I).
char oppositeOrientation(char letter);

enum class SliceInterpolation { Nearest, Linear };

// Samples one source volume on the display planes of one reference frame.
class SliceSampler {
 public:
  SliceSampler() = default;
  SliceSampler(const Volume& source, const Volume& reference, const SliceFrame& frame);

  bool valid() const { return source_ != nullptr; }
  // True when display pixels land exactly on source voxel centres (same grid up to axis permutation and
  // flips): nearest and linear then agree and the cheap path is taken.
  bool gridAligned() const { return aligned_; }

  // Float samples of slice s (frame.nu * frame.nv, row-major); `outside` where the plane leaves the source.
  // Int32 sources are converted. Returns the number of pixels inside the source.
  std::int64_t sample(int s, SliceInterpolation interpolation, float outside, float* out) const;
  // Label samples (nearest) of slice s; 0 outside. Float sources are rounded.
  std::int64_t sampleLabels(int s, std::int32_t* out) const;
  // Source continuous index of a display point.
  Vec3 sourceIndex(double u, double v, double s) const;

 private:
  struct Steps {
    Vec3 start, du, dv;  // source index of pixel (0, 0)'s centre, and its change per pixel along u and v
  };
  Steps steps(int s) const;

  const Volume* source_ = nullptr;
  SliceFrame frame_;
  Mat3 b_{};  // ref index -> source index
  Vec3 c_{};
  bool aligned_ = false;
};

}  // namespace loupe::widgets
