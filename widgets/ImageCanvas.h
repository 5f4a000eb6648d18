#pragma once
// ImageCanvas: one image fitted to the widget (aspect ratio kept, smooth scaling) with at most one heatmap
// overlay on top, blended at an adjustable opacity, and a colour legend in the bottom-right corner.
// Hovering reports the pixel under the cursor through pixelInfo(). The full viewer (zoom, pan, several
// layers) is ImageView's job; this widget stays small.

#include <QImage>
#include <QRect>
#include <QWidget>

#include <optional>

#include "core/Image.h"
#include "core/Layer.h"

namespace loupe::widgets {

class ImageCanvas : public QWidget {
  Q_OBJECT

 public:
  explicit ImageCanvas(QWidget* parent = nullptr);

  // Shows `image` and removes any overlay (an overlay belongs to the image it was computed on).
  void setImage(const Image& image);
  void clearImage();
  bool hasImage() const { return !image_.isNull(); }
  const Image& image() const { return source_; }

  // Draws `heatmap` over the whole image extent (a heatmap of another size is stretched to fit).
  void setHeatmap(const Heatmap& heatmap, const QString& title);
  void clearOverlay();
  bool hasOverlay() const { return heatmap_.has_value(); }
  QString overlayTitle() const { return overlayTitle_; }

  double overlayOpacity() const { return opacity_; }
  bool isOverlayVisible() const { return overlayVisible_; }

  // Widget coordinates of an image position. Image coordinates are continuous: pixel (x, y) covers
  // [x, x+1) x [y, y+1), so its centre is (x + 0.5, y + 0.5).
  QPoint imageToWidget(QPointF imagePos) const;
  // The image position under a widget point, or nothing outside the image.
  std::optional<QPointF> widgetToImage(QPointF widgetPos) const;
  // Where the image is drawn, and where the legend is (empty when no overlay is shown).
  QRect imageRect() const;
  QRect legendRect() const;

  QSize sizeHint() const override { return {800, 600}; }
  QSize minimumSizeHint() const override { return {160, 120}; }

 public Q_SLOTS:
  void setOverlayOpacity(double opacity);  // clamped to [0, 1]
  void setOverlayVisible(bool visible);

 Q_SIGNALS:
  // "x 12  y 34  ·  RGB 200 180 170  ·  <overlay title> 3.52 <unit>", or empty when the cursor leaves the image.
  void pixelInfo(const QString& text);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  QString describePixel(int x, int y) const;
  void drawLegend(class QPainter& painter) const;
  void updateScaledCache() const;
  QImage scaledTo(const QImage& source, QSize logicalSize) const;

  Image source_;
  QImage image_;
  std::optional<Heatmap> heatmap_;
  QImage overlay_;
  QString overlayTitle_;
  double opacity_ = 0.6;
  bool overlayVisible_ = true;

  // Smoothly scaled copies for the current imageRect(); dropped when the content changes and rebuilt
  // when the size differs.
  mutable QImage scaledImage_;
  mutable QImage scaledOverlay_;
};

}  // namespace loupe::widgets
