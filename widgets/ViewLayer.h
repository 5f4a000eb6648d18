#pragma once
// Layers as the viewer draws them. A ViewLayer owns its data and its style (visibility, opacity, colours)
// and draws itself at any view transform, only over the visible part of the image. Raster layers
// (heatmap, label map, mask) cover the whole image extent; a raster of another size is stretched to it.
// Vector layers (polylines, points/boxes) are in image coordinates.
//
// The Qt-side payloads below (LabelMapData, Polyline, Keypoint, Box) hold what is drawn (QColor,
// QPolygonF); layerFromBackend() converts backend/core/Layer.h's plain payloads into them.

#include <QColor>
#include <QImage>
#include <QPointF>
#include <QPolygonF>
#include <QRectF>
#include <QSize>
#include <QString>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

class QPainter;

namespace loupe {
struct Layer;
}

namespace loupe::widgets {

// Image coordinates to widget coordinates: widget = image * scale + offset. Image coordinates are
// continuous: pixel (x, y) covers [x, x+1) x [y, y+1).
struct ViewTransform {
  double scale = 1.0;
  QPointF offset;

  QPointF toWidget(QPointF image) const { return image * scale + offset; }
  QPointF toImage(QPointF widget) const { return (widget - offset) / scale; }
  QRectF toWidget(const QRectF& image) const { return {toWidget(image.topLeft()), toWidget(image.bottomRight())}; }
  QRectF toImage(const QRectF& widget) const { return {toImage(widget.topLeft()), toImage(widget.bottomRight())}; }
};

// What a layer paints with. The caller has clipped the painter to the image.
struct PaintContext {
  QPainter* painter = nullptr;
  ViewTransform transform;
  QRectF visible;  // the visible part of the image, image coordinates, inside [0, w] x [0, h]
  QSize imageSize;
  // The layer's opacity. Raster layers fold it into their colours (QPainter's opacity on scaled images
  // takes a slow path), vector layers set it on the painter.
  double opacity = 1.0;
};

struct LabelInfo {
  std::int32_t value = 0;
  QString name;
  QColor colour;
  bool visible = true;
};

// An integer map (one label per pixel) and the table that names and colours the labels.
struct LabelMapData {
  int width = 0;
  int height = 0;
  std::vector<std::int32_t> values;  // row-major
  std::vector<LabelInfo> labels;
};

struct Polyline {
  QPolygonF points;  // image coordinates
  QString label;
  QColor colour;  // invalid: the layer's colour
};

struct Keypoint {
  QPointF position;  // image coordinates
  QString label;
  QColor colour;
};

struct Box {
  QRectF rect;  // image coordinates
  QString label;
  double score = std::numeric_limits<double>::quiet_NaN();
  QColor colour;
};

class ViewLayer {
 public:
  enum class Kind { Heatmap, LabelMap, Mask, Polylines, Markers };

  ViewLayer(QString id, QString title);
  virtual ~ViewLayer();
  ViewLayer(const ViewLayer&) = delete;
  ViewLayer& operator=(const ViewLayer&) = delete;

  virtual Kind kind() const = 0;
  // "heatmap", "labelmap", "mask", "polylines", "points/boxes"
  QString kindName() const;
  bool isRaster() const { return kind() == Kind::Heatmap || kind() == Kind::LabelMap || kind() == Kind::Mask; }

  const QString& id() const { return id_; }
  const QString& title() const { return title_; }
  void setTitle(const QString& title) { title_ = title; }
  bool isVisible() const { return visible_; }
  void setVisible(bool visible) { visible_ = visible; }
  double opacity() const { return opacity_; }
  void setOpacity(double opacity);  // clamped to [0, 1]

  // Draws the visible part of the layer at context.opacity.
  virtual void paint(const PaintContext& context) const = 0;
  // What the layer holds at `imagePos` (readout text), or nothing. `transform` gives pick tolerances
  // in screen pixels to vector layers.
  virtual std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const = 0;
  // The layer drawn on its own, transparent where it has nothing: raster layers at their own
  // resolution, vector layers at `imageSize`. For export.
  virtual QImage render(QSize imageSize) const = 0;

 private:
  QString id_;
  QString title_;
  bool visible_ = true;
  double opacity_ = 1.0;
};

// A distinct, stable colour for label or item `index` (a fixed palette, then golden-angle hues).
QColor paletteColour(int index);

// The viewer's layer for a backend layer; null for kinds the viewer does not draw (tables).
// Backend colours are kept; labels without one get paletteColour(value).
std::shared_ptr<ViewLayer> layerFromBackend(const Layer& layer);

}  // namespace loupe::widgets
