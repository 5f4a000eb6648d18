#pragma once
// SliceView: one plane (axial, sagittal or coronal) of a volume, resampled on the fly into a reference
// volume's grid (the study's T2W), so sequences of different geometry line up in world space (LPS, mm),
// with overlays (a likelihood heatmap, label maps such as zones or lesion candidates) sampled the same way.
// See SliceGeometry.h for the planes and the sampling rule.
//
// Mouse and keys:
//   left click / drag          crosshair to the point (linked views follow)
//   wheel, PageUp/PageDown, Up/Down arrows   previous/next slice; Home/End first/last slice
//   Ctrl+wheel                 zoom around the cursor;  0 or F: fit to window
//   middle drag, Space+left drag   pan
//   right drag                 window/level: right = wider window (less contrast), up = brighter (lower level)
// Readout (bottom left): the world point under the cursor (else the crosshair) in LPS mm (x grows to the
// patient's left, y to posterior, z to superior; RAS is (-x, -y, z)), the source voxel index and its value,
// and every visible overlay's value there.
//
// Speed: a slice is sampled once (a constant index step per display pixel, no per-pixel matrix product or
// virtual call) into float/label buffers at the reference's resolution; window/level and overlay style
// changes only recompose the 8-bit raster; the crosshair and text are drawn at screen resolution.

#include <QImage>
#include <QPointF>
#include <QString>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

#include "SliceGeometry.h"
#include "core/Colormap.h"
#include "core/Layer.h"
#include "core/Volume.h"

namespace loupe::widgets {

class SliceLink;

// A window/level preset. Percentile presets use the finite, non-zero voxels of the shown volume.
struct SliceWindowPreset {
  QString id;
  QString title;
  bool percentile = false;  // lo/hi are percentiles (0-100) instead of values
  double lo = 0, hi = 1;
};
// full, auto, t2w, adc, adc-narrow, dwi (see docs/prostate.md for why these).
const std::vector<SliceWindowPreset>& sliceWindowPresets();

// Intensity statistics of a volume for windowing (finite, non-zero voxels; sampled when large).
struct SliceIntensityStats {
  double min = 0, max = 1;
  std::vector<float> sorted;  // a sorted sample of the voxels, for percentiles
  double percentile(double p) const;
};
SliceIntensityStats intensityStats(const Volume& volume);

struct SliceOverlay {
  enum class Kind { Heatmap, Labels };
  QString id;
  QString title;
  Kind kind = Kind::Heatmap;
  std::shared_ptr<const Volume> volume;
  bool visible = true;
  double opacity = 0.5;
  // Heatmap: colour map over [rangeMin, rangeMax]; values <= rangeMin are not drawn.
  Colormap colormap = Colormap::Magma;
  float rangeMin = 0.f, rangeMax = 1.f;
  // Labels: filled (with opacity) and/or outlined (opaque); colours from `labels`, else a palette.
  bool fill = true;
  bool outline = false;
  std::vector<LabelInfo> labels;
};

class SliceView : public QWidget {
  Q_OBJECT

 public:
  explicit SliceView(QWidget* parent = nullptr);
  ~SliceView() override;

  // The grid everything is shown in. Keeps the link's crosshair if it lies inside, else centres it.
  void setReference(std::shared_ptr<const Volume> reference);
  std::shared_ptr<const Volume> reference() const { return reference_; }
  // The volume shown (any geometry overlapping the reference). Applies the "auto" window the first time.
  void setImage(std::shared_ptr<const Volume> image, const QString& name);
  std::shared_ptr<const Volume> image() const { return image_; }
  QString imageName() const { return imageName_; }
  void setPlane(SlicePlane plane);
  SlicePlane plane() const { return frame_.plane; }
  const SliceFrame& frame() const { return frame_; }
  void setInterpolation(SliceInterpolation interpolation);

  // Shared crosshair, centre and zoom; not owned. Null: the view's own.
  void setLink(SliceLink* link);
  SliceLink* link() const { return link_; }

  // ---- window/level (values of the shown volume mapped to black..white)
  void setWindow(double low, double high);
  double windowLow() const { return low_; }
  double windowHigh() const { return high_; }
  bool applyPreset(const QString& id);
  const SliceIntensityStats& stats() const { return stats_; }

  // ---- overlays, drawn in order (later on top); an overlay with an existing id replaces it
  void setOverlay(const SliceOverlay& overlay);
  void removeOverlay(const QString& id);
  void clearOverlays();
  const SliceOverlay* overlay(const QString& id) const;
  const std::vector<SliceOverlay>& overlays() const { return overlays_; }

  // ---- slices: the reference slice through the crosshair
  int slice() const;
  int sliceCount() const { return frame_.ns; }
  // Moves the crosshair to slice s (clamped) keeping its in-plane position.
  void setSlice(int s);
  void stepSlice(int delta) { setSlice(slice() + delta); }

  // ---- mapping (world = LPS mm)
  std::optional<Vec3> widgetToWorld(QPointF widgetPos) const;  // on the current slice; none off the slab
  QPointF worldToWidget(const Vec3& world) const;
  double pixelsPerMm() const;
  // The readout for a world point: "x … y … z … mm (LPS) · T2W 431 [i j k] · likelihood 0.62".
  QString readoutAt(const Vec3& world) const;
  QString readout() const { return readout_; }
  // The value of the shown volume at its voxel nearest to `world`; none outside it.
  std::optional<double> imageValueAt(const Vec3& world) const;

  // ---- the composed slice at the reference's resolution (frame().nu x frame().nv), rendering now if stale
  const QImage& sliceImage();
  const std::vector<float>& sliceSamples();  // the shown volume's samples (NaN outside it)
  void renderSlice() { sliceImage(); }
  double lastRenderMs() const { return lastRenderMs_; }

 Q_SIGNALS:
  void windowChanged(double low, double high);  // by the user (right drag) or setWindow/applyPreset
  void readoutChanged(const QString& text);
  void focused();  // clicked: the window's toolbar acts on this view

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  struct OverlayCache;
  void rebuildSamplers();
  void onCrosshairChanged();
  void resample();
  void compose();
  // Display (u, v) mm of the view centre; scale in widget pixels per mm.
  QPointF centreMm() const;
  double fitScale() const;
  QPointF displayToWidget(double u, double v) const;
  QPointF widgetToDisplay(QPointF p) const;
  void setCentreDisplay(QPointF uv);
  void updateReadout(const std::optional<Vec3>& world);

  std::shared_ptr<const Volume> reference_, image_;
  QString imageName_;
  SliceFrame frame_;
  SliceInterpolation interpolation_ = SliceInterpolation::Linear;
  SliceSampler imageSampler_;
  std::vector<SliceOverlay> overlays_;
  std::vector<std::unique_ptr<OverlayCache>> overlayCache_;
  SliceLink* ownLink_ = nullptr;
  SliceLink* link_ = nullptr;
  double low_ = 0, high_ = 1;
  bool windowSet_ = false;
  SliceIntensityStats stats_;

  int sampledSlice_ = -1;  // the slice in the sample buffers (-1: stale)
  bool composed_ = false;
  std::vector<float> samples_;
  QImage raster_;
  double lastRenderMs_ = 0;

  QString readout_;
  enum class Drag { None, Crosshair, Pan, Window } drag_ = Drag::None;
  QPointF dragStart_, dragCentre_;
  double dragLow_ = 0, dragHigh_ = 0;
  bool spaceDown_ = false;
};

}  // namespace loupe::widgets
