#pragma once
// The Bookmarks panel of forensic case work: one row per bookmark (snapshot thumbnail, title, status);
// below it the selected bookmark's title, status (OK / to check / warning) and comment, all editable.
// Clicking a row asks the window to go to that view (activated()); Delete removes the selected one.
// The panel owns the list; the session controller saves and restores it.

#include <QDockWidget>

#include <vector>

#include "session/Session.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QToolButton;

namespace loupe::gui {

class BookmarkDock : public QDockWidget {
  Q_OBJECT

 public:
  explicit BookmarkDock(QWidget* parent = nullptr);

  const std::vector<session::Bookmark>& bookmarks() const { return bookmarks_; }
  void setBookmarks(std::vector<session::Bookmark> bookmarks);
  // Appends and selects it.
  void add(session::Bookmark bookmark);
  bool remove(int index);
  int count() const { return static_cast<int>(bookmarks_.size()); }
  int currentIndex() const;
  void setCurrentIndex(int index);
  void setStatus(int index, session::BookmarkStatus status);
  void setComment(int index, const QString& comment);
  void setTitle(int index, const QString& title);

  QListWidget* list() const { return list_; }

 Q_SIGNALS:
  // A row was clicked or activated: go to that bookmark's view.
  void activated(int index);
  // Any bookmark was added, removed or edited.
  void changed();
  // The "+" button: capture the current view as a new bookmark.
  void addRequested();

 private:
  void refreshRow(int index);
  void showDetails();
  void rebuild();

  std::vector<session::Bookmark> bookmarks_;
  bool updating_ = false;
  QListWidget* list_ = nullptr;
  QToolButton* add_ = nullptr;
  QToolButton* delete_ = nullptr;
  QWidget* details_ = nullptr;
  QLineEdit* title_ = nullptr;
  QComboBox* status_ = nullptr;
  QPlainTextEdit* comment_ = nullptr;
  QLabel* info_ = nullptr;
};

}  // namespace loupe::gui
