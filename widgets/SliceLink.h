#pragma once
// SliceLink: what linked SliceViews share, in world space (LPS, mm) so views of different sequences and
// planes stay consistent: the crosshair point (each view shows the reference slice through it), the
// point at the view centres (each view projects it onto its plane: panning an axial view moves the
// coronal view along x too) and the zoom (a factor over each view's fit-to-window scale; views of the same
// plane of one reference grid therefore show the same millimetres per screen pixel).

#include <QObject>

#include <optional>

#include "core/Volume.h"

namespace loupe::widgets {

class SliceLink : public QObject {
  Q_OBJECT

 public:
  explicit SliceLink(QObject* parent = nullptr) : QObject(parent) {}

  Vec3 crosshair() const { return crosshair_; }
  void setCrosshair(const Vec3& world);
  // Empty until someone pans: views then centre on their slab.
  std::optional<Vec3> centre() const { return centre_; }
  void setCentre(const std::optional<Vec3>& world);
  double zoom() const { return zoom_; }  // 1 = fit to window
  void setZoom(double zoom);

 Q_SIGNALS:
  void crosshairChanged();
  void viewChanged();  // centre or zoom

 private:
  Vec3 crosshair_{0, 0, 0};
  std::optional<Vec3> centre_;
  double zoom_ = 1.0;
};

}  // namespace loupe::widgets
