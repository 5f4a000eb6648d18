#include "Session.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace loupe::session {

const char* statusName(BookmarkStatus status) {
  switch (status) {
    case BookmarkStatus::Ok: return "ok";
    case BookmarkStatus::ToCheck: return "to_check";
    case BookmarkStatus::Warning: return "warning";
  }
  return "to_check";
}

QString statusTitle(BookmarkStatus status) {
  switch (status) {
    case BookmarkStatus::Ok: return QStringLiteral("OK");
    case BookmarkStatus::ToCheck: return QStringLiteral("To check");
    case BookmarkStatus::Warning: return QStringLiteral("Warning");
  }
  return {};
}

std::optional<BookmarkStatus> statusFromName(const QString& name) {
  for (auto s : {BookmarkStatus::Ok, BookmarkStatus::ToCheck, BookmarkStatus::Warning})
    if (name == QLatin1String(statusName(s))) return s;
  return std::nullopt;
}

bool ViewState::operator==(const ViewState& o) const {
  return scale == o.scale && centreX == o.centreX && centreY == o.centreY && fit == o.fit && compare == o.compare &&
         showOriginal == o.showOriginal;
}

bool LayerStyle::operator==(const LayerStyle& o) const {
  return id == o.id && visible == o.visible && opacity == o.opacity && rangeMin == o.rangeMin &&
         rangeMax == o.rangeMax && colormap == o.colormap && maskStyle == o.maskStyle && maskColour == o.maskColour &&
         labels == o.labels;
}

bool Bookmark::operator==(const Bookmark& o) const {
  return id == o.id && createdAt == o.createdAt && title == o.title && view == o.view && taskId == o.taskId &&
         params == o.params && visibleLayers == o.visibleLayers && status == o.status && comment == o.comment &&
         snapshotPng == o.snapshotPng;
}

bool StudySequence::operator==(const StudySequence& o) const {
  return role == o.role && path == o.path && sha256 == o.sha256 && size == o.size;
}

bool StudyCandidate::operator==(const StudyCandidate& o) const {
  return id == o.id && likelihood == o.likelihood && volumeMl == o.volumeMl && maxDiameterMm == o.maxDiameterMm &&
         centroidLps == o.centroidLps && location == o.location && pirads == o.pirads && comment == o.comment;
}

QString nowUtc() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODate); }

std::vector<ModelRef> modelsInParams(const ParamTexts& params) {
  std::vector<ModelRef> models;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    const QString folder = QString::fromStdString(value);
    QFile manifest(QDir(folder).filePath(QStringLiteral("loupe-model.json")));
    if (!QFileInfo(folder).isDir() || !manifest.open(QIODevice::ReadOnly)) continue;
    const QByteArray bytes = manifest.readAll();
    const QJsonObject json = QJsonDocument::fromJson(bytes).object();
    ModelRef ref;
    ref.path = QFileInfo(folder).absoluteFilePath();
    ref.id = json.value(QStringLiteral("id")).toString();
    ref.version = json.value(QStringLiteral("version")).toString();
    ref.manifestSha256 = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    const QJsonObject files = json.value(QStringLiteral("files")).toObject();
    for (auto it = files.begin(); it != files.end(); ++it) ref.files.emplace_back(it.key(), it.value().toString());
    if (ref.id.isEmpty()) ref.id = QFileInfo(folder).fileName();
    models.push_back(std::move(ref));
  }
  return models;
}

}  // namespace loupe::session
