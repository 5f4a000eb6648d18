#pragma once
// VolumeView3D: a 3-D view of one study in world space (LPS, mm), drawn by VTK inside a Qt 6
// QOpenGLWidget (Debian's VTK Qt module is built for Qt 5, so VTK renders through
// vtkGenericOpenGLRenderWindow into this widget's OpenGL context instead).
//
// What it shows:
//  - the volume (e.g. the T2W) as a volume rendering, placed by its origin, spacing and direction
//    cosines (an oblique acquisition appears oblique);
//  - surfaces of label volumes (gland, zones, lesion candidates): one surface per label value, built
//    with discrete flying edges, one colour per label, with opacity;
//  - a 3-D crosshair marker at a world position.
// Mouse: left drag rotates (trackball), right drag or wheel zooms, middle drag (or Shift+left) pans;
// key R or resetCamera() frames everything.
//
// VTK stays private (pimpl): including this header costs Qt only. Needs an OpenGL 3.2 core context;
// where none can be made (e.g. `-platform offscreen`), isReady() stays false and lastError() says why.

#include <QOpenGLWidget>
#include <QColor>
#include <QImage>
#include <QString>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/Volume.h"

namespace loupe::widgets {

class VolumeView3D : public QOpenGLWidget {
  Q_OBJECT

 public:
  // How the intensity volume is drawn.
  enum class VolumeMode {
    Rendering,  // ray-cast volume rendering (vtkSmartVolumeMapper), translucent so surfaces show through
    Slices,     // the volume's three index planes through the crosshair (as in 3D Slicer's 3-D view)
    Hidden,     // surfaces only
  };

  // One label's surface appearance. Labels without an entry get a colour from a fixed palette.
  struct LabelStyle {
    std::int32_t label = 0;
    QColor color;
    double opacity = 0.6;
    QString name;
    bool visible = true;
  };

  explicit VolumeView3D(QWidget* parent = nullptr);
  ~VolumeView3D() override;

  // The intensity volume (T2W). Float or int voxels; an empty volume clears it.
  void setVolume(const loupe::Volume& v);
  // Label surfaces (zones, candidates): one surface per non-zero label value. The label volume may be
  // in a different grid from setVolume's; both are placed in world space. An empty volume or one with
  // no non-zero voxel removes the surfaces (surfaceCount() == 0).
  void setLabelSurfaces(const loupe::Volume& labels);
  // A second set of label surfaces (e.g. candidates on top of zones) replaces only that set.
  // set 0 is the one setLabelSurfaces() fills.
  void setLabelSurfaces(int set, const loupe::Volume& labels);
  void clearLabelSurfaces(int set = -1);  // -1: all sets
  void setLabelStyles(int set, const std::vector<LabelStyle>& styles);
  void setLabelOpacity(double opacity);  // all sets, 0..1

  // The 3-D crosshair (three axis-aligned lines through the point and a small sphere), world mm (LPS).
  void setCrosshair(std::array<double, 3> worldMm);
  void setCrosshairVisible(bool visible);

  void setVolumeMode(VolumeMode mode);
  VolumeMode volumeMode() const;
  // Window/level of the volume rendering's opacity/colour ramp in voxel units; default: the 1st-99th
  // percentile of the volume's voxels.
  void setWindow(double low, double high);

  // Frames everything that is shown (anatomical view: looking from anterior, head up).
  void resetCamera();
  // Turns the camera about the focal point: azimuth about the view-up axis, then elevation (degrees).
  void rotateView(double azimuthDeg, double elevationDeg);

  // Renders now and returns the widget's pixels (not a screen grab: works when the window is covered).
  QImage grabRendered();

  // State, for panels and tests.
  bool isReady() const;   // an OpenGL context was made and VTK renders into it
  QString lastError() const;
  int surfaceCount() const;  // labels with a non-empty surface, over all sets
  std::vector<std::int32_t> surfaceLabels(int set = 0) const;
  // World-space bounds (xmin, xmax, ymin, ymax, zmin, zmax; LPS mm) of one label's surface in a set,
  // or all zeros when that label has no surface.
  std::array<double, 6> surfaceBounds(std::int32_t label, int set = 0) const;
  // Bounds of everything shown (volume + surfaces), LPS mm; zeros when nothing is shown.
  std::array<double, 6> sceneBounds() const;

 Q_SIGNALS:
  // The renderer failed to start (no OpenGL 3.2 context); the message says what to do.
  void renderError(const QString& message);

 protected:
  void initializeGL() override;
  void paintGL() override;
  void resizeGL(int w, int h) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> d;
};

}  // namespace loupe::widgets
