#pragma once
// The main window: tasks from the plugin manifests on the left (tree + parameter form + Run), the image
// with the result layers in the middle (ImageView; View > Compare Side by Side splits it into the original
// and the result, synchronized), the layer list and result tables on the right, job progress and Cancel
// in the status bar, and a non-modal banner for errors and input warnings. One job at a time per window.

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
class LayerList;
class LayerStack;
class ViewSync;
}

namespace loupe::gui {

class ErrorBanner;

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
  // Side by side: the original on the left, the result on the right, zoom/pan/cursor synchronized.
  void setCompare(bool compare);
  bool isComparing() const;
  widgets::ImageView* compareView() const { return compareView_; }
  ErrorBanner* banner() const { return banner_; }

 Q_SIGNALS:
  // After a run ended and its result (if any) is drawn; ok is false for failures and cancellations.
  void runFinished(bool ok);

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

  widgets::LayerStack* layers_ = nullptr;
  widgets::ImageView* view_ = nullptr;
  widgets::ImageView* compareView_ = nullptr;
  widgets::ViewSync* sync_ = nullptr;
  widgets::LayerList* layerList_ = nullptr;
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
