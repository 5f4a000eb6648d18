// ScatterIndex (the grid behind ScatterView's selection, hover and click) against brute force over every
// point: rectangles, lassos (star-shaped, self-intersecting, partly outside the data, tiny) and nearest-point
// queries give exactly the ids a loop over all points gives. The reference point-in-polygon test below is
// the even-odd crossing rule written out independently (W. R. Franklin's pnpoly), not the index's own code.
// Also the colour helpers: tab10's first colours (matplotlib's values), viridis' end points (matplotlib's
// _viridis_data[0] and [255] as 8-bit), category numbering.

#include <QTest>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "widgets/ScatterColors.h"
#include "widgets/ScatterIndex.h"

using loupe::widgets::ScatterIndex;

namespace {

// Even-odd rule, counting crossings of a ray towards +x (pnpoly).
bool referenceInside(const std::vector<double>& poly, double x, double y) {
  const std::size_t m = poly.size() / 2;
  int crossings = 0;
  for (std::size_t a = 0; a < m; ++a) {
    const std::size_t b = (a + 1) % m;
    const double ax = poly[2 * a], ay = poly[2 * a + 1], bx = poly[2 * b], by = poly[2 * b + 1];
    if ((ay > y) == (by > y)) continue;
    const double xCross = (bx - ax) * (y - ay) / (by - ay) + ax;
    if (x < xCross) ++crossings;
  }
  return crossings % 2 == 1;
}

// Clustered points (a mix of Gaussian blobs and a uniform background), a few non-finite ones.
std::vector<float> makePoints(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> uniform(-10.f, 10.f);
  std::vector<float> xy(static_cast<std::size_t>(2 * n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (i % 3 == 0) {
      xy[2 * i] = uniform(rng);
      xy[2 * i + 1] = uniform(rng) * 0.6f;
    } else {
      const int blob = static_cast<int>(i % 7);
      xy[2 * i] = -6.f + 2.f * blob + 0.7f * normal(rng);
      xy[2 * i + 1] = (blob % 2 ? 2.f : -2.f) + 0.9f * normal(rng);
    }
  }
  xy[2 * 5] = std::numeric_limits<float>::quiet_NaN();
  xy[2 * 17 + 1] = std::numeric_limits<float>::infinity();
  return xy;
}

std::vector<double> starPolygon(double cx, double cy, double r0, double r1, int vertices, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> p;
  for (int k = 0; k < vertices; ++k) {
    const double a = 2.0 * M_PI * k / vertices;
    const double r = r0 + (r1 - r0) * u(rng);
    p.push_back(cx + r * std::cos(a));
    p.push_back(cy + r * std::sin(a));
  }
  return p;
}

bool finitePoint(const std::vector<float>& xy, std::size_t i) {
  return std::isfinite(xy[2 * i]) && std::isfinite(xy[2 * i + 1]);
}

}  // namespace

class TestScatterIndex : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void rectanglesMatchBruteForce() {
    const std::int64_t n = 200000;
    const auto xy = makePoints(n, 1);
    ScatterIndex index;
    index.build(xy.data(), n);
    QVERIFY(!index.bounds().empty);
    QVERIFY(index.gridWidth() * index.gridHeight() > 1000);
    std::mt19937_64 rng(2);
    std::uniform_real_distribution<double> u(-12.0, 12.0);
    for (int trial = 0; trial < 40; ++trial) {
      double x0 = u(rng), x1 = u(rng), y0 = u(rng) * 0.5, y1 = u(rng) * 0.5;
      if (trial == 0) x0 = -1e9, x1 = 1e9, y0 = -1e9, y1 = 1e9;  // everything
      if (trial == 1) x1 = x0 + 1e-3, y1 = y0 + 1e-3;              // tiny
      std::vector<std::int32_t> expected;
      for (std::int64_t i = 0; i < n; ++i) {
        if (!finitePoint(xy, std::size_t(i))) continue;
        const double x = xy[2 * i], y = xy[2 * i + 1];
        if (x >= std::min(x0, x1) && x <= std::max(x0, x1) && y >= std::min(y0, y1) && y <= std::max(y0, y1))
          expected.push_back(static_cast<std::int32_t>(i));
      }
      const auto got = index.inRect(x0, y0, x1, y1);
      QCOMPARE(got.size(), expected.size());
      QVERIFY(got == expected);
    }
  }

  void polygonsMatchBruteForce() {
    const std::int64_t n = 200000;
    const auto xy = makePoints(n, 3);
    ScatterIndex index;
    index.build(xy.data(), n);
    std::mt19937_64 rng(4);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<std::vector<double>> polygons;
    for (int k = 0; k < 12; ++k)  // star-shaped lassos of many vertices, as a hand draws them
      polygons.push_back(starPolygon(-8.0 + 16.0 * u(rng), -3.0 + 6.0 * u(rng), 0.5 + 2.0 * u(rng), 1.0 + 5.0 * u(rng),
                                     40 + static_cast<int>(300 * u(rng)), rng));
    for (int k = 0; k < 6; ++k) {  // self-intersecting scribbles: random vertices
      std::vector<double> p;
      for (int v = 0; v < 12; ++v) {
        p.push_back(-11.0 + 22.0 * u(rng));
        p.push_back(-7.0 + 14.0 * u(rng));
      }
      polygons.push_back(p);
    }
    polygons.push_back({-100.0, -100.0, 100.0, -100.0, 100.0, 100.0, -100.0, 100.0});  // contains everything
    polygons.push_back({9.5, 0.0, 30.0, -20.0, 30.0, 20.0});                            // mostly outside
    polygons.push_back({0.0, 0.0, 0.01, 0.0, 0.0, 0.01});                               // tiny
    polygons.push_back({-5.0, -1.0, 5.0, -1.0, 5.0, 1.0, -5.0, 1.0});                   // axis-aligned edges
    for (const auto& polygon : polygons) {
      std::vector<std::int32_t> expected;
      for (std::int64_t i = 0; i < n; ++i)
        if (finitePoint(xy, std::size_t(i)) && referenceInside(polygon, xy[2 * i], xy[2 * i + 1]))
          expected.push_back(static_cast<std::int32_t>(i));
      const auto got = index.inPolygon(polygon);
      QCOMPARE(got.size(), expected.size());
      QVERIFY(got == expected);
      QVERIFY(ScatterIndex::pointInPolygon(polygon, 0.001, 0.001) == referenceInside(polygon, 0.001, 0.001));
    }
  }

  void nearestMatchesBruteForce() {
    const std::int64_t n = 100000;
    const auto xy = makePoints(n, 5);
    ScatterIndex index;
    index.build(xy.data(), n);
    std::mt19937_64 rng(6);
    std::uniform_real_distribution<double> u(-11.0, 11.0);
    int found = 0;
    for (int trial = 0; trial < 300; ++trial) {
      const double x = u(rng), y = u(rng) * 0.6, radius = trial % 3 == 0 ? 0.01 : 0.2;
      double best = radius * radius;
      std::int32_t expected = -1;
      for (std::int64_t i = 0; i < n; ++i) {
        if (!finitePoint(xy, std::size_t(i))) continue;
        const double dx = xy[2 * i] - x, dy = xy[2 * i + 1] - y, d2 = dx * dx + dy * dy;
        if (d2 < best || (d2 == best && expected < 0)) {
          best = d2;
          expected = static_cast<std::int32_t>(i);
        }
      }
      double distance = -1.0;
      QCOMPARE(index.nearest(x, y, radius, &distance), expected);
      if (expected >= 0) {
        ++found;
        QVERIFY(std::abs(distance - std::sqrt(best)) < 1e-12);
      }
    }
    QVERIFY(found > 50);  // the radii are large enough that many queries hit a point
  }

  void degenerateInputs() {
    ScatterIndex index;
    index.build(nullptr, 0);
    QVERIFY(index.bounds().empty);
    QVERIFY(index.inRect(-1, -1, 1, 1).empty());
    QCOMPARE(index.nearest(0, 0, 1), -1);
    // All points at one place, and only non-finite points.
    std::vector<float> same(2000, 3.f);
    index.build(same.data(), 1000);
    QCOMPARE(index.inRect(2.9, 2.9, 3.1, 3.1).size(), std::size_t(1000));
    QCOMPARE(index.nearest(3.0, 3.0, 0.1), 0);
    std::vector<float> nan(10, std::numeric_limits<float>::quiet_NaN());
    index.build(nan.data(), 5);
    QVERIFY(index.bounds().empty);
    QVERIFY(index.inPolygon({-1, -1, 1, -1, 0, 1}).empty());
  }

  void colourHelpers() {
    const auto palette = loupe::widgets::categoricalPalette(25);
    QCOMPARE(palette.size(), std::size_t(25));
    QCOMPARE(palette[0], QRgb(0xff1f77b4));  // matplotlib tab10: #1f77b4, #ff7f0e, #2ca02c
    QCOMPARE(palette[1], QRgb(0xffff7f0e));
    QCOMPARE(palette[2], QRgb(0xff2ca02c));
    const auto colors = loupe::widgets::colorsForCategories({0, 2, -1, 30}, palette);
    QCOMPARE(colors[1], palette[2]);
    QCOMPARE(colors[2], loupe::widgets::kScatterMissingColor);
    QCOMPARE(colors[3], loupe::widgets::kScatterMissingColor);
    // viridis(0) = (0.267004, 0.004874, 0.329415), viridis(1) = (0.993248, 0.906157, 0.143936) -> 8 bit.
    const auto values = loupe::widgets::colorsForValues({0.0, 10.0, std::nan(""), -5.0}, loupe::Colormap::Viridis, 0.0, 10.0);
    QCOMPARE(values[0], qRgb(68, 1, 84));
    QCOMPARE(values[1], qRgb(253, 231, 37));
    QCOMPARE(values[2], loupe::widgets::kScatterMissingColor);
    QCOMPARE(values[3], values[0]);  // clamped
    const auto cats = loupe::widgets::categoriesOf({"10", "9", "", "10", "2"});
    QCOMPARE(cats.names, (std::vector<QString>{"2", "9", "10"}));  // numeric order
    QCOMPARE(cats.category, (std::vector<int>{2, 1, -1, 2, 0}));
    const auto text = loupe::widgets::categoriesOf({"shirt", "Bag", "coat"});
    QCOMPARE(text.names, (std::vector<QString>{"Bag", "coat", "shirt"}));
  }
};

QTEST_GUILESS_MAIN(TestScatterIndex)
#include "test_scatter_index.moc"
