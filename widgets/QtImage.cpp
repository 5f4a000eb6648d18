#include "QtImage.h"

#include <algorithm>
#include <cstdint>

namespace loupe::widgets {

namespace {

// Wraps an 8-bit image's rows (no copy) in the QImage format that matches its channel layout.
QImage wrap(const Image& u8, QImage::Format format) {
  return QImage(u8.data(), u8.width(), u8.height(), static_cast<qsizetype>(u8.rowBytes()), format);
}

QImage grayAlphaToArgb(const Image& u8) {
  QImage out(u8.width(), u8.height(), QImage::Format_ARGB32);
  for (int y = 0; y < u8.height(); ++y) {
    const std::uint8_t* s = u8.row<std::uint8_t>(y);
    auto* d = reinterpret_cast<QRgb*>(out.scanLine(y));
    for (int x = 0; x < u8.width(); ++x) d[x] = qRgba(s[2 * x], s[2 * x], s[2 * x], s[2 * x + 1]);
  }
  return out;
}

}  // namespace

QImage toQImage(const Image& image) {
  if (image.empty()) return {};
  const Image u8 = image.depth() == PixelDepth::U8 ? image : image.toU8();
  switch (u8.order()) {
    case ColorOrder::Gray: return wrap(u8, QImage::Format_Grayscale8).copy();
    case ColorOrder::GrayAlpha: return grayAlphaToArgb(u8);
    case ColorOrder::RGB: return wrap(u8, QImage::Format_RGB888).copy();
    case ColorOrder::BGR: return wrap(u8, QImage::Format_BGR888).copy();
    case ColorOrder::RGBA: return wrap(u8, QImage::Format_RGBA8888).convertToFormat(QImage::Format_ARGB32);
    case ColorOrder::BGRA: return wrap(u8, QImage::Format_RGBA8888).rgbSwapped().convertToFormat(QImage::Format_ARGB32);
  }
  return {};
}

QImage toQImage(const Heatmap& heatmap) {
  if (heatmap.width <= 0 || heatmap.height <= 0 ||
      heatmap.values.size() != static_cast<std::size_t>(heatmap.width) * static_cast<std::size_t>(heatmap.height))
    return {};
  return toQImage(heatmap.render());
}

QImage colormapStrip(Colormap map, int width) {
  width = std::max(width, 2);
  QImage strip(width, 1, QImage::Format_ARGB32);
  auto* d = reinterpret_cast<QRgb*>(strip.scanLine(0));
  for (int x = 0; x < width; ++x) {
    const auto c = colormapColor(map, static_cast<float>(x) / static_cast<float>(width - 1));
    d[x] = qRgb(c[0], c[1], c[2]);
  }
  return strip;
}

}  // namespace loupe::widgets
