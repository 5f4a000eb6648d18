#pragma once
// Turning loupe::Volume data into VTK data placed in world space (LPS, mm): images for volume rendering
// and slices, label surfaces for the 3-D view. No Qt, no OpenGL: usable and testable without a display.
// Part of loupe_widgets_vtk; only VolumeView3D and tests include it.
//
// Placement. A Volume maps voxel index to world as  world = origin + direction * diag(spacing) * index.
// VTK images carry spacing but (for the mappers used here) no direction, so an image is built in
// "scaled index" space (origin 0, the volume's spacing) and placed with the rigid matrix
// [direction | origin] (worldMatrix); surfaces are transformed by that matrix into world coordinates
// so that their points (and bounds) are world positions.

#include <vtkSmartPointer.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/CancelToken.h"
#include "core/Volume.h"

class vtkImageData;
class vtkMatrix4x4;
class vtkPolyData;

namespace loupe::widgets::vtk {

// [direction | origin] as a 4x4 matrix: scaled-index space (index * spacing) -> world.
vtkSmartPointer<vtkMatrix4x4> worldMatrix(const Volume& v);

// The voxels as a vtkImageData (float or int, one component), origin 0, spacing = the volume's spacing.
// Voxels are copied. An empty volume gives an empty image.
vtkSmartPointer<vtkImageData> toImage(const Volume& v);

// Int labels of a volume (float voxels rounded to the nearest integer), and the distinct non-zero values.
std::vector<std::int32_t> presentLabels(const Volume& v);

struct SurfaceOptions {
  // Windowed-sinc smoothing iterations (0: none). Smoothing moves the surface by well under a voxel.
  int smoothingIterations = 15;
  double passBand = 0.1;
  bool computeNormals = true;
};

struct LabelSurface {
  std::int32_t label = 0;
  vtkSmartPointer<vtkPolyData> polys;  // triangles in world coordinates (LPS, mm)
};

// One closed surface per non-zero label value (discrete flying edges at the label boundaries, i.e. half
// way between a label voxel centre and its neighbour), in world coordinates. Labels touching the volume
// border are closed by a one-voxel background pad. Returns an empty vector when no voxel is labelled or
// when `cancel` is set.
std::vector<LabelSurface> labelSurfaces(const Volume& labels, const SurfaceOptions& options = {},
                                        const CancelToken& cancel = {});

// Axis-aligned world bounds (xmin, xmax, ymin, ymax, zmin, zmax) of a poly data; zeros when empty.
std::array<double, 6> boundsOf(vtkPolyData* polys);

// Intensity window for display: the `lowPct` and `highPct` percentiles of the finite voxels
// (sampled: at most ~1M voxels are looked at). {0, 1} for an empty volume.
std::array<double, 2> percentileWindow(const Volume& v, double lowPct = 1.0, double highPct = 99.0);

}  // namespace loupe::widgets::vtk
