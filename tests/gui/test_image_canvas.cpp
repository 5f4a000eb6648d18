// ImageCanvas: the image fitted with its aspect ratio, the heatmap blended at the chosen opacity, the
// legend in the corner, pixel readout under the cursor; QtImage conversions.
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

#include "core/Colormap.h"
#include "widgets/ImageCanvas.h"
#include "widgets/QtImage.h"

using loupe::ColorOrder;
using loupe::Colormap;
using loupe::Heatmap;
using loupe::Image;
using loupe::PixelDepth;
using loupe::widgets::ImageCanvas;

namespace {

const QColor kLeft(200, 40, 40);
const QColor kRight(40, 120, 200);
constexpr float kLeftValue = 0.25f;
constexpr float kRightValue = 0.8f;

// 200 x 100 RGB: red left half, blue right half.
Image twoToneImage() {
  Image image(200, 100, ColorOrder::RGB);
  for (int y = 0; y < image.height(); ++y) {
    auto* row = image.row<std::uint8_t>(y);
    for (int x = 0; x < image.width(); ++x) {
      const QColor& c = x < 100 ? kLeft : kRight;
      row[3 * x] = static_cast<std::uint8_t>(c.red());
      row[3 * x + 1] = static_cast<std::uint8_t>(c.green());
      row[3 * x + 2] = static_cast<std::uint8_t>(c.blue());
    }
  }
  return image;
}

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

QColor blend(const QColor& under, const QColor& over, double a) {
  return QColor::fromRgbF(static_cast<float>(over.redF() * a + under.redF() * (1 - a)),
                          static_cast<float>(over.greenF() * a + under.greenF() * (1 - a)),
                          static_cast<float>(over.blueF() * a + under.blueF() * (1 - a)));
}

int distance(const QColor& a, const QColor& b) {
  return std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
}

#define COMPARE_COLOR(actual, expected, tolerance)                                                          \
  QVERIFY2(distance(actual, expected) <= (tolerance),                                                       \
           qPrintable(QStringLiteral("got %1, expected %2").arg(actual.name(), expected.name())))

}  // namespace

class TestImageCanvas : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldFitImageKeepingAspectRatio() {
    ImageCanvas canvas;
    canvas.resize(400, 300);
    canvas.setImage(twoToneImage());
    QCOMPARE(canvas.imageRect(), QRect(0, 50, 400, 200));  // 2:1 image, letterboxed vertically
    QCOMPARE(canvas.imageToWidget(QPointF(0, 0)), QPoint(0, 50));
    QCOMPARE(canvas.imageToWidget(QPointF(100.5, 50.5)), QPoint(201, 151));
    const auto back = canvas.widgetToImage(QPointF(201, 151));  // the widget pixel's centre, in image units
    QVERIFY(back);
    QCOMPARE(back->x(), 100.75);
    QCOMPARE(back->y(), 50.75);
    QVERIFY(!canvas.widgetToImage(QPointF(200, 10)));  // in the letterbox band
  }

  void shouldBlendOverlayByOpacity_data() {
    QTest::addColumn<double>("opacity");
    QTest::addColumn<bool>("visible");
    QTest::newRow("opacity 0 shows the image") << 0.0 << true;
    QTest::newRow("hidden overlay shows the image") << 1.0 << false;
    QTest::newRow("opacity 1 shows the colour map") << 1.0 << true;
    QTest::newRow("opacity 0.5 blends") << 0.5 << true;
  }

  void shouldBlendOverlayByOpacity() {
    QFETCH(double, opacity);
    QFETCH(bool, visible);
    ImageCanvas canvas;
    canvas.resize(400, 300);
    canvas.setImage(twoToneImage());
    canvas.setHeatmap(twoToneHeatmap(), QStringLiteral("Test map"));
    canvas.setOverlayOpacity(opacity);
    canvas.setOverlayVisible(visible);
    const QImage shot = canvas.grab().toImage();

    const double shown = visible ? opacity : 0.0;
    const struct { QPointF at; QColor image; float value; } points[] = {
        {{50.5, 25.5}, kLeft, kLeftValue}, {{150.5, 25.5}, kRight, kRightValue}, {{20.5, 80.5}, kLeft, kLeftValue}};
    for (const auto& p : points) {
      const QColor expected = blend(p.image, mapColor(Colormap::Magma, p.value), shown);
      COMPARE_COLOR(shot.pixelColor(canvas.imageToWidget(p.at)), expected, 3);
    }
  }

  void shouldDrawLegendWithColormapEnds() {
    ImageCanvas canvas;
    canvas.resize(400, 300);
    canvas.setImage(twoToneImage());
    canvas.setHeatmap(twoToneHeatmap(), QStringLiteral("Test map"));
    const QRect legend = canvas.legendRect();
    QVERIFY(!legend.isEmpty());
    QVERIFY(canvas.rect().contains(legend));
    QVERIFY(legend.center().x() > canvas.width() / 2 && legend.center().y() > canvas.height() / 2);  // bottom right

    const QImage shot = canvas.grab().toImage();
    const QColor low = mapColor(Colormap::Magma, 0.f);
    const QColor high = mapColor(Colormap::Magma, 1.f);
    bool foundLow = false, foundHigh = false;
    for (int y = legend.top(); y <= legend.bottom(); ++y) {
      for (int x = legend.left(); x <= legend.right(); ++x) {
        const QColor c = shot.pixelColor(x, y);
        foundLow = foundLow || distance(c, low) <= 1;
        foundHigh = foundHigh || distance(c, high) <= 1;
      }
    }
    QVERIFY(foundLow);
    QVERIFY(foundHigh);

    canvas.setOverlayVisible(false);
    QVERIFY(canvas.legendRect().isEmpty());
    canvas.setOverlayVisible(true);
    canvas.clearOverlay();
    QVERIFY(canvas.legendRect().isEmpty());
  }

  void shouldDropOverlayWhenImageChanges() {
    ImageCanvas canvas;
    canvas.setImage(twoToneImage());
    canvas.setHeatmap(twoToneHeatmap(), QStringLiteral("Test map"));
    QVERIFY(canvas.hasOverlay());
    canvas.setImage(twoToneImage());
    QVERIFY(!canvas.hasOverlay());
  }

  void shouldReportPixelUnderCursor() {
    ImageCanvas canvas;
    canvas.resize(400, 300);
    canvas.setImage(twoToneImage());
    canvas.setHeatmap(twoToneHeatmap(), QStringLiteral("Test map"));
    QSignalSpy spy(&canvas, &ImageCanvas::pixelInfo);

    const QPointF at = canvas.imageToWidget(QPointF(150.5, 20.5));
    QMouseEvent move(QEvent::MouseMove, at, canvas.mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&canvas, &move);
    QCOMPARE(spy.count(), 1);
    const QString text = spy.takeFirst().at(0).toString();
    QVERIFY2(text.contains(QStringLiteral("x 150  y 20")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("RGB 40 120 200")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Test map 0.8 test units")), qPrintable(text));

    const QPointF outside(200, 10);
    QMouseEvent away(QEvent::MouseMove, outside, canvas.mapToGlobal(outside), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&canvas, &away);
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.takeFirst().at(0).toString().isEmpty());
  }

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

QTEST_MAIN(TestImageCanvas)
#include "test_image_canvas.moc"
