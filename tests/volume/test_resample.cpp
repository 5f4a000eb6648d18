// Resampling through world coordinates. The synthetic cases are built so the answer is known exactly:
// trilinear interpolation reproduces any affine function of world position, and a bright voxel placed
// at a world point lands on the reference voxel whose centre is that point. Real data: the AAL atlas and
// Colin27 from Debian's mricron-data share one space.
#include <QtTest>

#include <cmath>

#include "core/Volume.h"
#include "volume/Resample.h"
#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

Mat3 rotation(double ax, double ay, double az) {
  const double cx = std::cos(ax), sx = std::sin(ax), cy = std::cos(ay), sy = std::sin(ay), cz = std::cos(az),
               sz = std::sin(az);
  const Mat3 rx{1, 0, 0, 0, cx, -sx, 0, sx, cx}, ry{cy, 0, sy, 0, 1, 0, -sy, 0, cy}, rz{cz, -sz, 0, sz, cz, 0, 0, 0, 1};
  auto mul = [](const Mat3& a, const Mat3& b) {
    Mat3 r{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
    return r;
  };
  return mul(rz, mul(ry, rx));
}

double affine(const Vec3& p) { return 0.5 * p[0] - 1.25 * p[1] + 2.0 * p[2] + 10.0; }

}  // namespace

class TestResample : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void indexWorldRoundTrip() {
    const Volume v = Volume::floatVolume({10, 12, 5}, {0.4, 0.6, 3.3}, {5, -7, 11}, rotation(0.2, 0.4, -0.7));
    const Vec3 idx{3.25, -1.5, 4.75};
    const Vec3 back = v.worldToIndex(v.indexToWorld(idx));
    for (int i = 0; i < 3; ++i) QVERIFY(std::abs(back[i] - idx[i]) < 1e-10);
    // One step along index z moves spacing z mm along direction's third column.
    const Vec3 a = v.indexToWorld({0, 0, 0}), b = v.indexToWorld({0, 0, 1});
    for (int r = 0; r < 3; ++r) QVERIFY(std::abs((b[r] - a[r]) - 3.3 * v.direction[r * 3 + 2]) < 1e-12);
  }

  void trilinearReproducesAffineFunctionsOnObliqueGrids() {
    // Source: oblique, anisotropic (0.5 x 0.7 x 3 mm); f = affine function of the world position.
    Volume src = Volume::floatVolume({40, 36, 14}, {0.5, 0.7, 3.0}, {-10, -12, -20}, rotation(0.25, -0.15, 0.6));
    for (std::int64_t k = 0; k < src.size[2]; ++k)
      for (std::int64_t j = 0; j < src.size[1]; ++j)
        for (std::int64_t i = 0; i < src.size[0]; ++i)
          src.floats[src.offset(i, j, k)] = float(affine(src.indexToWorld({double(i), double(j), double(k)})));
    // Reference: another oblique, anisotropic grid inside the source's box.
    const Vec3 centre = src.indexToWorld({19.5, 17.5, 6.5});
    Volume ref = Volume::floatVolume({9, 8, 7}, {1.1, 0.9, 1.7}, {0, 0, 0}, rotation(-0.4, 0.3, 0.1));
    const Vec3 half = ref.indexToWorld({4, 3.5, 3});  // origin 0: offset of the grid centre
    ref.origin = {centre[0] - half[0], centre[1] - half[1], centre[2] - half[2]};
    auto out = volume::resampleToGrid(src, ref);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QVERIFY(sameGeometry(*out, ref));
    double worst = 0;
    for (std::int64_t k = 0; k < ref.size[2]; ++k)
      for (std::int64_t j = 0; j < ref.size[1]; ++j)
        for (std::int64_t i = 0; i < ref.size[0]; ++i) {
          const double expected = affine(ref.indexToWorld({double(i), double(j), double(k)}));
          worst = std::max(worst, std::abs(out->floats[ref.offset(i, j, k)] - expected));
        }
    QVERIFY2(worst < 1e-3, qPrintable(QString("max error %1").arg(worst)));
  }

  void brightVoxelLandsAtItsWorldPosition() {
    // Source: oblique 0.6 x 0.6 x 3.6 mm grid with one bright voxel at index (11, 7, 3).
    Volume src = Volume::floatVolume({24, 20, 8}, {0.6, 0.6, 3.6}, {30, -5, 12}, rotation(0.0, 0.35, 0.2));
    src.floats[src.offset(11, 7, 3)] = 1000.f;
    const Vec3 p = src.indexToWorld({11, 7, 3});
    // Reference: axial 2 x 2 x 3 mm grid placed so that its voxel (4, 5, 2) is centred on p.
    Volume ref = Volume::floatVolume({10, 10, 6}, {2, 2, 3}, {p[0] - 8, p[1] - 10, p[2] - 6});
    auto lin = volume::resampleToGrid(src, ref);
    QVERIFY(lin.ok());
    QCOMPARE(lin->floats[ref.offset(4, 5, 2)], 1000.f);
    std::int64_t argmax = 0;
    for (std::int64_t i = 0; i < ref.voxelCount(); ++i)
      if (lin->floats[std::size_t(i)] > lin->floats[std::size_t(argmax)]) argmax = i;
    QCOMPARE(argmax, std::int64_t(ref.offset(4, 5, 2)));
    // Neighbours 2 mm away (farther than one source voxel) get nothing along x/y at this obliquity.
    QVERIFY(lin->floats[ref.offset(3, 5, 2)] < 1000.f);
    // Nearest neighbour on an int label volume: same voxel, exact label, stays Int32.
    Volume labels = Volume::intVolume(src.size, src.spacing, src.origin, src.direction);
    labels.ints[labels.offset(11, 7, 3)] = 7;
    auto nn = volume::resampleToGrid(labels, ref, {volume::Interpolation::Nearest, 0.f});
    QVERIFY(nn.ok());
    QCOMPARE(nn->type, VoxelType::Int32);
    QCOMPARE(nn->ints[ref.offset(4, 5, 2)], 7);
  }

  void sequencesThatDoNotOverlap() {
    Volume a = Volume::floatVolume({10, 10, 10}, {1, 1, 1}, {0, 0, 0});
    a.description = "adc";
    Volume b = Volume::floatVolume({10, 10, 10}, {1, 1, 1}, {500, 0, 0});
    b.description = "t2w";
    auto r = volume::resampleToGrid(a, b);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("do not overlap") != std::string::npos, r.error().message.c_str());
    QVERIFY(r.error().message.find("adc") != std::string::npos && r.error().message.find("t2w") != std::string::npos);
    // Partly overlapping (a quarter): works, with a warning.
    Volume c = Volume::floatVolume({10, 10, 10}, {1, 1, 1}, {5, 5, 0});
    auto part = volume::resampleToGrid(a, c);
    QVERIFY(part.ok());
    QCOMPARE(int(part->warnings.size()), 1);
  }

  void atlasIntoColin27AndBack() {
    // aal.nii.gz (1 mm labels) and ch2better.nii.gz (0.5 mm, a smaller box) are in Colin27's space.
    // Nearest neighbour 1 mm -> 0.5 mm -> 1 mm must give back every AAL label inside ch2better's box
    // exactly (each 1 mm centre is also a 0.5 mm centre) and 0 outside it.
    const std::string dir = "/usr/share/mricron/templates/";
    if (!QFile::exists(QString::fromStdString(dir + "aal.nii.gz"))) QSKIP("mricron-data is not installed");
    auto aal = volume::readVolume(dir + "aal.nii.gz");
    auto fine = volume::readVolume(dir + "ch2better.nii.gz");
    auto ch2 = volume::readVolume(dir + "ch2.nii.gz");
    QVERIFY(aal.ok() && fine.ok() && ch2.ok());
    QVERIFY(sameGeometry(*aal, *ch2));  // same sform in both headers
    const volume::ResampleOptions nearest{volume::Interpolation::Nearest, 0.f};
    auto up = volume::resampleToGrid(*aal, *fine, nearest);
    QVERIFY(up.ok());
    auto back = volume::resampleToGrid(*up, *ch2, nearest);
    QVERIFY(back.ok());
    QCOMPARE(back->type, VoxelType::Int32);
    std::int64_t checked = 0, labelled = 0;
    for (std::int64_t k = 0; k < ch2->size[2]; ++k)
      for (std::int64_t j = 0; j < ch2->size[1]; ++j)
        for (std::int64_t i = 0; i < ch2->size[0]; ++i) {
          const Vec3 f = fine->worldToIndex(ch2->indexToWorld({double(i), double(j), double(k)}));
          const bool inside = f[0] >= -0.5 && f[1] >= -0.5 && f[2] >= -0.5 && f[0] <= fine->size[0] - 0.5 &&
                              f[1] <= fine->size[1] - 0.5 && f[2] <= fine->size[2] - 0.5;
          const std::size_t at = ch2->offset(i, j, k);
          const std::int32_t expected = inside ? aal->ints[at] : 0;
          if (back->ints[at] != expected) QFAIL(qPrintable(QString("voxel %1 %2 %3: %4 vs %5").arg(i).arg(j).arg(k).arg(back->ints[at]).arg(expected)));
          ++checked;
          labelled += expected != 0;
        }
    QVERIFY(labelled > 100000);  // the atlas really was compared, not just background
    // Trilinear on intensities: Colin27 (1 mm) into the 0.5 mm grid agrees with the source at shared centres.
    auto t1 = volume::resampleToGrid(*ch2, *fine);
    QVERIFY(t1.ok());
    const Vec3 w = ch2->indexToWorld({100, 120, 90});
    const Vec3 fi = fine->worldToIndex(w);
    const std::size_t fat = fine->offset(std::llround(fi[0]), std::llround(fi[1]), std::llround(fi[2]));
    QCOMPARE(double(t1->floats[fat]), ch2->value(100, 120, 90));
  }
};

QTEST_GUILESS_MAIN(TestResample)
#include "test_resample.moc"
