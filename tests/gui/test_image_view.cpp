// ImageView: fit and 1:1 scales, zoom around the cursor (wheel, keys, pinch), panning by dragging, the
// pixel readout, Space showing the original, the magnifier's contrast stretch, and the pyramid level a
// zoom draws from (built at once for small images, in the background for large ones).
#include <QKeyEvent>
#include <QMouseEvent>
#include <QNativeGestureEvent>
#include <QPointingDevice>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>
#include <memory>

#include "ViewTestUtil.h"
#include "widgets/ImagePyramid.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

using namespace loupe;
using namespace loupe::widgets;
using loupe::test::shot;

namespace {

const QColor kGrey(128, 128, 128);

void sendWheel(QWidget* w, QPointF pos, int delta) {
  QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase,
                false);
  QCoreApplication::sendEvent(w, &e);
}

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(w, &e);
}

void sendKey(QWidget* w, QEvent::Type type, int key, const QString& text = {}) {
  QKeyEvent e(type, key, Qt::NoModifier, text);
  QCoreApplication::sendEvent(w, &e);
}

bool near(QPointF a, QPointF b, double tol = 1e-6) { return std::abs(a.x() - b.x()) <= tol && std::abs(a.y() - b.y()) <= tol; }

}  // namespace

class TestImageView : public QObject {
  Q_OBJECT

  std::unique_ptr<ImageView> makeView(QSize size, const Image& image) {
    auto v = std::make_unique<ImageView>();
    v->resize(size);
    v->setImage(image);
    v->show();
    if (!QTest::qWaitForWindowExposed(v.get())) return nullptr;
    return v;
  }

 private Q_SLOTS:
  void initTestCase() { ImageView::setSyncPyramidLimit(4'000'000); }

  void fitAndActualSizeScales() {
    // 400 x 200 in 200 x 200: fit scale 0.5 (width-bound), centred vertically at y 50.
    auto v = makeView({200, 200}, test::solidImage(400, 200, kGrey));
    QVERIFY(v);
    QVERIFY(v->isFitMode());
    QCOMPARE(v->scale(), 0.5);
    QCOMPARE(v->offset(), QPointF(0, 50));
    QCOMPARE(v->imageRect(), QRect(0, 50, 200, 100));

    v->zoomToActualSize();  // 1:1 about the view centre, which shows image point (200, 100)
    QCOMPARE(v->scale(), 1.0);
    QVERIFY(!v->isFitMode());
    QVERIFY(near(v->viewCentre(), QPointF(200, 100)));
    QCOMPARE(v->offset(), QPointF(-100, 0));

    sendKey(v.get(), QEvent::KeyPress, Qt::Key_0, QStringLiteral("0"));
    QVERIFY(v->isFitMode());
    QCOMPARE(v->scale(), 0.5);
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_1, QStringLiteral("1"));
    QCOMPARE(v->scale(), 1.0);
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_Plus, QStringLiteral("+"));
    QVERIFY(std::abs(v->scale() - std::sqrt(2.0)) < 1e-9);
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_Minus, QStringLiteral("-"));
    QVERIFY(std::abs(v->scale() - 1.0) < 1e-9);

    // Fit mode follows resizes; a zoomed view keeps its centre.
    v->fitToWindow();
    v->resize(400, 400);
    QTRY_COMPARE(v->scale(), 1.0);
    v->setView(2.0, QPointF(100, 60));
    v->resize(300, 300);
    QTRY_VERIFY(near(v->viewCentre(), QPointF(100, 60)));
  }

  void wheelZoomKeepsTheImagePointUnderTheCursor_data() {
    QTest::addColumn<QPointF>("cursor");
    QTest::addColumn<int>("delta");
    QTest::newRow("in at centre") << QPointF(150, 100) << 120;
    QTest::newRow("in at corner") << QPointF(37, 171) << 240;
    QTest::newRow("out") << QPointF(250, 40) << -120;
    QTest::newRow("in, fractional") << QPointF(101.5, 77.25) << 360;
  }

  void wheelZoomKeepsTheImagePointUnderTheCursor() {
    QFETCH(QPointF, cursor);
    QFETCH(int, delta);
    auto v = makeView({300, 200}, test::solidImage(600, 400, kGrey));
    QVERIFY(v);
    v->setView(1.0, QPointF(300, 200));
    const QPointF before = v->transform().toImage(cursor);
    const double scale = v->scale();
    QSignalSpy changed(v.get(), &ImageView::viewChanged);
    sendWheel(v.get(), cursor, delta);
    QCOMPARE(changed.count(), 1);
    // One notch (120) is a factor 2^(1/4).
    QVERIFY(std::abs(v->scale() - scale * std::exp2(delta / 480.0)) < 1e-9);
    const QPointF after = v->transform().toImage(cursor);
    QVERIFY2(near(before, after, 1e-9), qPrintable(QStringLiteral("(%1, %2) moved to (%3, %4)")
                                                    .arg(before.x()).arg(before.y()).arg(after.x()).arg(after.y())));
  }

  void pinchZoomsAroundTheGestureCentre() {
    auto v = makeView({300, 200}, test::solidImage(600, 400, kGrey));
    QVERIFY(v);
    v->setView(1.0, QPointF(300, 200));
    const QPointF at(80, 60);
    const QPointF before = v->transform().toImage(at);
    QNativeGestureEvent pinch(Qt::ZoomNativeGesture, QPointingDevice::primaryPointingDevice(), 2, at, at,
                              v->mapToGlobal(at), 0.5, QPointF());
    QCoreApplication::sendEvent(v.get(), &pinch);
    QVERIFY(std::abs(v->scale() - 1.5) < 1e-9);  // a native zoom value is the relative change
    QVERIFY(near(v->transform().toImage(at), before, 1e-9));
  }

  void draggingPansByTheDragDistance() {
    auto v = makeView({300, 200}, test::solidImage(600, 400, kGrey));
    QVERIFY(v);
    v->setView(1.0, QPointF(300, 200));
    const QPointF start = v->offset();
    sendMouse(v.get(), QEvent::MouseButtonPress, {50, 50}, Qt::LeftButton, Qt::LeftButton);
    sendMouse(v.get(), QEvent::MouseMove, {70, 60}, Qt::NoButton, Qt::LeftButton);
    sendMouse(v.get(), QEvent::MouseMove, {83, 71}, Qt::NoButton, Qt::LeftButton);
    sendMouse(v.get(), QEvent::MouseButtonRelease, {83, 71}, Qt::LeftButton, Qt::NoButton);
    QCOMPARE(v->offset() - start, QPointF(33, 21));
    QCOMPARE(v->scale(), 1.0);
    // Moving without a button does not pan.
    sendMouse(v.get(), QEvent::MouseMove, {120, 120}, Qt::NoButton, Qt::NoButton);
    QCOMPARE(v->offset() - start, QPointF(33, 21));
    // Panning never loses the image: at least 48 screen pixels of it stay in view.
    v->panBy({5000, 5000});
    QCOMPARE(v->imageRect().topLeft(), QPoint(300 - 48, 200 - 48));
  }

  void readoutGivesPixelImageValueAndLayerValues() {
    // RGB (x, y, 7) under a heatmap whose value is x + y / 2, and a mask over x < 20.
    const Image image = test::rgbImage(64, 32, [](int x, int y) { return QColor(x, y, 7); });
    auto v = makeView({256, 128}, image);  // scale 4
    QVERIFY(v);
    LayerStack stack;
    v->setLayers(&stack);
    Heatmap h = test::heatmap(64, 32, [](int x, int y) { return x + y / 2.f; });
    h.unit = "dB";
    stack.add(std::make_shared<HeatmapLayer>("h", "heat", h));
    stack.add(std::make_shared<MaskLayer>("m", "mask", test::rectMask(64, 32, QRect(0, 0, 20, 32))));
    QSignalSpy readouts(v.get(), &ImageView::pixelReadout);
    QSignalSpy texts(v.get(), &ImageView::pixelInfo);

    sendMouse(v.get(), QEvent::MouseMove, {4 * 10 + 1, 4 * 5 + 3}, Qt::NoButton, Qt::NoButton);  // pixel (10, 5)
    QCOMPARE(readouts.count(), 1);
    auto r = readouts.last().at(0).value<PixelReadout>();
    QVERIFY(r.inside);
    QCOMPARE(r.pixel, QPoint(10, 5));
    QCOMPARE(r.imageValue, QStringLiteral("RGB 10 5 7"));
    QCOMPARE(r.layers.size(), 2);
    QCOMPARE(r.layers[0], qMakePair(QStringLiteral("mask"), QStringLiteral("1")));  // top layer first
    QCOMPARE(r.layers[1], qMakePair(QStringLiteral("heat"), QStringLiteral("12.5 dB")));
    QCOMPARE(texts.last().at(0).toString(), r.text());
    QVERIFY(r.text().contains(QStringLiteral("x 10  y 5")));

    stack.setVisible(0, false);  // hidden layers are not read out
    r = v->readout(QPointF(40.5, 31.5));
    QCOMPARE(r.pixel, QPoint(40, 31));
    QCOMPARE(r.imageValue, QStringLiteral("RGB 40 31 7"));
    QCOMPARE(r.layers.size(), 1);
    QCOMPARE(r.layers[0].second, QStringLiteral("0"));

    // Outside the image: nothing, and an empty status text.
    v->setView(4.0, QPointF(0, 0));
    sendMouse(v.get(), QEvent::MouseMove, {10, 10}, Qt::NoButton, Qt::NoButton);
    QVERIFY(!readouts.last().at(0).value<PixelReadout>().inside);
    QVERIFY(texts.last().at(0).toString().isEmpty());

    // Float and 16-bit images read out in their own units.
    Image f(4, 4, ColorOrder::Gray, PixelDepth::F32);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) f.row<float>(y)[x] = 0.25f * x;
    v->setImage(f);
    QCOMPARE(v->readout(QPointF(2.5, 1.5)).imageValue, QStringLiteral("gray 0.500"));
    Image u16(4, 4, ColorOrder::Gray, PixelDepth::U16);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) u16.row<std::uint16_t>(y)[x] = static_cast<std::uint16_t>(1000 * x);
    v->setImage(u16);
    QCOMPARE(v->readout(QPointF(3.5, 0.5)).imageValue, QStringLiteral("gray 3000"));
  }

  void spaceShowsTheOriginalWithoutLayers() {
    auto v = makeView({200, 100}, test::solidImage(100, 50, kGrey));
    QVERIFY(v);
    const QImage original = shot(*v);
    LayerStack stack;
    v->setLayers(&stack);
    stack.add(std::make_shared<MaskLayer>("m", "mask", test::rectMask(100, 50, QRect(10, 10, 30, 30)), QColor(255, 0, 0)));
    const QImage result = shot(*v);
    COMPARE_COLOUR(result.pixelColor(50, 50), QColor(255, 0, 0), 0);
    QSignalSpy toggled(v.get(), &ImageView::showOriginalChanged);

    // A tap toggles: the layer's pixels are gone until the next tap.
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_Space, QStringLiteral(" "));
    sendKey(v.get(), QEvent::KeyRelease, Qt::Key_Space, QStringLiteral(" "));
    QVERIFY(v->showsOriginal());
    QCOMPARE(toggled.count(), 1);
    QImage shown = shot(*v);
    const QRect badge = v->badgeRect();
    QVERIFY(!badge.isEmpty());  // says "Original"
    COMPARE_COLOUR(shown.pixelColor(50, 50), kGrey, 0);
    for (int y = 0; y < shown.height(); ++y)
      for (int x = 0; x < shown.width(); ++x)
        if (!badge.contains(x, y) && shown.pixel(x, y) != original.pixel(x, y))
          QFAIL(qPrintable(QStringLiteral("pixel (%1, %2) still differs from the original").arg(x).arg(y)));
    QVERIFY(v->readout(QPointF(20, 20)).layers.isEmpty());  // no layer values while the original shows

    sendKey(v.get(), QEvent::KeyPress, Qt::Key_Space, QStringLiteral(" "));
    sendKey(v.get(), QEvent::KeyRelease, Qt::Key_Space, QStringLiteral(" "));
    QVERIFY(!v->showsOriginal());
    QCOMPARE(shot(*v), result);

    // Held down, it peeks: back to the result on release.
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_Space, QStringLiteral(" "));
    QVERIFY(v->showsOriginal());
    QTest::qWait(400);
    sendKey(v.get(), QEvent::KeyRelease, Qt::Key_Space, QStringLiteral(" "));
    QVERIFY(!v->showsOriginal());
    QCOMPARE(toggled.count(), 4);
  }

  void magnifierStretchesLocalContrast() {
    // A faint ramp: values 100..115 along x.
    const Image image = test::rgbImage(160, 160, [](int x, int) { return QColor(100 + x / 10, 100 + x / 10, 100 + x / 10); });
    auto v = makeView({320, 320}, image);  // scale 2: the magnifier shows 8 screen pixels per image pixel
    QVERIFY(v);
    QVERIFY(!v->isMagnifierEnabled());
    sendKey(v.get(), QEvent::KeyPress, Qt::Key_M, QStringLiteral("m"));
    QVERIFY(v->isMagnifierEnabled());
    sendMouse(v.get(), QEvent::MouseMove, {160, 160}, Qt::NoButton, Qt::NoButton);
    QVERIFY(!v->magnifierRect().isEmpty());
    QCOMPARE(v->magnifierRect().size(), QSize(ImageView::kMagnifierSize, ImageView::kMagnifierSize));

    // 192 / 8 = 24 image pixels across, centred on x = 80: x 68..92, values 106..109.
    int low = 0, high = 0;
    const QImage patch = v->magnifierPatch(QPointF(80, 80), &low, &high);
    QCOMPARE(patch.size(), QSize(24, 24));
    QCOMPARE(low, 106);
    QCOMPARE(high, 109);
    QCOMPARE(qRed(patch.pixel(0, 0)), 0);                    // darkest -> 0
    QCOMPARE(qRed(patch.pixel(patch.width() - 1, 0)), 255);  // brightest -> 255
    QCOMPARE(qRed(patch.pixel(5, 3)), (107 - 106) * 255 / 3);  // x 73 -> 107 -> 85

    // The inset on screen shows the stretched values: black and white both appear inside it.
    const QImage img = shot(*v);
    const QRect box = v->magnifierRect().adjusted(2, 2, -2, -20);
    bool black = false, white = false;
    for (int y = box.top(); y <= box.bottom(); ++y)
      for (int x = box.left(); x <= box.right(); ++x) {
        black |= img.pixel(x, y) == qRgb(0, 0, 0);
        white |= img.pixel(x, y) == qRgb(255, 255, 255);
      }
    QVERIFY(black && white);

    sendKey(v.get(), QEvent::KeyPress, Qt::Key_M, QStringLiteral("m"));
    QVERIFY(v->magnifierRect().isEmpty());
  }

  void contrastStretchOfAFlatPatchKeepsIt() {
    QImage flat(8, 8, QImage::Format_RGB32);
    flat.fill(qRgb(90, 90, 90));
    int low = 0, high = 0;
    const QImage out = contrastStretch(flat, &low, &high);
    QCOMPARE(low, 90);
    QCOMPARE(high, 90);
    QCOMPARE(out.pixel(3, 3), qRgb(90, 90, 90));
  }

  void halfSizeIsTheRoundedTwoByTwoMean() {
    // 3 x 3 with distinct channels: the 2 x 2 result's last column/row averages the edge with itself.
    QImage src(3, 3, QImage::Format_ARGB32);
    const auto at = [](int x, int y) { return qRgba(10 * x + 1, 40 * y + 3, 7 * x + 11 * y, 255 - 20 * x - 30 * y); };
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x) src.setPixel(x, y, at(x, y));
    const QImage half = halfSize(src);
    QCOMPARE(half.size(), QSize(2, 2));
    QCOMPARE(half.format(), QImage::Format_ARGB32);
    const auto mean = [&](int x0, int x1, int y0, int y1, int (*ch)(QRgb)) {
      return (ch(at(x0, y0)) + ch(at(x1, y0)) + ch(at(x0, y1)) + ch(at(x1, y1)) + 2) / 4;
    };
    int (*const channels[])(QRgb) = {qRed, qGreen, qBlue, qAlpha};
    for (auto ch : channels) {
      QCOMPARE(ch(half.pixel(0, 0)), mean(0, 1, 0, 1, ch));
      QCOMPARE(ch(half.pixel(1, 0)), mean(2, 2, 0, 1, ch));
      QCOMPARE(ch(half.pixel(0, 1)), mean(0, 1, 2, 2, ch));
      QCOMPARE(ch(half.pixel(1, 1)), ch(at(2, 2)));
    }
    // Other formats go through the display format: RGB888 in, RGB32 out, same means.
    const QImage rgb = halfSize(src.convertToFormat(QImage::Format_RGB888));
    QCOMPARE(rgb.format(), QImage::Format_RGB32);
    QCOMPARE(qGreen(rgb.pixel(0, 0)), mean(0, 1, 0, 1, qGreen));
  }

  void pyramidLevelMatchesTheZoom() {
    // A one-pixel checkerboard: any level is its 2 x 2 mean, 128 (rounded), so a reduced view is flat
    // grey, where sampling the full image would alias to black or white.
    const Image checker = test::rgbImage(2048, 1024, [](int x, int y) { return (x + y) % 2 ? Qt::white : Qt::black; });
    auto v = makeView({512, 256}, checker);
    QVERIFY(v);
    QVERIFY(v->isPyramidReady());  // 2 MP: built at once
    QCOMPARE(v->pyramidLevelCount(), 4);  // 2048, 1024, 512, 256 wide
    QCOMPARE(v->pyramidLevel(1).size(), QSize(1024, 512));
    QCOMPARE(v->pyramidLevel(3).size(), QSize(256, 128));
    QCOMPARE(qRed(v->pyramidLevel(1).pixel(10, 10)), 128);
    QCOMPARE(v->levelForScale(2.0), 0);
    QCOMPARE(v->levelForScale(1.0), 0);
    QCOMPARE(v->levelForScale(0.75), 0);
    QCOMPARE(v->levelForScale(0.5), 1);
    QCOMPARE(v->levelForScale(0.3), 1);
    QCOMPARE(v->levelForScale(0.25), 2);
    QCOMPARE(v->levelForScale(0.05), 3);  // the coarsest there is

    QCOMPARE(v->scale(), 0.25);  // fitted
    QCOMPARE(v->currentLevel(), 2);
    const QImage img = shot(*v);
    for (int y = 10; y < 250; y += 17)
      for (int x = 10; x < 500; x += 23) QCOMPARE(qRed(img.pixel(x, y)), 128);

    v->zoomToActualSize();
    QCOMPARE(v->currentLevel(), 0);
    const QImage full = shot(*v);
    QVERIFY(qRed(full.pixel(100, 100)) == 0 || qRed(full.pixel(100, 100)) == 255);  // real pixels at 1:1
    QVERIFY(qRed(full.pixel(100, 100)) != qRed(full.pixel(101, 100)));
  }

  void largeImagesGetTheirPyramidInTheBackground() {
    ImageView::setSyncPyramidLimit(0);
    auto v = std::make_unique<ImageView>();
    v->resize(300, 300);
    QSignalSpy ready(v.get(), &ImageView::pyramidReady);
    v->setImage(test::solidImage(3000, 3000, QColor(10, 200, 30)));
    ImageView::setSyncPyramidLimit(4'000'000);
    // Usable at once from level 0, then the levels arrive.
    QCOMPARE(v->pyramidLevelCount() >= 1, true);
    QTRY_VERIFY_WITH_TIMEOUT(v->isPyramidReady(), 20'000);
    QCOMPARE(ready.count(), 1);
    QCOMPARE(v->pyramidLevelCount(), pyramidLevelCount(3000, 3000));
    QCOMPARE(v->pyramidLevel(2).pixel(5, 5), qRgb(10, 200, 30));
    QCOMPARE(v->currentLevel(), 3);  // fit scale 0.1

    // Replacing the image while a build runs drops that build.
    ImageView::setSyncPyramidLimit(0);
    v->setImage(test::solidImage(3000, 3000, QColor(1, 2, 3)));
    v->setImage(test::solidImage(2000, 2000, QColor(200, 100, 50)));
    ImageView::setSyncPyramidLimit(4'000'000);
    QTRY_VERIFY_WITH_TIMEOUT(v->isPyramidReady(), 20'000);
    QCOMPARE(v->pyramidLevel(1).size(), QSize(1000, 1000));
    QCOMPARE(v->pyramidLevel(1).pixel(0, 0), qRgb(200, 100, 50));
  }
};

QTEST_MAIN(TestImageView)
#include "test_image_view.moc"
