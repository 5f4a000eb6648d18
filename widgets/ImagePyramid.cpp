#include "ImagePyramid.h"

#include <algorithm>
#include <cstdint>

namespace loupe::widgets {

namespace {

constexpr int kRowsBetweenChecks = 64;

bool isCancelled(const std::function<bool()>& cancelled, int row) {
  return cancelled && row % kRowsBetweenChecks == 0 && cancelled();
}

// 32-bit pixels: the rounded mean (a + b + c + d + 2) >> 2 of each of the four channels, two channels
// at a time in 16-bit lanes (the sums stay below 1023, so lanes never carry into each other).
bool halveWords(const QImage& src, QImage& dst, const std::function<bool()>& cancelled) {
  constexpr std::uint32_t kLanes = 0x00ff00ffu, kHalf = 0x00020002u;
  const int w = src.width(), h = src.height();
  for (int y = 0; y < dst.height(); ++y) {
    if (isCancelled(cancelled, y)) return false;
    const auto* a = reinterpret_cast<const std::uint32_t*>(src.constScanLine(2 * y));
    const auto* b = reinterpret_cast<const std::uint32_t*>(src.constScanLine(std::min(2 * y + 1, h - 1)));
    auto* d = reinterpret_cast<std::uint32_t*>(dst.scanLine(y));
    for (int x = 0; x < dst.width(); ++x) {
      const int x0 = 2 * x, x1 = std::min(2 * x + 1, w - 1);
      const std::uint32_t p = a[x0], q = a[x1], r = b[x0], s = b[x1];
      const std::uint32_t even = (((p & kLanes) + (q & kLanes) + (r & kLanes) + (s & kLanes) + kHalf) >> 2) & kLanes;
      const std::uint32_t odd =
          ((((p >> 8) & kLanes) + ((q >> 8) & kLanes) + ((r >> 8) & kLanes) + ((s >> 8) & kLanes) + kHalf) >> 2) & kLanes;
      const std::uint32_t out = even | (odd << 8);
      d[x] = out;
    }
  }
  return true;
}

}  // namespace

QImage halfSize(const QImage& source, const std::function<bool()>& cancelled) {
  if (source.isNull()) return {};
  switch (source.format()) {
    case QImage::Format_RGB32:
    case QImage::Format_ARGB32:
    case QImage::Format_ARGB32_Premultiplied: {
      QImage out(QSize((source.width() + 1) / 2, (source.height() + 1) / 2), source.format());
      return halveWords(source, out, cancelled) ? out : QImage();
    }
    default: return halfSize(toDisplayFormat(source), cancelled);
  }
}

int pyramidLevelCount(int width, int height) {
  int levels = 1;
  while (std::max(width, height) > kPyramidSmallestSide) {
    width = (width + 1) / 2;
    height = (height + 1) / 2;
    ++levels;
  }
  return levels;
}

QImage toDisplayFormat(const QImage& image) {
  switch (image.format()) {
    case QImage::Format_RGB32:
    case QImage::Format_ARGB32_Premultiplied: return image;
    default:
      return image.convertToFormat(image.hasAlphaChannel() ? QImage::Format_ARGB32_Premultiplied : QImage::Format_RGB32);
  }
}

std::vector<QImage> buildImagePyramid(const QImage& base, const std::function<bool()>& cancelled) {
  std::vector<QImage> levels;
  if (base.isNull()) return levels;
  const int count = pyramidLevelCount(base.width(), base.height());
  levels.reserve(static_cast<std::size_t>(count));
  levels.push_back(toDisplayFormat(base));
  if (cancelled && cancelled()) return {};
  while (static_cast<int>(levels.size()) < count) {
    QImage next = halfSize(levels.back(), cancelled);
    if (next.isNull()) return {};
    levels.push_back(std::move(next));
  }
  return levels;
}

QImage contrastStretch(const QImage& patch, int* low, int* high) {
  QImage rgb = patch.convertToFormat(QImage::Format_RGB32);
  int lo = 255, hi = 0;
  for (int y = 0; y < rgb.height(); ++y) {
    const auto* s = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
    for (int x = 0; x < rgb.width(); ++x) {
      lo = std::min({lo, qRed(s[x]), qGreen(s[x]), qBlue(s[x])});
      hi = std::max({hi, qRed(s[x]), qGreen(s[x]), qBlue(s[x])});
    }
  }
  if (rgb.isNull()) lo = hi = 0;
  if (low) *low = lo;
  if (high) *high = hi;
  if (hi <= lo) return rgb;
  std::uint8_t table[256];
  for (int v = 0; v < 256; ++v)
    table[v] = static_cast<std::uint8_t>(std::clamp(((v - lo) * 255 * 2 + (hi - lo)) / (2 * (hi - lo)), 0, 255));
  for (int y = 0; y < rgb.height(); ++y) {
    auto* s = reinterpret_cast<QRgb*>(rgb.scanLine(y));
    for (int x = 0; x < rgb.width(); ++x) s[x] = qRgb(table[qRed(s[x])], table[qGreen(s[x])], table[qBlue(s[x])]);
  }
  return rgb;
}

}  // namespace loupe::widgets
