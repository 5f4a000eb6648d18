#pragma once
// The main window: tasks from the plugin manifests on the left (tree + parameter form + Run), the image
// with the result layers in the middle (ImageView; View > Compare Side by Side splits it into the original
// and the result, synchronized), the layer list and result tables on the right, job progress and Cancel
// in the status bar and in the Jobs panel (JobBar), and a non-modal banner for errors and input warnings.
// One main run at a time, plus one run into the second view (CompareSlot) to compare two results.
// The work is a session (SessionController: File > New/Open/Save Session, autosave, recovery, report
// export) with bookmarks (BookmarkDock); Edit > Settings opens the SettingsDialog (AppSettings).

#include <QMainWindow>
#include <QString>

#include "AnalysisJob.h"
#include "ParamForm.h"
#include "RecentFiles.h"
#include "host/PluginHost.h"

class QAction;
class QCheckBox;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTableWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace loupe::widgets {
class ImageView;
class JobBar;
class LayerList;
class LayerStack;
class ViewSync;
}

namespace loupe::gui {

class AppSettings;
class BookmarkDock;
class CompareSlot;
class ErrorBanner;
class GalleryWindow;
class StudyWindow;
class TrainingPanel;
class JobBarLink;
class SessionController;
class ThresholdPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // `host` must be scanned already and outlive the window.
  explicit MainWindow(host::PluginHost& host, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads and shows an image. On failure the banner says why and the current image stays.
  bool openImage(const QString& path);
  QString imagePath() const { return imagePath_; }

  bool selectTask(const QString& taskId);
  QString selectedTaskId() const;
  // Sets parameter editors from "name=value" texts (command line); the banner reports bad ones.
  bool applyParameters(const ParamForm::Overrides& values);
  void setDevice(const QString& device) { device_ = device; }

  // Runs the selected task on the current image. False (and a banner) when it cannot start.
  bool runSelectedTask();
  void cancelRun();
  bool isBusy() const { return job_.isRunning(); }
  const JobResult& lastResult() const { return job_.result(); }

  // The main view (the result: image + layers) and the layers it draws.
  widgets::ImageView* view() const { return view_; }
  widgets::LayerStack* layers() const { return layers_; }
  widgets::LayerList* layerList() const { return layerList_; }
  // The operating point of a heatmap + mask result (forgery.localize): moves the mask live.
  ThresholdPanel* thresholdPanel() const { return thresholdPanel_; }
  // Side by side: the original on the left, the result on the right, zoom/pan/cursor synchronized.
  void setCompare(bool compare);
  bool isComparing() const;
  widgets::ImageView* compareView() const { return compareView_; }
  ErrorBanner* banner() const { return banner_; }

  // ---- sessions, bookmarks, settings
  host::PluginHost& host() const { return host_; }
  // The request of the last run started (task, input, parameters, device).
  const host::RunRequest& lastRequest() const { return lastRequest_; }
  // Draws `layers` (a result) over the current image, as a finished run does; tables go to the Results panel.
  void showLayers(const std::vector<Layer>& layers);
  // A saved result (session restore): its layers, captioned as the run `run` that made them.
  void showRestoredResult(const host::RunRequest& run, const std::vector<Layer>& layers);
  // No image, no layers (File > New Session).
  void closeImage();
  // What bookmark snapshots show: the view, or both views when comparing.
  QWidget* viewArea() const;
  SessionController* session() const { return session_; }
  BookmarkDock* bookmarks() const { return bookmarkDock_; }
  AppSettings* settings() const { return settings_; }
  // "case.loupe* — Loupe": the session's name and whether it has unsaved changes.
  void updateTitle();
  void statusBarMessage(const QString& text);
  // Offers to restore work autosaved by a Loupe that did not close (on by default, at start-up).
  void setRecoveryPromptEnabled(bool enabled) { recoveryPrompt_ = enabled; }
  void openSettings();

  // ---- jobs, comparing two results, galleries
  // Every job of the window (main runs and second-view runs) with progress, ETA, cancel and outcome.
  widgets::JobBar* jobBar() const { return jobBar_; }
  // Runs the selected task with the parameters in the form into the second view, shown left of the main
  // result and synchronized with it: two tools, or one tool with two parameter sets, side by side.
  bool runSelectedTaskInCompare();
  // Same for any task: `params` are name=value texts over the task's defaults (command line).
  bool runCompareTask(const QString& taskId, const ParamForm::Overrides& params);
  CompareSlot* compareSlot() const { return compareSlot_; }
  // Shows a folder or a ranked list (see GalleryWindow) in a gallery window; opening an item opens it here.
  GalleryWindow* openGallery(const QString& path);
  // Opens an MRI study (files and/or DICOM folders, or one folder) in a new StudyWindow (File > Open Study).
  StudyWindow* openStudy(const QStringList& paths);
  // The embedding training panel (Analysis > Train Embeddings...) in its own window, created on first use.
  TrainingPanel* openTrainingPanel();

 Q_SIGNALS:
  // After a run ended and its result (if any) is drawn; ok is false for failures and cancellations.
  void runFinished(bool ok);
  // After a second-view run ended (see runCompareTask()).
  void compareFinished(bool ok);
  // Another image is shown (or none); imagePath() says which.
  void imageChanged();

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createActions();
  void createCentralArea();
  void createTaskDock();
  void createResultDock();
  void createLayerDock();
  void createBookmarkDock();
  void createJobDock();
  void onCompareFinished(bool ok, const QString& message);
  void openGalleryDialog();
  QString mainCaption() const;
  void updateCompareCaptions();
  void applySettings();
  void createStatusBar();
  void populateTaskTree();
  void onTaskSelected(QTreeWidgetItem* item);
  void onJobFinished();
  void onProgress(double fraction, const QString& stage);
  void setBusy(bool busy);
  void showResult(const JobResult& result);
  void showTables(const std::vector<Layer>& layers);
  void openDialog();
  void rebuildRecentMenu();
  void openRecent(const QString& path);
  void updateActions();

  host::PluginHost& host_;
  AnalysisJob job_;
  RecentFiles recent_;
  QString imagePath_;
  QString runPath_;  // the input of the running (or last) job
  QString device_ = QStringLiteral("auto");
  host::RunRequest lastRequest_;
  AppSettings* settings_ = nullptr;
  SessionController* session_ = nullptr;
  BookmarkDock* bookmarkDock_ = nullptr;
  bool recoveryPrompt_ = true;
  widgets::JobBar* jobBar_ = nullptr;
  JobBarLink* jobLink_ = nullptr;
  CompareSlot* compareSlot_ = nullptr;
  GalleryWindow* gallery_ = nullptr;
  TrainingPanel* trainingPanel_ = nullptr;
  // The run whose result the main view shows (taskId empty: none) and the run in progress.
  host::RunRequest mainRun_, pendingRun_;
  QPushButton* compareRunButton_ = nullptr;
  QAction* compareRunAction_ = nullptr;

  widgets::LayerStack* layers_ = nullptr;
  widgets::ImageView* view_ = nullptr;
  widgets::ImageView* compareView_ = nullptr;
  widgets::ViewSync* sync_ = nullptr;
  widgets::LayerList* layerList_ = nullptr;
  ThresholdPanel* thresholdPanel_ = nullptr;
  QSplitter* splitter_ = nullptr;
  ErrorBanner* banner_ = nullptr;
  QTreeWidget* taskTree_ = nullptr;
  ParamForm* paramForm_ = nullptr;
  QLabel* taskDescription_ = nullptr;
  QPushButton* runButton_ = nullptr;
  QTableWidget* resultTable_ = nullptr;
  QLabel* resultCaption_ = nullptr;
  QLabel* imageInfo_ = nullptr;
  QLabel* stageLabel_ = nullptr;
  QProgressBar* progressBar_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QCheckBox* overlayCheck_ = nullptr;
  QLabel* zoomLabel_ = nullptr;
  QAction* compareAction_ = nullptr;
  QAction* runAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QMenu* recentMenu_ = nullptr;
};

}  // namespace loupe::gui
