// loupe::Volume -> VTK images and world-space label surfaces (see VtkScene.h).

#include "VtkScene.h"

#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkIntArray.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataNormals.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace loupe::widgets::vtk {

namespace {

std::int32_t labelAt(const Volume& v, std::size_t at) {
  if (v.type == VoxelType::Int32) return v.ints[at];
  const float f = v.floats[at];
  return std::isfinite(f) ? std::int32_t(std::lround(f)) : 0;
}

struct Box {
  std::array<std::int64_t, 3> lo{std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::max()};
  std::array<std::int64_t, 3> hi{-1, -1, -1};
  void add(std::int64_t i, std::int64_t j, std::int64_t k) {
    lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
    hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
  }
};

// Bounding box (voxel index) of every non-zero label, in one pass.
std::map<std::int32_t, Box> labelBoxes(const Volume& v) {
  std::map<std::int32_t, Box> boxes;
  std::int32_t lastLabel = 0;
  Box* last = nullptr;
  std::size_t at = 0;
  for (std::int64_t k = 0; k < v.size[2]; ++k)
    for (std::int64_t j = 0; j < v.size[1]; ++j)
      for (std::int64_t i = 0; i < v.size[0]; ++i, ++at) {
        const std::int32_t l = labelAt(v, at);
        if (l == 0) continue;
        if (!last || l != lastLabel) {
          last = &boxes[l];
          lastLabel = l;
        }
        last->add(i, j, k);
      }
  return boxes;
}

// A binary image of `label` inside its box grown by one background voxel on every side (so surfaces
// touching the volume border are closed), in scaled-index space.
vtkSmartPointer<vtkImageData> labelPatch(const Volume& v, std::int32_t label, const Box& b) {
  const std::array<std::int64_t, 3> lo{b.lo[0] - 1, b.lo[1] - 1, b.lo[2] - 1};
  const std::array<int, 3> n{int(b.hi[0] - b.lo[0] + 3), int(b.hi[1] - b.lo[1] + 3), int(b.hi[2] - b.lo[2] + 3)};
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(n[0], n[1], n[2]);
  image->SetSpacing(v.spacing[0], v.spacing[1], v.spacing[2]);
  image->SetOrigin(double(lo[0]) * v.spacing[0], double(lo[1]) * v.spacing[1], double(lo[2]) * v.spacing[2]);
  vtkNew<vtkIntArray> values;
  values->SetNumberOfTuples(vtkIdType(n[0]) * n[1] * n[2]);
  int* out = values->GetPointer(0);
  std::fill(out, out + vtkIdType(n[0]) * n[1] * n[2], 0);
  for (std::int64_t k = b.lo[2]; k <= b.hi[2]; ++k)
    for (std::int64_t j = b.lo[1]; j <= b.hi[1]; ++j) {
      std::size_t at = v.offset(b.lo[0], j, k);
      int* row = out + ((k - lo[2]) * n[1] + (j - lo[1])) * n[0] + (b.lo[0] - lo[0]);
      for (std::int64_t i = b.lo[0]; i <= b.hi[0]; ++i, ++at, ++row) *row = labelAt(v, at) == label ? 1 : 0;
    }
  image->GetPointData()->SetScalars(values);
  return image;
}

}  // namespace

vtkSmartPointer<vtkMatrix4x4> worldMatrix(const Volume& v) {
  auto m = vtkSmartPointer<vtkMatrix4x4>::New();
  m->Identity();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) m->SetElement(r, c, v.direction[r * 3 + c]);
    m->SetElement(r, 3, v.origin[r]);
  }
  return m;
}

vtkSmartPointer<vtkImageData> toImage(const Volume& v) {
  auto image = vtkSmartPointer<vtkImageData>::New();
  if (v.empty()) return image;
  image->SetDimensions(int(v.size[0]), int(v.size[1]), int(v.size[2]));
  image->SetSpacing(v.spacing[0], v.spacing[1], v.spacing[2]);
  image->SetOrigin(0, 0, 0);
  const vtkIdType n = vtkIdType(v.voxelCount());
  if (v.type == VoxelType::Float32) {
    vtkNew<vtkFloatArray> values;
    values->SetNumberOfTuples(n);
    std::copy(v.floats.begin(), v.floats.end(), values->GetPointer(0));
    image->GetPointData()->SetScalars(values);
  } else {
    vtkNew<vtkIntArray> values;
    values->SetNumberOfTuples(n);
    std::copy(v.ints.begin(), v.ints.end(), values->GetPointer(0));
    image->GetPointData()->SetScalars(values);
  }
  return image;
}

std::vector<std::int32_t> presentLabels(const Volume& v) {
  std::vector<std::int32_t> out;
  for (const auto& [label, box] : labelBoxes(v)) out.push_back(label);
  return out;
}

std::vector<LabelSurface> labelSurfaces(const Volume& labels, const SurfaceOptions& options, const CancelToken& cancel) {
  std::vector<LabelSurface> out;
  if (labels.empty()) return out;
  vtkSmartPointer<vtkMatrix4x4> toWorld = worldMatrix(labels);
  for (const auto& [label, box] : labelBoxes(labels)) {
    if (cancel.isCancelled()) return {};
    vtkNew<vtkDiscreteFlyingEdges3D> contour;
    contour->SetInputData(labelPatch(labels, label, box));
    contour->SetValue(0, 1.0);
    contour->ComputeNormalsOff();
    contour->ComputeGradientsOff();
    contour->ComputeScalarsOff();
    contour->Update();
    vtkSmartPointer<vtkPolyData> polys = contour->GetOutput();
    if (polys->GetNumberOfPolys() == 0) continue;
    if (options.smoothingIterations > 0) {
      // Windowed sinc (Taubin) smoothing removes the voxel staircase without shrinking the surface.
      vtkNew<vtkWindowedSincPolyDataFilter> smooth;
      smooth->SetInputData(polys);
      smooth->SetNumberOfIterations(options.smoothingIterations);
      smooth->SetPassBand(options.passBand);
      smooth->BoundarySmoothingOff();
      smooth->FeatureEdgeSmoothingOff();
      smooth->NonManifoldSmoothingOn();
      smooth->NormalizeCoordinatesOn();
      smooth->Update();
      polys = smooth->GetOutput();
    }
    // Scaled-index space -> world: a rigid move, applied to the points themselves so that they (and any
    // bounds computed from them) are world positions.
    vtkPoints* points = polys->GetPoints();
    for (vtkIdType p = 0; p < points->GetNumberOfPoints(); ++p) {
      double in[4]{0, 0, 0, 1}, o[4];
      points->GetPoint(p, in);
      toWorld->MultiplyPoint(in, o);
      points->SetPoint(p, o);
    }
    points->Modified();
    if (options.computeNormals) {
      vtkNew<vtkPolyDataNormals> normals;
      normals->SetInputData(polys);
      normals->SplittingOff();
      normals->ConsistencyOn();
      normals->AutoOrientNormalsOff();
      normals->Update();
      polys = normals->GetOutput();
    }
    out.push_back({label, polys});
  }
  return out;
}

std::array<double, 6> boundsOf(vtkPolyData* polys) {
  std::array<double, 6> b{0, 0, 0, 0, 0, 0};
  if (!polys || polys->GetNumberOfPoints() == 0) return b;
  polys->GetBounds(b.data());
  return b;
}

std::array<double, 2> percentileWindow(const Volume& v, double lowPct, double highPct) {
  const std::size_t n = std::size_t(v.voxelCount());
  if (n == 0) return {0, 1};
  const std::size_t stride = std::max<std::size_t>(1, n / 1000000);
  std::vector<float> sample;
  sample.reserve(n / stride + 1);
  for (std::size_t i = 0; i < n; i += stride) {
    const double x = v.value(i);
    if (std::isfinite(x)) sample.push_back(float(x));
  }
  if (sample.empty()) return {0, 1};
  auto at = [&](double pct) {
    const std::size_t k = std::min(sample.size() - 1, std::size_t(pct / 100.0 * double(sample.size() - 1) + 0.5));
    std::nth_element(sample.begin(), sample.begin() + long(k), sample.end());
    return double(sample[k]);
  };
  double lo = at(lowPct), hi = at(highPct);
  if (!(hi > lo)) hi = lo + 1;
  return {lo, hi};
}

}  // namespace loupe::widgets::vtk
