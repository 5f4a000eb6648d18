#include "SessionFile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSet>

#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "LayerCodec.h"
#include "core/Sha256.h"

namespace loupe::session {

namespace {

constexpr const char* kFormat = "loupe-session";
constexpr qint64 kMaxJsonBytes = 256LL << 20;  // a session's JSON is small; refuse absurd files

QString sha256Of(const QByteArray& bytes) {
  return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

Error ioError(const QString& what) { return {ErrorCode::Io, what.toStdString()}; }
Error corrupt(const QString& what) { return {ErrorCode::CorruptData, what.toStdString()}; }

// Makes the renames in `dir` durable (the rename itself is atomic; fsync of the folder persists it).
void syncDirectory(const QString& dir) {
  const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<void> writeAtomically(const QString& path, const QByteArray& bytes) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly))
    return ioError(QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
  if (file.write(bytes) != bytes.size()) {
    const QString why = file.errorString();
    file.cancelWriting();
    return ioError(QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), why));
  }
  if (!file.commit())  // flush, fsync, rename over the target
    return ioError(QStringLiteral("cannot save %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
  return {};
}

// Writes `bytes` as sidecar file `name` unless a file of that name (content-addressed) and size is there.
Result<void> writeBlob(const QString& dir, const QString& name, const QByteArray& bytes) {
  const QFileInfo existing(QDir(dir).filePath(name));
  if (existing.isFile() && existing.size() == bytes.size()) return {};
  return writeAtomically(existing.filePath(), bytes);
}

Result<QByteArray> readBlob(const QString& dir, const QJsonObject& ref, const QString& what) {
  const QString name = ref.value("file").toString();
  const QString sha = ref.value("sha256").toString();
  if (name.isEmpty() || name.contains(QLatin1Char('/')) || name.startsWith(QLatin1Char('.')))
    return corrupt(QStringLiteral("%1: no valid data file name").arg(what));
  QFile file(QDir(dir).filePath(name));
  if (!file.open(QIODevice::ReadOnly))
    return ioError(QStringLiteral("%1: cannot read %2 (%3); the session's data folder %4 must stay beside the "
                                  "session file")
                       .arg(what, name, file.errorString(), QDir::toNativeSeparators(dir)));
  QByteArray bytes = file.readAll();
  if (sha256Of(bytes) != sha)
    return corrupt(QStringLiteral("%1: %2 is damaged (its SHA-256 does not match the session)").arg(what, name));
  return bytes;
}

QJsonArray paramsJson(const ParamTexts& params) {
  QJsonArray arr;
  for (const auto& [k, v] : params) arr.append(QJsonArray{QString::fromStdString(k), QString::fromStdString(v)});
  return arr;
}

ParamTexts paramsFrom(const QJsonValue& v) {
  ParamTexts params;
  for (const auto& p : v.toArray())
    params.emplace_back(p.toArray().at(0).toString().toStdString(), p.toArray().at(1).toString().toStdString());
  return params;
}

QJsonObject viewJson(const ViewState& v) {
  return {{"scale", v.scale}, {"centre", QJsonArray{v.centreX, v.centreY}}, {"fit", v.fit}, {"compare", v.compare},
          {"show_original", v.showOriginal}};
}

ViewState viewFrom(const QJsonObject& o) {
  ViewState v;
  v.scale = o.value("scale").toDouble(1.0);
  v.centreX = o.value("centre").toArray().at(0).toDouble();
  v.centreY = o.value("centre").toArray().at(1).toDouble();
  v.fit = o.value("fit").toBool(true);
  v.compare = o.value("compare").toBool();
  v.showOriginal = o.value("show_original").toBool();
  return v;
}

QJsonArray rgb(const std::array<std::uint8_t, 3>& c) { return {c[0], c[1], c[2]}; }
std::array<std::uint8_t, 3> rgbFrom(const QJsonValue& v) {
  const QJsonArray a = v.toArray();
  return {static_cast<std::uint8_t>(a.at(0).toInt()), static_cast<std::uint8_t>(a.at(1).toInt()),
          static_cast<std::uint8_t>(a.at(2).toInt())};
}

QJsonObject styleJson(const LayerStyle& s) {
  QJsonObject o{{"id", s.id}, {"visible", s.visible}, {"opacity", s.opacity}};
  if (s.rangeMin && s.rangeMax)
    o["range"] = QJsonArray{static_cast<double>(*s.rangeMin), static_cast<double>(*s.rangeMax)};
  if (!s.colormap.isEmpty()) o["colormap"] = s.colormap;
  if (!s.maskStyle.isEmpty()) o["mask_style"] = s.maskStyle;
  if (s.maskColour) o["mask_colour"] = rgb(*s.maskColour);
  if (!s.labels.empty()) {
    QJsonArray labels;
    for (const auto& l : s.labels) labels.append(QJsonObject{{"value", l.value}, {"visible", l.visible}, {"colour", rgb(l.colour)}});
    o["labels"] = labels;
  }
  return o;
}

LayerStyle styleFrom(const QJsonObject& o) {
  LayerStyle s;
  s.id = o.value("id").toString();
  s.visible = o.value("visible").toBool(true);
  s.opacity = o.value("opacity").toDouble(1.0);
  if (o.contains("range")) {
    s.rangeMin = static_cast<float>(o.value("range").toArray().at(0).toDouble());
    s.rangeMax = static_cast<float>(o.value("range").toArray().at(1).toDouble());
  }
  s.colormap = o.value("colormap").toString();
  s.maskStyle = o.value("mask_style").toString();
  if (o.contains("mask_colour")) s.maskColour = rgbFrom(o.value("mask_colour"));
  for (const auto& v : o.value("labels").toArray())
    s.labels.push_back({v.toObject().value("value").toInt(), v.toObject().value("visible").toBool(true),
                        rgbFrom(v.toObject().value("colour"))});
  return s;
}

QJsonObject runJson(const RunRecord& r) {
  QJsonArray models;
  for (const auto& m : r.models) {
    QJsonObject files;
    for (const auto& [f, sha] : m.files) files[f] = sha;
    models.append(QJsonObject{{"id", m.id}, {"version", m.version}, {"path", m.path},
                              {"manifest_sha256", m.manifestSha256}, {"files", files}});
  }
  return {{"task", r.taskId}, {"task_title", r.taskTitle}, {"plugin", r.pluginId}, {"plugin_version", r.pluginVersion},
          {"device", r.device}, {"device_name", r.deviceName}, {"params", paramsJson(r.params)},
          {"seconds", r.seconds}, {"finished", r.finishedAt}, {"models", models}};
}

RunRecord runFrom(const QJsonObject& o) {
  RunRecord r;
  r.taskId = o.value("task").toString();
  r.taskTitle = o.value("task_title").toString();
  r.pluginId = o.value("plugin").toString();
  r.pluginVersion = o.value("plugin_version").toString();
  r.device = o.value("device").toString();
  r.deviceName = o.value("device_name").toString();
  r.params = paramsFrom(o.value("params"));
  r.seconds = o.value("seconds").toDouble();
  r.finishedAt = o.value("finished").toString();
  for (const auto& v : o.value("models").toArray()) {
    const QJsonObject m = v.toObject();
    ModelRef ref{m.value("id").toString(), m.value("version").toString(), m.value("path").toString(),
                 m.value("manifest_sha256").toString(), {}};
    const QJsonObject files = m.value("files").toObject();
    for (auto it = files.begin(); it != files.end(); ++it) ref.files.emplace_back(it.key(), it.value().toString());
    r.models.push_back(std::move(ref));
  }
  return r;
}

QJsonArray vec3Json(const std::array<double, 3>& v) { return {v[0], v[1], v[2]}; }
std::array<double, 3> vec3From(const QJsonValue& value, std::array<double, 3> fallback = {0, 0, 0}) {
  const QJsonArray a = value.toArray();
  if (a.size() != 3) return fallback;
  return {a.at(0).toDouble(), a.at(1).toDouble(), a.at(2).toDouble()};
}

// A study volume's voxels as raw little-endian float32 / int32 (x fastest), as they are in memory.
QByteArray volumeBytes(const Volume& v) {
  if (v.type == VoxelType::Float32)
    return QByteArray(reinterpret_cast<const char*>(v.floats.data()), static_cast<qsizetype>(v.floats.size() * sizeof(float)));
  return QByteArray(reinterpret_cast<const char*>(v.ints.data()), static_cast<qsizetype>(v.ints.size() * sizeof(std::int32_t)));
}

QJsonObject studyJson(const StudyRecord& st, const QString& dir, QSet<QString>& referenced, Result<void>& failure) {
  QJsonArray sequences;
  for (const auto& q : st.sequences)
    sequences.append(QJsonObject{{"role", q.role}, {"path", q.path}, {"sha256", q.sha256}, {"size", static_cast<double>(q.size)}});
  QJsonArray volumes;
  for (const auto& sv : st.volumes) {
    if (!sv.volume) continue;
    const Volume& v = *sv.volume;
    const QByteArray bytes = volumeBytes(v);
    if (sv.blobSha.empty()) sv.blobSha = sha256Of(bytes).toStdString();
    const QString sha = QString::fromStdString(sv.blobSha);
    const QString name = QStringLiteral("volume-%1.%2").arg(sha, v.type == VoxelType::Float32 ? "f32" : "i32");
    if (auto w = writeBlob(dir, name, bytes); !w) {
      failure = w;
      return {};
    }
    referenced.insert(name);
    QJsonArray direction;
    for (double d : v.direction) direction.append(d);
    volumes.append(QJsonObject{
        {"id", sv.id}, {"title", sv.title}, {"type", v.type == VoxelType::Float32 ? "float32" : "int32"},
        {"size", QJsonArray{static_cast<double>(v.size[0]), static_cast<double>(v.size[1]), static_cast<double>(v.size[2])}},
        {"spacing", vec3Json(v.spacing)}, {"origin", vec3Json(v.origin)}, {"direction", direction},
        {"description", QString::fromStdString(v.description)},
        {"data", QJsonObject{{"file", name}, {"sha256", sha}, {"bytes", static_cast<double>(bytes.size())}}}});
  }
  QJsonArray candidates;
  for (const auto& c : st.candidates) {
    QJsonObject o{{"id", c.id}, {"likelihood", c.likelihood}, {"volume_ml", c.volumeMl},
                  {"max_diameter_mm", c.maxDiameterMm}, {"centroid_lps_mm", vec3Json(c.centroidLps)},
                  {"location", c.location}, {"comment", c.comment}};
    o["pirads"] = c.pirads ? QJsonValue(*c.pirads) : QJsonValue(QJsonValue::Null);
    candidates.append(o);
  }
  QJsonObject windows;
  for (const auto& [role, w] : st.windows) windows[role] = QJsonArray{w.first, w.second};
  return {{"sequences", sequences}, {"volumes", volumes}, {"candidates", candidates},
          {"view", QJsonObject{{"crosshair_lps_mm", vec3Json(st.crosshair)}, {"layout", st.layout}, {"plane", st.plane},
                               {"sequence", st.sequence}, {"zoom", st.zoom}, {"windows", windows}}}};
}

Result<StudyRecord> studyFrom(const QJsonObject& o, const QString& dir, const QString& shown) {
  StudyRecord st;
  for (const auto& v : o.value("sequences").toArray()) {
    const QJsonObject q = v.toObject();
    st.sequences.push_back({q.value("role").toString(), q.value("path").toString(), q.value("sha256").toString(),
                            static_cast<qint64>(q.value("size").toDouble())});
  }
  for (const auto& value : o.value("volumes").toArray()) {
    const QJsonObject m = value.toObject();
    const QString what = QStringLiteral("%1, study volume '%2'").arg(shown, m.value("id").toString());
    const QJsonArray size = m.value("size").toArray(), direction = m.value("direction").toArray();
    const QString type = m.value("type").toString();
    if (size.size() != 3 || direction.size() != 9 || (type != QLatin1String("float32") && type != QLatin1String("int32")))
      return corrupt(QStringLiteral("%1: size, direction or voxel type missing or wrong").arg(what));
    std::array<std::int64_t, 3> n{};
    for (int a = 0; a < 3; ++a) {
      n[a] = static_cast<std::int64_t>(size.at(a).toDouble(-1));
      if (n[a] < 0 || n[a] > (1 << 16)) return corrupt(QStringLiteral("%1: impossible size").arg(what));
    }
    Mat3 dir3{};
    for (int i = 0; i < 9; ++i) dir3[i] = direction.at(i).toDouble();
    const Vec3 spacing = vec3From(m.value("spacing"), {1, 1, 1}), origin = vec3From(m.value("origin"));
    Volume v = type == QLatin1String("float32") ? Volume::floatVolume(n, spacing, origin, dir3)
                                                : Volume::intVolume(n, spacing, origin, dir3);
    auto bytes = readBlob(dir, m.value("data").toObject(), what);
    if (!bytes) return bytes.error();
    const qsizetype expected = static_cast<qsizetype>(v.voxelCount() * 4);
    if (bytes->size() != expected)
      return corrupt(QStringLiteral("%1: %2 bytes of voxels where %3 were expected").arg(what).arg(bytes->size()).arg(expected));
    std::memcpy(v.type == VoxelType::Float32 ? static_cast<void*>(v.floats.data()) : static_cast<void*>(v.ints.data()),
                bytes->constData(), static_cast<std::size_t>(expected));
    v.description = m.value("description").toString().toStdString();
    StudyVolume sv{m.value("id").toString(), m.value("title").toString(), std::make_shared<const Volume>(std::move(v)),
                   m.value("data").toObject().value("sha256").toString().toStdString()};
    st.volumes.push_back(std::move(sv));
  }
  for (const auto& value : o.value("candidates").toArray()) {
    const QJsonObject c = value.toObject();
    StudyCandidate cand;
    cand.id = c.value("id").toInt();
    cand.likelihood = c.value("likelihood").toDouble();
    cand.volumeMl = c.value("volume_ml").toDouble();
    cand.maxDiameterMm = c.value("max_diameter_mm").toDouble();
    cand.centroidLps = vec3From(c.value("centroid_lps_mm"));
    cand.location = c.value("location").toString();
    cand.comment = c.value("comment").toString();
    if (c.value("pirads").isDouble()) {
      const int p = c.value("pirads").toInt();
      if (p < 1 || p > 5)
        return corrupt(QStringLiteral("%1: candidate %2 has PI-RADS %3 (expected 1-5 or null)").arg(shown).arg(cand.id).arg(p));
      cand.pirads = p;
    }
    st.candidates.push_back(std::move(cand));
  }
  const QJsonObject view = o.value("view").toObject();
  st.crosshair = vec3From(view.value("crosshair_lps_mm"));
  st.layout = view.value("layout").toString();
  st.plane = view.value("plane").toString();
  st.sequence = view.value("sequence").toString();
  st.zoom = view.value("zoom").toDouble(1.0);
  const QJsonObject windows = view.value("windows").toObject();
  for (auto it = windows.begin(); it != windows.end(); ++it)
    st.windows.emplace_back(it.key(), std::make_pair(it.value().toArray().at(0).toDouble(), it.value().toArray().at(1).toDouble()));
  return st;
}

}  // namespace

QString sidecarDir(const QString& sessionPath) { return sessionPath + QStringLiteral(".d"); }

Result<void> saveSession(const Session& session, const QString& path, const SaveInterruption& interrupt) {
  const QFileInfo info(path);
  if (info.isDir()) return ioError(QStringLiteral("cannot save the session as %1: it is a folder").arg(path));
  const QString dir = sidecarDir(info.absoluteFilePath());
  if (!QDir().mkpath(dir))
    return ioError(QStringLiteral("cannot create the session's data folder %1 (is %2 writable?)")
                       .arg(QDir::toNativeSeparators(dir), QDir::toNativeSeparators(info.absolutePath())));
  QSet<QString> referenced;

  QJsonObject root{{"format", kFormat}, {"schema", kSchemaVersion}, {"title", session.title},
                   {"created", session.createdAt}, {"saved", session.savedAt}, {"loupe_version", session.loupeVersion}};
  if (!session.autosaveOf.isEmpty()) root["autosave_of"] = session.autosaveOf;
  if (session.input)
    root["input"] = QJsonObject{{"path", session.input->path}, {"relative_path", session.input->relativePath},
                                {"sha256", session.input->sha256}, {"size", session.input->size}};
  if (session.run) root["run"] = runJson(*session.run);

  QJsonArray layers;
  if (session.layers) {
    const auto& set = *session.layers;
    set.blobSha.resize(set.layers.size());
    for (std::size_t i = 0; i < set.layers.size(); ++i) {
      std::string& sha = set.blobSha[i];
      // Data already stored under its hash (a previous save or autosave) is not encoded again.
      EncodedLayer enc = encodeLayer(set.layers[i], sha.empty());
      QJsonObject meta = enc.meta;
      if (!enc.blobSuffix.isEmpty()) {
        if (sha.empty()) sha = sha256Of(enc.blob).toStdString();
        const QString name = QStringLiteral("layer-%1.%2").arg(QString::fromStdString(sha), enc.blobSuffix);
        if (enc.blob.isEmpty() && !QFileInfo(QDir(dir).filePath(name)).isFile()) {
          enc = encodeLayer(set.layers[i], true);  // stored once, but not in this folder (Save As)
        }
        if (!enc.blob.isEmpty() || expectedBlobSize(meta) == 0) {
          if (auto w = writeBlob(dir, name, enc.blob); !w) return w;
        }
        meta["data"] = QJsonObject{{"file", name}, {"sha256", QString::fromStdString(sha)},
                                   {"bytes", static_cast<double>(expectedBlobSize(meta))}};
        referenced.insert(name);
      }
      layers.append(meta);
    }
  }
  root["layers"] = layers;

  QJsonArray styles;
  for (const auto& s : session.styles) styles.append(styleJson(s));
  root["styles"] = styles;
  root["view"] = viewJson(session.view);

  QJsonArray bookmarks;
  for (const auto& b : session.bookmarks) {
    QJsonObject o{{"id", b.id}, {"created", b.createdAt}, {"title", b.title}, {"view", viewJson(b.view)},
                  {"task", b.taskId}, {"params", paramsJson(b.params)},
                  {"visible_layers", QJsonArray::fromStringList(b.visibleLayers)},
                  {"status", QString::fromLatin1(statusName(b.status))}, {"comment", b.comment}};
    if (!b.snapshotPng.isEmpty()) {
      const QString sha = sha256Of(b.snapshotPng);
      const QString name = QStringLiteral("snapshot-%1.png").arg(sha);
      if (auto w = writeBlob(dir, name, b.snapshotPng); !w) return w;
      o["snapshot"] = QJsonObject{{"file", name}, {"sha256", sha}};
      referenced.insert(name);
    }
    bookmarks.append(o);
  }
  root["bookmarks"] = bookmarks;
  if (session.study) {
    Result<void> failure;
    root["study"] = studyJson(*session.study, dir, referenced, failure);
    if (!failure) return failure;
  }
  syncDirectory(dir);

  if (interrupt && !interrupt("data")) return Error{ErrorCode::Cancelled, "save interrupted after the data files"};
  const QByteArray json = QJsonDocument(root).toJson(QJsonDocument::Indented);
  if (interrupt && !interrupt("json")) return Error{ErrorCode::Cancelled, "save interrupted before the session file"};
  if (auto w = writeAtomically(info.absoluteFilePath(), json); !w) return w;
  syncDirectory(info.absolutePath());

  // Only now that the new JSON is in place: drop blobs the session no longer uses.
  const QStringList stored = QDir(dir).entryList({QStringLiteral("layer-*"), QStringLiteral("snapshot-*"), QStringLiteral("volume-*")}, QDir::Files);
  for (const QString& name : stored)
    if (!referenced.contains(name)) QFile::remove(QDir(dir).filePath(name));
  return {};
}

Result<Session> loadSession(const QString& path) {
  const QString shown = QDir::toNativeSeparators(path);
  QFile file(path);
  if (!QFileInfo(path).isFile())
    return Error{ErrorCode::NotFound, QStringLiteral("%1: no such session file").arg(shown).toStdString()};
  if (file.size() > kMaxJsonBytes) return corrupt(QStringLiteral("%1: too large for a session file").arg(shown));
  if (!file.open(QIODevice::ReadOnly)) return ioError(QStringLiteral("%1: %2").arg(shown, file.errorString()));
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
  if (parseError.error != QJsonParseError::NoError)
    return corrupt(QStringLiteral("%1 is not a valid session file: %2 at byte %3")
                       .arg(shown, parseError.errorString())
                       .arg(parseError.offset));
  const QJsonObject root = doc.object();
  if (root.value("format").toString() != QLatin1String(kFormat))
    return Error{ErrorCode::UnsupportedFormat,
                 QStringLiteral("%1 is not a Loupe session (no \"format\": \"loupe-session\")").arg(shown).toStdString()};
  const int schema = root.value("schema").toInt(-1);
  if (schema < 1 || schema > kSchemaVersion)
    return Error{ErrorCode::UnsupportedFormat,
                 QStringLiteral("%1 has session schema %2; this Loupe reads schema 1 to %3 (update Loupe)")
                     .arg(shown)
                     .arg(schema)
                     .arg(kSchemaVersion)
                     .toStdString()};

  Session s;
  s.schemaVersion = schema;
  s.title = root.value("title").toString();
  s.createdAt = root.value("created").toString();
  s.savedAt = root.value("saved").toString();
  s.loupeVersion = root.value("loupe_version").toString();
  s.autosaveOf = root.value("autosave_of").toString();
  if (root.contains("input")) {
    const QJsonObject in = root.value("input").toObject();
    s.input = InputFile{in.value("path").toString(), in.value("relative_path").toString(),
                        in.value("sha256").toString(), static_cast<qint64>(in.value("size").toDouble())};
  }
  if (root.contains("run")) s.run = runFrom(root.value("run").toObject());

  const QString dir = sidecarDir(QFileInfo(path).absoluteFilePath());
  auto set = std::make_shared<LayerSet>();
  for (const auto& v : root.value("layers").toArray()) {
    const QJsonObject meta = v.toObject();
    const QString what = QStringLiteral("%1, layer '%2'").arg(shown, meta.value("id").toString());
    QByteArray blob;
    std::string sha;
    if (expectedBlobSize(meta) != 0) {
      auto bytes = readBlob(dir, meta.value("data").toObject(), what);
      if (!bytes) return bytes.error();
      blob = std::move(*bytes);
      sha = meta.value("data").toObject().value("sha256").toString().toStdString();
    }
    auto layer = decodeLayer(meta, blob, what);
    if (!layer) return layer.error();
    set->layers.push_back(std::move(*layer));
    set->blobSha.push_back(sha);
  }
  s.layers = std::move(set);
  for (const auto& v : root.value("styles").toArray()) s.styles.push_back(styleFrom(v.toObject()));
  s.view = viewFrom(root.value("view").toObject());

  for (const auto& v : root.value("bookmarks").toArray()) {
    const QJsonObject o = v.toObject();
    Bookmark b;
    b.id = o.value("id").toString();
    b.createdAt = o.value("created").toString();
    b.title = o.value("title").toString();
    b.view = viewFrom(o.value("view").toObject());
    b.taskId = o.value("task").toString();
    b.params = paramsFrom(o.value("params"));
    for (const auto& l : o.value("visible_layers").toArray()) b.visibleLayers << l.toString();
    b.status = statusFromName(o.value("status").toString()).value_or(BookmarkStatus::ToCheck);
    b.comment = o.value("comment").toString();
    if (o.contains("snapshot")) {
      auto bytes = readBlob(dir, o.value("snapshot").toObject(), QStringLiteral("%1, bookmark '%2'").arg(shown, b.title));
      if (!bytes) return bytes.error();
      b.snapshotPng = std::move(*bytes);
    }
    s.bookmarks.push_back(std::move(b));
  }
  if (root.contains("study")) {
    auto study = studyFrom(root.value("study").toObject(), dir, shown);
    if (!study) return study.error();
    s.study = std::move(*study);
  }
  return s;
}

Result<StudySequence> describeStudySequence(const QString& role, const QString& path) {
  const QFileInfo info(path);
  StudySequence q;
  q.role = role;
  q.path = info.absoluteFilePath();
  if (info.isFile()) {
    auto sha = Sha256::ofFile(QFile::encodeName(q.path).toStdString());
    if (!sha) return sha.error();
    q.sha256 = QString::fromStdString(*sha);
    q.size = info.size();
    return q;
  }
  if (!info.isDir())
    return Error{ErrorCode::NotFound, QStringLiteral("%1: no such file or folder").arg(QDir::toNativeSeparators(path)).toStdString()};
  QByteArray lines;
  const QFileInfoList files = QDir(q.path).entryInfoList(QDir::Files, QDir::Name);
  for (const QFileInfo& f : files) {
    auto sha = Sha256::ofFile(QFile::encodeName(f.absoluteFilePath()).toStdString());
    if (!sha) return sha.error();
    lines += f.fileName().toUtf8() + ' ' + QByteArray::fromStdString(*sha) + '\n';
    q.size += f.size();
  }
  q.sha256 = sha256Of(lines);
  return q;
}

Result<InputFile> describeInput(const QString& path, const QString& sessionPath) {
  const QFileInfo info(path);
  auto sha = Sha256::ofFile(QFile::encodeName(info.absoluteFilePath()).toStdString());
  if (!sha) return sha.error();
  InputFile in;
  in.path = info.absoluteFilePath();
  in.relativePath = sessionPath.isEmpty() ? QString() : QFileInfo(sessionPath).absoluteDir().relativeFilePath(in.path);
  in.sha256 = QString::fromStdString(*sha);
  in.size = info.size();
  return in;
}

InputCheck checkInput(const InputFile& input, const QString& sessionPath) {
  InputCheck check;
  const QString name = QFileInfo(input.path).fileName();
  auto hashOf = [](const QString& p) -> QString {
    auto sha = Sha256::ofFile(QFile::encodeName(p).toStdString());
    return sha ? QString::fromStdString(*sha) : QString();
  };
  if (QFileInfo(input.path).isFile()) {
    check.path = input.path;
    check.sha256 = hashOf(input.path);
    if (check.sha256 == input.sha256) {
      check.state = InputCheck::State::Ok;
      return check;
    }
  }
  // Moved together with the session: the same file at the same place relative to it.
  if (!input.relativePath.isEmpty() && !sessionPath.isEmpty()) {
    const QString beside = QFileInfo(sessionPath).absoluteDir().absoluteFilePath(input.relativePath);
    if (QDir::cleanPath(beside) != QDir::cleanPath(input.path) && QFileInfo(beside).isFile() && hashOf(beside) == input.sha256) {
      check.state = InputCheck::State::Moved;
      check.path = QDir::cleanPath(beside);
      check.sha256 = input.sha256;
      check.message = QStringLiteral("%1 was not found at %2; using the identical file (same SHA-256) at %3")
                          .arg(name, QDir::toNativeSeparators(input.path), QDir::toNativeSeparators(check.path));
      return check;
    }
  }
  if (!check.path.isEmpty()) {
    check.state = InputCheck::State::Changed;
    check.message = QStringLiteral("%1 has changed since the session was saved: its SHA-256 is %2, the session "
                                   "recorded %3. The results may not belong to this file.")
                        .arg(QDir::toNativeSeparators(input.path), check.sha256.left(16) + QStringLiteral("\u2026"),
                             input.sha256.left(16) + QStringLiteral("\u2026"));
    return check;
  }
  check.state = InputCheck::State::Missing;
  check.message = QStringLiteral("The input %1 is missing (moved or deleted). Locate it to restore the session.")
                      .arg(QDir::toNativeSeparators(input.path));
  return check;
}

}  // namespace loupe::session
