#include "VectorLayers.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <QPen>

#include <algorithm>
#include <cmath>

namespace loupe::widgets {

namespace {

constexpr double kPickTolerance = 6.0;  // screen pixels

double distanceToSegment(QPointF p, QPointF a, QPointF b) {
  const QPointF ab = b - a;
  const double len2 = QPointF::dotProduct(ab, ab);
  const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
  const QPointF d = p - (a + ab * t);
  return std::hypot(d.x(), d.y());
}

// Text with a dark halo so it reads over any image.
void drawLabel(QPainter& p, QPointF at, const QString& text, const QColor& colour) {
  if (text.isEmpty()) return;
  QPainterPath path;
  path.addText(at, p.font(), text);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.strokePath(path, QPen(QColor(0, 0, 0, 200), 3.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
  p.fillPath(path, colour);
  p.restore();
}

QString boxText(const Box& b) {
  if (std::isnan(b.score)) return b.label;
  const QString score = QString::number(b.score, 'f', 2);
  return b.label.isEmpty() ? score : b.label + QLatin1Char(' ') + score;
}

QImage transparentImage(QSize size) {
  QImage out(size, QImage::Format_ARGB32_Premultiplied);
  out.fill(Qt::transparent);
  return out;
}

PaintContext fullContext(QPainter& p, QSize imageSize) {
  PaintContext c;
  c.painter = &p;
  c.imageSize = imageSize;
  c.visible = QRectF(QPointF(0, 0), QSizeF(imageSize));
  return c;
}

}  // namespace

// ---- PolylinesLayer -------------------------------------------------------------------------------------

PolylinesLayer::PolylinesLayer(QString id, QString title, std::vector<Polyline> lines, QColor colour, double width)
    : ViewLayer(std::move(id), std::move(title)), lines_(std::move(lines)), colour_(colour), width_(width) {}

void PolylinesLayer::paint(const PaintContext& context) const {
  QPainter& p = *context.painter;
  p.save();
  p.setOpacity(context.opacity);
  p.setRenderHint(QPainter::Antialiasing, true);
  const QRectF visible = context.visible;
  for (const Polyline& line : lines_) {
    if (line.points.isEmpty()) continue;
    const QRectF bounds = line.points.boundingRect();
    const double pad = width_ / context.transform.scale;
    if (!bounds.adjusted(-pad, -pad, pad, pad).intersects(visible)) continue;
    const QColor colour = line.colour.isValid() ? line.colour : colour_;
    QPolygonF screen;
    screen.reserve(line.points.size());
    for (const QPointF& pt : line.points) screen << context.transform.toWidget(pt);
    QPen pen(colour, width_, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    pen.setCosmetic(true);
    p.setPen(pen);
    if (screen.size() == 1) p.drawPoint(screen.first());
    else p.drawPolyline(screen);
    drawLabel(p, screen.first() + QPointF(width_ + 3, -width_ - 3), line.label, colour);
  }
  p.restore();
}

std::optional<QString> PolylinesLayer::valueAt(QPointF imagePos, QSize, const ViewTransform& t) const {
  const QPointF at = t.toWidget(imagePos);
  for (int i = static_cast<int>(lines_.size()) - 1; i >= 0; --i) {  // the line drawn last is on top
    const QPolygonF& pts = lines_[i].points;
    for (int k = 0; k < pts.size(); ++k) {
      const QPointF a = t.toWidget(pts[k]);
      const QPointF b = t.toWidget(pts[std::min<int>(k + 1, pts.size() - 1)]);
      if (distanceToSegment(at, a, b) <= kPickTolerance + width_ / 2)
        return lines_[i].label.isEmpty() ? QStringLiteral("line %1").arg(i + 1) : lines_[i].label;
    }
  }
  return std::nullopt;
}

QImage PolylinesLayer::render(QSize imageSize) const {
  QImage out = transparentImage(imageSize);
  QPainter p(&out);
  paint(fullContext(p, imageSize));
  return out;
}

// ---- MarkersLayer ---------------------------------------------------------------------------------------

MarkersLayer::MarkersLayer(QString id, QString title, std::vector<Box> boxes, std::vector<Keypoint> points,
                           QColor colour)
    : ViewLayer(std::move(id), std::move(title)), boxes_(std::move(boxes)), points_(std::move(points)),
      colour_(colour) {}

void MarkersLayer::paint(const PaintContext& context) const {
  QPainter& p = *context.painter;
  p.save();
  p.setOpacity(context.opacity);
  QFont font = p.font();
  font.setBold(true);
  p.setFont(font);
  const QFontMetricsF metrics(font);
  for (const Box& box : boxes_) {
    const double pad = (kBoxPenWidth + 1) / context.transform.scale;
    if (!box.rect.normalized().adjusted(-pad, -pad, pad, pad).intersects(context.visible)) continue;
    const QColor colour = box.colour.isValid() ? box.colour : colour_;
    const QRectF r = context.transform.toWidget(box.rect);
    p.setRenderHint(QPainter::Antialiasing, false);
    QPen pen(colour, kBoxPenWidth);
    pen.setCosmetic(true);
    pen.setJoinStyle(Qt::MiterJoin);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    p.drawRect(r);
    const QString text = boxText(box);
    if (labelsVisible_ && !text.isEmpty()) {
      const QRectF tag(r.left() - kBoxPenWidth / 2.0, r.top() - metrics.height() - 2 - kBoxPenWidth / 2.0,
                       metrics.horizontalAdvance(text) + 8, metrics.height() + 2);
      p.fillRect(tag, colour);
      p.setPen(colour.lightnessF() > 0.55 ? Qt::black : Qt::white);
      p.drawText(tag, Qt::AlignCenter, text);
    }
  }
  p.setRenderHint(QPainter::Antialiasing, true);
  for (const Keypoint& pt : points_) {
    if (!context.visible.adjusted(-1, -1, 1, 1).contains(pt.position)) continue;
    const QColor colour = pt.colour.isValid() ? pt.colour : colour_;
    const QPointF c = context.transform.toWidget(pt.position);
    p.setPen(QPen(QColor(0, 0, 0, 220), 1.5));
    p.setBrush(colour);
    p.drawEllipse(c, kPointRadius, kPointRadius);
    if (labelsVisible_) drawLabel(p, c + QPointF(kPointRadius + 4, metrics.ascent() / 2 - 1), pt.label, colour);
  }
  p.restore();
}

std::optional<QString> MarkersLayer::valueAt(QPointF imagePos, QSize, const ViewTransform& t) const {
  QStringList hits;
  const QPointF at = t.toWidget(imagePos);
  for (const Keypoint& pt : points_) {
    const QPointF d = t.toWidget(pt.position) - at;
    if (std::hypot(d.x(), d.y()) <= kPointRadius + kPickTolerance) hits << (pt.label.isEmpty() ? QStringLiteral("point") : pt.label);
  }
  for (const Box& box : boxes_)
    if (box.rect.contains(imagePos)) hits << (boxText(box).isEmpty() ? QStringLiteral("box") : boxText(box));
  if (hits.isEmpty()) return std::nullopt;
  return hits.join(QStringLiteral(", "));
}

QImage MarkersLayer::render(QSize imageSize) const {
  QImage out = transparentImage(imageSize);
  QPainter p(&out);
  paint(fullContext(p, imageSize));
  return out;
}

}  // namespace loupe::widgets
