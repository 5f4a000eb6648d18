// Layers drawn by ImageView: each kind puts the expected colours on the expected screen pixels, and
// visibility and opacity change the drawn pixels by exactly the compositing rule.
//
// Setup for every case: a 100 x 50 image in a 400 x 200 view, so the fitted scale is 4 with no offset and
// image pixel (x, y) is screen square [4x, 4x+4) x [4y, 4y+4); its centre is screen (4x+2, 4y+2).
// References: colours from loupe::colormapColor (matplotlib's 256-entry viridis/magma tables, MATLAB's
// jet, a gray ramp); blending is Porter-Duff source-over, out = a * layer + (1 - a) * image.
#include <QPainter>
#include <QTest>

#include <memory>

#include "ViewTestUtil.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"
#include "widgets/VectorLayers.h"

using namespace loupe;
using namespace loupe::widgets;
using loupe::test::blend;
using loupe::test::mapColour;
using loupe::test::shot;

namespace {

constexpr int kW = 100, kH = 50, kScale = 4;
const QColor kGrey(128, 128, 128);

QPoint centreOf(int x, int y) { return {kScale * x + kScale / 2, kScale * y + kScale / 2}; }

}  // namespace

class TestLayers : public QObject {
  Q_OBJECT

  std::unique_ptr<ImageView> view_;
  std::unique_ptr<LayerStack> stack_;

  QImage draw() { return shot(*view_); }

 private Q_SLOTS:
  void init() {
    view_ = std::make_unique<ImageView>();
    stack_ = std::make_unique<LayerStack>();
    view_->setLayers(stack_.get());
    view_->setLegendVisible(false);  // legends are checked on their own below
    view_->resize(kW * kScale, kH * kScale);
    view_->setImage(test::solidImage(kW, kH, kGrey));
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
    QCOMPARE(view_->scale(), double(kScale));
    QCOMPARE(view_->offset(), QPointF(0, 0));
  }

  void cleanup() {
    view_.reset();
    stack_.reset();
  }

  void heatmapColourIsColormapOfValue_data() {
    QTest::addColumn<int>("map");
    QTest::newRow("viridis") << int(Colormap::Viridis);
    QTest::newRow("magma") << int(Colormap::Magma);
    QTest::newRow("jet") << int(Colormap::Jet);
    QTest::newRow("gray") << int(Colormap::Gray);
  }

  void heatmapColourIsColormapOfValue() {
    QFETCH(int, map);
    const auto cmap = static_cast<Colormap>(map);
    // value = x / 99 + y / 1000: every pixel differs and covers [0, 1.05] (clamped to the top colour).
    const auto value = [](int x, int y) { return x / 99.f + y / 1000.f; };
    stack_->add(std::make_shared<HeatmapLayer>("h", "heat", test::heatmap(kW, kH, value, cmap)));
    const QImage img = draw();
    for (int y = 0; y < kH; y += 7)
      for (int x = 0; x < kW; x += 3) COMPARE_COLOUR(img.pixelColor(centreOf(x, y)), mapColour(cmap, value(x, y)), 0);
  }

  void heatmapRangeAndColormapChangeColours() {
    auto layer = std::make_shared<HeatmapLayer>("h", "heat", test::heatmap(kW, kH, [](int x, int) { return x / 99.f; }));
    stack_->add(layer);
    layer->setRange(0.5f, 1.0f);
    layer->setColormap(Colormap::Magma);
    stack_->notifyChanged(0);
    const QImage img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(10, 5)), mapColour(Colormap::Magma, 0.f), 0);  // below the range: bottom colour
    COMPARE_COLOUR(img.pixelColor(centreOf(99, 5)), mapColour(Colormap::Magma, 1.f), 0);
    // x = 74: value 74/99, t = (74/99 - 0.5) / 0.5
    COMPARE_COLOUR(img.pixelColor(centreOf(74, 5)), mapColour(Colormap::Magma, (74 / 99.f - 0.5f) / 0.5f), 0);
  }

  void heatmapOfOtherSizeCoversTheImage() {
    // 25 x 10 values over a 100 x 50 image: each value covers 4 x 5 image pixels.
    stack_->add(std::make_shared<HeatmapLayer>("h", "heat", test::heatmap(25, 10, [](int x, int y) { return (x + 25 * y) / 249.f; })));
    const QImage img = draw();
    for (int hy = 0; hy < 10; hy += 3)
      for (int hx = 0; hx < 25; hx += 4)
        for (const QPoint corner : {QPoint(4 * hx, 5 * hy), QPoint(4 * hx + 3, 5 * hy + 4)})
          COMPARE_COLOUR(img.pixelColor(centreOf(corner.x(), corner.y())),
                         mapColour(Colormap::Viridis, (hx + 25 * hy) / 249.f), 0);
  }

  void labelMapColoursAndHiddenLabels() {
    LabelMapData data;
    data.width = kW;
    data.height = kH;
    data.values.resize(kW * kH);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) data.values[y * kW + x] = x < 30 ? 1 : x < 60 ? 2 : x < 90 ? 3 : 7;
    data.labels = {{1, "road", QColor(200, 0, 0), true}, {2, "car", QColor(0, 180, 0), true},
                   {3, "sky", QColor(0, 0, 250), false}};
    auto layer = std::make_shared<LabelMapLayer>("seg", "segments", data);
    stack_->add(layer);
    // Label 7 is not in the table: added with a palette colour and a generated name.
    const auto seven = layer->label(7);
    QVERIFY(seven);
    QCOMPARE(seven->name, QStringLiteral("label 7"));
    QVERIFY(seven->visible);

    QImage img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(10, 20)), QColor(200, 0, 0), 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(45, 20)), QColor(0, 180, 0), 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(75, 20)), kGrey, 0);  // hidden label: the image shows
    COMPARE_COLOUR(img.pixelColor(centreOf(95, 20)), seven->colour, 0);

    layer->setLabelVisible(2, false);
    layer->setLabelVisible(3, true);
    stack_->notifyChanged(0);
    img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(45, 20)), kGrey, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(75, 20)), QColor(0, 0, 250), 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(10, 20)), QColor(200, 0, 0), 0);
  }

  void maskFillColoursInsideOnly() {
    const QColor red(255, 0, 0);
    stack_->add(std::make_shared<MaskLayer>("m", "mask", test::rectMask(kW, kH, QRect(20, 10, 20, 20)), red));
    const QImage img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(30, 20)), red, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(20, 10)), red, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(39, 29)), red, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(19, 20)), kGrey, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(40, 20)), kGrey, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(30, 30)), kGrey, 0);
  }

  void maskOutlineColoursTheBoundaryOnly() {
    const QColor red(255, 0, 0);
    stack_->add(std::make_shared<MaskLayer>("m", "mask", test::rectMask(kW, kH, QRect(20, 10, 20, 20)), red,
                                            MaskLayer::Style::Outline));
    const QImage img = draw();
    // The square's edges lie on screen x = 80 and 160, y = 40 and 120; a 2-pixel pen straddles them.
    const auto onEdge = [&img, red](QPoint a, QPoint b) {
      return img.pixelColor(a) == red || img.pixelColor(b) == red;
    };
    QVERIFY(onEdge({79, 80}, {80, 80}));     // left edge
    QVERIFY(onEdge({159, 80}, {160, 80}));   // right edge
    QVERIFY(onEdge({120, 39}, {120, 40}));   // top edge
    QVERIFY(onEdge({120, 119}, {120, 120})); // bottom edge
    COMPARE_COLOUR(img.pixelColor(centreOf(30, 20)), kGrey, 0);  // inside: not filled
    COMPARE_COLOUR(img.pixelColor(centreOf(21, 20)), kGrey, 0);  // one pixel in from the edge
    COMPARE_COLOUR(img.pixelColor(centreOf(18, 20)), kGrey, 0);  // outside
    int red_ = 0;
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) red_ += img.pixelColor(x, y) == red;
    // Perimeter 4 * 80 screen pixels, 2 pixels wide: about 640 red pixels, nothing like the 6400 of a fill.
    QVERIFY2(red_ >= 600 && red_ <= 700, qPrintable(QString::number(red_)));
  }

  void polylinePixelsLieOnTheLine() {
    const QColor cyan(0, 220, 255);
    widgets::Polyline line;
    line.points << QPointF(10, 25) << QPointF(90, 25) << QPointF(90, 45);
    line.colour = cyan;
    auto layer = std::make_shared<PolylinesLayer>("l", "lanes", std::vector<widgets::Polyline>{line}, cyan, 3.0);
    stack_->add(layer);
    const QImage img = draw();
    // Horizontal part at screen y = 100 from x = 40 to 360, 3 pixels wide: rows 99 and 100 fully covered.
    for (int x = 60; x <= 340; x += 40) {
      COMPARE_COLOUR(img.pixelColor(x, 99), cyan, 0);
      COMPARE_COLOUR(img.pixelColor(x, 100), cyan, 0);
      COMPARE_COLOUR(img.pixelColor(x, 94), kGrey, 0);
      COMPARE_COLOUR(img.pixelColor(x, 106), kGrey, 0);
    }
    // Vertical part at screen x = 360 from y = 100 to 180.
    COMPARE_COLOUR(img.pixelColor(359, 150), cyan, 0);
    COMPARE_COLOUR(img.pixelColor(360, 150), cyan, 0);
    COMPARE_COLOUR(img.pixelColor(366, 150), kGrey, 0);
    COMPARE_COLOUR(img.pixelColor(40 - 8, 100), kGrey, 0);  // before the first point
    // Readout names the line near the cursor, in screen-pixel tolerance.
    QCOMPARE(layer->valueAt(QPointF(50, 25.5), {kW, kH}, view_->transform()).value_or(QString()), QStringLiteral("line 1"));
    QVERIFY(!layer->valueAt(QPointF(50, 35), {kW, kH}, view_->transform()));
  }

  void boxEdgesAndPointsAreDrawn() {
    const QColor yellow(255, 200, 0);
    widgets::Box box;
    box.rect = QRectF(20, 10, 40, 30);  // screen (80, 40) - (240, 160)
    box.label = QStringLiteral("face");
    box.score = 0.93;
    widgets::Keypoint point;
    point.position = QPointF(80.5, 30.5);  // screen (322, 122)
    point.colour = QColor(0, 255, 0);
    auto layer = std::make_shared<MarkersLayer>("b", "faces", std::vector<widgets::Box>{box}, std::vector<widgets::Keypoint>{point}, yellow);
    stack_->add(layer);
    const QImage img = draw();
    const auto edgeAt = [&img, yellow](int x0, int x1, int y0, int y1) {
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x)
          if (img.pixelColor(x, y) == yellow) return true;
      return false;
    };
    QVERIFY(edgeAt(79, 81, 100, 100));    // left edge, mid height
    QVERIFY(edgeAt(239, 241, 100, 100));  // right edge
    QVERIFY(edgeAt(160, 160, 159, 161));  // bottom edge
    COMPARE_COLOUR(img.pixelColor(160, 100), kGrey, 0);  // inside: outlined, not filled
    COMPARE_COLOUR(img.pixelColor(74, 100), kGrey, 0);   // outside
    COMPARE_COLOUR(img.pixelColor(246, 100), kGrey, 0);
    // The label tag sits above the top-left corner, in the box colour.
    QVERIFY(edgeAt(84, 90, 30, 36));
    COMPARE_COLOUR(img.pixelColor(322, 122), QColor(0, 255, 0), 0);
    QCOMPARE(layer->valueAt(QPointF(30, 20), {kW, kH}, view_->transform()).value_or(QString()), QStringLiteral("face 0.93"));
    QVERIFY(!layer->valueAt(QPointF(70, 20), {kW, kH}, view_->transform()));
  }

  void visibilityAndOpacityChangeDrawnPixelsExactly_data() {
    QTest::addColumn<double>("opacity");
    for (double a : {0.0, 0.25, 0.5, 0.75, 1.0}) QTest::newRow(qPrintable(QString::number(a))) << a;
  }

  void visibilityAndOpacityChangeDrawnPixelsExactly() {
    QFETCH(double, opacity);
    const QColor red(255, 0, 0), blue(0, 0, 255);
    const QImage bare = draw();
    stack_->add(std::make_shared<MaskLayer>("a", "a", test::rectMask(kW, kH, QRect(0, 0, 50, 50)), red));
    stack_->add(std::make_shared<MaskLayer>("b", "b", test::rectMask(kW, kH, QRect(25, 0, 50, 50)), blue));
    stack_->setOpacity(1, opacity);
    QImage img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(10, 10)), red, 0);                       // a only
    COMPARE_COLOUR(img.pixelColor(centreOf(35, 10)), blend(red, blue, opacity), 1);  // b over a
    COMPARE_COLOUR(img.pixelColor(centreOf(60, 10)), blend(kGrey, blue, opacity), 1);  // b over the image
    COMPARE_COLOUR(img.pixelColor(centreOf(90, 10)), kGrey, 0);

    stack_->setVisible(0, false);
    img = draw();
    COMPARE_COLOUR(img.pixelColor(centreOf(10, 10)), kGrey, 0);
    COMPARE_COLOUR(img.pixelColor(centreOf(35, 10)), blend(kGrey, blue, opacity), 1);

    stack_->setVisible(1, false);
    QCOMPARE(draw(), bare);  // nothing visible: exactly the image
  }

  void legendShowsForVisibleHeatmapAndLabelMap() {
    view_->resize(800, 400);
    view_->setLegendVisible(true);
    QVERIFY(view_->legendRect().isEmpty());
    stack_->add(std::make_shared<HeatmapLayer>("h", "heat", test::heatmap(kW, kH, [](int, int) { return 0.f; })));
    const QRect one = view_->legendRect();
    QVERIFY(!one.isEmpty());
    QVERIFY(QRect(QPoint(0, 0), view_->size()).contains(one));
    // The legend shows the colour map's ends at its bar's ends.
    const QImage img = draw();
    bool sawTop = false;
    for (int y = one.top(); y < one.bottom() && !sawTop; ++y)
      for (int x = one.left(); x < one.right() && !sawTop; ++x)
        sawTop = img.pixelColor(x, y) == mapColour(Colormap::Viridis, 1.f);
    QVERIFY(sawTop);

    LabelMapData labels;
    labels.width = 2;
    labels.height = 1;
    labels.values = {1, 2};
    stack_->add(std::make_shared<LabelMapLayer>("l", "labels", labels));
    const QRect two = view_->legendRect();
    QVERIFY(two.height() > one.height());
    stack_->setVisible(0, false);
    stack_->setVisible(1, false);
    QVERIFY(view_->legendRect().isEmpty());
  }
};

QTEST_MAIN(TestLayers)
#include "test_layers.moc"
