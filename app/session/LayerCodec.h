#pragma once
// A backend Layer as stored in a session: a JSON description (kind, id, title, size, range, colour map,
// unit, label table, vector geometry, table cells) plus, for raster layers, the raw samples as one
// little-endian binary blob (float32 heatmap, uint8 mask, int32 label map). Decoding gives back exactly
// the layer that was encoded (bit-identical samples, same order), so a restored session draws and
// reads out the same values without running the task again.

#include <QByteArray>
#include <QJsonObject>

#include "core/Layer.h"
#include "core/Result.h"

namespace loupe::session {

struct EncodedLayer {
  QJsonObject meta;
  QByteArray blob;      // empty for tables and vector layers
  QString blobSuffix;   // "f32", "u8", "i32"
};

// Without `withBlob` only the description and blobSuffix are filled (the data is already stored).
EncodedLayer encodeLayer(const Layer& layer, bool withBlob = true);
// The blob's bytes must be what encodeLayer produced for `meta` (size checked); `what` names the layer
// in errors.
Result<Layer> decodeLayer(const QJsonObject& meta, const QByteArray& blob, const QString& what);
// The blob's size that `meta` announces (0 for layers without a blob); -1 when `meta` is malformed.
qint64 expectedBlobSize(const QJsonObject& meta);

}  // namespace loupe::session
