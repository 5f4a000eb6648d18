#pragma once
// Conversions from loupe's Qt-free raster types to QImage, for drawing. Always deep copies: the QImage
// never points into the loupe::Image's buffer.

#include <QImage>

#include "core/Image.h"
#include "core/Layer.h"

namespace loupe::widgets {

// An 8-bit QImage of any loupe::Image: 16-bit samples are scaled to 8 bits (divided by 257), float
// samples are taken as 0..1. Gray -> Grayscale8, RGB/BGR -> RGB888, alpha orders -> ARGB32.
// An empty image gives a null QImage.
QImage toQImage(const Image& image);

// The heatmap drawn through its colour map over [rangeMin, rangeMax] (Heatmap::render()), as ARGB32.
QImage toQImage(const Heatmap& heatmap);

// The colour map as a `width` x 1 ARGB32 strip from t = 0 (left) to t = 1 (right), for legends.
QImage colormapStrip(Colormap map, int width = 256);

}  // namespace loupe::widgets
