#include "LayerExport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <cstring>

#include "RasterLayers.h"
#include "io/ImageWriter.h"

namespace loupe::widgets {

namespace {

Error ioError(const QString& message) { return Error{ErrorCode::Io, message.toStdString()}; }

}  // namespace

Result<QStringList> exportLayer(const ViewLayer& layer, const QString& pngPath, QSize imageSize) {
  if (pngPath.isEmpty()) return Error{ErrorCode::InvalidArgument, "No file name given for the layer export"};
  QString png = pngPath;
  if (!png.endsWith(QStringLiteral(".png"), Qt::CaseInsensitive)) png += QStringLiteral(".png");
  const QImage drawn = layer.render(imageSize);
  if (drawn.isNull())
    return Error{ErrorCode::InvalidArgument, "Layer '" + layer.title().toStdString() + "' has nothing to export"};

  if (!QDir().mkpath(QFileInfo(png).absolutePath())) return ioError(QStringLiteral("Cannot create the folder of %1").arg(png));
  QSaveFile file(png);  // written to a temporary file, renamed into place on success
  if (!file.open(QIODevice::WriteOnly)) return ioError(QStringLiteral("Cannot write %1: %2").arg(png, file.errorString()));
  if (!drawn.convertToFormat(QImage::Format_ARGB32).save(&file, "PNG") || !file.commit())
    return ioError(QStringLiteral("Cannot write %1: %2").arg(png, file.errorString()));
  QStringList written{png};

  if (const auto* heatmap = dynamic_cast<const HeatmapLayer*>(&layer)) {
    const Heatmap& h = heatmap->heatmap();
    Image values(h.width, h.height, ColorOrder::Gray, PixelDepth::F32);
    for (int y = 0; y < h.height; ++y)
      std::memcpy(values.row<float>(y), h.values.data() + static_cast<std::size_t>(y) * h.width,
                  sizeof(float) * static_cast<std::size_t>(h.width));
    const QString tiff = png.left(png.size() - 4) + QStringLiteral(".tiff");
    if (auto ok = io::writeImage(values, QFile::encodeName(tiff).toStdString()); !ok) return ok.error();
    written << tiff;
  }
  return written;
}

}  // namespace loupe::widgets
