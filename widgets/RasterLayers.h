#pragma once
// Raster layers: a float heatmap through a colour map, a label map with a label table, a binary mask
// (filled or outlined). Each keeps a pyramid of its values and, when drawn, colours only the visible
// samples of the level that matches the zoom, so a 100-megapixel layer costs what the screen shows.
// Magnified samples are drawn as crisp squares (nearest), reduced ones smoothly.

#include <QHash>

#include "RasterPyramid.h"
#include "ViewLayer.h"
#include "core/Layer.h"

namespace loupe::widgets {

// The coloured samples of one whole pyramid level, kept while level, style and opacity stay the same.
struct ColourCache {
  int level = -1;
  quint64 style = 0;
  double opacity = -1.0;
  QImage image;
};

class HeatmapLayer : public ViewLayer {
 public:
  HeatmapLayer(QString id, QString title, Heatmap heatmap);

  Kind kind() const override { return Kind::Heatmap; }
  const Heatmap& heatmap() const { return heatmap_; }
  float rangeMin() const { return heatmap_.rangeMin; }
  float rangeMax() const { return heatmap_.rangeMax; }
  void setRange(float min, float max);  // swapped when reversed
  Colormap colormap() const { return heatmap_.colormap; }
  void setColormap(Colormap map);
  QString unit() const { return QString::fromStdString(heatmap_.unit); }
  // The smallest and largest finite values (for "reset range").
  float dataMin() const { return dataMin_; }
  float dataMax() const { return dataMax_; }
  // The colour `value` is drawn with (premultiplied ARGB; transparent for NaN).
  QRgb colourOf(float value) const;

  void paint(const PaintContext& context) const override;
  std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const override;
  QImage render(QSize imageSize) const override;

 private:
  void updateLut();

  Heatmap heatmap_;
  RasterPyramid<float> pyramid_;
  QRgb lut_[256];
  quint64 style_ = 0;  // bumped by every change of colours
  mutable ColourCache cache_;
  float dataMin_ = 0.f;
  float dataMax_ = 0.f;
};

class LabelMapLayer : public ViewLayer {
 public:
  // Labels that occur in the map but not in its table are added with a palette colour and the name
  // "label N"; label 0, when added this way, is named "background" and hidden.
  LabelMapLayer(QString id, QString title, LabelMapData map);

  Kind kind() const override { return Kind::LabelMap; }
  const LabelMapData& data() const { return map_; }
  const std::vector<LabelInfo>& labels() const { return map_.labels; }
  void setLabelVisible(std::int32_t value, bool visible);
  void setLabelColour(std::int32_t value, const QColor& colour);
  std::optional<LabelInfo> label(std::int32_t value) const;

  void paint(const PaintContext& context) const override;
  std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const override;
  QImage render(QSize imageSize) const override;

 private:
  void updateColours();
  QRgb colourOf(std::int32_t value) const;

  LabelMapData map_;
  RasterPyramid<std::int32_t> pyramid_;
  QHash<std::int32_t, QRgb> colours_;  // premultiplied; 0 (transparent) for hidden labels
  quint64 style_ = 0;
  mutable ColourCache cache_;
};

class MaskLayer : public ViewLayer {
 public:
  enum class Style { Fill, Outline };

  MaskLayer(QString id, QString title, Mask mask, QColor colour = QColor(255, 64, 64), Style style = Style::Fill);

  Kind kind() const override { return Kind::Mask; }
  const Mask& mask() const { return mask_; }
  Style style() const { return style_; }
  void setStyle(Style style) { style_ = style; }
  QColor colour() const { return colour_; }
  void setColour(const QColor& colour) { colour_ = colour, ++version_; }
  // Outline pen width in screen pixels.
  static constexpr int kOutlineWidth = 2;

  void paint(const PaintContext& context) const override;
  std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const override;
  QImage render(QSize imageSize) const override;

 private:
  void paintOutline(const PaintContext& context) const;

  Mask mask_;
  RasterPyramid<std::uint8_t> pyramid_;
  QColor colour_;
  Style style_;
  quint64 version_ = 0;
  mutable ColourCache cache_;
};

}  // namespace loupe::widgets
