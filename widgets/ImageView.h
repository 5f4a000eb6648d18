#pragma once
// ImageView: an image with its layers at any zoom. Wheel zooms around the cursor, pinch zooms, dragging
// pans; keys: + / - zoom, 0 fits, 1 shows 1:1, arrows pan, M toggles the magnifier, Space shows the
// original without layers (tap to toggle, hold to peek). Large images stay smooth: a mip pyramid is
// built off the GUI thread and each repaint draws only the visible part of the level that matches the
// zoom. Hovering reports the pixel, the image's value there and each visible layer's value.

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QImage>
#include <QMetaType>
#include <QPair>
#include <QVector>
#include <QWidget>

#include <optional>
#include <vector>

#include "LayerStack.h"
#include "ViewLayer.h"
#include "core/Image.h"

namespace loupe::widgets {

struct PixelReadout {
  bool inside = false;
  QPoint pixel;                             // image pixel under the cursor
  QString imageValue;                       // e.g. "RGB 200 180 170", "gray 12"
  QVector<QPair<QString, QString>> layers;  // (layer title, value) for visible layers, top first
  // "x 12  y 34  ·  RGB 200 180 170  ·  ELA 3.52 grey levels"; empty outside the image.
  QString text() const;
};

class ImageView : public QWidget {
  Q_OBJECT

 public:
  explicit ImageView(QWidget* parent = nullptr);
  ~ImageView() override;

  // Shows `image` fitted to the view. The readout uses its samples in their own units. 8-bit gray/RGB/BGR
  // pixels are shared, not copied (like copying an Image): do not write into them while they are shown.
  void setImage(const Image& image);
  // For images that exist only as a QImage (readout from its 8-bit pixels).
  void setImage(const QImage& image);
  void clearImage();
  bool hasImage() const { return !base_.isNull(); }
  const Image& image() const { return image_; }
  QSize imageSize() const { return base_.size(); }

  // The layers drawn over the image; not owned. Null restores the view's own (initially empty) stack.
  void setLayers(LayerStack* layers);
  LayerStack* layers() const { return layers_; }

  // ---- view transform: widget = image * scale + offset
  double scale() const { return scale_; }
  QPointF offset() const { return offset_; }
  ViewTransform transform() const { return {scale_, offset_}; }
  bool isFitMode() const { return fitMode_; }
  double fitScale() const;
  double minScale() const;
  double maxScale() const;
  // The image position at the centre of the widget.
  QPointF viewCentre() const;
  // Zooms to `scale` (clamped) with `imageCentre` at the widget centre. Leaves fit mode.
  void setView(double scale, QPointF imageCentre);
  // Multiplies the scale by `factor` keeping the image point under `widgetPos` where it is.
  void zoomAt(QPointF widgetPos, double factor);
  void panBy(QPointF widgetDelta);

  QPointF imageToWidget(QPointF imagePos) const { return transform().toWidget(imagePos); }
  // The image position under a widget point, or nothing outside the image.
  std::optional<QPointF> widgetToImage(QPointF widgetPos) const;
  // Where the whole image is drawn (may extend past the widget).
  QRect imageRect() const;
  // The legend boxes (their union); empty when none is shown.
  QRect legendRect() const;
  // The caption / "Original" badge in the top-left corner; empty when none is shown.
  QRect badgeRect() const;

  // ---- pyramid
  // Images up to this many pixels get their pyramid at once (the tests rely on it); larger ones in the background.
  static void setSyncPyramidLimit(qint64 pixels);
  static qint64 syncPyramidLimit();
  bool isPyramidReady() const { return pyramidReady_; }
  int pyramidLevelCount() const { return static_cast<int>(levels_.size()); }
  const QImage& pyramidLevel(int k) const { return levels_.at(static_cast<std::size_t>(k)); }
  // The level a zoom draws from once the pyramid is built: the coarsest with at least one pixel per
  // screen pixel, i.e. the largest k with 2^k * scale <= 1.
  int levelForScale(double scale) const;
  // The level the next repaint draws from (level 0 until the pyramid is ready).
  int currentLevel() const;

  // ---- readout, magnifier, original/result, cursor sync
  PixelReadout readout(QPointF imagePos) const;
  bool showsOriginal() const { return showOriginal_; }
  bool isMagnifierEnabled() const { return magnifier_; }
  static constexpr double kMagnifierZoom = 4.0;
  static constexpr int kMagnifierSize = 192;  // screen pixels
  // What the magnifier shows around `imagePos` at the current zoom: the image at 4x the view's scale,
  // contrast-stretched over the patch; `low`/`high` get the patch's min and max sample.
  QImage magnifierPatch(QPointF imagePos, int* low = nullptr, int* high = nullptr) const;
  QRect magnifierRect() const;  // where it is drawn now; empty when hidden
  std::optional<QPointF> crosshair() const { return crosshair_; }
  void setCaption(const QString& caption);
  QString caption() const { return caption_; }
  void setLegendVisible(bool visible);
  bool isLegendVisible() const { return legendVisible_; }

  QSize sizeHint() const override { return {800, 600}; }
  QSize minimumSizeHint() const override { return {160, 120}; }

 public Q_SLOTS:
  void fitToWindow();
  void zoomToActualSize();  // 1:1 around the view centre
  void zoomIn();
  void zoomOut();
  void setShowOriginal(bool original);
  void setMagnifierEnabled(bool enabled);
  // A crosshair at an image position (another view's cursor, see ViewSync); shown while the cursor is
  // not over this view.
  void setCrosshair(QPointF imagePos);
  void clearCrosshair();

 Q_SIGNALS:
  // Scale or offset changed (zoom, pan, fit, resize).
  void viewChanged();
  void cursorMoved(QPointF imagePos);
  void cursorLeft();
  void pixelReadout(const loupe::widgets::PixelReadout& readout);
  // PixelReadout::text(), empty when the cursor leaves the image (for a status bar).
  void pixelInfo(const QString& text);
  void pyramidReady();
  void showOriginalChanged(bool original);

 protected:
  bool event(QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;

 private:
  void setBase(QImage base);
  void startPyramid();
  void cancelPyramid();
  void onPyramidFinished();
  void applyFit();
  void clampOffset();
  void viewUpdated();
  QRectF visibleImageRect() const;
  void drawImageLevel(QPainter& painter) const;
  void drawLayers(QPainter& painter) const;
  void drawLegends(QPainter& painter) const;
  void drawCrosshair(QPainter& painter) const;
  void drawMagnifier(QPainter& painter) const;
  void drawBadge(QPainter& painter) const;
  QString badgeText() const;
  std::vector<std::pair<QRect, const ViewLayer*>> legendBoxes() const;
  void reportCursor(QPointF widgetPos);

  Image image_;
  QImage base_;
  std::vector<QImage> levels_;  // levels_[0] is base_
  bool pyramidReady_ = false;
  QFutureWatcher<std::vector<QImage>>* pyramidWatcher_ = nullptr;

  LayerStack ownLayers_;
  LayerStack* layers_ = &ownLayers_;

  double scale_ = 1.0;
  QPointF offset_;
  bool fitMode_ = true;

  bool showOriginal_ = false;
  bool originalBeforeSpace_ = false;
  QElapsedTimer spaceHeld_;
  bool magnifier_ = false;
  bool legendVisible_ = true;
  QString caption_;
  std::optional<QPointF> cursor_;     // widget position while over the widget
  std::optional<QPointF> crosshair_;  // image position from a synced view
  std::optional<QPointF> dragFrom_;
  double pinchStartScale_ = 1.0;
};

}  // namespace loupe::widgets

Q_DECLARE_METATYPE(loupe::widgets::PixelReadout)
