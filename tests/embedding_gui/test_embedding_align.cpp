// procrustesAlign (app/gui/EmbeddingAlign): the similarity transform (rotation or reflection, scale,
// translation) that maps one 2-D layout onto another in the least-squares sense, as the live embedding view
// uses between epochs. References:
//   - hand-worked cases (the numbers are derived in the comments);
//   - an independent brute-force search: every angle on a 0.01 degree grid, for rotations and for
//     reflections, with the best scale and translation of each angle in closed form (for a fixed R the
//     optimum is s = <X R, Y> / |X|^2 on centred points); the closed form must match its best residual and
//     angle.

#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "EmbeddingAlign.h"

using loupe::gui::applyTransform;
using loupe::gui::LayoutTransform;
using loupe::gui::procrustesAlign;

namespace {

constexpr double kPi = 3.14159265358979323846;

// y = s x R(theta) + t, R(theta) = [[cos, sin], [-sin, cos]] (row vectors, anticlockwise by theta), optionally
// after mirroring x -> (x, -y).
std::vector<float> similar(const std::vector<float>& x, double s, double degrees, bool mirror, double tx, double ty) {
  const double c = std::cos(degrees * kPi / 180), n = std::sin(degrees * kPi / 180);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i + 1 < x.size(); i += 2) {
    const double a = x[i], b = mirror ? -x[i + 1] : x[i + 1];
    y[i] = static_cast<float>(s * (a * c - b * n) + tx);
    y[i + 1] = static_cast<float>(s * (a * n + b * c) + ty);
  }
  return y;
}

double rms(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
  return std::sqrt(sum / double(a.size() / 2));
}

struct Brute {
  double residual = INFINITY, degrees = 0, scale = 0;
  bool reflection = false;
};

// Grid search over R in O(2); centred data; for each R the best s in closed form.
Brute bruteForce(const std::vector<float>& from, const std::vector<float>& to) {
  const std::size_t n = from.size() / 2;
  double mx[2] = {0, 0}, my[2] = {0, 0};
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) mx[k] += from[2 * i + k] / double(n), my[k] += to[2 * i + k] / double(n);
  Brute best;
  for (int mirror = 0; mirror < 2; ++mirror) {
    for (int step = 0; step < 36000; ++step) {
      const double deg = step * 0.01, c = std::cos(deg * kPi / 180), sn = std::sin(deg * kPi / 180);
      double dot = 0, xx = 0, yy = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double a = from[2 * i] - mx[0], b0 = from[2 * i + 1] - mx[1], b = mirror ? -b0 : b0;
        const double u = a * c - b * sn, v = a * sn + b * c;
        const double p = to[2 * i] - my[0], q = to[2 * i + 1] - my[1];
        dot += u * p + v * q;
        xx += a * a + b * b;
        yy += p * p + q * q;
      }
      const double s = std::max(0.0, dot / xx);
      const double residual = std::sqrt(std::max(0.0, yy - 2 * s * dot + s * s * xx) / double(n));
      if (residual < best.residual) best = {residual, deg, s, mirror == 1};
    }
  }
  return best;
}

double angleDifference(double a, double b) {
  double d = std::fmod(std::abs(a - b), 360.0);
  return std::min(d, 360.0 - d);
}

}  // namespace

class TestEmbeddingAlign : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldRecoverAnExactRotationScaleAndShift() {
    const std::vector<float> x = {0, 0, 2, 0, 2, 1, 0, 3, -1, 1};
    const auto y = similar(x, 2.0, 90.0, false, 3.0, -1.0);
    const LayoutTransform t = procrustesAlign(x, y);
    QVERIFY(t.valid);
    QVERIFY(!t.reflection);
    QVERIFY2(std::abs(t.scale - 2.0) < 1e-6, qPrintable(QString::number(t.scale)));
    QVERIFY2(angleDifference(t.rotationDegrees, 90.0) < 1e-4, qPrintable(QString::number(t.rotationDegrees)));
    QVERIFY(t.residual < 1e-5);
    auto moved = x;
    applyTransform(moved, t);
    QVERIFY(rms(moved, y) < 1e-5);
  }

  void shouldRecoverAReflection() {
    // Mirrored (x, y) -> (x, -y), then turned by 30 degrees and halved: a rotation alone cannot match it.
    const std::vector<float> x = {1, 0, 0, 2, -1, 0.5f, 3, 1, 0.5f, -2};
    const auto y = similar(x, 0.5, 30.0, true, -4.0, 7.0);
    const LayoutTransform t = procrustesAlign(x, y);
    QVERIFY(t.valid);
    QVERIFY(t.reflection);
    QVERIFY(std::abs(t.scale - 0.5) < 1e-6);
    QVERIFY2(angleDifference(t.rotationDegrees, 30.0) < 1e-4, qPrintable(QString::number(t.rotationDegrees)));
    auto moved = x;
    applyTransform(moved, t);
    QVERIFY(rms(moved, y) < 1e-5);
  }

  void shouldMatchAHandWorkedInexactCase() {
    // X: the unit cross (1,0) (0,1) (-1,0) (0,-1); Y: the same stretched to 2 along y. Both are centred.
    // M = X^T Y: M00 = 1 + 1 = 2, M11 = 2 + 2 = 4, M01 = M10 = 0. Rotations reach M00 + M11 = 6, reflections
    // |M00 - M11| = 2: a rotation by 0 wins; s = 6 / |X|^2 = 6 / 4 = 1.5; t = 0. Each point lands 0.5 away
    // from its partner ((1.5, 0) vs (1, 0), (0, 1.5) vs (0, 2) ...), so the RMS residual is 0.5.
    const std::vector<float> x = {1, 0, 0, 1, -1, 0, 0, -1};
    const std::vector<float> y = {1, 0, 0, 2, -1, 0, 0, -2};
    const LayoutTransform t = procrustesAlign(x, y);
    QVERIFY(t.valid);
    QVERIFY(!t.reflection);
    QCOMPARE(t.scale, 1.5);
    QVERIFY(std::abs(t.rotationDegrees) < 1e-9);
    QVERIFY(std::abs(t.tx) < 1e-12 && std::abs(t.ty) < 1e-12);
    QVERIFY(std::abs(t.residual - 0.5) < 1e-12);
  }

  void shouldMatchABruteForceSearchOnNoisyLayouts() {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<float> x(2 * 200);
      for (auto& v : x) v = static_cast<float>(3.0 * normal(rng));
      auto y = similar(x, 0.7 + trial, 37.0 + 61.0 * trial, trial % 2 == 1, trial, -2.0 * trial);
      for (auto& v : y) v += static_cast<float>(0.8 * normal(rng));  // noise: no exact fit
      const LayoutTransform t = procrustesAlign(x, y);
      const Brute b = bruteForce(x, y);
      QVERIFY(t.valid);
      QCOMPARE(t.reflection, b.reflection);
      // The closed form is at least as good as the best grid angle, and the grid's angle is within a step.
      QVERIFY2(t.residual <= b.residual + 1e-9, qPrintable(QStringLiteral("%1 vs %2").arg(t.residual).arg(b.residual)));
      QVERIFY2(t.residual > b.residual - 1e-3, qPrintable(QStringLiteral("%1 vs %2").arg(t.residual).arg(b.residual)));
      QVERIFY2(angleDifference(t.rotationDegrees < 0 ? t.rotationDegrees + 360 : t.rotationDegrees, b.degrees) < 0.011,
               qPrintable(QStringLiteral("%1 vs %2").arg(t.rotationDegrees).arg(b.degrees)));
      QVERIFY(std::abs(t.scale - b.scale) < 1e-3 * b.scale);
      // And the residual it reports is the one its transform achieves.
      auto moved = x;
      applyTransform(moved, t);
      QVERIFY(std::abs(rms(moved, y) - t.residual) < 1e-4);
    }
  }

  void shouldIgnoreNonFinitePointsAndRefuseDegenerateLayouts() {
    std::vector<float> x = {0, 0, 2, 0, 2, 1, 0, 3, -1, 1};
    auto y = similar(x, 1.5, -45.0, false, 1.0, 1.0);
    x.push_back(NAN), x.push_back(0);  // a sixth point, unusable in `from`
    y.push_back(100), y.push_back(100);
    const LayoutTransform t = procrustesAlign(x, y);
    QVERIFY(t.valid);
    QCOMPARE(t.fitted, std::int64_t(5));
    QVERIFY(std::abs(t.scale - 1.5) < 1e-6);
    auto moved = x;
    applyTransform(moved, t);
    QVERIFY(std::isnan(moved[10]));  // stays unusable, not moved

    const std::vector<float> same = {1, 1, 1, 1, 1, 1};
    QVERIFY(!procrustesAlign(same, {0, 0, 1, 0, 0, 1}).valid);  // all at one place: no rotation to find
    QVERIFY(!procrustesAlign({0, 0, 1, 1}, {0, 0}).valid);       // different point counts
    const LayoutTransform identity = procrustesAlign(same, {0, 0, 1, 0, 0, 1});
    QCOMPARE(identity.scale, 1.0);
    QCOMPARE(identity.r00, 1.0);
  }
};

QTEST_GUILESS_MAIN(TestEmbeddingAlign)
#include "test_embedding_align.moc"
