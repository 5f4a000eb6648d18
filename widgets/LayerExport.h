#pragma once
// Saving one layer as files: the layer as drawn (PNG, transparent where it has nothing) and, for a
// heatmap, its float values as a 32-bit TIFF beside it (backend io::writeImage), so numbers survive.

#include <QSize>
#include <QString>
#include <QStringList>

#include "core/Result.h"

namespace loupe::widgets {

class ViewLayer;

// Writes `pngPath` (".png" is appended when missing) and, for heatmaps, the same name with ".tiff".
// `imageSize` is the size vector layers are drawn at. Returns the files written.
Result<QStringList> exportLayer(const ViewLayer& layer, const QString& pngPath, QSize imageSize);

}  // namespace loupe::widgets
