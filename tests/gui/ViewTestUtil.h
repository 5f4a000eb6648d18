#pragma once
// Small helpers shared by the ImageView / layer tests: synthetic images and layers with known pixels,
// and colour comparisons with a message that says what was drawn.

#include <QColor>
#include <QImage>
#include <QTest>
#include <QWidget>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

#include "core/Colormap.h"
#include "core/Image.h"
#include "core/Layer.h"

namespace loupe::test {

// An 8-bit RGB image whose pixel (x, y) is colour(x, y).
inline Image rgbImage(int w, int h, const std::function<QColor(int, int)>& colour) {
  Image image(w, h, ColorOrder::RGB);
  for (int y = 0; y < h; ++y) {
    auto* row = image.row<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const QColor c = colour(x, y);
      row[3 * x] = static_cast<std::uint8_t>(c.red());
      row[3 * x + 1] = static_cast<std::uint8_t>(c.green());
      row[3 * x + 2] = static_cast<std::uint8_t>(c.blue());
    }
  }
  return image;
}

inline Image solidImage(int w, int h, const QColor& c) {
  return rgbImage(w, h, [c](int, int) { return c; });
}

inline Heatmap heatmap(int w, int h, const std::function<float(int, int)>& value, Colormap map = Colormap::Viridis,
                       float lo = 0.f, float hi = 1.f) {
  Heatmap m;
  m.width = w;
  m.height = h;
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.values[static_cast<std::size_t>(y) * w + x] = value(x, y);
  m.colormap = map;
  m.rangeMin = lo;
  m.rangeMax = hi;
  return m;
}

// A mask that is 1 inside `inside` (image pixels).
inline Mask rectMask(int w, int h, const QRect& inside) {
  Mask m;
  m.width = w;
  m.height = h;
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.values[static_cast<std::size_t>(y) * w + x] = inside.contains(x, y) ? 1 : 0;
  return m;
}

inline QColor mapColour(Colormap map, float t) {
  const auto c = colormapColor(map, t);
  return {c[0], c[1], c[2]};
}

// Source-over compositing of an opaque colour at opacity `a` over `under`, per channel, rounded.
inline QColor blend(const QColor& under, const QColor& over, double a) {
  const auto ch = [a](int u, int o) { return static_cast<int>(std::lround(o * a + u * (1.0 - a))); };
  return {ch(under.red(), over.red()), ch(under.green(), over.green()), ch(under.blue(), over.blue())};
}

inline int colourDistance(const QColor& a, const QColor& b) {
  return std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
}

// What the widget shows now, as RGB32 (one image pixel per device pixel: the offscreen platform has DPR 1).
inline QImage shot(QWidget& w) { return w.grab().toImage().convertToFormat(QImage::Format_RGB32); }

}  // namespace loupe::test

#define COMPARE_COLOUR(actual, expected, tolerance)                                                        \
  QVERIFY2(loupe::test::colourDistance((actual), (expected)) <= (tolerance),                               \
           qPrintable(QStringLiteral("got %1, expected %2 (tolerance %3)")                                  \
                          .arg(QColor(actual).name(), QColor(expected).name())                              \
                          .arg(tolerance)))
