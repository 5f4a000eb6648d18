#include "RasterLayers.h"

#include <QLineF>
#include <QPainter>
#include <QPen>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace loupe::widgets {

namespace {

// The samples of one pyramid level that cover the visible part of the image, and where they go on screen.
struct Region {
  int level = 0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // level samples [x0, x1) x [y0, y1)
  double step = 1.0;                   // layer samples per level sample (2^level)
  double fx = 1.0, fy = 1.0;           // image pixels per layer sample
  bool smooth = false;                 // reduced on screen: filter; magnified: crisp squares
  QRectF target;                       // widget coordinates

  QPointF toImage(double lx, double ly) const { return {lx * step * fx, ly * step * fy}; }
};

// Picks the level with at least one sample per screen pixel (the coarsest such) and the visible samples
// of it, `margin` samples wider on each side.
template <class T>
std::optional<Region> visibleRegion(const PaintContext& c, const RasterPyramid<T>& pyramid, int margin = 0) {
  const auto& base = pyramid.level(0);
  if (base.width <= 0 || base.height <= 0 || c.imageSize.isEmpty() || c.visible.isEmpty()) return std::nullopt;
  Region r;
  r.fx = static_cast<double>(c.imageSize.width()) / base.width;
  r.fy = static_cast<double>(c.imageSize.height()) / base.height;
  const double screenPerSample = c.transform.scale * std::max(r.fx, r.fy);
  while (r.level + 1 < pyramid.levelCount() && std::ldexp(screenPerSample, r.level + 1) <= 1.0 + 1e-9) ++r.level;
  const auto& level = pyramid.level(r.level);
  r.step = std::ldexp(1.0, r.level);
  const auto lo = [&](double v, double f) { return static_cast<int>(std::floor(v / f / r.step)) - margin; };
  const auto hi = [&](double v, double f) { return static_cast<int>(std::ceil(v / f / r.step)) + margin; };
  r.x0 = std::clamp(lo(c.visible.left(), r.fx), 0, level.width);
  r.x1 = std::clamp(hi(c.visible.right(), r.fx), 0, level.width);
  r.y0 = std::clamp(lo(c.visible.top(), r.fy), 0, level.height);
  r.y1 = std::clamp(hi(c.visible.bottom(), r.fy), 0, level.height);
  if (r.x1 <= r.x0 || r.y1 <= r.y0) return std::nullopt;
  r.target = QRectF(c.transform.toWidget(r.toImage(r.x0, r.y0)), c.transform.toWidget(r.toImage(r.x1, r.y1)));
  r.smooth = c.transform.scale * r.step * std::min(r.fx, r.fy) < 1.0 - 1e-9;
  return r;
}

// Levels up to this many samples are coloured whole and kept (32 MB); larger ones are coloured per
// frame, only where visible.
constexpr qint64 kCachedSamples = 8'000'000;

// A premultiplied colour at `opacity`: what QPainter's opacity would blend, folded into the colour.
QRgb fade(QRgb premultiplied, int alpha255) {
  if (alpha255 >= 255) return premultiplied;
  const auto f = [alpha255](int c) { return static_cast<uint>((c * alpha255 + 127) / 255); };
  return qRgba(static_cast<int>(f(qRed(premultiplied))), static_cast<int>(f(qGreen(premultiplied))),
               static_cast<int>(f(qBlue(premultiplied))), static_cast<int>(f(qAlpha(premultiplied))));
}

int alpha255(double opacity) { return static_cast<int>(std::lround(std::clamp(opacity, 0.0, 1.0) * 255.0)); }

// Samples [x0, x1) x [y0, y1) of `level` through `colour(sample)` (premultiplied ARGB).
template <class T, class Colour>
QImage colourSamples(const typename RasterPyramid<T>::Level& level, int x0, int y0, int x1, int y1, Colour& colour) {
  QImage out(x1 - x0, y1 - y0, QImage::Format_ARGB32_Premultiplied);
  for (int y = y0; y < y1; ++y) {
    auto* d = reinterpret_cast<QRgb*>(out.scanLine(y - y0));
    const T* s = level.data + static_cast<std::size_t>(y) * level.width;
    for (int x = x0; x < x1; ++x) *d++ = colour(s[x]);
  }
  return out;
}

// Draws the region's samples coloured by `colour(sample)` (premultiplied ARGB, opacity included):
// from the cached coloured level when it is small enough, else coloured now.
template <class T, class Colour>
void drawRegion(const PaintContext& c, const RasterPyramid<T>& pyramid, const Region& r, ColourCache& cache,
                quint64 style, Colour colour) {
  const auto& level = pyramid.level(r.level);
  QImage coloured;
  QRectF source;
  if (qint64(level.width) * level.height <= kCachedSamples) {
    if (cache.level != r.level || cache.style != style || cache.opacity != c.opacity) {
      cache.image = colourSamples<T>(level, 0, 0, level.width, level.height, colour);
      cache.level = r.level;
      cache.style = style;
      cache.opacity = c.opacity;
    }
    coloured = cache.image;
    source = QRectF(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  } else {
    cache = ColourCache();
    coloured = colourSamples<T>(level, r.x0, r.y0, r.x1, r.y1, colour);
    source = QRectF(QPointF(0, 0), QSizeF(coloured.size()));
  }
  QPainter& p = *c.painter;
  p.save();
  p.setOpacity(1.0);
  p.setRenderHint(QPainter::SmoothPixmapTransform, r.smooth);
  p.drawImage(r.target, coloured, source);
  p.restore();
}

// The layer sample under an image position (clamped to the layer).
QPoint layerSample(QPointF imagePos, QSize imageSize, int width, int height) {
  const int x = static_cast<int>(std::floor(imagePos.x() * width / imageSize.width()));
  const int y = static_cast<int>(std::floor(imagePos.y() * height / imageSize.height()));
  return {std::clamp(x, 0, width - 1), std::clamp(y, 0, height - 1)};
}

bool insideImage(QPointF p, QSize size) {
  return p.x() >= 0 && p.y() >= 0 && p.x() < size.width() && p.y() < size.height();
}

float averageFinite(const float* v, int n) {
  float sum = 0.f;
  int count = 0;
  for (int i = 0; i < n; ++i)
    if (std::isfinite(v[i])) sum += v[i], ++count;
  return count ? sum / static_cast<float>(count) : std::numeric_limits<float>::quiet_NaN();
}

std::int32_t firstSample(const std::int32_t* v, int) { return v[0]; }

std::uint8_t anySet(const std::uint8_t* v, int n) {
  std::uint8_t m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, v[i]);
  return m;
}

QString formatValue(float v) { return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("n/a"); }

}  // namespace

// ---- HeatmapLayer ---------------------------------------------------------------------------------------

HeatmapLayer::HeatmapLayer(QString id, QString title, Heatmap heatmap)
    : ViewLayer(std::move(id), std::move(title)), heatmap_(std::move(heatmap)) {
  if (heatmap_.values.size() != static_cast<std::size_t>(std::max(0, heatmap_.width)) * std::max(0, heatmap_.height))
    heatmap_.width = heatmap_.height = 0, heatmap_.values.clear();
  pyramid_ = RasterPyramid<float>(heatmap_.values.data(), heatmap_.width, heatmap_.height, averageFinite);
  bool any = false;
  for (float v : heatmap_.values) {
    if (!std::isfinite(v)) continue;
    dataMin_ = any ? std::min(dataMin_, v) : v;
    dataMax_ = any ? std::max(dataMax_, v) : v;
    any = true;
  }
  updateLut();
}

void HeatmapLayer::setRange(float min, float max) {
  if (min > max) std::swap(min, max);
  heatmap_.rangeMin = min;
  heatmap_.rangeMax = max;
  ++style_;
}

void HeatmapLayer::setColormap(Colormap map) {
  heatmap_.colormap = map;
  updateLut();
  ++style_;
}

void HeatmapLayer::updateLut() {
  for (int i = 0; i < 256; ++i) {
    const auto c = colormapColor(heatmap_.colormap, static_cast<float>(i) / 255.f);
    lut_[i] = qRgb(c[0], c[1], c[2]);
  }
}

QRgb HeatmapLayer::colourOf(float value) const {
  if (!std::isfinite(value)) return 0;
  // The same arithmetic as Heatmap::render() and colormapColor(), so both agree to the bit.
  const float span = heatmap_.rangeMax - heatmap_.rangeMin;
  float t = span > 0.f ? (value - heatmap_.rangeMin) / span : 0.f;
  if (!(t >= 0.f)) t = 0.f;
  const int i = std::min(255, static_cast<int>(std::lround(std::min(t, 1.f) * 255.f)));
  return lut_[i];
}

void HeatmapLayer::paint(const PaintContext& context) const {
  const auto region = visibleRegion(context, pyramid_);
  if (!region) return;
  QRgb lut[256];
  const int a = alpha255(context.opacity);
  for (int i = 0; i < 256; ++i) lut[i] = fade(lut_[i], a);
  const float lo = heatmap_.rangeMin, span = heatmap_.rangeMax - heatmap_.rangeMin;
  drawRegion(context, pyramid_, *region, cache_, style_, [&lut, lo, span](float v) -> QRgb {
    if (!std::isfinite(v)) return 0;
    // colourOf() with the faded table (the same index arithmetic).
    float t = span > 0.f ? (v - lo) / span : 0.f;
    if (!(t >= 0.f)) t = 0.f;
    return lut[std::min(255, static_cast<int>(std::lround(std::min(t, 1.f) * 255.f)))];
  });
}

std::optional<QString> HeatmapLayer::valueAt(QPointF imagePos, QSize imageSize, const ViewTransform&) const {
  if (heatmap_.width <= 0 || !insideImage(imagePos, imageSize)) return std::nullopt;
  const QPoint s = layerSample(imagePos, imageSize, heatmap_.width, heatmap_.height);
  QString text = formatValue(heatmap_.at(s.x(), s.y()));
  if (!heatmap_.unit.empty()) text += QLatin1Char(' ') + unit();
  return text;
}

QImage HeatmapLayer::render(QSize) const {
  if (heatmap_.width <= 0) return {};
  QImage out(heatmap_.width, heatmap_.height, QImage::Format_ARGB32_Premultiplied);
  for (int y = 0; y < heatmap_.height; ++y) {
    auto* d = reinterpret_cast<QRgb*>(out.scanLine(y));
    for (int x = 0; x < heatmap_.width; ++x) d[x] = colourOf(heatmap_.at(x, y));
  }
  return out;
}

// ---- LabelMapLayer --------------------------------------------------------------------------------------

LabelMapLayer::LabelMapLayer(QString id, QString title, LabelMapData map)
    : ViewLayer(std::move(id), std::move(title)), map_(std::move(map)) {
  if (map_.values.size() != static_cast<std::size_t>(std::max(0, map_.width)) * std::max(0, map_.height))
    map_.width = map_.height = 0, map_.values.clear();
  pyramid_ = RasterPyramid<std::int32_t>(map_.values.data(), map_.width, map_.height, firstSample);

  std::unordered_set<std::int32_t> known;
  for (const auto& l : map_.labels) known.insert(l.value);
  std::unordered_set<std::int32_t> present;
  std::int32_t last = 0;
  bool first = true;
  for (std::int32_t v : map_.values) {
    if (!first && v == last) continue;
    present.insert(v);
    last = v;
    first = false;
  }
  std::vector<std::int32_t> missing;
  for (std::int32_t v : present)
    if (!known.count(v)) missing.push_back(v);
  std::sort(missing.begin(), missing.end());
  for (std::int32_t v : missing) {
    LabelInfo info;
    info.value = v;
    info.name = v == 0 ? QStringLiteral("background") : QStringLiteral("label %1").arg(v);
    info.colour = paletteColour(static_cast<int>(map_.labels.size()));
    info.visible = v != 0;
    map_.labels.push_back(info);
  }
  for (auto& l : map_.labels)
    if (!l.colour.isValid()) l.colour = paletteColour(l.value);
  updateColours();
}

void LabelMapLayer::updateColours() {
  ++style_;
  colours_.clear();
  for (const auto& l : map_.labels) colours_.insert(l.value, l.visible ? qPremultiply(l.colour.rgba()) : 0u);
}

QRgb LabelMapLayer::colourOf(std::int32_t value) const { return colours_.value(value, 0u); }

void LabelMapLayer::setLabelVisible(std::int32_t value, bool visible) {
  for (auto& l : map_.labels)
    if (l.value == value) l.visible = visible;
  updateColours();
}

void LabelMapLayer::setLabelColour(std::int32_t value, const QColor& colour) {
  for (auto& l : map_.labels)
    if (l.value == value) l.colour = colour;
  updateColours();
}

std::optional<LabelInfo> LabelMapLayer::label(std::int32_t value) const {
  for (const auto& l : map_.labels)
    if (l.value == value) return l;
  return std::nullopt;
}

void LabelMapLayer::paint(const PaintContext& context) const {
  const auto region = visibleRegion(context, pyramid_);
  if (!region) return;
  // Label maps are never blended between labels: crisp samples at every zoom.
  Region crisp = *region;
  crisp.smooth = false;
  const int a = alpha255(context.opacity);
  std::int32_t lastValue = 0;
  QRgb lastColour = fade(colourOf(0), a);
  drawRegion(context, pyramid_, crisp, cache_, style_, [&](std::int32_t v) {
    if (v != lastValue) lastValue = v, lastColour = fade(colourOf(v), a);
    return lastColour;
  });
}

std::optional<QString> LabelMapLayer::valueAt(QPointF imagePos, QSize imageSize, const ViewTransform&) const {
  if (map_.width <= 0 || !insideImage(imagePos, imageSize)) return std::nullopt;
  const QPoint s = layerSample(imagePos, imageSize, map_.width, map_.height);
  const std::int32_t v = map_.values[static_cast<std::size_t>(s.y()) * map_.width + s.x()];
  const auto info = label(v);
  return info ? QStringLiteral("%1 (%2)").arg(info->name).arg(v) : QString::number(v);
}

QImage LabelMapLayer::render(QSize) const {
  if (map_.width <= 0) return {};
  QImage out(map_.width, map_.height, QImage::Format_ARGB32_Premultiplied);
  for (int y = 0; y < map_.height; ++y) {
    auto* d = reinterpret_cast<QRgb*>(out.scanLine(y));
    const std::int32_t* s = map_.values.data() + static_cast<std::size_t>(y) * map_.width;
    for (int x = 0; x < map_.width; ++x) d[x] = colourOf(s[x]);
  }
  return out;
}

// ---- MaskLayer ------------------------------------------------------------------------------------------

MaskLayer::MaskLayer(QString id, QString title, Mask mask, QColor colour, Style style)
    : ViewLayer(std::move(id), std::move(title)), mask_(std::move(mask)), colour_(colour), style_(style) {
  if (mask_.values.size() != static_cast<std::size_t>(std::max(0, mask_.width)) * std::max(0, mask_.height))
    mask_.width = mask_.height = 0, mask_.values.clear();
  pyramid_ = RasterPyramid<std::uint8_t>(mask_.values.data(), mask_.width, mask_.height, anySet);
}

void MaskLayer::paint(const PaintContext& context) const {
  if (style_ == Style::Outline) {
    paintOutline(context);
    return;
  }
  const auto region = visibleRegion(context, pyramid_);
  if (!region) return;
  const QRgb on = fade(qPremultiply(colour_.rgba()), alpha255(context.opacity));
  drawRegion(context, pyramid_, *region, cache_, version_, [on](std::uint8_t v) { return v ? on : 0u; });
}

void MaskLayer::paintOutline(const PaintContext& context) const {
  const auto region = visibleRegion(context, pyramid_, 1);
  if (!region) return;
  const auto& level = pyramid_.level(region->level);
  const auto at = [&level](int x, int y) {
    return x >= 0 && y >= 0 && x < level.width && y < level.height && level.at(x, y) != 0;
  };
  const Region& r = *region;
  const auto toWidget = [&](int x, int y) { return context.transform.toWidget(r.toImage(x, y)); };
  std::vector<QLineF> lines;
  // Horizontal edges on the line between rows y - 1 and y, merged into runs.
  for (int y = r.y0; y <= r.y1; ++y) {
    int start = -1;
    for (int x = r.x0; x <= r.x1; ++x) {
      const bool edge = x < r.x1 && at(x, y - 1) != at(x, y);
      if (edge && start < 0) start = x;
      if (!edge && start >= 0) lines.emplace_back(toWidget(start, y), toWidget(x, y)), start = -1;
    }
  }
  // Vertical edges on the line between columns x - 1 and x.
  for (int x = r.x0; x <= r.x1; ++x) {
    int start = -1;
    for (int y = r.y0; y <= r.y1; ++y) {
      const bool edge = y < r.y1 && at(x - 1, y) != at(x, y);
      if (edge && start < 0) start = y;
      if (!edge && start >= 0) lines.emplace_back(toWidget(x, start), toWidget(x, y)), start = -1;
    }
  }
  if (lines.empty()) return;
  QPainter& p = *context.painter;
  p.save();
  p.setOpacity(context.opacity);
  p.setRenderHint(QPainter::Antialiasing, false);
  QPen pen(colour_, kOutlineWidth);
  pen.setCosmetic(true);
  pen.setCapStyle(Qt::SquareCap);
  p.setPen(pen);
  p.drawLines(lines.data(), static_cast<int>(lines.size()));
  p.restore();
}

std::optional<QString> MaskLayer::valueAt(QPointF imagePos, QSize imageSize, const ViewTransform&) const {
  if (mask_.width <= 0 || !insideImage(imagePos, imageSize)) return std::nullopt;
  const QPoint s = layerSample(imagePos, imageSize, mask_.width, mask_.height);
  return mask_.values[static_cast<std::size_t>(s.y()) * mask_.width + s.x()] ? QStringLiteral("1") : QStringLiteral("0");
}

QImage MaskLayer::render(QSize) const {
  if (mask_.width <= 0) return {};
  QImage out(mask_.width, mask_.height, QImage::Format_ARGB32_Premultiplied);
  out.fill(Qt::transparent);
  if (style_ == Style::Fill) {
    const QRgb on = qPremultiply(colour_.rgba());
    for (int y = 0; y < mask_.height; ++y) {
      auto* d = reinterpret_cast<QRgb*>(out.scanLine(y));
      const std::uint8_t* s = mask_.values.data() + static_cast<std::size_t>(y) * mask_.width;
      for (int x = 0; x < mask_.width; ++x) d[x] = s[x] ? on : 0u;
    }
    return out;
  }
  QPainter p(&out);
  PaintContext c;
  c.painter = &p;
  c.imageSize = out.size();
  c.visible = QRectF(QPointF(0, 0), QSizeF(out.size()));
  paintOutline(c);
  return out;
}

}  // namespace loupe::widgets
