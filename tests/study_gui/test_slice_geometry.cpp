// SliceGeometry: display planes in the radiological convention, and sampling of volumes of any geometry
// (oblique direction cosines, anisotropic spacing) on a reference's planes.
//
// References: orientation cases are worked out by hand in the comments; sampling is checked against a
// naive per-pixel implementation written here (world = o + D S i for the display pixel, then the source
// index through Volume::worldToIndex's matrix inverse, then trilinear weights by hand) and against a marker
// voxel whose world position is known exactly by construction.

#include <QtTest>

#include <cmath>
#include <random>

#include "widgets/SliceGeometry.h"

using namespace loupe;
using namespace loupe::widgets;

namespace {

// Rotation about z by a, then about x by b (columns are the index axes' world directions).
Mat3 rotation(double a, double b, double c = 0) {
  const Mat3 rz{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
  const Mat3 rx{1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)};
  const Mat3 ry{std::cos(c), 0, std::sin(c), 0, 1, 0, -std::sin(c), 0, std::cos(c)};
  auto mul = [](const Mat3& x, const Mat3& y) {
    Mat3 r{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) r[i * 3 + j] += x[i * 3 + k] * y[k * 3 + j];
    return r;
  };
  return mul(ry, mul(rx, rz));
}

// Trilinear sample with edge repeat and the half-voxel inside rule, written out independently.
float naiveSample(const Volume& v, const Vec3& world, bool linear) {
  const Vec3 idx = v.worldToIndex(world);
  for (int a = 0; a < 3; ++a)
    if (idx[a] < -0.5 || idx[a] > v.size[a] - 0.5) return std::nanf("");
  if (!linear) {
    std::int64_t n[3];
    for (int a = 0; a < 3; ++a) n[a] = std::min<std::int64_t>(v.size[a] - 1, std::int64_t(std::floor(idx[a] + 0.5)));
    return float(v.value(n[0], n[1], n[2]));
  }
  double acc = 0;
  const double f[3] = {idx[0] - std::floor(idx[0]), idx[1] - std::floor(idx[1]), idx[2] - std::floor(idx[2])};
  for (int c = 0; c < 8; ++c) {
    std::int64_t n[3];
    double w = 1;
    for (int a = 0; a < 3; ++a) {
      const bool hi = (c >> a) & 1;
      n[a] = std::clamp<std::int64_t>(std::int64_t(std::floor(idx[a])) + (hi ? 1 : 0), 0, v.size[a] - 1);
      w *= hi ? f[a] : 1 - f[a];
    }
    acc += w * v.value(n[0], n[1], n[2]);
  }
  return float(acc);
}

Volume obliqueReference() {
  // 0.6 x 0.45 mm in plane, 3 mm slices, rotated 30 deg about z and 12 deg about x.
  return Volume::floatVolume({40, 36, 9}, {0.6, 0.45, 3.0}, {-11.0, 4.0, 20.0}, rotation(0.52, 0.21));
}

Volume obliqueSource(std::uint32_t seed) {
  Volume s = Volume::floatVolume({20, 24, 14}, {2.0, 1.7, 2.5}, {-25.0, -12.0, 0.5}, rotation(-0.35, 0.0, 0.14));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.f, 1000.f);
  for (float& f : s.floats) f = d(rng);
  return s;
}

}  // namespace

class TestSliceGeometry : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void axialOfIdentityIsRadiological() {
    const Volume v = Volume::floatVolume({10, 8, 5});
    const SliceFrame a = makeSliceFrame(v, SlicePlane::Axial);
    QCOMPARE(a.uAxis, 0);
    QCOMPARE(a.vAxis, 1);
    QCOMPARE(a.nAxis, 2);
    QVERIFY(!a.flipU && !a.flipV);
    QCOMPARE(a.plusU, 'L');  // screen right = patient left (LPS +x)
    QCOMPARE(a.plusV, 'P');  // screen down = posterior
    QCOMPARE(a.nu, 10);
    QCOMPARE(a.ns, 5);
    const SliceFrame s = makeSliceFrame(v, SlicePlane::Sagittal);
    QCOMPARE(s.uAxis, 1);
    QCOMPARE(s.vAxis, 2);
    QVERIFY(s.flipV);  // superior (+z) at the top
    QCOMPARE(s.plusU, 'P');
    QCOMPARE(s.plusV, 'I');
    const SliceFrame c = makeSliceFrame(v, SlicePlane::Coronal);
    QCOMPARE(c.uAxis, 0);
    QCOMPARE(c.nAxis, 1);
    QCOMPARE(c.plusV, 'I');
  }

  void flippedAxesStillShowPatientLeftOnTheRight() {
    // Index x runs to the patient's right (direction -x, as NIfTI's RAS storage gives after LPS conversion)
    // and y to anterior: voxel i = 0 is the patient's leftmost, so it must be drawn at the right edge.
    Mat3 d{-1, 0, 0, 0, -1, 0, 0, 0, 1};
    const Volume v = Volume::floatVolume({10, 8, 5}, {1, 1, 1}, {0, 0, 0}, d);
    const SliceFrame a = makeSliceFrame(v, SlicePlane::Axial);
    QVERIFY(a.flipU && a.flipV);
    QCOMPARE(a.plusU, 'L');
    const Vec3 display = a.display({0, 0, 2});
    QCOMPARE(display[0], 9.5);  // centre of the last display column
    QCOMPARE(display[1], 7.5);  // y index 0 is the most posterior: bottom row
    const Vec3 back = a.refIndex(display[0], display[1], display[2]);
    QCOMPARE(back[0], 0.0);
    QCOMPARE(back[1], 0.0);
    QCOMPARE(back[2], 2.0);
  }

  void permutedAxesPickTheClosestAnatomicalAxis() {
    // A volume stored sagittally: index x along world y, index y along -z, index z along x.
    Mat3 d{0, 0, 1, 1, 0, 0, 0, -1, 0};
    const Volume v = Volume::floatVolume({30, 20, 12}, {0.5, 0.5, 4.0}, {0, 0, 0}, d);
    const SliceFrame a = makeSliceFrame(v, SlicePlane::Axial);
    QCOMPARE(a.nAxis, 1);  // axial slices step along z = index y
    QCOMPARE(a.uAxis, 2);
    QCOMPARE(a.vAxis, 0);
    QCOMPARE(a.ns, 20);
    QCOMPARE(a.su, 4.0);
    const SliceFrame s = makeSliceFrame(v, SlicePlane::Sagittal);
    QCOMPARE(s.nAxis, 2);  // the acquisition plane
    QCOMPARE(s.nu, 30);
    QCOMPARE(s.nv, 20);
    QVERIFY(!s.flipV);  // index y already runs to inferior (-z): screen down
    QCOMPARE(s.plusV, 'I');
  }

  void samplerMatchesNaiveWorldMapping_data() {
    QTest::addColumn<int>("plane");
    QTest::addColumn<bool>("linear");
    for (int p = 0; p < 3; ++p)
      for (bool linear : {false, true})
        QTest::addRow("%s %s", slicePlaneName(SlicePlane(p)), linear ? "linear" : "nearest") << p << linear;
  }
  void samplerMatchesNaiveWorldMapping() {
    QFETCH(int, plane);
    QFETCH(bool, linear);
    const Volume ref = obliqueReference();
    const Volume src = obliqueSource(7);
    const SliceFrame f = makeSliceFrame(ref, SlicePlane(plane));
    const SliceSampler sampler(src, ref, f);
    QVERIFY(!sampler.gridAligned());
    std::vector<float> out(std::size_t(f.nu) * f.nv);
    int compared = 0, insideBoth = 0;
    for (int s = 0; s < f.ns; s += std::max(1, f.ns / 5)) {
      sampler.sample(s, linear ? SliceInterpolation::Linear : SliceInterpolation::Nearest, std::nanf(""), out.data());
      for (int v = 0; v < f.nv; ++v)
        for (int u = 0; u < f.nu; ++u) {
          // World of the display pixel centre: o + D S i, written out.
          const Vec3 i = f.refIndex(u + 0.5, v + 0.5, s);
          Vec3 w = ref.origin;
          for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 3; ++c) w[r] += ref.direction[r * 3 + c] * ref.spacing[c] * i[c];
          const float expect = naiveSample(src, w, linear);
          const float got = out[std::size_t(v) * f.nu + u];
          ++compared;
          // Points within 1e-6 voxel of the inside boundary or of a nearest-rounding tie may go either way.
          const Vec3 si = src.worldToIndex(w);
          bool borderline = false;
          for (int a = 0; a < 3; ++a) {
            borderline = borderline || std::abs(si[a] + 0.5) < 1e-6 || std::abs(si[a] - (src.size[a] - 0.5)) < 1e-6;
            if (!linear) borderline = borderline || std::abs(si[a] - std::floor(si[a]) - 0.5) < 1e-6;
          }
          if (borderline) continue;
          QCOMPARE(std::isnan(got), std::isnan(expect));
          if (std::isnan(got)) continue;
          ++insideBoth;
          QVERIFY2(std::abs(got - expect) < 1e-2f,
                   qPrintable(QStringLiteral("slice %1 pixel %2,%3: %4 vs naive %5").arg(s).arg(u).arg(v).arg(got).arg(expect)));
        }
    }
    QVERIFY(compared > 1000);
    QVERIFY2(insideBoth > compared / 10, "the test geometry must overlap substantially");
  }

  void markerLandsOnTheSameWorldPointInBothGeometries() {
    // P is the centre of reference voxel (17, 11, 4). The source is built so that its voxel (6, 9, 3)
    // sits exactly at P: origin = P - D_s S_s (6, 9, 3). A marker there must show on the display pixel
    // containing P, in the reference's own display and in the resampled source, with both interpolations.
    const Volume refGrid = obliqueReference();
    Volume ref = refGrid;
    ref.floats[ref.offset(17, 11, 4)] = 500.f;
    const Vec3 p = ref.indexToWorld({17, 11, 4});
    Volume src = Volume::floatVolume({20, 24, 14}, {2.0, 1.7, 2.5}, {0, 0, 0}, rotation(-0.35, 0.0, 0.14));
    const Vec3 step = mul3(src.indexToWorldMatrix(), {6, 9, 3});
    src.origin = {p[0] - step[0], p[1] - step[1], p[2] - step[2]};
    src.floats[src.offset(6, 9, 3)] = 1000.f;
    const Vec3 check = src.indexToWorld({6, 9, 3});
    for (int a = 0; a < 3; ++a) QVERIFY(std::abs(check[a] - p[a]) < 1e-9);

    for (int plane = 0; plane < 3; ++plane) {
      const SliceFrame f = makeSliceFrame(ref, SlicePlane(plane));
      const Vec3 d = f.display(ref.worldToIndex(p));
      const int u = int(std::floor(d[0])), v = int(std::floor(d[1])), s = int(std::lround(d[2]));
      QCOMPARE(d[0] - u, 0.5);  // P is a reference voxel centre: the centre of its display pixel
      std::vector<float> out(std::size_t(f.nu) * f.nv);
      SliceSampler(ref, ref, f).sample(s, SliceInterpolation::Nearest, 0.f, out.data());
      QCOMPARE(out[std::size_t(v) * f.nu + u], 500.f);
      for (auto interp : {SliceInterpolation::Nearest, SliceInterpolation::Linear}) {
        SliceSampler(src, ref, f).sample(s, interp, 0.f, out.data());
        QVERIFY2(std::abs(out[std::size_t(v) * f.nu + u] - 1000.f) < 1e-2f,
                 qPrintable(QStringLiteral("plane %1: %2").arg(plane).arg(out[std::size_t(v) * f.nu + u])));
        // It is the brightest pixel of that slice.
        QCOMPARE(*std::max_element(out.begin(), out.end()), out[std::size_t(v) * f.nu + u]);
      }
    }
  }

  void sameGridTakesTheExactPath() {
    const Volume ref = obliqueReference();
    Volume labels = ref.sameGrid(VoxelType::Int32);
    for (std::size_t i = 0; i < labels.ints.size(); ++i) labels.ints[i] = std::int32_t(i % 7);
    const SliceFrame f = makeSliceFrame(ref, SlicePlane::Coronal);
    const SliceSampler sampler(labels, ref, f);
    QVERIFY(sampler.gridAligned());
    std::vector<std::int32_t> out(std::size_t(f.nu) * f.nv);
    QCOMPARE(sampler.sampleLabels(3, out.data()), std::int64_t(f.nu) * f.nv);
    for (int v = 0; v < f.nv; v += 3)
      for (int u = 0; u < f.nu; u += 5) {
        const Vec3 i = f.refIndex(u + 0.5, v + 0.5, 3);
        QCOMPARE(out[std::size_t(v) * f.nu + u], labels.ints[labels.offset(std::llround(i[0]), std::llround(i[1]), std::llround(i[2]))]);
      }
  }
};

QTEST_APPLESS_MAIN(TestSliceGeometry)
#include "test_slice_geometry.moc"
