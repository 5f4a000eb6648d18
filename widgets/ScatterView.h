#pragma once
// ScatterView: an OpenGL scatter plot for up to millions of points (an embedding's 2-D layout).
//
// Drawing: one vertex buffer of positions (float x, y) and one of colours (RGBA8), plus one byte per point
// for the selection, drawn as GL_POINTS with alpha blending by an OpenGL 3.3 core (or ES 3.0) shader;
// round points whose size follows the zoom. setPositions() with the same point count only rewrites the
// position buffer (glBufferSubData), so a layout that is still optimising can be shown many times a
// second. Selected points are drawn on top of the others (an index buffer of their ids); while a selection
// exists the rest are greyed. Overlays (the selection being drawn, the hovered point with its thumbnail
// card, highlighted neighbours, a marker, a legend) are painted with QPainter over the GL frame.
//
// Interaction: wheel zooms around the cursor; the left button pans, draws a rectangle or a lasso depending
// on the mode (the right and middle buttons always pan); Shift adds to the selection, Ctrl removes from it;
// a click (press and release without moving) on a point emits pointClicked(); hovering finds the nearest
// point within a few pixels. Escape clears the selection, F fits the view to the data. Files dropped on the
// view are offered through filesDropped().
//
// Every question about positions (selection, hover, click) goes to a ScatterIndex (a uniform grid) that is
// rebuilt lazily after the positions change. Coordinates: data space has y pointing up; the view maps it
// with a uniform scale (pixels per data unit) around a centre.

#include <QOpenGLExtraFunctions>
#include <QOpenGLWidget>
#include <QPointF>
#include <QPolygonF>
#include <QRgb>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ScatterIndex.h"

class QOpenGLShaderProgram;
class QOpenGLBuffer;
class QOpenGLVertexArrayObject;

namespace loupe::widgets {

class ScatterView : public QOpenGLWidget, protected QOpenGLExtraFunctions {
  Q_OBJECT

 public:
  enum class Mode { Pan, Rectangle, Lasso };
  enum class SelectionOp { Replace, Add, Subtract };

  explicit ScatterView(QWidget* parent = nullptr);
  ~ScatterView() override;

  // n interleaved (x, y) pairs. The same n as before: an in-place update (the view keeps its zoom and the
  // selection); another n: new buffers, the selection is cleared, the view fits the data unless
  // keepView. Non-finite points are not drawn and never selected.
  void setPositions(std::vector<float> xy, bool keepView = false);
  const std::vector<float>& positions() const { return xy_; }
  std::int64_t count() const { return static_cast<std::int64_t>(xy_.size() / 2); }
  QPointF position(std::int64_t id) const;

  // One colour per point (QRgb; the alpha is multiplied with pointAlpha()). Fewer colours than points:
  // the rest are grey.
  void setColors(const std::vector<QRgb>& colors);
  // Legend entries drawn in the top-right corner (empty: none).
  void setLegend(std::vector<std::pair<QString, QRgb>> entries, const QString& title = {});
  void setBackground(QRgb color);
  QRgb background() const { return background_; }
  // Opacity of every point, 0..1 (default 0.8).
  void setPointAlpha(float alpha);
  float pointAlpha() const { return alpha_; }
  // Multiplies the automatic size (which grows with the zoom). Default 1.
  void setPointScale(float scale);
  // Point diameter in device-independent pixels at the current zoom.
  float pointSize() const;

  // View: data coordinates <-> widget pixels.
  void fitToData();
  void setView(QPointF centre, double pixelsPerUnit);
  QPointF viewCentre() const { return centre_; }
  double pixelsPerUnit() const { return scale_; }
  QPointF dataToWidget(QPointF p) const;
  QPointF widgetToData(QPointF p) const;
  // Zooms by `factor` keeping the data point under `widgetPos` in place.
  void zoomAt(QPointF widgetPos, double factor);
  void panBy(QPointF widgetDelta);

  void setMode(Mode mode);
  Mode mode() const { return mode_; }

  // Selection (ids ascending).
  const std::vector<std::int32_t>& selection() const { return selected_; }
  void setSelection(std::vector<std::int32_t> ids);
  void clearSelection();
  // Points inside a rectangle / polygon given in data coordinates; returns how many are selected now.
  std::int64_t selectRect(const QRectF& dataRect, SelectionOp op = SelectionOp::Replace);
  std::int64_t selectPolygon(const QPolygonF& dataPolygon, SelectionOp op = SelectionOp::Replace);

  // The point nearest to a widget position within `radiusPixels` (default: a few pixels more than the
  // point radius), or -1.
  std::int32_t pointAt(QPointF widgetPos, double radiusPixels = -1.0) const;
  std::int32_t hoveredPoint() const { return hovered_; }

  // Hover card: the thumbnail and the text of a point (called on the GUI thread when the hover changes).
  void setHoverProviders(std::function<QImage(std::int32_t)> thumbnail, std::function<QString(std::int32_t)> text);
  // Points drawn with a ring (e.g. the neighbours of a clicked point); `focus` gets a larger ring.
  void setHighlighted(std::vector<std::int32_t> ids, std::int32_t focus = -1);
  const std::vector<std::int32_t>& highlighted() const { return highlighted_; }
  // A marker at a data position with a label (e.g. where a dropped image lands); clearMarker() hides it.
  void setMarker(QPointF dataPos, const QString& label);
  void clearMarker();
  bool hasMarker() const { return markerShown_; }

  // The grid over the current positions (rebuilt here when they changed).
  const ScatterIndex& index() const;

  // Renders a frame into the widget's framebuffer now (GL + overlays), waits until the GPU has finished it
  // and returns the milliseconds; the composition on screen follows as for update(). For benchmarks and
  // tests; normal updates go through update().
  double renderNow();
  // The GL information line (vendor, renderer, version), once the widget has been shown.
  QString glInfo() const { return glInfo_; }
  // Frames drawn so far (paintGL calls).
  std::int64_t framesDrawn() const { return frames_; }

  // Level of detail while the user pans, zooms or draws a selection. When the last full frame took longer
  // than the interaction budget (a software rasteriser drawing 1e6 points), frames drawn during the
  // interaction show a fixed random subset sized to fit the budget (at least 50,000 points), and the full
  // set is drawn again 200 ms after the last interaction. When full frames fit the budget (a GPU draws 1e6
  // points in about a millisecond), nothing changes. Mouse and wheel handlers call beginInteraction().
  void beginInteraction();
  bool interacting() const { return interacting_; }
  void setInteractionBudgetMs(double ms) { budgetMs_ = ms; }
  double interactionBudgetMs() const { return budgetMs_; }
  // Points drawn by the last frame, and the measured cost of the last full frame (ms; 0 before one).
  std::int64_t pointsDrawnLastFrame() const { return drawnLastFrame_; }
  double fullFrameMs() const { return fullFrameMs_; }

 Q_SIGNALS:
  void pointClicked(std::int32_t id);
  void hoveredChanged(std::int32_t id);
  void selectionChanged();
  void viewChanged();
  void filesDropped(const QStringList& paths, QPointF widgetPos);

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void uploadBuffers();
  void paintOverlays();
  void applySelectionMask(const std::vector<std::uint8_t>& mask, SelectionOp op);
  void selectionUpdated();
  void setHovered(std::int32_t id);
  SelectionOp opFor(Qt::KeyboardModifiers modifiers) const;
  float basePointSize() const;

  std::vector<float> xy_;
  std::vector<std::uint32_t> rgba_;  // RGBA8 bytes in memory order, as the GPU reads them
  std::vector<std::uint8_t> selectedMask_;
  std::vector<std::int32_t> selected_;
  mutable ScatterIndex index_;
  mutable bool indexDirty_ = true;

  // GPU state and what must be uploaded before the next frame.
  std::unique_ptr<QOpenGLShaderProgram> program_;
  std::unique_ptr<QOpenGLVertexArrayObject> vao_;
  std::unique_ptr<QOpenGLBuffer> posBuffer_, colorBuffer_, selBuffer_, selIndexBuffer_;
  std::int64_t allocatedPoints_ = 0;
  std::int64_t allocatedSelected_ = 0;
  bool positionsDirty_ = true, colorsDirty_ = true, selectionDirty_ = true;
  bool gles_ = false;
  QString glInfo_;
  std::int64_t frames_ = 0;

  // Level of detail (see beginInteraction()): a random permutation of the point ids on the GPU.
  std::unique_ptr<QOpenGLBuffer> lodIndexBuffer_;
  std::int64_t lodBuiltFor_ = -1;
  bool interacting_ = false;
  class QTimer* settleTimer_ = nullptr;
  double fullFrameMs_ = 0.0;
  double budgetMs_ = 40.0;
  std::int64_t drawnLastFrame_ = 0;

  QRgb background_ = 0xffffffff;
  float alpha_ = 0.8f;
  float pointScale_ = 1.0f;
  QPointF centre_{0.0, 0.0};
  double scale_ = 1.0;
  double fitScale_ = 1.0;
  bool viewSet_ = false;

  Mode mode_ = Mode::Pan;
  enum class Drag { None, Pan, Rectangle, Lasso } drag_ = Drag::None;
  QPointF pressPos_, lastPos_;
  Qt::MouseButton pressButton_ = Qt::NoButton;
  SelectionOp dragOp_ = SelectionOp::Replace;
  bool moved_ = false;
  QPolygonF lasso_;  // widget coordinates while drawing

  std::int32_t hovered_ = -1;
  QPointF hoverPos_;
  QImage hoverImage_;
  QString hoverText_;
  std::function<QImage(std::int32_t)> thumbnailProvider_;
  std::function<QString(std::int32_t)> textProvider_;

  std::vector<std::int32_t> highlighted_;
  std::int32_t focus_ = -1;
  bool markerShown_ = false;
  QPointF marker_;
  QString markerLabel_;
  std::vector<std::pair<QString, QRgb>> legend_;
  QString legendTitle_;
};

}  // namespace loupe::widgets
