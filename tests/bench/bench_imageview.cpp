// bench_imageview: zoom/pan redraw time of ImageView on a 100-megapixel image, against the naive peer
// (QPainter::drawImage of the whole image scaled to the zoomed rectangle, what a plain QWidget viewer
// does, given the image in RGB32 as QPixmap::fromImage would). Both redraw the same transforms into the
// same 1600 x 1000 RGB32 target, in one run.
//
//   bench_imageview [--width 12000] [--height 8400] [--frames 30] [--heatmap]
//
// Runs on the offscreen platform unless QT_QPA_PLATFORM or DISPLAY says otherwise. Prints one table.
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QPainter>
#include <QSignalSpy>
#include <QWidget>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/QtImage.h"
#include "widgets/RasterLayers.h"

using namespace loupe;
using namespace loupe::widgets;

namespace {

constexpr QSize kViewport(1600, 1000);

// Gradient + noise, so neither the pyramid nor the peer meets flat data.
Image syntheticImage(int w, int h) {
  Image image(w, h, ColorOrder::RGB);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-12, 12);
  for (int y = 0; y < h; ++y) {
    auto* row = image.row<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const int n = noise(rng);
      row[3 * x] = static_cast<std::uint8_t>(std::clamp(x * 255 / w + n, 0, 255));
      row[3 * x + 1] = static_cast<std::uint8_t>(std::clamp(y * 255 / h + n, 0, 255));
      row[3 * x + 2] = static_cast<std::uint8_t>(std::clamp(((x / 64 + y / 64) % 2) * 120 + 60 + n, 0, 255));
    }
  }
  return image;
}

Heatmap syntheticHeatmap(int w, int h) {
  Heatmap m;
  m.width = w;
  m.height = h;
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.values[static_cast<std::size_t>(y) * w + x] = 0.5f + 0.5f * std::sin(x * 0.01f) * std::cos(y * 0.013f);
  m.colormap = Colormap::Magma;
  return m;
}

// The naive viewer: the whole image (and overlay) drawn scaled into the zoomed rectangle every frame.
class PeerView : public QWidget {
 public:
  QImage image;
  QImage overlay;
  double scale = 1.0;
  QPointF offset;

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), QColor(0x2b, 0x2d, 0x30));
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    const QRectF target(offset, QSizeF(image.size()) * scale);
    p.drawImage(target, image);
    if (!overlay.isNull()) {
      p.setOpacity(0.6);
      p.drawImage(target, overlay);
    }
  }
};

struct Stats {
  double median = 0, p95 = 0;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return {};
  const auto at = [&ms](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(std::ceil(q * ms.size())) - 1)]; };
  return {at(0.5), at(0.95)};
}

// One scenario: `setup(i)` places the view for frame i; each frame is rendered into `target`.
std::vector<double> timeFrames(QWidget& w, QImage& target, int frames, const std::function<void(int)>& setup) {
  std::vector<double> ms;
  QElapsedTimer t;
  for (int i = 0; i < frames; ++i) {
    setup(i);
    t.start();
    w.render(&target);
    ms.push_back(t.nsecsElapsed() / 1e6);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QCommandLineParser parser;
  parser.addHelpOption();
  const QCommandLineOption widthOpt("width", "Image width.", "px", "12000");
  const QCommandLineOption heightOpt("height", "Image height.", "px", "8400");
  const QCommandLineOption framesOpt("frames", "Frames per static scenario.", "n", "30");
  const QCommandLineOption heatOpt("heatmap", "Also draw a quarter-resolution heatmap layer at 60 % opacity.");
  parser.addOptions({widthOpt, heightOpt, framesOpt, heatOpt});
  parser.process(app);
  const int w = parser.value(widthOpt).toInt(), h = parser.value(heightOpt).toInt();
  const int frames = std::max(3, parser.value(framesOpt).toInt());
  const bool withHeatmap = parser.isSet(heatOpt);

  std::printf("bench_imageview: %d x %d (%.1f MP) RGB, viewport %d x %d, platform %s%s\n", w, h, w * double(h) / 1e6,
              kViewport.width(), kViewport.height(), qPrintable(QGuiApplication::platformName()),
              withHeatmap ? ", with a heatmap layer" : "");
  QElapsedTimer t;
  t.start();
  const Image image = syntheticImage(w, h);
  std::printf("  synthetic image made in %.0f ms\n", t.elapsed() * 1.0);

  LayerStack layers;
  ImageView view;
  view.setLayers(&layers);
  view.resize(kViewport);
  view.show();
  ImageView::setSyncPyramidLimit(0);  // the 100 MP path: background build
  QSignalSpy ready(&view, &ImageView::pyramidReady);
  t.start();
  view.setImage(image);
  const double setImageMs = t.nsecsElapsed() / 1e6;
  QElapsedTimer firstFrame;
  QImage target(kViewport, QImage::Format_RGB32);
  firstFrame.start();
  view.render(&target);  // usable before the pyramid exists (level 0)
  const double firstFrameMs = firstFrame.nsecsElapsed() / 1e6;
  if (!ready.wait(120'000) && ready.isEmpty()) {
    std::fprintf(stderr, "pyramid not ready after 120 s\n");
    return 1;
  }
  const double pyramidMs = t.nsecsElapsed() / 1e6;
  std::printf("  setImage on the GUI thread (shares the pixels, starts the build): %.0f ms\n", setImageMs);
  std::printf("  first frame before the pyramid (level 0): %.1f ms\n", firstFrameMs);
  std::printf("  pyramid: %d levels, ready %.0f ms after setImage (background thread)\n", view.pyramidLevelCount(),
              pyramidMs);

  PeerView peer;
  // The peer gets the image in the same fast RGB32 format (what QPixmap::fromImage would give it).
  peer.image = view.pyramidLevel(0);
  peer.resize(kViewport);
  peer.show();
  if (withHeatmap) {
    auto heat = std::make_shared<HeatmapLayer>("heat", "heat", syntheticHeatmap(w / 4, h / 4));
    heat->setOpacity(0.6);
    layers.add(heat);
    peer.overlay = heat->render({w, h});  // the naive viewer colours the whole overlay once
  }

  struct Row {
    const char* name;
    int frames;
    std::function<void(int)> place;  // sets ImageView's transform for frame i
  };
  const QPointF centre(w / 2.0, h / 2.0);
  std::vector<Row> rows = {
      {"fit", frames, [&](int) { view.fitToWindow(); }},
      {"1:1", frames, [&](int) { view.setView(1.0, centre); }},
      {"4x", frames, [&](int) { view.setView(4.0, centre); }},
      {"pan at 1:1 (100 steps)", 100, [&](int i) {
         if (i == 0) view.setView(1.0, centre - QPointF(1500, 900));
         else view.panBy(QPointF(-31, -17));
       }},
      {"pan at 0.3x (100 steps)", 100, [&](int i) {
         if (i == 0) view.setView(0.3, centre - QPointF(3000, 2000));
         else view.panBy(QPointF(-23, -13));
       }},
      {"zoom fit -> 8x (60 steps)", 60, [&](int i) {
         if (i == 0) view.fitToWindow();
         else view.zoomAt(QPointF(900, 420), std::pow(8.0 / view.fitScale(), 1.0 / 59.0));
       }},
  };

  std::printf("\n%-28s %22s %22s %10s\n", "redraw (ms)", "ImageView median / p95", "naive peer median / p95",
              "speed-up");
  for (const Row& row : rows) {
    std::vector<std::pair<double, QPointF>> transforms;
    const auto viewMs = timeFrames(view, target, row.frames, [&](int i) {
      row.place(i);
      transforms.emplace_back(view.scale(), view.offset());
    });
    const auto peerMs = timeFrames(peer, target, row.frames, [&](int i) {
      peer.scale = transforms[static_cast<std::size_t>(i)].first;
      peer.offset = transforms[static_cast<std::size_t>(i)].second;
    });
    if (qEnvironmentVariableIsSet("BENCH_FRAMES"))
      for (std::size_t i = 0; i < viewMs.size(); ++i)
        std::printf("    frame %zu scale %.3f level %d: %.2f ms (peer %.2f ms)\n", i, transforms[i].first,
                    view.levelForScale(transforms[i].first), viewMs[i], peerMs[i]);
    const Stats a = stats(viewMs), b = stats(peerMs);
    std::printf("%-28s %10.2f / %-10.2f %10.2f / %-10.2f %9.1fx\n", row.name, a.median, a.p95, b.median, b.p95,
                b.median / std::max(1e-6, a.median));
  }
  return 0;
}
