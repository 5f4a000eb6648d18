// Colour maps: matplotlib's viridis/magma at known points, jet and gray against their formulas.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Colormap.h"

using namespace loupe;

Q_DECLARE_METATYPE(loupe::Colormap)

namespace {
QString rgb(const std::array<std::uint8_t, 3>& c) { return QStringLiteral("(%1,%2,%3)").arg(c[0]).arg(c[1]).arg(c[2]); }
QString rgb(int r, int g, int b) { return QStringLiteral("(%1,%2,%3)").arg(r).arg(g).arg(b); }

// MATLAB jet written independently as the minimum of a rising and a falling ramp:
// r = clamp(min(4t - 1.5, 4.5 - 4t)), g = clamp(min(4t - 0.5, 3.5 - 4t)), b = clamp(min(4t + 0.5, 2.5 - 4t)).
std::array<double, 3> jetReference(double t) {
  auto c = [](double v) { return std::clamp(v, 0.0, 1.0) * 255.0; };
  return {c(std::min(4 * t - 1.5, 4.5 - 4 * t)), c(std::min(4 * t - 0.5, 3.5 - 4 * t)),
          c(std::min(4 * t + 0.5, 2.5 - 4 * t))};
}
}  // namespace

class TestColormap : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldMatchMatplotlibAtKnownPoints_data();
  void shouldMatchMatplotlibAtKnownPoints();
  void shouldFollowJetFormula();
  void shouldFollowGrayFormula();
  void shouldMapNanAndOutOfRangeToEnds_data();
  void shouldMapNanAndOutOfRangeToEnds();
  void shouldParseNames_data();
  void shouldParseNames();
  void shouldRejectUnknownName();
  void shouldRoundTripNames();
};

void TestColormap::shouldMatchMatplotlibAtKnownPoints_data() {
  // Reference: matplotlib's _cm_listed.py float tables * 255, rounded by hand, e.g.
  // viridis[0] = (0.267004, 0.004874, 0.329415) -> (68, 1, 84); viridis[255] = (0.993248, 0.906157, 0.143936)
  // -> (253, 231, 37); viridis[128] = (0.127568, 0.566949, 0.550556) -> (33, 145, 140);
  // magma[0] = (0.001462, 0.000466, 0.013866) -> (0, 0, 4); magma[255] = (0.987053, 0.991438, 0.749504)
  // -> (252, 253, 191); magma[128] = (0.716387, 0.214982, 0.475290) -> (183, 55, 121).
  QTest::addColumn<loupe::Colormap>("map");
  QTest::addColumn<float>("t");
  QTest::addColumn<QString>("expected");
  QTest::newRow("viridis 0") << Colormap::Viridis << 0.f << rgb(68, 1, 84);
  QTest::newRow("viridis 1") << Colormap::Viridis << 1.f << rgb(253, 231, 37);
  QTest::newRow("viridis 128/255") << Colormap::Viridis << 128.f / 255.f << rgb(33, 145, 140);
  QTest::newRow("magma 0") << Colormap::Magma << 0.f << rgb(0, 0, 4);
  QTest::newRow("magma 1") << Colormap::Magma << 1.f << rgb(252, 253, 191);
  QTest::newRow("magma 128/255") << Colormap::Magma << 128.f / 255.f << rgb(183, 55, 121);
}

void TestColormap::shouldMatchMatplotlibAtKnownPoints() {
  QFETCH(loupe::Colormap, map);
  QFETCH(float, t);
  QFETCH(QString, expected);
  QCOMPARE(rgb(colormapColor(map, t)), expected);
}

void TestColormap::shouldFollowJetFormula() {
  // Hand-computed corners: jet(0) = (0, 0, 0.5) -> (0, 0, 128); jet(1) = (0.5, 0, 0) -> (128, 0, 0).
  QCOMPARE(rgb(colormapColor(Colormap::Jet, 0.f)), rgb(0, 0, 128));
  QCOMPARE(rgb(colormapColor(Colormap::Jet, 1.f)), rgb(128, 0, 0));
  for (int i = 0; i < 256; ++i) {
    const auto c = colormapColor(Colormap::Jet, float(i) / 255.f);
    const auto ref = jetReference(i / 255.0);
    for (int k = 0; k < 3; ++k)
      if (std::abs(c[k] - ref[k]) > 0.5 + 1e-6)  // same value up to rounding
        QFAIL(qPrintable(QStringLiteral("jet index %1 channel %2: %3 vs %4").arg(i).arg(k).arg(c[k]).arg(ref[k])));
  }
}

void TestColormap::shouldFollowGrayFormula() {
  // gray(t) = round(255 t) on all three channels.
  for (int i = 0; i <= 1000; ++i) {
    const float t = float(i) / 1000.f;
    const auto c = colormapColor(Colormap::Gray, t);
    const int v = int(std::lround(t * 255.f));
    QCOMPARE(int(c[0]), v);
    QCOMPARE(int(c[1]), v);
    QCOMPARE(int(c[2]), v);
  }
}

void TestColormap::shouldMapNanAndOutOfRangeToEnds_data() {
  QTest::addColumn<float>("t");
  QTest::addColumn<QString>("expected");  // viridis ends (see the matplotlib row above)
  QTest::newRow("NaN -> low end") << std::numeric_limits<float>::quiet_NaN() << rgb(68, 1, 84);
  QTest::newRow("negative") << -5.f << rgb(68, 1, 84);
  QTest::newRow("-inf") << -std::numeric_limits<float>::infinity() << rgb(68, 1, 84);
  QTest::newRow("above 1") << 5.f << rgb(253, 231, 37);
  QTest::newRow("+inf") << std::numeric_limits<float>::infinity() << rgb(253, 231, 37);
}

void TestColormap::shouldMapNanAndOutOfRangeToEnds() {
  QFETCH(float, t);
  QFETCH(QString, expected);
  QCOMPARE(rgb(colormapColor(Colormap::Viridis, t)), expected);
}

void TestColormap::shouldParseNames_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<loupe::Colormap>("map");
  QTest::newRow("viridis") << "viridis" << Colormap::Viridis;
  QTest::newRow("magma") << "magma" << Colormap::Magma;
  QTest::newRow("jet") << "jet" << Colormap::Jet;
  QTest::newRow("gray") << "gray" << Colormap::Gray;
  QTest::newRow("grey") << "grey" << Colormap::Gray;
}

void TestColormap::shouldParseNames() {
  QFETCH(QString, name);
  QFETCH(loupe::Colormap, map);
  const auto r = colormapFromName(name.toStdString());
  QVERIFY(r.ok());
  QCOMPARE(*r, map);
}

void TestColormap::shouldRejectUnknownName() {
  const auto r = colormapFromName("rainbow");
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY(r.error().message.find("rainbow") != std::string::npos);
  QVERIFY(r.error().message.find("viridis") != std::string::npos);  // says what is known
}

void TestColormap::shouldRoundTripNames() {
  const auto names = colormapNames();
  QCOMPARE(names.size(), std::size_t(4));
  for (const auto& n : names) {
    const auto r = colormapFromName(n);
    QVERIFY(r.ok());
    QCOMPARE(QString::fromUtf8(colormapName(*r)), QString::fromStdString(n));
  }
}

QTEST_GUILESS_MAIN(TestColormap)
#include "test_colormap.moc"
