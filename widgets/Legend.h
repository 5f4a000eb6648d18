#pragma once
// The legend boxes ImageView draws over the image: a heatmap's colour bar with its range and unit, a
// label map's visible labels with their colours and names. Other kinds have no legend.

#include <QFont>
#include <QImage>
#include <QRect>

#include "core/Colormap.h"

class QPainter;

namespace loupe::widgets {

class ViewLayer;

// The size of `layer`'s legend box; empty when the kind has none.
QSize legendSize(const ViewLayer& layer, const QFont& font);
void paintLegend(QPainter& painter, const QRect& box, const ViewLayer& layer, const QFont& font);

// The colour map as a `width` x 1 strip, t = 0 left to t = 1 right (same as QtImage's colormapStrip).
QImage legendStrip(Colormap map, int width);

}  // namespace loupe::widgets
