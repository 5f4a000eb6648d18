#pragma once
// Sessions made by the tests themselves: every layer kind with values that exercise the encoding
// (negative and fractional floats, NaN scores, labels with and without colours), and exact comparisons.

#include <QBuffer>
#include <QImage>
#include <QPainter>

#include <cmath>
#include <cstring>
#include <memory>
#include <variant>

#include "session/Session.h"

namespace loupe::test {

inline Layer heatmapLayer(int w, int h, float seed) {
  Heatmap m;
  m.width = w, m.height = h;
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.values[static_cast<std::size_t>(y) * w + x] = std::sin(0.37f * x + seed) * (y - 3.25f) / 7.f;
  m.rangeMin = -1.5f, m.rangeMax = 2.75f;
  m.colormap = Colormap::Magma;
  m.unit = "abs. error (grey levels)";
  return {"ela", "Error level", m};
}

inline std::vector<Layer> allKinds(int w, int h, float seed) {
  std::vector<Layer> layers;
  layers.push_back(heatmapLayer(w, h, seed));
  Mask mask;
  mask.width = w, mask.height = h;
  mask.values.resize(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < mask.values.size(); ++i) mask.values[i] = (i * 7 + static_cast<std::size_t>(seed)) % 3 == 0;
  layers.push_back({"mask", "Suspicious region", mask});
  LabelMap labels;
  labels.width = w, labels.height = h;
  labels.values.resize(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < labels.values.size(); ++i) labels.values[i] = static_cast<std::int32_t>(i % 5) - 1;
  labels.labels = {{-1, "outside", std::nullopt, false}, {2, "zone b", std::array<std::uint8_t, 3>{10, 200, 30}, true}};
  layers.push_back({"zones", "Zones", labels});
  Table table;
  table.columns = {"measure", "value"};
  table.rows = {{"mean_error", "4.08"}, {"note", "ünïcode, \"quoted\""}};
  layers.push_back({"stats", "Statistics", table});
  Polylines lines;
  lines.width = w, lines.height = h;
  lines.lines = {{{{0.5f, 1.25f}, {3.f, 4.f}, {7.125f, 0.f}}, "lane 1"}, {{}, "empty"}};
  layers.push_back({"lanes", "Lanes", lines});
  Boxes boxes;
  boxes.width = w, boxes.height = h;
  boxes.boxes = {{1.f, 2.f, 3.5f, 4.f, "face", 0.875}, {0.f, 0.f, 1.f, 1.f, "no score", std::nan("")}};
  layers.push_back({"faces", "Faces", boxes});
  Points points;
  points.width = w, points.height = h;
  points.points = {{{2.5f, 3.5f}, "nose"}};
  layers.push_back({"keys", "Keypoints", points});
  return layers;
}

// Bit-exact comparison of two backend layers (NaN == NaN for scores).
inline bool sameLayer(const Layer& a, const Layer& b) {
  if (a.id != b.id || a.title != b.title || a.payload.index() != b.payload.index()) return false;
  if (auto* x = std::get_if<Heatmap>(&a.payload)) {
    const auto& y = std::get<Heatmap>(b.payload);
    return x->width == y.width && x->height == y.height && x->rangeMin == y.rangeMin && x->rangeMax == y.rangeMax &&
           x->colormap == y.colormap && x->unit == y.unit && x->values.size() == y.values.size() &&
           std::memcmp(x->values.data(), y.values.data(), x->values.size() * sizeof(float)) == 0;
  }
  if (auto* x = std::get_if<Mask>(&a.payload)) {
    const auto& y = std::get<Mask>(b.payload);
    return x->width == y.width && x->height == y.height && x->values == y.values;
  }
  if (auto* x = std::get_if<LabelMap>(&a.payload)) {
    const auto& y = std::get<LabelMap>(b.payload);
    if (x->labels.size() != y.labels.size()) return false;
    for (std::size_t i = 0; i < x->labels.size(); ++i)
      if (x->labels[i].value != y.labels[i].value || x->labels[i].name != y.labels[i].name ||
          x->labels[i].colour != y.labels[i].colour || x->labels[i].visible != y.labels[i].visible)
        return false;
    return x->width == y.width && x->height == y.height && x->values == y.values;
  }
  if (auto* x = std::get_if<Table>(&a.payload)) {
    const auto& y = std::get<Table>(b.payload);
    return x->columns == y.columns && x->rows == y.rows;
  }
  if (auto* x = std::get_if<Polylines>(&a.payload)) {
    const auto& y = std::get<Polylines>(b.payload);
    if (x->width != y.width || x->height != y.height || x->lines.size() != y.lines.size()) return false;
    for (std::size_t i = 0; i < x->lines.size(); ++i) {
      if (x->lines[i].label != y.lines[i].label || x->lines[i].points.size() != y.lines[i].points.size()) return false;
      for (std::size_t k = 0; k < x->lines[i].points.size(); ++k)
        if (x->lines[i].points[k].x != y.lines[i].points[k].x || x->lines[i].points[k].y != y.lines[i].points[k].y) return false;
    }
    return true;
  }
  if (auto* x = std::get_if<Boxes>(&a.payload)) {
    const auto& y = std::get<Boxes>(b.payload);
    if (x->width != y.width || x->height != y.height || x->boxes.size() != y.boxes.size()) return false;
    for (std::size_t i = 0; i < x->boxes.size(); ++i) {
      const Box &p = x->boxes[i], &q = y.boxes[i];
      const bool score = (std::isnan(p.score) && std::isnan(q.score)) || p.score == q.score;
      if (p.x != q.x || p.y != q.y || p.w != q.w || p.h != q.h || p.label != q.label || !score) return false;
    }
    return true;
  }
  const auto& x = std::get<Points>(a.payload);
  const auto& y = std::get<Points>(b.payload);
  if (x.width != y.width || x.height != y.height || x.points.size() != y.points.size()) return false;
  for (std::size_t i = 0; i < x.points.size(); ++i)
    if (x.points[i].position.x != y.points[i].position.x || x.points[i].position.y != y.points[i].position.y ||
        x.points[i].label != y.points[i].label)
      return false;
  return true;
}

inline bool sameLayers(const std::vector<Layer>& a, const std::vector<Layer>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!sameLayer(a[i], b[i])) return false;
  return true;
}

// A small PNG made here (a gradient with a label), for bookmark snapshots.
inline QByteArray snapshotPng(int w, int h, const QString& text) {
  QImage image(w, h, QImage::Format_RGB32);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) image.setPixel(x, y, qRgb(x * 255 / w, y * 255 / h, 128));
  QPainter p(&image);
  p.drawText(image.rect(), Qt::AlignCenter, text);
  p.end();
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return bytes;
}

inline session::Bookmark bookmark(const QString& title, session::BookmarkStatus status, const QString& comment) {
  session::Bookmark b;
  b.id = title.toLower().replace(QLatin1Char(' '), QLatin1Char('-'));
  b.createdAt = QStringLiteral("2026-11-27T04:00:00Z");
  b.title = title;
  b.view.fit = false;
  b.view.scale = 2.5;
  b.view.centreX = 120.25;
  b.view.centreY = 64.5;
  b.taskId = QStringLiteral("forgery.ela");
  b.params = {{"quality", "85"}, {"amplification", "20"}};
  b.visibleLayers = {QStringLiteral("ela")};
  b.status = status;
  b.comment = comment;
  b.snapshotPng = snapshotPng(320, 200, title);
  return b;
}

}  // namespace loupe::test
