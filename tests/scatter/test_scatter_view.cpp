// ScatterView on a real OpenGL context (Mesa under xvfb-run; -platform offscreen has no GL):
//   - a point is drawn in its colour at the pixel dataToWidget() projects it to (read back with
//     grabFramebuffer), empty pixels keep the background, and an in-place setPositions() moves it;
//   - a rectangle and a lasso drawn with the mouse select exactly the points inside, the reference being a
//     loop over every point with the even-odd crossing rule written out here; Shift adds, Ctrl removes;
//   - selected points keep their colour while the others are greyed;
//   - hover finds the nearest point within the pick radius (reference: brute force), a click emits its id;
//   - the wheel zooms around the cursor (the data point under it stays put);
//   - 1,000,000 points draw and a lasso over them selects the same points as brute force.

#include <QApplication>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>
#include <random>
#include <vector>

#include "widgets/ScatterColors.h"
#include "widgets/ScatterView.h"

using loupe::widgets::ScatterView;

namespace {

bool referenceInside(const QPolygonF& poly, double x, double y) {
  const int m = poly.size();
  int crossings = 0;
  for (int a = 0; a < m; ++a) {
    const QPointF p = poly[a], q = poly[(a + 1) % m];
    if ((p.y() > y) == (q.y() > y)) continue;
    if (x < (q.x() - p.x()) * (y - p.y()) / (q.y() - p.y()) + p.x()) ++crossings;
  }
  return crossings % 2 == 1;
}

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons,
               Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
  QMouseEvent event(type, pos, w->mapToGlobal(pos), button, buttons, modifiers);
  QApplication::sendEvent(w, &event);
}

// Drags along `path` (widget coordinates) with the left button.
void drag(QWidget* w, const QPolygonF& path, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
  sendMouse(w, QEvent::MouseButtonPress, path.front(), Qt::LeftButton, Qt::LeftButton, modifiers);
  for (int i = 1; i < path.size(); ++i) sendMouse(w, QEvent::MouseMove, path[i], Qt::NoButton, Qt::LeftButton, modifiers);
  sendMouse(w, QEvent::MouseButtonRelease, path.back(), Qt::LeftButton, Qt::NoButton, modifiers);
}

QColor pixelAt(const QImage& image, QPointF widgetPos) {
  return image.pixelColor(static_cast<int>(std::floor(widgetPos.x())), static_cast<int>(std::floor(widgetPos.y())));
}

bool near(const QColor& a, const QColor& b, int tolerance = 2) {
  return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
         std::abs(a.blue() - b.blue()) <= tolerance;
}

std::vector<float> randomPoints(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> xy(static_cast<std::size_t>(2 * n));
  for (auto& v : xy) v = normal(rng);
  return xy;
}

}  // namespace

class TestScatterView : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<ScatterView> view_;

  void show(int w = 480, int h = 360) {
    view_ = std::make_unique<ScatterView>();
    view_->resize(w, h);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
    view_->renderNow();
    if (!view_->context() || !view_->context()->isValid()) QSKIP("No OpenGL context (run under xvfb-run)");
    qInfo("GL: %s", qPrintable(view_->glInfo()));
  }

 private Q_SLOTS:
  void cleanup() { view_.reset(); }

  void drawsPointColourAtItsProjectedPixel() {
    show();
    // 2000 blue points away from the known point (and from where it moves to), then the known red one (drawn last, on top).
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    const QPointF known(0.3, -0.2), moved(-0.5, 0.6);
    std::vector<float> xy;
    while (xy.size() < 4000) {
      const float x = u(rng), y = u(rng);
      if (std::hypot(x - known.x(), y - known.y()) < 0.15 || std::hypot(x - moved.x(), y - moved.y()) < 0.15) continue;
      xy.push_back(x);
      xy.push_back(y);
    }
    xy.push_back(static_cast<float>(known.x()));
    xy.push_back(static_cast<float>(known.y()));
    const int n = static_cast<int>(xy.size() / 2);
    view_->setPositions(xy);
    std::vector<QRgb> colors(static_cast<std::size_t>(n), qRgb(0, 0, 255));
    colors.back() = qRgb(255, 0, 0);
    view_->setColors(colors);
    view_->setPointAlpha(1.f);
    view_->setBackground(qRgb(255, 255, 255));
    QImage frame = view_->grabFramebuffer();
    QCOMPARE(frame.size(), view_->size() * view_->devicePixelRatio());
    const QPointF at = view_->dataToWidget(known);
    QVERIFY(view_->rect().contains(at.toPoint()));
    QVERIFY2(near(pixelAt(frame, at), Qt::red), qPrintable(pixelAt(frame, at).name()));
    // A blue point, and a pixel 0.1 from the known point (no point there): background.
    const QPointF blue = view_->dataToWidget(view_->position(0));
    QVERIFY2(near(pixelAt(frame, blue), Qt::blue), qPrintable(pixelAt(frame, blue).name()));
    const QPointF empty = view_->dataToWidget(known + QPointF(0.1, 0.0));
    QVERIFY2(near(pixelAt(frame, empty), Qt::white), qPrintable(pixelAt(frame, empty).name()));

    // Progressive update: same count, the red point moves; the view keeps its zoom and centre.
    const double scale = view_->pixelsPerUnit();
    xy[xy.size() - 2] = static_cast<float>(moved.x());
    xy[xy.size() - 1] = static_cast<float>(moved.y());
    view_->setPositions(xy);
    QCOMPARE(view_->pixelsPerUnit(), scale);
    frame = view_->grabFramebuffer();
    QVERIFY(near(pixelAt(frame, view_->dataToWidget(moved)), Qt::red));
    QVERIFY(near(pixelAt(frame, at), Qt::white));
  }

  void rectangleAndLassoSelectExactlyThePointsInside() {
    show();
    const int n = 20000;
    const auto xy = randomPoints(n, 11);
    view_->setPositions(xy);
    QSignalSpy changed(view_.get(), &ScatterView::selectionChanged);

    // Rectangle, dragged with the mouse.
    view_->setMode(ScatterView::Mode::Rectangle);
    const QPointF a(150.5, 100.5), b(330.5, 250.5);
    drag(view_.get(), QPolygonF({a, QPointF(200, 150), QPointF(300, 200), b}));
    QCOMPARE(changed.count(), 1);
    const QRectF dataRect = QRectF(view_->widgetToData(a), view_->widgetToData(b)).normalized();
    std::vector<std::int32_t> expected;
    for (int i = 0; i < n; ++i)
      if (xy[2 * i] >= dataRect.left() && xy[2 * i] <= dataRect.right() && xy[2 * i + 1] >= dataRect.top() &&
          xy[2 * i + 1] <= dataRect.bottom())
        expected.push_back(i);
    QVERIFY(expected.size() > 1000);
    QVERIFY(view_->selection() == expected);

    // Lasso: a 9-pointed star around the centre, vertices more than 2 px apart (all are kept).
    view_->setMode(ScatterView::Mode::Lasso);
    QPolygonF lasso;
    for (int k = 0; k < 90; ++k) {
      const double angle = 2 * M_PI * k / 90.0, r = (k % 10 < 5) ? 150.0 : 70.0;
      lasso << QPointF(240.3 + r * std::cos(angle), 180.7 + r * std::sin(angle));
    }
    drag(view_.get(), lasso);
    QPolygonF dataLasso;
    for (const QPointF& p : lasso) dataLasso << view_->widgetToData(p);
    dataLasso << view_->widgetToData(lasso.back());  // the release point closes the path
    std::vector<std::int32_t> inLasso;
    for (int i = 0; i < n; ++i)
      if (referenceInside(dataLasso, xy[2 * i], xy[2 * i + 1])) inLasso.push_back(i);
    QVERIFY(inLasso.size() > 1000);
    QVERIFY(view_->selection() == inLasso);

    // Shift adds the rectangle to the lasso; Ctrl removes it again.
    drag(view_.get(), QPolygonF({QPointF(10, 10), QPointF(60, 60)}), Qt::NoModifier);  // lasso of 2 points: empty
    QVERIFY(view_->selection().empty());
    view_->setSelection(inLasso);
    view_->setMode(ScatterView::Mode::Rectangle);
    drag(view_.get(), QPolygonF({a, b}), Qt::ShiftModifier);
    std::vector<std::int32_t> both;
    for (int i = 0; i < n; ++i)
      if (std::binary_search(inLasso.begin(), inLasso.end(), i) || std::binary_search(expected.begin(), expected.end(), i))
        both.push_back(i);
    QVERIFY(view_->selection() == both);
    drag(view_.get(), QPolygonF({a, b}), Qt::ControlModifier);
    std::vector<std::int32_t> rest;
    for (const int i : both)
      if (!std::binary_search(expected.begin(), expected.end(), i)) rest.push_back(i);
    QVERIFY(view_->selection() == rest);
  }

  void selectionGreysTheOthers() {
    show();
    // Two far-apart points: the left one selected.
    view_->setPositions({-1.f, 0.f, 1.f, 0.f});
    view_->setColors({qRgb(255, 0, 0), qRgb(255, 0, 0)});
    view_->setPointAlpha(1.f);
    view_->setPointScale(4.f);
    view_->setSelection({0});
    const QImage frame = view_->grabFramebuffer();
    QVERIFY(near(pixelAt(frame, view_->dataToWidget({-1, 0})), Qt::red));
    const QColor other = pixelAt(frame, view_->dataToWidget({1, 0}));
    QVERIFY2(!near(other, Qt::red, 40) && !near(other, Qt::white, 5), qPrintable(other.name()));
  }

  void overlaysAreDrawnOverThePoints() {
    show();
    view_->setPositions(randomPoints(500, 29));
    view_->setMarker(QPointF(3.5, 3.5), QStringLiteral("dropped.png"));  // outside the points' usual range
    view_->setView(QPointF(0, 0), 40.0);
    view_->setLegend({{QStringLiteral("class a"), qRgb(0, 200, 0)}}, QStringLiteral("label"));
    const QImage frame = view_->grabFramebuffer();
    const QColor marker = pixelAt(frame, view_->dataToWidget(QPointF(3.5, 3.5)));
    QVERIFY2(near(marker, QColor(230, 30, 30), 6), qPrintable(marker.name()));
    // The legend box (top right) holds its entry's green swatch.
    bool green = false;
    for (int y = 8; y < 60 && !green; ++y)
      for (int x = view_->width() - 140; x < view_->width() - 8 && !green; ++x)
        green = near(frame.pixelColor(x, y), QColor(0, 200, 0), 10);
    QVERIFY(green);
  }

  void hoverFindsTheNearestPointAndClickEmitsIt() {
    show();
    const int n = 3000;
    const auto xy = randomPoints(n, 13);
    view_->setPositions(xy);
    int requested = -1;
    view_->setHoverProviders(
        [&requested](std::int32_t id) {
          requested = id;
          QImage image(28, 28, QImage::Format_Grayscale8);
          image.fill(200);
          return image;
        },
        [](std::int32_t id) { return QStringLiteral("item %1").arg(id); });
    QSignalSpy hovered(view_.get(), &ScatterView::hoveredChanged);
    QSignalSpy clicked(view_.get(), &ScatterView::pointClicked);
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> ux(20.0, 460.0), uy(20.0, 340.0);
    int hits = 0;
    for (int trial = 0; trial < 60; ++trial) {
      const QPointF pos(ux(rng), uy(rng));
      sendMouse(view_.get(), QEvent::MouseMove, pos, Qt::NoButton, Qt::NoButton);
      const double radius = (view_->pointSize() / 2.0 + 4.0) / view_->pixelsPerUnit();
      const QPointF d = view_->widgetToData(pos);
      double best = radius * radius;
      int expected = -1;
      for (int i = 0; i < n; ++i) {
        const double dx = xy[2 * i] - d.x(), dy = xy[2 * i + 1] - d.y(), d2 = dx * dx + dy * dy;
        if (d2 < best || (d2 == best && expected < 0)) {
          best = d2;
          expected = i;
        }
      }
      QCOMPARE(view_->hoveredPoint(), expected);
      if (expected >= 0) {
        ++hits;
        QCOMPARE(requested, expected);  // the card asked for this point's thumbnail
        sendMouse(view_.get(), QEvent::MouseButtonPress, pos, Qt::LeftButton, Qt::LeftButton);
        sendMouse(view_.get(), QEvent::MouseButtonRelease, pos, Qt::LeftButton, Qt::NoButton);
        QCOMPARE(clicked.count(), hits);
        QCOMPARE(clicked.last().at(0).toInt(), expected);
      }
    }
    QVERIFY(hits >= 5);
    QVERIFY(hovered.count() >= hits);
  }

  void wheelZoomsAroundTheCursor() {
    show();
    view_->setPositions(randomPoints(1000, 19));
    const QPointF cursor(100.0, 80.0);
    const QPointF before = view_->widgetToData(cursor);
    const double scale = view_->pixelsPerUnit();
    QWheelEvent wheel(cursor, view_->mapToGlobal(cursor), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(view_.get(), &wheel);
    QVERIFY(std::abs(view_->pixelsPerUnit() / scale - 1.44) < 1e-9);  // two notches of 1.2
    const QPointF after = view_->widgetToData(cursor);
    QVERIFY(std::abs(after.x() - before.x()) < 1e-9 && std::abs(after.y() - before.y()) < 1e-9);
    // Panning with the left button in Pan mode moves the data with the mouse.
    const QPointF under = view_->widgetToData(QPointF(200, 200));
    drag(view_.get(), QPolygonF({QPointF(200, 200), QPointF(230, 220), QPointF(250, 240)}));
    const QPointF now = view_->dataToWidget(under);
    QVERIFY(std::abs(now.x() - 250) < 1e-6 && std::abs(now.y() - 240) < 1e-6);
  }

  void millionPoints() {
    show(800, 600);
    const int n = 1000000;
    const auto xy = randomPoints(n, 23);
    view_->setPositions(xy);
    std::vector<int> labels(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = i % 10;
    view_->setColors(loupe::widgets::colorsForCategories(labels, loupe::widgets::categoricalPalette(10)));
    const double firstMs = view_->renderNow();
    const double frameMs = view_->renderNow();
    QPolygonF lasso;
    for (int k = 0; k < 400; ++k) {
      const double angle = 2 * M_PI * k / 400.0, r = 1.2 + 0.6 * std::sin(7 * angle);
      lasso << QPointF(r * std::cos(angle), r * std::sin(angle));
    }
    QElapsedTimer timer;
    timer.start();
    const auto count = view_->selectPolygon(lasso);
    const double lassoMs = timer.nsecsElapsed() / 1e6;
    std::int64_t expected = 0;
    for (int i = 0; i < n; ++i) expected += referenceInside(lasso, xy[2 * i], xy[2 * i + 1]) ? 1 : 0;
    QCOMPARE(count, expected);
    qInfo("1e6 points: first frame %.1f ms, next %.1f ms, lasso of 400 vertices %.1f ms (%lld inside, incl. the grid "
          "build)", firstMs, frameMs, lassoMs, static_cast<long long>(count));
    const QImage frame = view_->grabFramebuffer();
    QVERIFY(!near(pixelAt(frame, view_->dataToWidget({0, 0})), Qt::white));  // the dense centre is drawn
  }
  // Level of detail: with full frames over the interaction budget, frames during a wheel zoom draw a random
  // subset (never under 50,000 points) and the full set comes back 200 ms after the last event; with full
  // frames inside the budget every point is drawn throughout.
  void levelOfDetailWhileInteracting() {
    show(640, 480);
    const int n = 200000;
    view_->setPositions(randomPoints(n, 5));
    view_->setColors(std::vector<QRgb>(static_cast<std::size_t>(n), qRgb(0, 0, 255)));
    view_->setInteractionBudgetMs(1e-6);  // every full frame is over this budget
    view_->renderNow();
    QCOMPARE(view_->pointsDrawnLastFrame(), std::int64_t(n));
    QVERIFY(view_->fullFrameMs() > 0.0);
    const QPointF at(320, 240);
    QWheelEvent wheel(at, view_->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view_.get(), &wheel);
    QVERIFY(view_->interacting());
    view_->renderNow();
    QCOMPARE(view_->pointsDrawnLastFrame(), std::int64_t(50000));
    const QImage frame = view_->grabFramebuffer();
    QVERIFY(!near(pixelAt(frame, view_->dataToWidget({0, 0})), Qt::white));  // the subset still shows the centre
    QTRY_VERIFY_WITH_TIMEOUT(!view_->interacting(), 2000);
    view_->renderNow();
    QCOMPARE(view_->pointsDrawnLastFrame(), std::int64_t(n));

    view_->setInteractionBudgetMs(1e9);  // a fast renderer: no subset
    QApplication::sendEvent(view_.get(), &wheel);
    QVERIFY(view_->interacting());
    view_->renderNow();
    QCOMPARE(view_->pointsDrawnLastFrame(), std::int64_t(n));
  }
};

QTEST_MAIN(TestScatterView)
#include "test_scatter_view.moc"
