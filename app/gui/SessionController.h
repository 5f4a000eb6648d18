#pragma once
// The window's case file: captures the window's state into a session::Session (input + hash, run with
// parameters and plugin version, layers, layer styles, view, bookmarks), restores one into the window,
// keeps the dirty state (title "name* — Loupe", asks before unsaved work is dropped), and autosaves to a
// recovery file every N seconds (AppSettings). A recovery file left by a process that is gone (a crash)
// is offered for restoring when the next window starts.
//
// Recovery files: <recoveryDir>/autosave-<pid>.loupe (+ its .d data folder); removed when the work is
// saved or the window closes normally.

#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

#include "core/Result.h"
#include "session/Session.h"

#include <QMessageBox>

namespace loupe::gui {

class AppSettings;
class MainWindow;

class SessionController : public QObject {
  Q_OBJECT

 public:
  SessionController(MainWindow& window, AppSettings& settings, QObject* parent = nullptr);
  ~SessionController() override;

  QString path() const { return path_; }
  bool isDirty() const { return dirty_; }
  void setDirty(bool dirty);
  // The session file's name, else the image's, else "Untitled".
  QString displayName() const;
  QString title() const { return title_; }
  void setTitle(const QString& title);

  // The window's state now.
  session::Session capture() const;
  // Saves to `path` (atomic); the session then belongs to that file and is clean.
  Result<void> save(const QString& path);
  // Loads `path` and restores it; problems (missing or changed input) go to the banner. False when the
  // file could not be read at all.
  bool open(const QString& path);
  // Restores `session` (read from `path`, empty for none) into the window.
  bool apply(const session::Session& session, const QString& path);
  // Forgets everything: no image, no layers, no bookmarks, no file.
  void newSession();

  // The File menu's interactive versions (dialogs); false when cancelled or failed.
  bool saveInteractive();
  bool saveAsInteractive();
  bool openInteractive();
  bool newInteractive();
  bool exportReportInteractive();
  // Asks Save / Discard / Cancel when there is unsaved work; true when it is fine to go on.
  bool maybeSave();

  // Asked when a session's input is missing: returns the file the user picked instead (empty: none).
  // The default shows a file dialog; tests set their own.
  using LocateInput = std::function<QString(const session::InputFile& missing)>;
  void setLocateInput(LocateInput locate) { locate_ = std::move(locate); }

  // ---- autosave and recovery
  static QString defaultRecoveryDir();
  void setRecoveryDir(const QString& dir);
  QString recoveryDir() const { return recoveryDir_; }
  QString recoveryPath() const;  // this process's autosave file
  bool autosaveNow();
  int autosaveInterval() const { return timer_.isActive() ? timer_.interval() / 1000 : 0; }
  // Autosave files of processes that no longer run, newest first.
  QStringList orphanedRecoveryFiles() const;
  // Shows the non-modal "restore the autosaved session?" prompt when there is an orphaned file.
  void offerRecovery();
  QMessageBox* recoveryPrompt() const { return prompt_; }
  bool restoreRecovery(const QString& file);
  static void removeSessionFiles(const QString& path);  // the file and its data folder
  // Called when the window closes normally.
  void shutdown();

  // ---- bookmarks
  // Captures the current view, tool, parameters, visible layers and a snapshot as a bookmark.
  session::Bookmark captureBookmark() const;
  void addBookmark();
  // Shows bookmark `index`'s view (zoom, centre, compare, visible layers) and selects its tool.
  bool goToBookmark(int index);

 Q_SIGNALS:
  void dirtyChanged(bool dirty);
  void pathChanged(const QString& path);
  void restored();

 private:
  void onRunFinished(bool ok);
  void onImageChanged();
  void onThresholdApplied(double threshold);
  void markDirty();
  void updateTimer();
  void applyStyles(const std::vector<session::LayerStyle>& styles);
  void applyView(const session::ViewState& view);

  MainWindow& window_;
  AppSettings& settings_;
  QString path_;
  QString title_;
  QString createdAt_;
  bool dirty_ = false;
  bool autosaveDue_ = false;
  int applying_ = 0;
  std::optional<session::RunRecord> run_;
  // The run's layers; after the threshold slider moved, rebuilt once (capture) with the mask and table as
  // shown (ThresholdPanel::writeShownTo), so a saved case reopens at the slider's operating point.
  mutable std::shared_ptr<const session::LayerSet> layers_;
  mutable bool shownStale_ = false;
  QString runImage_;  // the image run_ belongs to
  QTimer timer_;
  QString recoveryDir_;
  QPointer<QMessageBox> prompt_;
  LocateInput locate_;
};

}  // namespace loupe::gui
