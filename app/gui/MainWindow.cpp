#include "MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTableWidget>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

#include "AppSettings.h"
#include "BookmarkDock.h"
#include "CompareSlot.h"
#include "EmbeddingWindow.h"
#include "ErrorBanner.h"
#include "GalleryWindow.h"
#include "JobBarLink.h"
#include "SessionController.h"
#include "SettingsDialog.h"
#include "ThresholdPanel.h"
#include "ToolTree.h"
#include "TrainingPanel.h"
#include "io/ImageReader.h"
#ifdef LOUPE_HAVE_STUDY_WINDOW
#include "StudyWindow.h"
#endif
#include "widgets/ImageView.h"
#include "widgets/JobBar.h"
#include "widgets/LayerList.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"
#include "widgets/ViewLayer.h"
#include "widgets/ViewSync.h"

namespace loupe::gui {

namespace {

constexpr int kTaskIdRole = Qt::UserRole + 1;
constexpr double kHeatmapOpacity = 0.6;  // result heatmaps start see-through, over the image
constexpr double kMaskOpacity = 0.5;

QString fileName(const QString& path) { return QFileInfo(path).fileName(); }
QString qs(const std::string& s) { return QString::fromStdString(s); }

const char* stageWhat(host::RunStage stage) {
  switch (stage) {
    case host::RunStage::Usage: return "cannot start";
    case host::RunStage::Device: return "no device";
    case host::RunStage::Input: return "cannot read the input";
    case host::RunStage::Plugin: return "plugin failed to load";
    case host::RunStage::Task: return "failed";
    case host::RunStage::Output: return "cannot write the result";
  }
  return "failed";
}

}  // namespace

MainWindow::MainWindow(host::PluginHost& host, QWidget* parent) : QMainWindow(parent), host_(host), job_(host) {
  setObjectName(QStringLiteral("mainWindow"));
  setWindowTitle(tr("Loupe"));
  setAcceptDrops(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
  settings_ = new AppSettings(this);
  createCentralArea();
  createTaskDock();
  createLayerDock();
  createResultDock();
  thresholdPanel_->setTable(resultTable_);
  createBookmarkDock();
  createJobDock();
  session_ = new SessionController(*this, *settings_, this);
  createStatusBar();
  createActions();
  populateTaskTree();
  connect(&job_, &AnalysisJob::progressChanged, this, &MainWindow::onProgress);
  connect(&job_, &AnalysisJob::finished, this, &MainWindow::onJobFinished);
  resize(1280, 800);
  setBusy(false);
  applySettings();
  updateTitle();
  QTimer::singleShot(0, this, [this] {
    if (recoveryPrompt_) session_->offerRecovery();
  });
}

MainWindow::~MainWindow() {
  job_.cancel();
  job_.waitForFinished();
  session_->shutdown();  // a window that goes away normally leaves no recovery file
}

void MainWindow::applySettings() {
  device_ = settings_->device();
  settings_->applyThreads();
  connect(settings_, &AppSettings::deviceChanged, this, [this](const QString& device) { device_ = device; });
  // A new default colour map recolours the heatmaps shown now as well as later results.
  connect(settings_, &AppSettings::colormapChanged, this, [this](const QString& name) {
    auto map = colormapFromName(name.toStdString());
    if (!map) return;
    for (int i = 0; i < layers_->count(); ++i)
      if (auto* h = dynamic_cast<widgets::HeatmapLayer*>(layers_->at(i))) {
        h->setColormap(*map);
        layers_->notifyChanged(i);
      }
  });
}

void MainWindow::createBookmarkDock() {
  bookmarkDock_ = new BookmarkDock(this);
  addDockWidget(Qt::RightDockWidgetArea, bookmarkDock_);
  if (auto* layerDock = findChild<QDockWidget*>(QStringLiteral("layerDock"))) tabifyDockWidget(layerDock, bookmarkDock_);
  if (auto* layerDock = findChild<QDockWidget*>(QStringLiteral("layerDock"))) layerDock->raise();
}

QWidget* MainWindow::viewArea() const { return splitter_; }

void MainWindow::updateTitle() {
  setWindowTitle(tr("%1[*] \u2014 Loupe").arg(session_ ? session_->displayName() : tr("Untitled")));
  setWindowModified(session_ && session_->isDirty());
}

void MainWindow::statusBarMessage(const QString& text) { statusBar()->showMessage(text, 8000); }

void MainWindow::openSettings() {
  SettingsDialog dialog(*settings_, host_, recent_, this);
  dialog.exec();
}

void MainWindow::closeImage() {
  if (job_.isRunning()) job_.cancel();
  imagePath_.clear();
  layers_->clear();
  view_->clearImage();
  compareView_->clearImage();
  showTables({});
  imageInfo_->clear();
  stageLabel_->setText(tr("Ready"));
  banner_->dismiss();
  updateActions();
  Q_EMIT imageChanged();
}

void MainWindow::createCentralArea() {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  banner_ = new ErrorBanner(central);
  layers_ = new widgets::LayerStack(this);
  splitter_ = new QSplitter(Qt::Horizontal, central);
  splitter_->setObjectName(QStringLiteral("viewSplitter"));
  splitter_->setChildrenCollapsible(false);
  // The original (no layers) left of the result; shown only when comparing.
  compareView_ = new widgets::ImageView(splitter_);
  compareView_->setObjectName(QStringLiteral("compareView"));
  compareView_->setCaption(tr("Original"));
  compareView_->hide();
  view_ = new widgets::ImageView(splitter_);
  view_->setObjectName(QStringLiteral("imageView"));
  view_->setLayers(layers_);
  sync_ = new widgets::ViewSync(this);
  layout->addWidget(banner_);
  layout->addWidget(splitter_, 1);
  setCentralWidget(central);
  for (widgets::ImageView* v : {view_, compareView_}) {
    connect(v, &widgets::ImageView::pixelInfo, this, [this](const QString& text) {
      if (text.isEmpty()) statusBar()->clearMessage();
      else statusBar()->showMessage(text);
    });
  }
  connect(view_, &widgets::ImageView::viewChanged, this, [this] {
    if (zoomLabel_) zoomLabel_->setText(view_->hasImage() ? QStringLiteral("%1 %").arg(view_->scale() * 100.0, 0, 'f', view_->scale() < 0.1 ? 1 : 0) : QString());
  });
  connect(layers_, &widgets::LayerStack::layersChanged, this, &MainWindow::updateActions);
}

void MainWindow::setCompare(bool compare) {
  if (compare == isComparing()) return;
  compareView_->setVisible(compare);
  view_->setCaption(compare ? mainCaption() : QString());
  updateCompareCaptions();
  if (compare) {
    sync_->addView(view_);
    sync_->addView(compareView_);  // takes the result view's zoom and position
    const int half = std::max(1, splitter_->width() / 2);
    splitter_->setSizes({half, half});
  } else {
    sync_->removeView(compareView_);
    sync_->removeView(view_);
  }
  if (compareAction_) {
    QSignalBlocker block(compareAction_);
    compareAction_->setChecked(compare);
  }
}

bool MainWindow::isComparing() const { return !compareView_->isHidden(); }

// ---- jobs, the second view, galleries -------------------------------------------------------------------

void MainWindow::createJobDock() {
  auto* dock = new QDockWidget(tr("Jobs"), this);
  dock->setObjectName(QStringLiteral("jobDock"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  jobBar_ = new widgets::JobBar(dock);
  dock->setWidget(jobBar_);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  jobLink_ = new JobBarLink(job_, jobBar_, this);
  compareSlot_ = new CompareSlot(host_, compareView_, jobBar_, this);
  connect(compareSlot_, &CompareSlot::finished, this, &MainWindow::onCompareFinished);
}

namespace {

// What tells two runs apart: the task's title, and the parameters whose values differ between them (all of
// this run's parameters when the tasks differ).
QString runCaption(const host::PluginHost& host, const host::RunRequest& run, const host::RunRequest& other) {
  const host::TaskRef ref = host.findTask(run.taskId);
  const QString title = ref.spec ? qs(ref.spec->title) : qs(run.taskId);
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& p : run.params) {
    const auto same = std::find_if(other.params.begin(), other.params.end(), [&](const auto& o) { return o.first == p.first; });
    if (run.taskId != other.taskId || (same != other.params.end() && same->second != p.second)) shown.push_back(p);
  }
  const QString parameters = describeParameters(shown);
  return parameters.isEmpty() ? title : QStringLiteral("%1 (%2)").arg(title, parameters);
}

}  // namespace

QString MainWindow::mainCaption() const {
  if (mainRun_.taskId.empty()) return tr("Result");
  // Against the second view's run, finished or still computing.
  const bool second = compareSlot_->hasResult() || compareSlot_->isRunning();
  return runCaption(host_, mainRun_, second ? compareSlot_->request() : host::RunRequest{});
}

void MainWindow::updateCompareCaptions() {
  if (!isComparing()) return;
  view_->setCaption(mainCaption());
  if (compareSlot_->isRunning()) return;  // "computing..." stays
  compareView_->setCaption(compareSlot_->hasResult() ? runCaption(host_, compareSlot_->request(), mainRun_)
                                                     : compareSlot_->caption());
}

bool MainWindow::runSelectedTaskInCompare() {
  const QString taskId = selectedTaskId();
  if (taskId.isEmpty()) {
    banner_->showError(tr("Select a task in the Analysis panel."));
    return false;
  }
  return runCompareTask(taskId, paramForm_->values());
}

bool MainWindow::runCompareTask(const QString& taskId, const ParamForm::Overrides& params) {
  if (imagePath_.isEmpty()) {
    banner_->showError(tr("Open an image first (File > Open or drop a file on the window)."));
    return false;
  }
  const host::TaskRef ref = host_.findTask(taskId.toStdString());
  if (!ref.spec) {
    banner_->showError(tr("There is no task '%1'. Pick one from the Analysis panel.").arg(taskId));
    return false;
  }
  host::RunRequest request;
  request.taskId = taskId.toStdString();
  request.inputPath = QFile::encodeName(imagePath_).toStdString();
  request.params = params;
  request.device = device_.toStdString();
  auto started = compareSlot_->start(request, qs(ref.spec->title));
  if (!started) {
    banner_->showError(tr("%1 cannot run in the second view: %2").arg(taskId, qs(started.error().message)));
    return false;
  }
  setCompare(true);
  view_->setCaption(mainCaption());
  compareView_->setCaption(tr("%1 (computing\u2026)").arg(runCaption(host_, request, mainRun_)));
  updateActions();
  return true;
}

void MainWindow::onCompareFinished(bool ok, const QString& message) {
  updateCompareCaptions();
  if (!ok && !message.isEmpty()) banner_->showError(tr("Second view: %1").arg(message));
  updateActions();
  Q_EMIT compareFinished(ok);
}

GalleryWindow* MainWindow::openGallery(const QString& path) {
  if (!gallery_) {
    gallery_ = new GalleryWindow(this);
    connect(gallery_, &GalleryWindow::openImage, this, [this](const QString& image) {
      if (openImage(image)) {
        raise();
        activateWindow();
      }
    });
  }
  QString error;
  if (!gallery_->open(path, &error)) {
    banner_->showError(tr("Cannot show a gallery: %1").arg(error));
    return nullptr;
  }
  gallery_->show();
  gallery_->raise();
  return gallery_;
}

TrainingPanel* MainWindow::openTrainingPanel() {
  if (!trainingPanel_) {
    trainingPanel_ = new TrainingPanel(this);
    trainingPanel_->setWindowFlag(Qt::Window);
    trainingPanel_->resize(980, 560);
  }
  trainingPanel_->show();
  trainingPanel_->raise();
  trainingPanel_->activateWindow();
  return trainingPanel_;
}

StudyWindow* MainWindow::openStudy(const QStringList& paths) {
#ifdef LOUPE_HAVE_STUDY_WINDOW
  auto* window = new StudyWindow(host_);
  window->setAttribute(Qt::WA_DeleteOnClose);
  window->show();
  window->openStudy(paths);
  return window;
#else
  banner_->showError(tr("This Loupe was built without the volume library (ITK): MRI studies cannot be opened"));
  Q_UNUSED(paths);
  return nullptr;
#endif
}

void MainWindow::openGalleryDialog() {
  QSettings settings(QStringLiteral("Loupe"), QStringLiteral("loupe"));
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Folder as Gallery"),
                                                        settings.value(QStringLiteral("lastGalleryDirectory")).toString());
  if (dir.isEmpty()) return;
  settings.setValue(QStringLiteral("lastGalleryDirectory"), dir);
  openGallery(dir);
}

void MainWindow::createActions() {
  auto* openAction = new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("&Open..."), this);
  openAction->setShortcut(QKeySequence::Open);
  openAction->setToolTip(tr("Open an image (Ctrl+O)"));
  connect(openAction, &QAction::triggered, this, &MainWindow::openDialog);

  auto* quitAction = new QAction(tr("&Quit"), this);
  quitAction->setShortcut(QKeySequence::Quit);
  quitAction->setMenuRole(QAction::QuitRole);
  connect(quitAction, &QAction::triggered, this, &QWidget::close);

  runAction_ = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Run Task"), this);
  runAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  connect(runAction_, &QAction::triggered, this, &MainWindow::runSelectedTask);
  cancelAction_ = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("&Cancel Task"), this);
  cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
  connect(cancelAction_, &QAction::triggered, this, &MainWindow::cancelRun);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(openAction);
  QAction* galleryAction = file->addAction(tr("Open Folder as &Gallery..."), this, &MainWindow::openGalleryDialog);
  galleryAction->setObjectName(QStringLiteral("openGalleryAction"));
  galleryAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
  galleryAction->setToolTip(tr("Show the images of a folder as thumbnails; double-click one to open it"));
  // The Embedding Explorer: its own window per set (closing it frees the set).
  auto openEmbeddings = [this](const QString& path) {
    auto* explorer = new EmbeddingWindow(this);
    explorer->setAttribute(Qt::WA_DeleteOnClose);
    explorer->show();
    if (path.isEmpty()) explorer->openDialog();
    else explorer->open(path);
  };
  QAction* embeddingsAction = file->addAction(tr("Open &Embeddings..."), this, [openEmbeddings] { openEmbeddings({}); });
  embeddingsAction->setObjectName(QStringLiteral("openEmbeddingsAction"));
  embeddingsAction->setToolTip(tr("Explore an embedding store, a .npy matrix with its CSV, or Fashion-MNIST as a scatter plot"));
  file->addAction(tr("Fashion-MNIST Embedding Demo"), this, [openEmbeddings] { openEmbeddings(QStringLiteral("fashion-mnist")); })
      ->setObjectName(QStringLiteral("embeddingDemoAction"));
#ifdef LOUPE_HAVE_STUDY_WINDOW
  // MRI studies open in their own window (linked slice views, lesion candidates).
  QAction* studyAction = file->addAction(tr("Open S&tudy..."), this, [this] {
    QStringList paths = QFileDialog::getOpenFileNames(this, tr("Open Study: T2W, ADC and DWI files (cancel to pick a folder)"),
                                                      QString(), tr("Volumes (*.nii *.nii.gz *.mha *.mhd)"));
    if (paths.isEmpty()) {
      const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Study Folder (volume files or DICOM series)"));
      if (dir.isEmpty()) return;
      paths << dir;
    }
    openStudy(paths);
  });
  studyAction->setObjectName(QStringLiteral("openStudyAction"));
  studyAction->setToolTip(tr("Open an MRI study (T2W, ADC, DWI files or a DICOM folder) in linked slice views"));
#endif
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  recentMenu_->setObjectName(QStringLiteral("recentMenu"));
  connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
  rebuildRecentMenu();
  file->addSeparator();
  // Sessions: the image, the run and its layers, the view and the bookmarks in one case file.
  auto sessionAction = [this, file](const QString& text, const char* name, const QKeySequence& keys, auto slot) {
    QAction* a = file->addAction(text, session_, slot);
    a->setObjectName(QLatin1String(name));
    a->setShortcut(keys);
    return a;
  };
  sessionAction(tr("&New Session"), "newSessionAction", QKeySequence::New, &SessionController::newInteractive);
  sessionAction(tr("Open &Session..."), "openSessionAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
                &SessionController::openInteractive);
  sessionAction(tr("&Save Session"), "saveSessionAction", QKeySequence::Save, &SessionController::saveInteractive);
  sessionAction(tr("Save Session &As..."), "saveSessionAsAction", QKeySequence::SaveAs, &SessionController::saveAsInteractive);
  file->addSeparator();
  sessionAction(tr("&Export Report..."), "exportReportAction", QKeySequence(Qt::CTRL | Qt::Key_E),
                &SessionController::exportReportInteractive)
      ->setToolTip(tr("The case report (PDF or HTML): input hashes, software and plugin versions, bookmarks"));
  file->addSeparator();
  file->addAction(quitAction);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  QAction* settingsAction = edit->addAction(tr("&Settings..."), this, &MainWindow::openSettings);
  settingsAction->setObjectName(QStringLiteral("settingsAction"));
  settingsAction->setShortcut(QKeySequence::Preferences);
  settingsAction->setMenuRole(QAction::PreferencesRole);

  QMenu* analysis = menuBar()->addMenu(tr("&Analysis"));
  analysis->addAction(runAction_);
  compareRunAction_ = analysis->addAction(tr("Run in &Second View"), this, &MainWindow::runSelectedTaskInCompare);
  compareRunAction_->setObjectName(QStringLiteral("compareRunAction"));
  compareRunAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  compareRunAction_->setToolTip(tr("Run the selected task with these parameters into a second view, side by side "
                                   "with the current result (Ctrl+Shift+R)"));
  analysis->addAction(cancelAction_);
  analysis->addSeparator();
  QAction* bookmarkAction = analysis->addAction(tr("Add &Bookmark"), session_, &SessionController::addBookmark);
  bookmarkAction->setObjectName(QStringLiteral("addBookmarkAction"));
  bookmarkAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
  analysis->addSeparator();
  QAction* trainAction = analysis->addAction(tr("&Train Embeddings..."), this, &MainWindow::openTrainingPanel);
  trainAction->setObjectName(QStringLiteral("trainEmbeddingsAction"));
  trainAction->setToolTip(tr("Train an embedding network on Fashion-MNIST or an image folder, with live loss and kNN accuracy"));

  // The image view handles its own keys (0, 1, +, -, M, Space) while it has focus; the menu repeats them.
  auto* fitAction = new QAction(tr("&Fit to Window"), this);
  fitAction->setObjectName(QStringLiteral("fitAction"));
  fitAction->setToolTip(tr("Fit the image to the view (0 in the view)"));
  connect(fitAction, &QAction::triggered, view_, &widgets::ImageView::fitToWindow);
  auto* actualAction = new QAction(tr("&Actual Size"), this);
  actualAction->setObjectName(QStringLiteral("actualSizeAction"));
  actualAction->setIconText(QStringLiteral("1:1"));
  actualAction->setToolTip(tr("One image pixel per screen pixel (1 in the view)"));
  connect(actualAction, &QAction::triggered, view_, &widgets::ImageView::zoomToActualSize);
  compareAction_ = new QAction(tr("&Compare Side by Side"), this);
  compareAction_->setObjectName(QStringLiteral("compareAction"));
  compareAction_->setCheckable(true);
  compareAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
  compareAction_->setToolTip(tr("Original and result side by side, zoom, pan and cursor synchronized (Ctrl+D)"));
  connect(compareAction_, &QAction::toggled, this, &MainWindow::setCompare);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(fitAction);
  view->addAction(actualAction);
  view->addAction(tr("Zoom &In"), view_, &widgets::ImageView::zoomIn);
  view->addAction(tr("Zoom &Out"), view_, &widgets::ImageView::zoomOut);
  view->addAction(tr("&Magnifier On/Off"), this, [this] { view_->setMagnifierEnabled(!view_->isMagnifierEnabled()); });
  view->addSeparator();
  view->addAction(compareAction_);
  view->addSeparator();
  for (auto* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Loupe"), this, [this] {
    QMessageBox::about(this, tr("About Loupe"),
                       tr("<b>Loupe %1</b><br>A workbench for image forensics, medical imaging and embedding "
                          "analysis.").arg(qs(host::loupeVersion())));
  });

  QToolBar* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("mainToolBar"));
  bar->setMovable(false);
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->addAction(openAction);
  bar->addAction(runAction_);
  bar->addSeparator();

  // Opacity and visibility per layer are in the Layers panel; this shows or hides them all (Space).
  overlayCheck_ = new QCheckBox(tr("Layers"), bar);
  overlayCheck_->setObjectName(QStringLiteral("overlayCheck"));
  overlayCheck_->setChecked(!view_->showsOriginal());
  overlayCheck_->setToolTip(tr("Show the result layers over the image (Space in the view)"));
  connect(overlayCheck_, &QCheckBox::toggled, this, [this](bool on) { view_->setShowOriginal(!on); });
  connect(view_, &widgets::ImageView::showOriginalChanged, overlayCheck_, [this](bool original) {
    QSignalBlocker block(overlayCheck_);
    overlayCheck_->setChecked(!original);
  });
  bar->addWidget(overlayCheck_);
  bar->addSeparator();
  bar->addAction(fitAction);
  bar->addAction(actualAction);
  bar->addAction(compareAction_);
}

void MainWindow::createLayerDock() {
  auto* dock = new QDockWidget(tr("Layers"), this);
  dock->setObjectName(QStringLiteral("layerDock"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  layerList_ = new widgets::LayerList(dock);
  layerList_->setObjectName(QStringLiteral("layerList"));
  layerList_->setLayers(layers_);
  layerList_->setContentsMargins(8, 4, 8, 8);
  connect(layerList_, &widgets::LayerList::exportFailed, this,
          [this](const QString& why) { banner_->showError(tr("Export failed: %1").arg(why)); });
  connect(layerList_, &widgets::LayerList::exported, this, [this](const QStringList& files) {
    statusBar()->showMessage(tr("Exported %1").arg(files.join(QStringLiteral(", "))), 8000);
  });
  // Below the list: the threshold slider of a heatmap + mask result (ThresholdPanel, hidden otherwise).
  auto* layerPanel = new QWidget(dock);
  auto* layerLayout = new QVBoxLayout(layerPanel);
  layerLayout->setContentsMargins(0, 0, 0, 0);
  layerLayout->setSpacing(0);
  layerList_->setParent(layerPanel);
  thresholdPanel_ = new ThresholdPanel(layers_, nullptr, layerPanel);
  // The slider's operating point becomes the shown run's threshold (captions) and the form's, so Run
  // reproduces the mask on screen.
  connect(thresholdPanel_, &ThresholdPanel::thresholdApplied, this, [this](double threshold, double) {
    const std::string value = QString::number(threshold, 'f', 2).toStdString();
    auto it = std::find_if(mainRun_.params.begin(), mainRun_.params.end(), [](const auto& p) { return p.first == "threshold"; });
    if (it != mainRun_.params.end()) it->second = value;
    else if (!mainRun_.taskId.empty()) mainRun_.params.emplace_back("threshold", value);
    if (selectedTaskId() == qs(mainRun_.taskId)) (void)paramForm_->apply({{"threshold", value}});  // in [0, 1]
    updateCompareCaptions();
  });
  layerLayout->addWidget(layerList_, 1);
  layerLayout->addWidget(thresholdPanel_);
  dock->setWidget(layerPanel);
  dock->setMinimumWidth(260);
  addDockWidget(Qt::RightDockWidgetArea, dock);
}

void MainWindow::createTaskDock() {
  auto* dock = new QDockWidget(tr("Analysis"), this);
  dock->setObjectName(QStringLiteral("taskDock"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  auto* panel = new QWidget(dock);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(8, 4, 8, 8);

  taskTree_ = new QTreeWidget(panel);
  taskTree_->setObjectName(QStringLiteral("taskTree"));
  taskTree_->setHeaderHidden(true);
  taskTree_->setRootIsDecorated(true);
  taskTree_->setUniformRowHeights(true);
  connect(taskTree_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) { onTaskSelected(item); });
  connect(taskTree_, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
    if (item && item->data(0, kTaskIdRole).isValid()) runSelectedTask();
  });
  layout->addWidget(taskTree_);

  auto* params = new QGroupBox(tr("Parameters"), panel);
  auto* paramsLayout = new QVBoxLayout(params);
  taskDescription_ = new QLabel(params);
  taskDescription_->setObjectName(QStringLiteral("taskDescription"));
  taskDescription_->setWordWrap(true);
  taskDescription_->setForegroundRole(QPalette::PlaceholderText);
  paramForm_ = new ParamForm(params);
  auto* defaults = new QPushButton(tr("Defaults"), params);
  defaults->setObjectName(QStringLiteral("defaultsButton"));
  defaults->setToolTip(tr("Reset the parameters to the task's defaults"));
  connect(defaults, &QPushButton::clicked, paramForm_, &ParamForm::resetToDefaults);
  paramsLayout->addWidget(taskDescription_);
  paramsLayout->addSpacing(4);
  paramsLayout->addWidget(paramForm_);
  paramsLayout->addWidget(defaults, 0, Qt::AlignRight);
  layout->addWidget(params, 0);

  runButton_ = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Run"), panel);
  runButton_->setObjectName(QStringLiteral("runButton"));
  runButton_->setDefault(true);
  runButton_->setMinimumHeight(32);
  runButton_->setToolTip(tr("Run the selected task on the image (Ctrl+R)"));
  connect(runButton_, &QPushButton::clicked, this, &MainWindow::runSelectedTask);
  layout->addWidget(runButton_);
  compareRunButton_ = new QPushButton(tr("Run in Second View"), panel);
  compareRunButton_->setObjectName(QStringLiteral("compareRunButton"));
  compareRunButton_->setToolTip(tr("Compare: run the selected task with these parameters into a second view, beside "
                                   "the current result, zoom and pan synchronized (Ctrl+Shift+R)"));
  connect(compareRunButton_, &QPushButton::clicked, this, &MainWindow::runSelectedTaskInCompare);
  layout->addWidget(compareRunButton_);
  // Right-click a task: run it here or in the second view.
  taskTree_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(taskTree_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QTreeWidgetItem* item = taskTree_->itemAt(pos);
    if (!item || !item->data(0, kTaskIdRole).isValid() || !(item->flags() & Qt::ItemIsSelectable)) return;
    taskTree_->setCurrentItem(item);
    QMenu menu(taskTree_);
    menu.addAction(runAction_);
    menu.addAction(compareRunAction_);
    menu.exec(taskTree_->viewport()->mapToGlobal(pos));
  });
  layout->addStretch(1);

  dock->setWidget(panel);
  dock->setMinimumWidth(300);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
}

void MainWindow::createResultDock() {
  auto* dock = new QDockWidget(tr("Results"), this);
  dock->setObjectName(QStringLiteral("resultDock"));
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  auto* panel = new QWidget(dock);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(8, 4, 8, 8);
  resultCaption_ = new QLabel(tr("Run a task to see its measurements here."), panel);
  resultCaption_->setObjectName(QStringLiteral("resultCaption"));
  resultCaption_->setWordWrap(true);
  resultTable_ = new QTableWidget(panel);
  resultTable_->setObjectName(QStringLiteral("resultTable"));
  resultTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  resultTable_->setAlternatingRowColors(true);
  resultTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  resultTable_->verticalHeader()->setVisible(false);
  resultTable_->verticalHeader()->setDefaultSectionSize(resultTable_->fontMetrics().height() + 8);
  resultTable_->horizontalHeader()->setStretchLastSection(true);
  resultTable_->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  resultTable_->setWordWrap(false);
  resultTable_->setShowGrid(false);
  layout->addWidget(resultCaption_);
  layout->addWidget(resultTable_, 1);
  dock->setWidget(panel);
  dock->setMinimumWidth(260);
  addDockWidget(Qt::RightDockWidgetArea, dock);
  if (auto* layerDock = findChild<QDockWidget*>(QStringLiteral("layerDock")))
    splitDockWidget(layerDock, dock, Qt::Vertical);  // layers above the measurements
}

void MainWindow::createStatusBar() {
  imageInfo_ = new QLabel(this);
  imageInfo_->setObjectName(QStringLiteral("imageInfo"));
  imageInfo_->setContentsMargins(6, 0, 0, 0);
  statusBar()->addWidget(imageInfo_, 1);  // hidden while the view shows pixel readouts
  zoomLabel_ = new QLabel(this);
  zoomLabel_->setObjectName(QStringLiteral("zoomLabel"));
  zoomLabel_->setToolTip(tr("Zoom: wheel or pinch; 0 fits, 1 is 1:1"));
  statusBar()->addPermanentWidget(zoomLabel_);
  stageLabel_ = new QLabel(this);
  stageLabel_->setObjectName(QStringLiteral("stageLabel"));
  progressBar_ = new QProgressBar(this);
  progressBar_->setObjectName(QStringLiteral("progressBar"));
  progressBar_->setRange(0, 1000);
  progressBar_->setFixedWidth(180);
  progressBar_->setTextVisible(false);
  cancelButton_ = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Cancel"), this);
  cancelButton_->setObjectName(QStringLiteral("cancelButton"));
  cancelButton_->setToolTip(tr("Stop the running task (Esc)"));
  connect(cancelButton_, &QPushButton::clicked, this, &MainWindow::cancelRun);
  statusBar()->addPermanentWidget(stageLabel_);
  statusBar()->addPermanentWidget(progressBar_);
  statusBar()->addPermanentWidget(cancelButton_);
}

void MainWindow::populateTaskTree() {
  const QString previous = selectedTaskId();
  QSignalBlocker block(taskTree_);
  taskTree_->clear();
  QTreeWidgetItem* firstTask = nullptr;
  QTreeWidgetItem* keep = nullptr;
  std::map<const host::PluginRecord*, QTreeWidgetItem*> groups;
  for (const auto& ref : host_.tasks()) {
    const bool usable = ref.plugin->state != host::PluginRecord::State::Failed;
    QTreeWidgetItem*& group = groups[ref.plugin];
    if (!group) {
      group = new QTreeWidgetItem(taskTree_, {qs(ref.plugin->manifest.name)});
      group->setFlags(usable ? Qt::ItemIsEnabled : Qt::NoItemFlags);
      group->setToolTip(0, usable ? QStringLiteral("%1 %2\n%3").arg(qs(ref.plugin->manifest.id), qs(ref.plugin->manifest.version),
                                                                    qs(ref.plugin->manifest.description))
                                  : qs(ref.plugin->error));
      QFont f = group->font(0);
      f.setBold(true);
      group->setFont(0, f);
    }
    auto* item = new QTreeWidgetItem(toolCategoryItem(group, ref.spec->category), {qs(ref.spec->title)});
    item->setData(0, kTaskIdRole, qs(ref.spec->id));
    item->setToolTip(0, usable ? QStringLiteral("%1\n%2").arg(qs(ref.spec->id), qs(ref.spec->description)) : qs(ref.plugin->error));
    item->setFlags(usable ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags);
    if (usable && !firstTask) firstTask = item;
    if (usable && qs(ref.spec->id) == previous) keep = item;
  }
  for (const auto& plugin : host_.plugins()) {
    if (plugin->state != host::PluginRecord::State::Invalid) continue;
    const QString name = plugin->manifest.name.empty() ? QFileInfo(plugin->path).fileName() : qs(plugin->manifest.name);
    auto* item = new QTreeWidgetItem(taskTree_, {tr("%1 (unavailable)").arg(name)});
    item->setFlags(Qt::NoItemFlags);
    item->setToolTip(0, QStringLiteral("%1\n%2").arg(plugin->path, qs(plugin->error)));
  }
  if (taskTree_->topLevelItemCount() == 0) {
    auto* item = new QTreeWidgetItem(taskTree_, {tr("No plugins found")});
    item->setFlags(Qt::NoItemFlags);
    item->setToolTip(0, tr("Searched: %1").arg(host_.searchPaths().join(QStringLiteral(", "))));
  }
  taskTree_->expandAll();
  // As tall as its rows (within limits), so the parameters sit right below the tasks.
  int rows = 0;
  for (QTreeWidgetItemIterator it(taskTree_); *it; ++it) ++rows;
  const int rowHeight = std::max(taskTree_->sizeHintForRow(0), taskTree_->fontMetrics().height() + 4);
  taskTree_->setFixedHeight(std::clamp(rows * rowHeight + 2 * taskTree_->frameWidth() + 8, 96, 320));
  QTreeWidgetItem* current = keep ? keep : firstTask;
  taskTree_->setCurrentItem(current);
  block.unblock();
  if (!keep || selectedTaskId() != previous) onTaskSelected(current);
}

void MainWindow::onTaskSelected(QTreeWidgetItem* item) {
  const QString id = item ? item->data(0, kTaskIdRole).toString() : QString();
  const host::TaskRef ref = host_.findTask(id.toStdString());
  paramForm_->setTask(ref.spec);
  taskDescription_->setText(ref.spec ? qs(ref.spec->description) : QString());
  taskDescription_->setVisible(ref.spec && !ref.spec->description.empty());
  updateActions();
}

QString MainWindow::selectedTaskId() const {
  const QTreeWidgetItem* item = taskTree_->currentItem();
  return item ? item->data(0, kTaskIdRole).toString() : QString();
}

bool MainWindow::selectTask(const QString& taskId) {
  for (QTreeWidgetItemIterator it(taskTree_); *it; ++it) {
    if ((*it)->data(0, kTaskIdRole).toString() != taskId) continue;
    if (!((*it)->flags() & Qt::ItemIsSelectable)) {
      banner_->showError(tr("Task %1 is unavailable: %2").arg(taskId, (*it)->toolTip(0)));
      return false;
    }
    taskTree_->setCurrentItem(*it);
    return true;
  }
  banner_->showError(tr("There is no task '%1'. Pick one from the Analysis panel.").arg(taskId));
  return false;
}

bool MainWindow::applyParameters(const ParamForm::Overrides& values) {
  auto ok = paramForm_->apply(values);
  if (!ok) banner_->showError(tr("Parameters: %1").arg(qs(ok.error().message)));
  return ok.ok();
}

bool MainWindow::openImage(const QString& path) {
  QApplication::setOverrideCursor(Qt::WaitCursor);
  auto image = io::loadImage(QFile::encodeName(path).toStdString());
  QApplication::restoreOverrideCursor();
  if (!image) {
    QString why = qs(image.error().message);
    if (why.startsWith(fileName(path) + QStringLiteral(": "))) why = why.mid(fileName(path).size() + 2);  // named once
    banner_->showError(tr("Cannot open %1: %2").arg(fileName(path), why));
    return false;
  }
  if (job_.isRunning()) job_.cancel();  // its result belongs to the previous image and is dropped
  imagePath_ = path;
  layers_->clear();
  view_->setImage(*image);
  compareView_->setImage(*image);
  compareSlot_->clear();  // the second result was of the previous image
  mainRun_ = {};
  updateCompareCaptions();
  layerList_->setImageSize(QSize(image->width(), image->height()));
  showTables({});
  recent_.add(path);
  const int bits = image->depth() == PixelDepth::U16 ? 16 : image->depth() == PixelDepth::F32 ? 32 : 8;
  imageInfo_->setText(QStringLiteral("%1    %2 \u00d7 %3    %4 %5 %6-bit")
                          .arg(fileName(path), QString::number(image->width()), QString::number(image->height()),
                               qs(image->source.format).toUpper(), QString::fromLatin1(colorOrderName(image->order())).toUpper(),
                               QString::number(bits)));
  imageInfo_->setToolTip(QDir::toNativeSeparators(path));
  stageLabel_->setText(tr("Ready"));
  if (!image->source.warnings.empty()) {
    QStringList warnings;
    for (const auto& w : image->source.warnings) warnings << qs(w);
    banner_->showWarning(tr("%1: %2").arg(fileName(path), warnings.join(QStringLiteral("; "))));
  } else {
    banner_->dismiss();
  }
  updateActions();
  Q_EMIT imageChanged();
  return true;
}

bool MainWindow::runSelectedTask() {
  if (job_.isRunning()) return false;
  if (imagePath_.isEmpty()) {
    banner_->showError(tr("Open an image first (File > Open or drop a file on the window)."));
    return false;
  }
  const QString taskId = selectedTaskId();
  if (taskId.isEmpty()) {
    banner_->showError(tr("Select a task in the Analysis panel."));
    return false;
  }
  host::RunRequest request;
  request.taskId = taskId.toStdString();
  request.inputPath = QFile::encodeName(imagePath_).toStdString();
  request.params = paramForm_->values();
  request.device = device_.toStdString();
  auto started = job_.start(request);
  if (started) lastRequest_ = request;
  if (!started) {
    banner_->showError(tr("%1 cannot run: %2").arg(taskId, qs(started.error().message)));
    populateTaskTree();  // a plugin that failed to load is shown greyed now
    return false;
  }
  runPath_ = imagePath_;
  if (banner_->kind() == ErrorBanner::Kind::Error) banner_->dismiss();
  const auto* spec = host_.findTask(request.taskId).spec;
  stageLabel_->setText(tr("%1: starting").arg(spec ? qs(spec->title) : taskId));
  pendingRun_ = request;
  jobLink_->started(tr("%1 on %2").arg(spec ? qs(spec->title) : taskId, fileName(imagePath_)),
                    describeParameters(request.params));
  progressBar_->setValue(0);
  setBusy(true);
  return true;
}

void MainWindow::cancelRun() {
  if (!job_.isRunning()) return;
  job_.cancel();
  stageLabel_->setText(tr("Cancelling..."));
  cancelButton_->setEnabled(false);
}

void MainWindow::onProgress(double fraction, const QString& stage) {
  if (!job_.isRunning()) return;
  progressBar_->setValue(static_cast<int>(fraction * 1000.0 + 0.5));
  if (!stage.isEmpty()) stageLabel_->setText(stage);
}

void MainWindow::onJobFinished() {
  setBusy(false);
  const JobResult& result = job_.result();
  const QString title = result.taskTitle.empty() ? qs(result.taskId) : qs(result.taskTitle);
  if (runPath_ != imagePath_) {
    stageLabel_->setText(tr("Ready"));
    Q_EMIT runFinished(false);
    return;
  }
  if (result.cancelled()) {
    stageLabel_->setText(tr("%1: cancelled").arg(title));
    Q_EMIT runFinished(false);
    return;
  }
  if (!result.ok) {
    stageLabel_->setText(tr("%1: failed").arg(title));
    banner_->showError(tr("%1 %2: %3").arg(title, tr(stageWhat(result.stage)), qs(result.error.message)));
    if (result.stage == host::RunStage::Plugin) populateTaskTree();
    Q_EMIT runFinished(false);
    return;
  }
  showResult(result);
  mainRun_ = pendingRun_;
  updateCompareCaptions();
  stageLabel_->setText(tr("%1: done in %2 s on %3").arg(title).arg(result.seconds, 0, 'f', 2).arg(qs(result.deviceName)));
  Q_EMIT runFinished(true);
}

void MainWindow::showResult(const JobResult& result) {
  const Image& shown = view_->image();
  if (result.input.source.sha256 != shown.source.sha256 || result.input.width() != shown.width() ||
      result.input.height() != shown.height()) {
    view_->setImage(result.input);  // the file changed since it was opened: show what was analysed
    compareView_->setImage(result.input);
    layerList_->setImageSize(QSize(result.input.width(), result.input.height()));
  }
  showLayers(result.layers);
  // The colour map chosen in Settings, for new results.
  if (auto map = colormapFromName(settings_->colormap().toStdString()))
    for (int i = 0; i < layers_->count(); ++i)
      if (auto* h = dynamic_cast<widgets::HeatmapLayer*>(layers_->at(i))) {
        h->setColormap(*map);
        layers_->notifyChanged(i);
      }
}

void MainWindow::showRestoredResult(const host::RunRequest& run, const std::vector<Layer>& layers) {
  showLayers(layers);
  mainRun_ = run;
  updateCompareCaptions();
}

void MainWindow::showLayers(const std::vector<Layer>& result) {
  layers_->clear();
  int select = -1;
  for (const Layer& layer : result) {
    auto drawn = widgets::layerFromBackend(layer);
    if (!drawn) continue;  // tables go to the Results panel
    const bool heatmap = drawn->kind() == widgets::ViewLayer::Kind::Heatmap;
    drawn->setOpacity(heatmap ? kHeatmapOpacity : kMaskOpacity);
    layers_->add(std::move(drawn));
    if (heatmap && select < 0) select = layers_->count() - 1;
  }
  layerList_->setCurrentIndex(select >= 0 ? select : layers_->count() - 1);
  view_->setShowOriginal(false);
  showTables(result);
  thresholdPanel_->attach(result);
  updateActions();
}

void MainWindow::showTables(const std::vector<Layer>& layers) {
  resultTable_->clear();
  resultTable_->setRowCount(0);
  std::vector<const Layer*> tables;
  for (const Layer& layer : layers)
    if (std::holds_alternative<Table>(layer.payload)) tables.push_back(&layer);
  int columns = 0;
  for (const Layer* l : tables) columns = std::max(columns, static_cast<int>(std::get<Table>(l->payload).columns.size()));
  resultTable_->setColumnCount(columns);
  QStringList titles;
  for (const Layer* l : tables) titles << qs(l->title.empty() ? l->id : l->title);
  resultCaption_->setText(tables.empty() ? tr("Run a task to see its measurements here.") : titles.join(QStringLiteral(", ")));
  QFont captionFont = resultCaption_->font();
  captionFont.setBold(!tables.empty());
  resultCaption_->setFont(captionFont);
  if (tables.empty()) return;
  QStringList headers;
  for (const auto& c : std::get<Table>(tables.front()->payload).columns) headers << qs(c);
  resultTable_->setHorizontalHeaderLabels(headers);
  for (const Layer* layer : tables) {
    const Table& table = std::get<Table>(layer->payload);
    if (tables.size() > 1) {  // a title row per table when there are several
      const int row = resultTable_->rowCount();
      resultTable_->insertRow(row);
      auto* item = new QTableWidgetItem(qs(layer->title.empty() ? layer->id : layer->title));
      QFont f = item->font();
      f.setBold(true);
      item->setFont(f);
      resultTable_->setItem(row, 0, item);
      resultTable_->setSpan(row, 0, 1, std::max(1, columns));
    }
    for (const auto& cells : table.rows) {
      const int row = resultTable_->rowCount();
      resultTable_->insertRow(row);
      for (int c = 0; c < static_cast<int>(cells.size()) && c < columns; ++c) {
        auto* item = new QTableWidgetItem(qs(cells[c]));
        item->setToolTip(qs(cells[c]));
        resultTable_->setItem(row, c, item);
      }
    }
  }
  QHeaderView* header = resultTable_->horizontalHeader();
  for (int c = 0; c + 1 < columns; ++c) header->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  header->setSectionResizeMode(columns - 1, QHeaderView::Stretch);
}

void MainWindow::setBusy(bool busy) {
  progressBar_->setVisible(busy);
  cancelButton_->setVisible(busy);
  cancelButton_->setEnabled(busy);
  cancelAction_->setEnabled(busy);
  if (!busy) progressBar_->setValue(0);
  updateActions();
}

void MainWindow::updateActions() {
  if (!runButton_ || !runAction_) return;
  const bool canRun = !job_.isRunning() && !imagePath_.isEmpty() && !selectedTaskId().isEmpty();
  runButton_->setEnabled(canRun);
  runAction_->setEnabled(canRun);
  const bool canCompare = compareSlot_ && !compareSlot_->isRunning() && !imagePath_.isEmpty() && !selectedTaskId().isEmpty();
  if (compareRunButton_) compareRunButton_->setEnabled(canCompare);
  if (compareRunAction_) compareRunAction_->setEnabled(canCompare);
  if (overlayCheck_) overlayCheck_->setEnabled(!layers_->isEmpty());
}

void MainWindow::openDialog() {
  QSettings settings(QStringLiteral("Loupe"), QStringLiteral("loupe"));
  const QString dir = imagePath_.isEmpty() ? settings.value(QStringLiteral("lastDirectory")).toString()
                                           : QFileInfo(imagePath_).absolutePath();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open Image"), dir,
      tr("Images (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("lastDirectory"), QFileInfo(path).absolutePath());
  openImage(path);
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList paths = recent_.paths();
  for (int i = 0; i < paths.size(); ++i) {
    const QString path = paths[i];
    QAction* action = recentMenu_->addAction(QStringLiteral("&%1  %2").arg((i + 1) % 10).arg(fileName(path)));
    action->setToolTip(path);
    action->setStatusTip(path);
    connect(action, &QAction::triggered, this, [this, path] { openRecent(path); });
  }
  if (paths.isEmpty()) recentMenu_->addAction(tr("No recent files"))->setEnabled(false);
  recentMenu_->addSeparator();
  QAction* clear = recentMenu_->addAction(tr("Clear List"));
  clear->setEnabled(!paths.isEmpty());
  connect(clear, &QAction::triggered, this, [this] { recent_.clear(); });
}

void MainWindow::openRecent(const QString& path) {
  if (!QFileInfo::exists(path)) {
    recent_.remove(path);
    banner_->showWarning(tr("%1 no longer exists; it was removed from the recent files.").arg(path));
    return;
  }
  openImage(path);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!session_->maybeSave()) {  // decided before a running job is stopped: its result is not saved work
    event->ignore();
    return;
  }
  if (job_.isRunning()) {
    job_.cancel();
    QApplication::setOverrideCursor(Qt::WaitCursor);
    job_.waitForFinished();
    QApplication::restoreOverrideCursor();
  }
  session_->shutdown();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  event->acceptProposedAction();
  openImage(urls.first().toLocalFile());
}

}  // namespace loupe::gui
