#include "LayerCodec.h"

#include <QJsonArray>
#include <QtEndian>

#include <cmath>
#include <limits>
#include <string>

namespace loupe::session {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QJsonValue& v) { return v.toString().toStdString(); }

template <class T>
QByteArray toLittleEndian(const std::vector<T>& values) {
  QByteArray out(static_cast<qsizetype>(values.size() * sizeof(T)), Qt::Uninitialized);
  qToLittleEndian<T>(values.data(), static_cast<qsizetype>(values.size()), out.data());
  return out;
}

template <class T>
std::vector<T> fromLittleEndian(const QByteArray& bytes) {
  std::vector<T> out(static_cast<std::size_t>(bytes.size()) / sizeof(T));
  qFromLittleEndian<T>(bytes.constData(), static_cast<qsizetype>(out.size()), out.data());
  return out;
}

QJsonValue number(double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); }  // NaN: null
double numberOr(const QJsonValue& v, double fallback) { return v.isDouble() ? v.toDouble() : fallback; }

QJsonArray point(Point2 p) { return {static_cast<double>(p.x), static_cast<double>(p.y)}; }
Point2 toPoint(const QJsonValue& v) {
  const QJsonArray a = v.toArray();
  return {static_cast<float>(a.at(0).toDouble()), static_cast<float>(a.at(1).toDouble())};
}

QJsonObject encodeLabels(const std::vector<LabelInfo>& labels) {
  QJsonArray arr;
  for (const auto& l : labels) {
    QJsonObject o{{"value", l.value}, {"name", qs(l.name)}, {"visible", l.visible}};
    if (l.colour) o["colour"] = QJsonArray{(*l.colour)[0], (*l.colour)[1], (*l.colour)[2]};
    arr.append(o);
  }
  return {{"labels", arr}};
}

std::vector<LabelInfo> decodeLabels(const QJsonArray& arr) {
  std::vector<LabelInfo> labels;
  for (const auto& v : arr) {
    const QJsonObject o = v.toObject();
    LabelInfo l;
    l.value = o.value("value").toInt();
    l.name = ss(o.value("name"));
    l.visible = o.value("visible").toBool(true);
    if (o.contains("colour")) {
      const QJsonArray c = o.value("colour").toArray();
      l.colour = std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(c.at(0).toInt()),
                                             static_cast<std::uint8_t>(c.at(1).toInt()),
                                             static_cast<std::uint8_t>(c.at(2).toInt())};
    }
    labels.push_back(std::move(l));
  }
  return labels;
}

struct Encoder {
  EncodedLayer& out;
  bool withBlob;
  void size(int w, int h) {
    out.meta["width"] = w;
    out.meta["height"] = h;
  }
  void operator()(const Heatmap& h) {
    size(h.width, h.height);
    out.meta["range"] = QJsonArray{static_cast<double>(h.rangeMin), static_cast<double>(h.rangeMax)};
    out.meta["colormap"] = QString::fromLatin1(colormapName(h.colormap));
    out.meta["unit"] = qs(h.unit);
    if (withBlob) out.blob = toLittleEndian(h.values);
    out.blobSuffix = QStringLiteral("f32");
  }
  void operator()(const Mask& m) {
    size(m.width, m.height);
    if (withBlob) out.blob = QByteArray(reinterpret_cast<const char*>(m.values.data()), static_cast<qsizetype>(m.values.size()));
    out.blobSuffix = QStringLiteral("u8");
  }
  void operator()(const LabelMap& m) {
    size(m.width, m.height);
    out.meta["labels"] = encodeLabels(m.labels).value("labels");
    if (withBlob) out.blob = toLittleEndian(m.values);
    out.blobSuffix = QStringLiteral("i32");
  }
  void operator()(const Table& t) {
    QJsonArray columns, rows;
    for (const auto& c : t.columns) columns.append(qs(c));
    for (const auto& r : t.rows) {
      QJsonArray row;
      for (const auto& cell : r) row.append(qs(cell));
      rows.append(row);
    }
    out.meta["columns"] = columns;
    out.meta["rows"] = rows;
  }
  void operator()(const Polylines& p) {
    size(p.width, p.height);
    QJsonArray lines;
    for (const auto& line : p.lines) {
      QJsonArray pts;
      for (const auto& pt : line.points) pts.append(point(pt));
      lines.append(QJsonObject{{"points", pts}, {"label", qs(line.label)}});
    }
    out.meta["lines"] = lines;
  }
  void operator()(const Boxes& b) {
    size(b.width, b.height);
    QJsonArray boxes;
    for (const auto& box : b.boxes)
      boxes.append(QJsonObject{{"rect", QJsonArray{static_cast<double>(box.x), static_cast<double>(box.y),
                                                   static_cast<double>(box.w), static_cast<double>(box.h)}},
                               {"label", qs(box.label)},
                               {"score", number(box.score)}});
    out.meta["boxes"] = boxes;
  }
  void operator()(const Points& p) {
    size(p.width, p.height);
    QJsonArray points;
    for (const auto& k : p.points) points.append(QJsonObject{{"at", point(k.position)}, {"label", qs(k.label)}});
    out.meta["points"] = points;
  }
};

}  // namespace

EncodedLayer encodeLayer(const Layer& layer, bool withBlob) {
  EncodedLayer out;
  out.meta["kind"] = qs(layer.kind());
  out.meta["id"] = qs(layer.id);
  out.meta["title"] = qs(layer.title);
  std::visit(Encoder{out, withBlob}, layer.payload);
  return out;
}

qint64 expectedBlobSize(const QJsonObject& meta) {
  const QString kind = meta.value("kind").toString();
  const int w = meta.value("width").toInt(-1), h = meta.value("height").toInt(-1);
  const bool raster = kind == "heatmap" || kind == "mask" || kind == "labelmap";
  if (!raster) return 0;
  if (w < 0 || h < 0) return -1;
  const qint64 n = static_cast<qint64>(w) * h;
  return kind == "mask" ? n : n * 4;
}

Result<Layer> decodeLayer(const QJsonObject& meta, const QByteArray& blob, const QString& what) {
  const QString kind = meta.value("kind").toString();
  const qint64 expected = expectedBlobSize(meta);
  auto bad = [&](const QString& why) {
    return Error{ErrorCode::CorruptData, (what + QStringLiteral(": ") + why).toStdString()};
  };
  if (expected < 0) return bad(QStringLiteral("layer has no valid width/height"));
  if (blob.size() != expected)
    return bad(QStringLiteral("layer data holds %1 bytes, %2 expected").arg(blob.size()).arg(expected));
  Layer layer;
  layer.id = ss(meta.value("id"));
  layer.title = ss(meta.value("title"));
  const int w = meta.value("width").toInt(), h = meta.value("height").toInt();
  if (kind == "heatmap") {
    Heatmap m;
    m.width = w, m.height = h;
    const QJsonArray range = meta.value("range").toArray();
    m.rangeMin = static_cast<float>(range.at(0).toDouble(0.0));
    m.rangeMax = static_cast<float>(range.at(1).toDouble(1.0));
    auto map = colormapFromName(ss(meta.value("colormap")));
    if (!map) return bad(QString::fromStdString(map.error().message));
    m.colormap = *map;
    m.unit = ss(meta.value("unit"));
    m.values = fromLittleEndian<float>(blob);
    layer.payload = std::move(m);
  } else if (kind == "mask") {
    Mask m;
    m.width = w, m.height = h;
    m.values.assign(reinterpret_cast<const std::uint8_t*>(blob.constData()),
                    reinterpret_cast<const std::uint8_t*>(blob.constData()) + blob.size());
    layer.payload = std::move(m);
  } else if (kind == "labelmap") {
    LabelMap m;
    m.width = w, m.height = h;
    m.labels = decodeLabels(meta.value("labels").toArray());
    m.values = fromLittleEndian<std::int32_t>(blob);
    layer.payload = std::move(m);
  } else if (kind == "table") {
    Table t;
    for (const auto& c : meta.value("columns").toArray()) t.columns.push_back(ss(c));
    for (const auto& r : meta.value("rows").toArray()) {
      std::vector<std::string> row;
      for (const auto& cell : r.toArray()) row.push_back(ss(cell));
      t.rows.push_back(std::move(row));
    }
    layer.payload = std::move(t);
  } else if (kind == "polylines") {
    Polylines p;
    p.width = w, p.height = h;
    for (const auto& v : meta.value("lines").toArray()) {
      Polyline line;
      for (const auto& pt : v.toObject().value("points").toArray()) line.points.push_back(toPoint(pt));
      line.label = ss(v.toObject().value("label"));
      p.lines.push_back(std::move(line));
    }
    layer.payload = std::move(p);
  } else if (kind == "boxes") {
    Boxes b;
    b.width = w, b.height = h;
    for (const auto& v : meta.value("boxes").toArray()) {
      const QJsonObject o = v.toObject();
      const QJsonArray r = o.value("rect").toArray();
      Box box;
      box.x = static_cast<float>(r.at(0).toDouble());
      box.y = static_cast<float>(r.at(1).toDouble());
      box.w = static_cast<float>(r.at(2).toDouble());
      box.h = static_cast<float>(r.at(3).toDouble());
      box.label = ss(o.value("label"));
      box.score = numberOr(o.value("score"), std::numeric_limits<double>::quiet_NaN());
      b.boxes.push_back(std::move(box));
    }
    layer.payload = std::move(b);
  } else if (kind == "points") {
    Points p;
    p.width = w, p.height = h;
    for (const auto& v : meta.value("points").toArray())
      p.points.push_back({toPoint(v.toObject().value("at")), ss(v.toObject().value("label"))});
    layer.payload = std::move(p);
  } else {
    return bad(QStringLiteral("unknown layer kind '%1'").arg(kind));
  }
  return layer;
}

}  // namespace loupe::session
