// ScatterView at 1,000,000 points (run it under xvfb-run: Mesa's llvmpipe, a software rasteriser, unless a
// real GPU driver is present; the GL renderer is printed). Measures, in one run:
//   - frame time during continuous pan/zoom (median, 90th percentile, frames per second), each frame being
//     a full repaint of the widget and glFinish;
//   - a progressive layout update (setPositions with the same count, then a frame);
//   - building the selection grid, a rectangle selection, a 400-vertex lasso, and hover look-ups;
// and the peers, side by side:
//   - the same points drawn with QPainter::drawPoints into a QImage of the same size (10 pens, one per
//     colour, 1-pixel cosmetic points: QPainter's fastest point path), which is what a QWidget scatter does;
//   - brute-force selection and hover: a loop over every point with the same even-odd test / distance.
// Usage: xvfb-run -a -s "-screen 0 1600x1000x24" build-ci/bench/bench_scatter [points] [frames]

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QOpenGLContext>
#include <QPainter>
#include <QWindow>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "widgets/ScatterColors.h"
#include "widgets/ScatterIndex.h"
#include "widgets/ScatterView.h"

using loupe::widgets::ScatterView;

namespace {

struct Stats {
  double median = 0, p90 = 0, min = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return {};
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 9 / 10)], v.front()};
}

double ms(const QElapsedTimer& t) { return t.nsecsElapsed() / 1e6; }

bool inside(const std::vector<double>& p, double x, double y) {
  const std::size_t m = p.size() / 2;
  bool in = false;
  for (std::size_t i = 0, j = m - 1; i < m; j = i++) {
    const double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
  }
  return in;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const int frames = argc > 2 ? std::atoi(argv[2]) : 60;
  // An embedding-like layout: ten Gaussian blobs of different spreads, labels 0..9.
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> xy(static_cast<std::size_t>(2 * n));
  std::vector<int> label(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    const float cx = 6.f * std::cos(c * 0.628f), cy = 6.f * std::sin(c * 0.628f), s = 0.8f + 0.15f * c;
    xy[2 * std::size_t(i)] = cx + s * normal(rng);
    xy[2 * std::size_t(i) + 1] = cy + s * normal(rng);
    label[std::size_t(i)] = c;
  }
  const auto palette = loupe::widgets::categoricalPalette(10);
  const auto colors = loupe::widgets::colorsForCategories(label, palette);

  ScatterView view;
  view.resize(1200, 800);
  view.show();
  // Frames only count once the window is on screen (before that repaint() draws nothing).
  while (!view.windowHandle() || !view.windowHandle()->isExposed()) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  QElapsedTimer t;
  t.start();
  view.setPositions(xy);
  view.setColors(colors);
  const double firstFrame = view.renderNow();
  const double setupMs = ms(t);
  if (!view.context() || !view.context()->isValid()) {
    std::fprintf(stderr, "bench_scatter: no OpenGL context (run under xvfb-run)\n");
    return 1;
  }
  std::printf("points %d, widget 1200 x 800, point size %.2f px\nGL: %s\n", n, view.pointSize(), qPrintable(view.glInfo()));
  std::printf("first frame (upload of %d points + draw): %.1f ms; setPositions + colours + first frame %.1f ms\n", n,
              firstFrame, setupMs);
  for (int i = 0; i < 3; ++i) view.renderNow();

  // Continuous pan/zoom: zoom in over 30 frames around a point while panning, then back out.
  std::vector<double> frameMs;
  for (int f = 0; f < frames; ++f) {
    const bool in = (f / 30) % 2 == 0;
    view.zoomAt(QPointF(700, 380), in ? 1.06 : 1.0 / 1.06);
    view.panBy(QPointF(in ? 3 : -3, 2 * (f % 2 ? 1 : -1)));
    frameMs.push_back(view.renderNow());
  }
  const Stats fs = stats(frameMs);
  std::printf("frames drawn by paintGL so far: %lld\n", static_cast<long long>(view.framesDrawn()));
  std::printf("pan/zoom frames (%d): median %.1f ms (%.1f fps), p90 %.1f ms, best %.1f ms\n", frames, fs.median,
              1000.0 / fs.median, fs.p90, fs.min);
  // The same pan/zoom as the user does it: each frame inside an interaction (level of detail: a random
  // subset sized to the 40 ms budget from the last full frame's cost; the full set 200 ms after the last event).
  std::vector<double> lodMs;
  std::int64_t lodPoints = 0;
  for (int f = 0; f < frames; ++f) {
    const bool in = (f / 30) % 2 == 0;
    view.beginInteraction();
    view.zoomAt(QPointF(700, 380), in ? 1.06 : 1.0 / 1.06);
    view.panBy(QPointF(in ? 3 : -3, 2 * (f % 2 ? 1 : -1)));
    lodMs.push_back(view.renderNow());
    lodPoints = view.pointsDrawnLastFrame();
  }
  const Stats ls = stats(lodMs);
  std::printf("pan/zoom frames during an interaction (level of detail, %lld of %d points, budget %.0f ms): median "
              "%.1f ms (%.1f fps), p90 %.1f ms\n",
              static_cast<long long>(lodPoints), n, view.interactionBudgetMs(), ls.median, 1000.0 / ls.median, ls.p90);
  view.fitToData();

  // Progressive update: every point moves a little, same count (glBufferSubData), then a frame.
  std::vector<double> updateMs;
  for (int f = 0; f < 10; ++f) {
    for (auto& v : xy) v *= 1.001f;
    t.restart();
    view.setPositions(xy, true);
    view.renderNow();
    updateMs.push_back(ms(t));
  }
  std::printf("layout update + frame: median %.1f ms\n", stats(updateMs).median);

  // Selection and hover through the grid (the grid is rebuilt lazily after the update: timed first).
  t.restart();
  const auto& index = view.index();
  const double gridMs = ms(t);
  std::printf("grid build over %d points: %.1f ms (%d x %d cells)\n", n, gridMs, index.gridWidth(), index.gridHeight());
  std::vector<double> lasso;
  for (int k = 0; k < 400; ++k) {
    const double a = 2 * M_PI * k / 400, r = 5.0 + 2.0 * std::sin(5 * a);
    lasso.push_back(r * std::cos(a) + 1.0);
    lasso.push_back(r * std::sin(a) - 0.5);
  }
  QPolygonF lassoPoly;
  for (std::size_t k = 0; k < lasso.size(); k += 2) lassoPoly << QPointF(lasso[k], lasso[k + 1]);
  std::vector<double> rectMs, lassoMs, bruteRectMs, bruteLassoMs;
  std::int64_t rectCount = 0, lassoCount = 0, bruteRect = 0, bruteLasso = 0;
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
  for (int r = 0; r < 5; ++r) {
    t.restart();
    rectCount = view.selectRect(QRectF(QPointF(-4, -3), QPointF(5, 6)));
    rectMs.push_back(ms(t));
    t.restart();
    lassoCount = view.selectPolygon(lassoPoly);
    lassoMs.push_back(ms(t));
    // Peers: a loop over every point.
    t.restart();
    bruteRect = 0;
    for (int i = 0; i < n; ++i) {
      const float x = xy[2 * std::size_t(i)], y = xy[2 * std::size_t(i) + 1];
      mask[std::size_t(i)] = x >= -4 && x <= 5 && y >= -3 && y <= 6;
      bruteRect += mask[std::size_t(i)];
    }
    bruteRectMs.push_back(ms(t));
    t.restart();
    bruteLasso = 0;
    for (int i = 0; i < n; ++i) {
      mask[std::size_t(i)] = inside(lasso, xy[2 * std::size_t(i)], xy[2 * std::size_t(i) + 1]);
      bruteLasso += mask[std::size_t(i)];
    }
    bruteLassoMs.push_back(ms(t));
  }
  std::printf("rectangle selection (%lld points): median %.1f ms; brute force (%lld): %.1f ms\n",
              static_cast<long long>(rectCount), stats(rectMs).median, static_cast<long long>(bruteRect),
              stats(bruteRectMs).median);
  std::printf("lasso of 400 vertices (%lld points): median %.1f ms; brute force (%lld): %.1f ms\n",
              static_cast<long long>(lassoCount), stats(lassoMs).median, static_cast<long long>(bruteLasso),
              stats(bruteLassoMs).median);
  t.restart();
  view.renderNow();
  std::printf("frame with %lld selected (two passes): %.1f ms\n", static_cast<long long>(lassoCount), ms(t));
  view.clearSelection();

  std::uniform_real_distribution<double> ux(0, 1200), uy(0, 800);
  std::vector<QPointF> probes;
  for (int k = 0; k < 2000; ++k) probes.emplace_back(ux(rng), uy(rng));
  t.restart();
  int hits = 0;
  for (const QPointF& p : probes) hits += view.pointAt(p) >= 0;
  const double hoverUs = ms(t) * 1000.0 / probes.size();
  t.restart();
  const double radius = (view.pointSize() / 2.0 + 4.0) / view.pixelsPerUnit();
  int bruteHits = 0;
  for (int k = 0; k < 50; ++k) {
    const QPointF d = view.widgetToData(probes[std::size_t(k)]);
    double best = radius * radius;
    int id = -1;
    for (int i = 0; i < n; ++i) {
      const double dx = xy[2 * std::size_t(i)] - d.x(), dy = xy[2 * std::size_t(i) + 1] - d.y(), d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2, id = i;
    }
    bruteHits += id >= 0;
  }
  const double bruteHoverUs = ms(t) * 1000.0 / 50;
  std::printf("hover look-up: %.1f us per query (%d of %zu hit a point); brute force: %.0f us per query (%d of 50 hit)\n",
              hoverUs, hits, probes.size(), bruteHoverUs, bruteHits);

  // Peer: QPainter::drawPoints into a QImage of the same size, same view transform, one pen per colour.
  QImage image(1200, 800, QImage::Format_ARGB32_Premultiplied);
  std::vector<std::vector<QPointF>> byColour(10);
  std::vector<double> painterMs;
  for (int f = 0; f < 10; ++f) {
    t.restart();
    for (auto& v : byColour) v.clear();
    for (int i = 0; i < n; ++i)
      byColour[std::size_t(label[std::size_t(i)])].push_back(
          view.dataToWidget(QPointF(xy[2 * std::size_t(i)], xy[2 * std::size_t(i) + 1])));
    image.fill(Qt::white);
    QPainter p(&image);
    for (int c = 0; c < 10; ++c) {
      QPen pen(QColor::fromRgba(palette[std::size_t(c)]));
      pen.setWidthF(0);  // cosmetic 1-pixel points: the fast path
      p.setPen(pen);
      p.drawPoints(byColour[std::size_t(c)].data(), static_cast<int>(byColour[std::size_t(c)].size()));
    }
    p.end();
    painterMs.push_back(ms(t));
  }
  std::printf("peer QPainter::drawPoints (1-px points, no blending) into a 1200 x 800 QImage: median %.1f ms (%.1f fps)\n",
              stats(painterMs).median, 1000.0 / stats(painterMs).median);
  return 0;
}
