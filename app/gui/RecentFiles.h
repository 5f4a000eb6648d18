#pragma once
// The File > Open Recent list, kept in QSettings: most recent first, no duplicates, at most 10.

#include <QSettings>
#include <QStringList>

namespace loupe::gui {

class RecentFiles {
 public:
  static constexpr int kMaxEntries = 10;

  RecentFiles();
  QStringList paths() const;
  void add(const QString& path);
  void remove(const QString& path);
  void clear();

 private:
  void store(const QStringList& paths);
  QSettings settings_;
};

}  // namespace loupe::gui
