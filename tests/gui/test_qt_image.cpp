// QtImage: every loupe::Image layout and a Heatmap become the QImage a viewer draws.
// Expected colours: the samples themselves (16-bit divided by 257) and colormapColor's tables.

#include <QTest>

#include <cmath>

#include "core/Colormap.h"
#include "widgets/QtImage.h"

using loupe::ColorOrder;
using loupe::Colormap;
using loupe::Heatmap;
using loupe::Image;
using loupe::PixelDepth;

namespace {

constexpr float kLeftValue = 0.25f;
constexpr float kRightValue = 0.8f;

Heatmap twoToneHeatmap() {
  Heatmap h;
  h.width = 200;
  h.height = 100;
  h.values.resize(200 * 100);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 200; ++x) h.values[y * 200 + x] = x < 100 ? kLeftValue : kRightValue;
  h.rangeMin = 0.f;
  h.rangeMax = 1.f;
  h.colormap = Colormap::Magma;
  h.unit = "test units";
  return h;
}

QColor mapColor(Colormap map, float t) {
  const auto c = loupe::colormapColor(map, t);
  return {c[0], c[1], c[2]};
}

}  // namespace

class TestQtImage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldConvertEveryLayoutToQImage() {
    Image bgr(2, 1, ColorOrder::BGR);
    bgr.row<std::uint8_t>(0)[0] = 1;  // B
    bgr.row<std::uint8_t>(0)[1] = 2;  // G
    bgr.row<std::uint8_t>(0)[2] = 3;  // R
    QCOMPARE(loupe::widgets::toQImage(bgr).pixelColor(0, 0), QColor(3, 2, 1));

    Image gray16(3, 1, ColorOrder::Gray, PixelDepth::U16);
    gray16.row<std::uint16_t>(0)[0] = 65535;
    gray16.row<std::uint16_t>(0)[1] = 257 * 100;
    gray16.row<std::uint16_t>(0)[2] = 0;
    const QImage g = loupe::widgets::toQImage(gray16);
    QCOMPARE(g.pixelColor(0, 0), QColor(255, 255, 255));
    QCOMPARE(g.pixelColor(1, 0), QColor(100, 100, 100));
    QCOMPARE(g.pixelColor(2, 0), QColor(0, 0, 0));

    Image bgra(1, 1, ColorOrder::BGRA);
    const std::uint8_t px[4] = {10, 20, 30, 128};
    std::copy(px, px + 4, bgra.data());
    const QColor c = loupe::widgets::toQImage(bgra).pixelColor(0, 0);
    QCOMPARE(c, QColor(30, 20, 10, 128));

    Image grayAlpha(1, 1, ColorOrder::GrayAlpha);
    grayAlpha.data()[0] = 77;
    grayAlpha.data()[1] = 200;
    QCOMPARE(loupe::widgets::toQImage(grayAlpha).pixelColor(0, 0), QColor(77, 77, 77, 200));

    Image rgbf(1, 1, ColorOrder::RGB, PixelDepth::F32);
    auto* f = rgbf.row<float>(0);
    f[0] = 1.f; f[1] = 0.5f; f[2] = 0.f;
    const QColor fc = loupe::widgets::toQImage(rgbf).pixelColor(0, 0);
    QCOMPARE(fc.red(), 255);
    QVERIFY(std::abs(fc.green() - 128) <= 1);
    QCOMPARE(fc.blue(), 0);

    QVERIFY(loupe::widgets::toQImage(Image()).isNull());
  }

  void shouldRenderHeatmapThroughItsColormap() {
    Heatmap h = twoToneHeatmap();
    h.colormap = Colormap::Viridis;
    const QImage q = loupe::widgets::toQImage(h);
    QCOMPARE(q.size(), QSize(200, 100));
    QCOMPARE(q.pixelColor(10, 10), mapColor(Colormap::Viridis, kLeftValue));
    QCOMPARE(q.pixelColor(190, 10), mapColor(Colormap::Viridis, kRightValue));
  }
};

QTEST_MAIN(TestQtImage)
#include "test_qt_image.moc"
