#include "RecentFiles.h"

#include <QFileInfo>

namespace loupe::gui {

namespace {
const QString kKey = QStringLiteral("recentFiles");

QString canonical(const QString& path) {
  const QFileInfo info(path);
  const QString c = info.canonicalFilePath();
  return c.isEmpty() ? info.absoluteFilePath() : c;
}
}  // namespace

RecentFiles::RecentFiles() : settings_(QStringLiteral("Loupe"), QStringLiteral("loupe")) {}

QStringList RecentFiles::paths() const { return settings_.value(kKey).toStringList().mid(0, kMaxEntries); }

void RecentFiles::add(const QString& path) {
  const QString c = canonical(path);
  QStringList list = paths();
  list.removeAll(c);
  list.prepend(c);
  store(list.mid(0, kMaxEntries));
}

void RecentFiles::remove(const QString& path) {
  QStringList list = paths();
  list.removeAll(path);
  list.removeAll(canonical(path));
  store(list);
}

void RecentFiles::clear() { store({}); }

void RecentFiles::store(const QStringList& paths) {
  settings_.setValue(kKey, paths);
  settings_.sync();
}

}  // namespace loupe::gui
