#include "ViewLayer.h"

#include <algorithm>
#include <cmath>

#include "RasterLayers.h"
#include "VectorLayers.h"
#include "core/Layer.h"

namespace loupe::widgets {

ViewLayer::ViewLayer(QString id, QString title) : id_(std::move(id)), title_(std::move(title)) {
  if (title_.isEmpty()) title_ = id_;
}

ViewLayer::~ViewLayer() = default;

QString ViewLayer::kindName() const {
  switch (kind()) {
    case Kind::Heatmap: return QStringLiteral("heatmap");
    case Kind::LabelMap: return QStringLiteral("labelmap");
    case Kind::Mask: return QStringLiteral("mask");
    case Kind::Polylines: return QStringLiteral("polylines");
    case Kind::Markers: return QStringLiteral("points/boxes");
  }
  return {};
}

void ViewLayer::setOpacity(double opacity) { opacity_ = std::clamp(opacity, 0.0, 1.0); }

QColor paletteColour(int index) {
  // Okabe-Ito's colour-blind-safe set first, then well-spread hues.
  static const QColor kFixed[] = {QColor(230, 159, 0),  QColor(86, 180, 233),  QColor(0, 158, 115),
                                  QColor(240, 228, 66), QColor(0, 114, 178),   QColor(213, 94, 0),
                                  QColor(204, 121, 167), QColor(120, 200, 80), QColor(170, 120, 70)};
  constexpr int kCount = static_cast<int>(sizeof(kFixed) / sizeof(kFixed[0]));
  index = std::abs(index);
  if (index < kCount) return kFixed[index];
  const double hue = std::fmod(index * 0.618033988749895, 1.0);
  return QColor::fromHsvF(static_cast<float>(hue), 0.75f, 0.95f);
}

std::shared_ptr<ViewLayer> layerFromBackend(const Layer& layer) {
  const QString id = QString::fromStdString(layer.id);
  const QString title = QString::fromStdString(layer.title.empty() ? layer.id : layer.title);
  if (const auto* h = std::get_if<Heatmap>(&layer.payload)) return std::make_shared<HeatmapLayer>(id, title, *h);
  if (const auto* m = std::get_if<Mask>(&layer.payload)) return std::make_shared<MaskLayer>(id, title, *m);
  if (const auto* l = std::get_if<LabelMap>(&layer.payload)) {
    LabelMapData data;
    data.width = l->width;
    data.height = l->height;
    data.values = l->values;
    for (const auto& info : l->labels) {
      const QColor colour = info.colour ? QColor((*info.colour)[0], (*info.colour)[1], (*info.colour)[2])
                                        : paletteColour(info.value);
      data.labels.push_back({info.value, QString::fromStdString(info.name), colour, info.visible});
    }
    return std::make_shared<LabelMapLayer>(id, title, std::move(data));
  }
  if (const auto* p = std::get_if<loupe::Polylines>(&layer.payload)) {
    std::vector<Polyline> lines;
    lines.reserve(p->lines.size());
    for (const auto& line : p->lines) {
      QPolygonF poly;
      for (const auto& pt : line.points) poly << QPointF(pt.x, pt.y);
      lines.push_back({poly, QString::fromStdString(line.label), QColor()});
    }
    return std::make_shared<PolylinesLayer>(id, title, std::move(lines));
  }
  if (const auto* b = std::get_if<loupe::Boxes>(&layer.payload)) {
    std::vector<Box> boxes;
    boxes.reserve(b->boxes.size());
    for (const auto& box : b->boxes)
      boxes.push_back({QRectF(box.x, box.y, box.w, box.h), QString::fromStdString(box.label), box.score, QColor()});
    return std::make_shared<MarkersLayer>(id, title, std::move(boxes));
  }
  if (const auto* p = std::get_if<loupe::Points>(&layer.payload)) {
    std::vector<Keypoint> points;
    points.reserve(p->points.size());
    for (const auto& k : p->points)
      points.push_back({QPointF(k.position.x, k.position.y), QString::fromStdString(k.label), QColor()});
    return std::make_shared<MarkersLayer>(id, title, std::vector<Box>{}, std::move(points));
  }
  return nullptr;
}

}  // namespace loupe::widgets
