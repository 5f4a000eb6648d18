#include "SliceLink.h"

#include <algorithm>

namespace loupe::widgets {

void SliceLink::setCrosshair(const Vec3& world) {
  if (world == crosshair_) return;
  crosshair_ = world;
  Q_EMIT crosshairChanged();
}

void SliceLink::setCentre(const std::optional<Vec3>& world) {
  if (world == centre_) return;
  centre_ = world;
  Q_EMIT viewChanged();
}

void SliceLink::setZoom(double zoom) {
  zoom = std::clamp(zoom, 0.1, 64.0);
  if (zoom == zoom_) return;
  zoom_ = zoom;
  Q_EMIT viewChanged();
}

}  // namespace loupe::widgets
