// Label surfaces for the 3-D view (widgets/VtkScene), without a display: world placement with oblique
// direction cosines and anisotropic spacing, closed surfaces, volumes, several labels, empty input.
//
// References: (1) the unsmoothed discrete flying-edges surface of a label has its vertices at the
// midpoints between a labelled voxel centre and its unlabelled 6-neighbour, so its world bounds are
// recomputed here independently by enumerating those voxel pairs with Volume::indexToWorld (no VTK);
// (2) the smoothed surface of a ball must match the analytic ball (centre +- radius along each world
// axis) within half a voxel diagonal, and enclose 4/3 pi r^3 within 4 %.
#include <QtTest>

#include <vtkFeatureEdges.h>
#include <vtkMassProperties.h>
#include <vtkNew.h>
#include <vtkPolyData.h>

#include <cmath>
#include <limits>

#include "SyntheticVolumes.h"
#include "widgets/VtkScene.h"

using namespace loupe;
namespace vk = loupe::widgets::vtk;

namespace {

// World bounds of the midpoints between labelled voxels and their unlabelled (or outside) 6-neighbours.
std::array<double, 6> midpointBounds(const Volume& v, std::int32_t label) {
  std::array<double, 6> b{std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::max(), -std::numeric_limits<double>::max()};
  const int steps[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  for (std::int64_t k = 0; k < v.size[2]; ++k)
    for (std::int64_t j = 0; j < v.size[1]; ++j)
      for (std::int64_t i = 0; i < v.size[0]; ++i) {
        if (v.ints[v.offset(i, j, k)] != label) continue;
        for (const auto& s : steps) {
          const std::int64_t a = i + s[0], bb = j + s[1], c = k + s[2];
          if (v.contains(a, bb, c) && v.ints[v.offset(a, bb, c)] == label) continue;
          const Vec3 w = v.indexToWorld({i + 0.5 * s[0], j + 0.5 * s[1], k + 0.5 * s[2]});
          for (int d = 0; d < 3; ++d) {
            b[2 * d] = std::min(b[2 * d], w[d]);
            b[2 * d + 1] = std::max(b[2 * d + 1], w[d]);
          }
        }
      }
  return b;
}

int boundaryEdges(vtkPolyData* polys) {
  vtkNew<vtkFeatureEdges> edges;
  edges->SetInputData(polys);
  edges->BoundaryEdgesOn();
  edges->NonManifoldEdgesOn();
  edges->FeatureEdgesOff();
  edges->ManifoldEdgesOff();
  edges->Update();
  return int(edges->GetOutput()->GetNumberOfCells());
}

QString boundsText(const std::array<double, 6>& b) {
  return QString("[%1 %2] [%3 %4] [%5 %6]").arg(b[0]).arg(b[1]).arg(b[2]).arg(b[3]).arg(b[4]).arg(b[5]);
}

}  // namespace

class TestVtkLabelSurfaces : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void unsmoothedSurfaceSitsAtVoxelBoundariesInWorldSpace() {
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    const Volume labels = test::ballLabels(grid, {{c, 11.0, 1}});
    vk::SurfaceOptions raw;
    raw.smoothingIterations = 0;
    raw.computeNormals = false;
    const auto surfaces = vk::labelSurfaces(labels, raw);
    QCOMPARE(int(surfaces.size()), 1);
    QCOMPARE(surfaces[0].label, 1);
    const auto got = vk::boundsOf(surfaces[0].polys);
    const auto want = midpointBounds(labels, 1);
    for (int i = 0; i < 6; ++i)
      QVERIFY2(std::abs(got[i] - want[i]) < 1e-4,
               qPrintable(QString("bounds %1, expected %2").arg(boundsText(got), boundsText(want))));
    QCOMPARE(boundaryEdges(surfaces[0].polys), 0);  // closed
  }

  void smoothedBallMatchesTheAnalyticBall_data() {
    QTest::addColumn<bool>("oblique");
    QTest::newRow("axis-aligned") << false;
    QTest::newRow("oblique") << true;
  }
  void smoothedBallMatchesTheAnalyticBall() {
    QFETCH(bool, oblique);
    Volume grid = test::obliqueGrid();
    if (!oblique) grid.direction = identity3();
    const Vec3 c = test::gridCentre(grid);
    const double r = 11.0;
    const Volume labels = test::ballLabels(grid, {{c, r, 3}});
    const auto surfaces = vk::labelSurfaces(labels);
    QCOMPARE(int(surfaces.size()), 1);
    QCOMPARE(surfaces[0].label, 3);
    const auto b = vk::boundsOf(surfaces[0].polys);
    const double tol = test::halfVoxelDiagonal(grid);
    for (int d = 0; d < 3; ++d) {
      QVERIFY2(std::abs(b[2 * d] - (c[d] - r)) < tol && std::abs(b[2 * d + 1] - (c[d] + r)) < tol,
               qPrintable(QString("axis %1: bounds %2, ball %3 +- %4 (tolerance %5 mm)")
                              .arg(d).arg(boundsText(b)).arg(c[d]).arg(r).arg(tol)));
    }
    vtkNew<vtkMassProperties> mass;
    mass->SetInputData(surfaces[0].polys);
    mass->Update();
    const double want = 4.0 / 3.0 * M_PI * r * r * r;
    QVERIFY2(std::abs(mass->GetVolume() - want) / want < 0.04,
             qPrintable(QString("enclosed %1 mm3, ball %2 mm3").arg(mass->GetVolume()).arg(want)));
    QCOMPARE(boundaryEdges(surfaces[0].polys), 0);
  }

  void labelsTouchingTheBorderAreClosed() {
    Volume v = Volume::intVolume({10, 8, 6}, {1, 1, 2});
    for (std::int64_t j = 0; j < 8; ++j)
      for (std::int64_t i = 0; i < 10; ++i) v.ints[v.offset(i, j, 0)] = 7;  // the whole first slice
    const auto surfaces = vk::labelSurfaces(v);
    QCOMPARE(int(surfaces.size()), 1);
    QCOMPARE(boundaryEdges(surfaces[0].polys), 0);
    vk::SurfaceOptions raw;
    raw.smoothingIterations = 0;
    const auto b = vk::boundsOf(vk::labelSurfaces(v, raw)[0].polys);
    // Slab of voxel centres x 0..9, y 0..7, z 0: boundary half a voxel beyond each side.
    const std::array<double, 6> want{-0.5, 9.5, -0.5, 7.5, -1.0, 1.0};
    for (int i = 0; i < 6; ++i) QVERIFY2(std::abs(b[i] - want[i]) < 1e-6, qPrintable(boundsText(b)));
  }

  void oneSurfacePerLabel() {
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    const Volume labels =
        test::ballLabels(grid, {{{c[0] - 9, c[1], c[2]}, 5.0, 2}, {{c[0] + 9, c[1], c[2]}, 6.0, 5}});
    QCOMPARE(vk::presentLabels(labels), (std::vector<std::int32_t>{2, 5}));
    const auto surfaces = vk::labelSurfaces(labels);
    QCOMPARE(int(surfaces.size()), 2);
    QCOMPARE(surfaces[0].label, 2);
    QCOMPARE(surfaces[1].label, 5);
    // Label 2 is the ball on the -x side, label 5 on the +x side.
    const auto b2 = vk::boundsOf(surfaces[0].polys), b5 = vk::boundsOf(surfaces[1].polys);
    QVERIFY(0.5 * (b2[0] + b2[1]) < c[0] - 7 && 0.5 * (b5[0] + b5[1]) > c[0] + 7);
  }

  void floatLabelsAreRoundedAndEmptyGivesNothing() {
    Volume f = Volume::floatVolume({12, 12, 12});
    QVERIFY(vk::labelSurfaces(f).empty());
    QVERIFY(vk::labelSurfaces(Volume{}).empty());
    for (std::int64_t k = 4; k < 8; ++k)
      for (std::int64_t j = 4; j < 8; ++j)
        for (std::int64_t i = 4; i < 8; ++i) f.floats[f.offset(i, j, k)] = 0.97f;  // rounds to 1
    f.floats[0] = std::numeric_limits<float>::quiet_NaN();                     // ignored
    const auto surfaces = vk::labelSurfaces(f);
    QCOMPARE(int(surfaces.size()), 1);
    QCOMPARE(surfaces[0].label, 1);
  }

  void cancelledGivesNothing() {
    const Volume grid = test::obliqueGrid();
    const Volume labels = test::ballLabels(grid, {{test::gridCentre(grid), 8.0, 1}});
    CancelToken cancel;
    cancel.cancel();
    QVERIFY(vk::labelSurfaces(labels, {}, cancel).empty());
  }

  void percentileWindowIgnoresOutliers() {
    Volume v = Volume::floatVolume({100, 10, 10});
    for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float(i % 100);  // 0..99 uniformly
    v.floats[5] = 1e9f;
    const auto w = vk::percentileWindow(v, 1, 99);
    QVERIFY2(std::abs(w[0] - 1) <= 1 && std::abs(w[1] - 98) <= 1, qPrintable(QString("%1 %2").arg(w[0]).arg(w[1])));
  }
};

QTEST_GUILESS_MAIN(TestVtkLabelSurfaces)
#include "test_vtk_label_surfaces.moc"
