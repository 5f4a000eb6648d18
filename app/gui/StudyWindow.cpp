#include "StudyWindow.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QEventLoop>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMetaObject>
#include <QProgressBar>
#include <QSlider>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "CandidatesPanel.h"
#include "ErrorBanner.h"
#include "session/Report.h"
#include "session/SessionFile.h"
#include "volume/Study.h"
#include "volume/VolumeIO.h"
#include "widgets/SliceLink.h"
#include "widgets/SliceView.h"
#ifdef LOUPE_HAVE_VTK_VIEW
#include "widgets/VolumeView3D.h"
#endif

namespace loupe::gui {

using widgets::SliceOverlay;
using widgets::SlicePlane;
using widgets::SliceView;

struct StudyWindow::DetectOutcome {
  bool ok = false;
  Error error;
  std::vector<Layer> layers;
  std::vector<sdk::VolumeOutput> volumes;
  session::RunRecord run;
};

namespace {

constexpr const char* kDetectTask = "prostate.detect";

QString roleTitle(const QString& role) {
  if (role == QLatin1String("t2w")) return QStringLiteral("T2W");
  if (role == QLatin1String("adc")) return QStringLiteral("ADC");
  if (role == QLatin1String("dwi")) return QStringLiteral("DWI");
  return role;
}

// "x, y, z" -> three numbers.
std::optional<std::array<double, 3>> parseTriple(const std::string& text) {
  std::array<double, 3> v{};
  if (std::sscanf(text.c_str(), "%lf , %lf , %lf", &v[0], &v[1], &v[2]) != 3) return std::nullopt;
  return v;
}

}  // namespace

StudyWindow::StudyWindow(host::PluginHost& host, QWidget* parent) : QMainWindow(parent), host_(host) {
  setObjectName(QStringLiteral("studyWindow"));
  setWindowTitle(tr("Study — Loupe"));
  resize(1500, 900);
  link_ = new widgets::SliceLink(this);

  auto* central = new QWidget(this);
  auto* column = new QVBoxLayout(central);
  column->setContentsMargins(0, 0, 0, 0);
  column->setSpacing(0);
  banner_ = new ErrorBanner(central);
  column->addWidget(banner_);
  tabs_ = new QTabWidget(central);
  tabs_->setDocumentMode(true);
  grid_ = new QWidget(tabs_);
  gridLayout_ = new QGridLayout(grid_);
  gridLayout_->setContentsMargins(2, 2, 2, 2);
  gridLayout_->setSpacing(2);
  tabs_->addTab(grid_, tr("Slices"));
#ifdef LOUPE_HAVE_VTK_VIEW
  pane3D_ = new QWidget(tabs_);
  new QVBoxLayout(pane3D_);
  tabs_->addTab(pane3D_, tr("3-D"));
  connect(tabs_, &QTabWidget::currentChanged, this, [this](int index) {
    if (tabs_->widget(index) == pane3D_) show3D();
  });
#endif
  column->addWidget(tabs_, 1);
  setCentralWidget(central);

  candidates_ = new CandidatesPanel(this);
  auto* dock = new QDockWidget(tr("Lesion candidates"), this);
  dock->setObjectName(QStringLiteral("candidatesDock"));
  dock->setWidget(candidates_);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  connect(candidates_, &CandidatesPanel::candidateActivated, this,
          [this](int, std::array<double, 3> world) { jumpTo(world); });

  stage_ = new QLabel(this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 100);
  progress_->setMaximumWidth(200);
  progress_->hide();
  readout_ = new QLabel(this);
  readout_->setObjectName(QStringLiteral("studyReadout"));
  statusBar()->addWidget(readout_, 1);
  statusBar()->addPermanentWidget(stage_);
  statusBar()->addPermanentWidget(progress_);

  createActions();
  connect(&loadWatcher_, &QFutureWatcher<Result<Study>>::finished, this, [this] {
    auto result = loadWatcher_.result();
    if (!result) {
      banner_->showError(tr("Cannot open the study: %1").arg(QString::fromStdString(result.error().message)));
      stage_->clear();
      Q_EMIT studyLoaded(false);
      return;
    }
    setStudy(std::move(*result), loadingPaths_);
    stage_->clear();
    Q_EMIT studyLoaded(true);
  });
  connect(link_, &widgets::SliceLink::crosshairChanged, this, [this] {
#ifdef LOUPE_HAVE_VTK_VIEW
    if (auto* v = qobject_cast<widgets::VolumeView3D*>(view3D_)) {
      const Vec3 c = link_->crosshair();
      v->setCrosshair({c[0], c[1], c[2]});
    }
#endif
  });
  updateActions();
}

StudyWindow::~StudyWindow() {
  detectCancel_.cancel();
  if (detectWatcher_ && detecting_) detectWatcher_->waitForFinished();
  if (loadWatcher_.isRunning()) loadWatcher_.waitForFinished();
}

void StudyWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("Open &Study..."), QKeySequence(QKeySequence::Open), this, [this] {
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open Study (T2W, ADC, DWI files; or cancel to pick a folder)"), QString(),
        tr("Volumes (*.nii *.nii.gz *.mha *.mhd);;All files (*)"));
    if (!files.isEmpty()) {
      openStudy(files);
      return;
    }
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Study Folder (files or DICOM series)"));
    if (!dir.isEmpty()) openStudy({dir});
  });
  file->addAction(tr("Add &Label Map..."), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Add Label Map (zones, lesion annotation)"), QString(),
                                                      tr("Volumes (*.nii *.nii.gz *.mha *.mhd)"));
    if (!path.isEmpty()) addLabelMap(path);
  });
  file->addSeparator();
  file->addAction(tr("Open Study S&ession..."), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), QString(), tr("Loupe sessions (*.loupe)"));
    if (!path.isEmpty()) openSession(path);
  });
  file->addAction(tr("Save Session &As..."), QKeySequence(QKeySequence::SaveAs), this, [this] {
    QString path = QFileDialog::getSaveFileName(this, tr("Save Session"), sessionPath_, tr("Loupe sessions (*.loupe)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(QLatin1String(".loupe"))) path += QStringLiteral(".loupe");
    saveSession(path);
  });
  file->addAction(tr("&Save Session"), QKeySequence(QKeySequence::Save), this, [this] {
    if (sessionPath_.isEmpty()) {
      const QString path = QFileDialog::getSaveFileName(this, tr("Save Session"), QString(), tr("Loupe sessions (*.loupe)"));
      if (!path.isEmpty()) saveSession(path.endsWith(QLatin1String(".loupe")) ? path : path + QStringLiteral(".loupe"));
    } else {
      saveSession(sessionPath_);
    }
  });
  file->addAction(tr("Export &Report..."), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Report"), QString(), tr("PDF (*.pdf);;HTML (*.html)"));
    if (!path.isEmpty()) exportReport(path);
  });
  file->addSeparator();
  file->addAction(tr("&Close"), QKeySequence(QKeySequence::Close), this, &QWidget::close);

  QToolBar* bar = addToolBar(tr("Study"));
  bar->setObjectName(QStringLiteral("studyToolbar"));
  bar->addWidget(new QLabel(tr(" Layout "), bar));
  layoutCombo_ = new QComboBox(bar);
  layoutCombo_->setObjectName(QStringLiteral("layoutCombo"));
  layoutCombo_->addItem(tr("Sequences side by side"), QStringLiteral("sequences"));
  layoutCombo_->addItem(tr("One sequence, 3 planes"), QStringLiteral("planes"));
  bar->addWidget(layoutCombo_);
  planeCombo_ = new QComboBox(bar);
  planeCombo_->setObjectName(QStringLiteral("planeCombo"));
  for (auto p : {SlicePlane::Axial, SlicePlane::Sagittal, SlicePlane::Coronal})
    planeCombo_->addItem(QString::fromLatin1(widgets::slicePlaneName(p)), static_cast<int>(p));
  bar->addWidget(planeCombo_);
  sequenceCombo_ = new QComboBox(bar);
  sequenceCombo_->setObjectName(QStringLiteral("sequenceCombo"));
  bar->addWidget(sequenceCombo_);
  auto relayout = [this] {
    const Layout l = layoutCombo_->currentData().toString() == QLatin1String("planes") ? Layout::Planes : Layout::Sequences;
    setLayout(l, static_cast<SlicePlane>(planeCombo_->currentData().toInt()), sequenceCombo_->currentData().toString());
  };
  connect(layoutCombo_, qOverload<int>(&QComboBox::activated), this, relayout);
  connect(planeCombo_, qOverload<int>(&QComboBox::activated), this, relayout);
  connect(sequenceCombo_, qOverload<int>(&QComboBox::activated), this, relayout);

  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Window "), bar));
  presetCombo_ = new QComboBox(bar);
  presetCombo_->setObjectName(QStringLiteral("presetCombo"));
  presetCombo_->setToolTip(tr("Window/level preset for the sequence of the selected view (right-drag in a view to "
                              "adjust)"));
  for (const auto& p : widgets::sliceWindowPresets()) presetCombo_->addItem(p.title, p.id);
  presetCombo_->setPlaceholderText(tr("Preset..."));
  presetCombo_->setCurrentIndex(-1);
  bar->addWidget(presetCombo_);
  connect(presetCombo_, qOverload<int>(&QComboBox::activated), this, [this](int) {
    SliceView* view = focusView_ ? focusView_.data() : (views_.isEmpty() ? nullptr : views_.first());
    if (!view) return;
    view->applyPreset(presetCombo_->currentData().toString());  // windowChanged propagates it
  });

  bar->addSeparator();
  detectAction_ = bar->addAction(tr("Detect Lesions"), this, [this] { runDetection(); });
  detectAction_->setObjectName(QStringLiteral("detectAction"));
  detectAction_->setToolTip(tr("Run prostate.detect: lesion likelihood and PI-CAI candidates (the training-free "
                               "baseline unless a model package is configured)"));
  cancelAction_ = bar->addAction(tr("Cancel"), this, &StudyWindow::cancelDetection);
  bar->addSeparator();
  likelihoodCheck_ = new QCheckBox(tr("Likelihood"), bar);
  likelihoodCheck_->setChecked(true);
  candidatesCheck_ = new QCheckBox(tr("Candidates"), bar);
  candidatesCheck_->setChecked(true);
  outlineCheck_ = new QCheckBox(tr("Outline"), bar);
  outlineCheck_->setChecked(overlayOutline_);
  outlineCheck_->setToolTip(tr("Label maps as outlines (checked) or filled"));
  bar->addWidget(likelihoodCheck_);
  bar->addWidget(candidatesCheck_);
  bar->addWidget(outlineCheck_);
  bar->addWidget(new QLabel(tr(" Opacity "), bar));
  opacitySlider_ = new QSlider(Qt::Horizontal, bar);
  opacitySlider_->setRange(0, 100);
  opacitySlider_->setValue(static_cast<int>(overlayOpacity_ * 100));
  opacitySlider_->setMaximumWidth(120);
  bar->addWidget(opacitySlider_);
  auto restyle = [this] {
    showLikelihood_ = likelihoodCheck_->isChecked();
    showCandidates_ = candidatesCheck_->isChecked();
    overlayOutline_ = outlineCheck_->isChecked();
    overlayOpacity_ = opacitySlider_->value() / 100.0;
    for (SliceView* v : views_) applyOverlays(v);
  };
  connect(likelihoodCheck_, &QCheckBox::toggled, this, restyle);
  connect(candidatesCheck_, &QCheckBox::toggled, this, restyle);
  connect(outlineCheck_, &QCheckBox::toggled, this, restyle);
  connect(opacitySlider_, &QSlider::valueChanged, this, restyle);
}

void StudyWindow::updateActions() {
  detectAction_->setEnabled(!detecting_ && !sequences_.empty());
  cancelAction_->setEnabled(detecting_);
  sequenceCombo_->setEnabled(layout_ == Layout::Planes);
  planeCombo_->setEnabled(layout_ == Layout::Sequences);
}

// ---- study

void StudyWindow::openStudy(const QStringList& paths) {
  if (loadWatcher_.isRunning()) return;
  loadingPaths_ = paths;
  stage_->setText(tr("Reading the study..."));
  std::vector<std::string> files;
  for (const QString& p : paths) files.push_back(QFile::encodeName(p).toStdString());
  loadWatcher_.setFuture(QtConcurrent::run([files] { return volume::loadStudy(files); }));
}

bool StudyWindow::openStudyAndWait(const QStringList& paths) {
  QEventLoop loop;
  bool ok = false, finished = false;
  auto c = connect(this, &StudyWindow::studyLoaded, &loop, [&](bool result) {
    ok = result;
    finished = true;
    loop.quit();
  });
  openStudy(paths);
  if (!finished) loop.exec();  // the watcher's finished() arrives as an event, even for a load already done
  disconnect(c);
  return ok;
}

void StudyWindow::setStudy(Study study, const QStringList& paths) {
  study_ = std::move(study);
  paths_ = paths;
  sequences_.clear();
  order_.clear();
  results_.clear();
  run_.reset();
  windows_.clear();
  candidates_->setCandidates({});
  for (const auto& [name, volume] : study_.sequences) {
    const QString role = QString::fromStdString(name);
    sequences_[role] = std::make_shared<const Volume>(volume);
    for (const auto& w : volume.warnings)
      banner_->showWarning(QStringLiteral("%1: %2").arg(roleTitle(role), QString::fromStdString(w)));
  }
  for (const char* r : {"t2w", "adc", "dwi"})
    if (sequences_.count(QString::fromLatin1(r))) order_ << QString::fromLatin1(r);
  for (const auto& [role, v] : sequences_)
    if (!order_.contains(role)) order_ << role;
  reference_ = order_.isEmpty() ? nullptr : sequences_.at(order_.first());
  if (reference_ && !sequences_.count(QStringLiteral("t2w")))
    banner_->showWarning(tr("No T2W in this study: %1 is the reference grid").arg(roleTitle(order_.first())));
  // Sequences that do not reach the reference at all are shown as empty views: say so.
  for (const auto& [role, v] : sequences_) {
    if (!reference_ || v == reference_) continue;
    bool overlap = false;
    const auto corners = reference_->cornersWorld();
    Vec3 lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
    for (const auto& c : v->cornersWorld())
      for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]), hi[a] = std::max(hi[a], c[a]);
    Vec3 rlo{1e300, 1e300, 1e300}, rhi{-1e300, -1e300, -1e300};
    for (const auto& c : corners)
      for (int a = 0; a < 3; ++a) rlo[a] = std::min(rlo[a], c[a]), rhi[a] = std::max(rhi[a], c[a]);
    overlap = true;
    for (int a = 0; a < 3; ++a) overlap = overlap && lo[a] <= rhi[a] + 5 && hi[a] >= rlo[a] - 5;
    if (!overlap)
      banner_->showWarning(tr("%1 does not overlap the %2 in space (different patient or position?): its view stays black")
                               .arg(roleTitle(role), roleTitle(order_.first())));
  }
  if (reference_)
    link_->setCrosshair(reference_->indexToWorld(
        {double(reference_->size[0] / 2), double(reference_->size[1] / 2), double(reference_->size[2] / 2)}));
  link_->setCentre(std::nullopt);
  link_->setZoom(1.0);
  planeSequence_ = order_.isEmpty() ? QString() : order_.first();
  updateSequenceChoices();
  const QString name = study_.path.empty() ? tr("study") : QFileInfo(QString::fromStdString(study_.path)).fileName();
  setWindowTitle(tr("%1 — Loupe study").arg(name));
  rebuildViews();
  updateActions();
}

void StudyWindow::updateSequenceChoices() {
  sequenceCombo_->clear();
  for (const QString& role : order_) sequenceCombo_->addItem(roleTitle(role), role);
  const int i = sequenceCombo_->findData(planeSequence_);
  if (i >= 0) sequenceCombo_->setCurrentIndex(i);
}

void StudyWindow::setLayout(Layout layout, SlicePlane plane, const QString& sequence) {
  layout_ = layout;
  plane_ = plane;
  if (!sequence.isEmpty() && sequences_.count(sequence)) planeSequence_ = sequence;
  layoutCombo_->setCurrentIndex(layout == Layout::Planes ? 1 : 0);
  planeCombo_->setCurrentIndex(planeCombo_->findData(static_cast<int>(plane)));
  updateSequenceChoices();
  rebuildViews();
  updateActions();
}

void StudyWindow::applyDefaultWindow(SliceView* view) {
  const QString role = view->property("role").toString();
  if (const auto it = windows_.find(role); it != windows_.end()) {
    view->setWindow(it->second.first, it->second.second);
    return;
  }
  // ADC maps in 10^-6 mm^2/s (ProstateX, PI-CAI) get the ADC window; other units their percentiles.
  if (role == QLatin1String("adc") && view->stats().max > 100) view->applyPreset(QStringLiteral("adc"));
  else if (role == QLatin1String("dwi")) view->applyPreset(QStringLiteral("dwi"));
  else if (role == QLatin1String("t2w")) view->applyPreset(QStringLiteral("t2w"));
  else view->applyPreset(QStringLiteral("auto"));
  windows_[role] = {view->windowLow(), view->windowHigh()};
}

void StudyWindow::rebuildViews() {
  for (SliceView* v : views_) v->deleteLater();
  views_.clear();
  if (!reference_) return;
  std::vector<std::pair<QString, SlicePlane>> panes;
  if (layout_ == Layout::Sequences)
    for (const QString& role : order_) panes.emplace_back(role, plane_);
  else
    for (auto p : {SlicePlane::Axial, SlicePlane::Sagittal, SlicePlane::Coronal}) panes.emplace_back(planeSequence_, p);
  int column = 0;
  for (const auto& [role, plane] : panes) {
    auto* view = new SliceView(grid_);
    view->setObjectName(QStringLiteral("slice_%1_%2").arg(role, QString::fromLatin1(widgets::slicePlaneName(plane))));
    view->setProperty("role", role);
    view->setLink(link_);
    view->setPlane(plane);
    view->setReference(reference_);
    view->setImage(sequences_.at(role), roleTitle(role));
    applyDefaultWindow(view);
    applyOverlays(view);
    connect(view, &SliceView::windowChanged, this, [this, view](double lo, double hi) {
      setSequenceWindow(view->property("role").toString(), lo, hi);
    });
    connect(view, &SliceView::readoutChanged, readout_, &QLabel::setText);
    connect(view, &SliceView::focused, this, [this, view] {
      if (focusView_ != view) presetCombo_->setCurrentIndex(-1);  // the combo names the last preset applied here
      focusView_ = view;
    });
    gridLayout_->addWidget(view, 0, column++);
    views_ << view;
  }
  for (int c = 0; c < column; ++c) gridLayout_->setColumnStretch(c, 1);
  focusView_ = views_.isEmpty() ? nullptr : views_.first();
}

void StudyWindow::setSequenceWindow(const QString& role, double low, double high) {
  windows_[role] = {low, high};
  for (SliceView* v : views_)
    if (v->property("role").toString() == role) v->setWindow(low, high);
}

std::optional<std::pair<double, double>> StudyWindow::sequenceWindow(const QString& role) const {
  const auto it = windows_.find(role);
  if (it == windows_.end()) return std::nullopt;
  return it->second;
}

void StudyWindow::applyOverlays(SliceView* view) const {
  view->clearOverlays();
  for (const auto& r : results_) {
    if (!r.volume) continue;
    SliceOverlay o;
    o.id = r.id;
    o.volume = r.volume;
    o.opacity = overlayOpacity_;
    if (r.id == QLatin1String("likelihood")) {
      o.title = tr("likelihood");
      o.kind = SliceOverlay::Kind::Heatmap;
      o.colormap = Colormap::Magma;
      float hi = 0.f;
      for (float f : r.volume->floats) hi = std::max(hi, f);
      o.rangeMin = 0.05f * hi;  // the faintest 5 % would cover the whole gland in a haze
      o.rangeMax = hi > 0 ? hi : 1.f;
      o.visible = showLikelihood_;
      view->setOverlay(o);
    } else if (r.id == QLatin1String("candidate_labels")) {
      o.title = tr("candidate");
      o.kind = SliceOverlay::Kind::Labels;
      o.outline = overlayOutline_;
      o.fill = !overlayOutline_;
      o.opacity = std::max(overlayOpacity_, 0.3);
      o.visible = showCandidates_;
      for (const auto& c : candidates_->candidates())
        o.labels.push_back({c.id, std::to_string(c.id), std::nullopt, true});
      view->setOverlay(o);
    }
  }
  if (labelMap_) {
    SliceOverlay o;
    o.id = QStringLiteral("labelmap");
    o.title = labelMapName_;
    o.kind = SliceOverlay::Kind::Labels;
    o.volume = labelMap_;
    o.outline = true;
    o.fill = !overlayOutline_;
    o.opacity = overlayOpacity_ * 0.6;
    o.visible = showLabelMap_;
    o.labels.push_back({1, "annotation 1", std::array<std::uint8_t, 3>{0, 200, 255}, true});
    view->setOverlay(o);
  }
}

bool StudyWindow::addLabelMap(const QString& path) {
  auto v = volume::readVolume(QFile::encodeName(path).toStdString());
  if (!v) {
    banner_->showError(tr("Cannot add the label map: %1").arg(QString::fromStdString(v.error().message)));
    return false;
  }
  labelMap_ = std::make_shared<const Volume>(std::move(*v));
  labelMapName_ = volume::volumeStem(QFile::encodeName(path).toStdString()).c_str();
  for (SliceView* view : views_) applyOverlays(view);
  return true;
}

void StudyWindow::setOverlayOpacity(double opacity) { opacitySlider_->setValue(static_cast<int>(std::lround(opacity * 100))); }

void StudyWindow::setOverlayOutline(bool outline) { outlineCheck_->setChecked(outline); }

void StudyWindow::jumpTo(const Vec3& world) {
  link_->setCrosshair(world);
  link_->setCentre(world);
}

QString StudyWindow::locationOf(const Vec3& world) const {
  QString where;
  if (reference_) {
    const Vec3 centre = reference_->indexToWorld(
        {(reference_->size[0] - 1) / 2.0, (reference_->size[1] - 1) / 2.0, (reference_->size[2] - 1) / 2.0});
    where = world[0] > centre[0] ? tr("patient left") : tr("patient right");
    const Vec3 idx = reference_->worldToIndex(world);
    where += tr(", T2W slice %1").arg(std::lround(idx[2]) + 1);
  }
  if (labelMap_) {
    const Vec3 idx = labelMap_->worldToIndex(world);
    std::array<std::int64_t, 3> n{};
    bool inside = true;
    for (int a = 0; a < 3; ++a) {
      n[a] = std::llround(idx[a]);
      inside = inside && n[a] >= 0 && n[a] < labelMap_->size[a];
    }
    const double label = inside ? labelMap_->value(n[0], n[1], n[2]) : 0.0;
    if (label != 0) where += tr(", in %1 label %2").arg(labelMapName_).arg(label);
  }
  return where;
}

// ---- detection

bool StudyWindow::runDetection(const std::vector<std::pair<std::string, std::string>>& params) {
  if (detecting_) return false;
  if (paths_.isEmpty()) {
    banner_->showError(tr("Detect Lesions reads the study from its files: open the study from files or a folder first"));
    return false;
  }
  const auto ref = host_.findTask(kDetectTask);
  if (!ref.spec) {
    banner_->showError(tr("The task %1 is not installed (the prostate plugin was not found in %2)")
                           .arg(QString::fromLatin1(kDetectTask), host_.searchPaths().join(QStringLiteral(", "))));
    return false;
  }
  // Load the plugin here, on the GUI thread (its QObject lives here); the worker only creates tasks.
  if (auto probe = host_.createTask(kDetectTask); !probe) {
    banner_->showError(tr("Cannot load %1: %2").arg(QString::fromLatin1(kDetectTask), QString::fromStdString(probe.error().message)));
    return false;
  }
  host::RunRequest request;
  request.taskId = kDetectTask;
  QStringList files;
  for (const QString& p : paths_) files << QFileInfo(p).absoluteFilePath();
  request.inputPath = QFile::encodeName(files.join(QLatin1Char(','))).toStdString();
  request.params = params;
  request.device = "auto";
  detectParams_ = params;
  detectCancel_ = CancelToken();
  detecting_ = true;
  banner_->dismiss();
  progress_->setValue(0);
  progress_->show();
  stage_->setText(tr("Detecting lesions..."));
  updateActions();

  QPointer<StudyWindow> self(this);
  const Progress progress([self](double f, const std::string& s) {
    const QString text = QString::fromStdString(s);
    QMetaObject::invokeMethod(
        QCoreApplication::instance(), [self, f, text] {
          if (!self) return;
          self->progress_->setValue(static_cast<int>(f * 100));
          if (!text.isEmpty()) self->stage_->setText(text);
        },
        Qt::QueuedConnection);
  });
  host::PluginHost* host = &host_;
  const CancelToken cancel = detectCancel_;
  detectWatcher_ = std::make_unique<QFutureWatcher<std::shared_ptr<DetectOutcome>>>();
  connect(detectWatcher_.get(), &QFutureWatcherBase::finished, this, &StudyWindow::onDetectionDone);
  detectWatcher_->setFuture(QtConcurrent::run([host, request, cancel, progress] {
    auto out = std::make_shared<DetectOutcome>();
    host::RunStage stage = host::RunStage::Usage;
    auto plan = host::planRun(*host, request, &stage);
    if (!plan) {
      out->error = plan.error();
      return out;
    }
    auto outcome = host::executeRun(*plan, cancel, progress);
    if (!outcome) {
      out->error = outcome.error();
      return out;
    }
    out->ok = true;
    out->layers = std::move(outcome->layers);
    out->volumes = std::move(outcome->volumes);
    out->run.taskId = QString::fromStdString(plan->spec.id);
    out->run.taskTitle = QString::fromStdString(plan->spec.title);
    out->run.pluginId = QString::fromStdString(plan->pluginId);
    out->run.pluginVersion = QString::fromStdString(plan->pluginVersion);
    out->run.device = QString::fromStdString(request.device);
    out->run.deviceName = QString::fromStdString(plan->deviceName);
    out->run.params = request.params;
    out->run.seconds = outcome->seconds;
    out->run.finishedAt = session::nowUtc();
    out->run.models = session::modelsInParams(request.params);
    return out;
  }));
  return true;
}

void StudyWindow::cancelDetection() {
  if (detecting_) {
    detectCancel_.cancel();
    stage_->setText(tr("Cancelling..."));
  }
}

void StudyWindow::onDetectionDone() {
  detecting_ = false;
  progress_->hide();
  const auto out = detectWatcher_->result();
  if (!out || !out->ok) {
    const Error e = out ? out->error : Error{ErrorCode::Internal, "the detection ended without a result"};
    if (e.code == ErrorCode::Cancelled) stage_->setText(tr("Detection cancelled"));
    else {
      stage_->setText(tr("Detection failed"));
      banner_->showError(tr("%1 failed: %2").arg(QString::fromLatin1(kDetectTask), QString::fromStdString(e.message)));
    }
    updateActions();
    Q_EMIT detectionFinished(false);
    return;
  }
  std::vector<session::StudyVolume> volumes;
  for (auto& v : out->volumes)
    volumes.push_back({QString::fromStdString(v.id), QString::fromStdString(v.title),
                       std::make_shared<const Volume>(std::move(v.volume)), {}});
  run_ = out->run;
  for (const Layer& l : out->layers)
    if (l.id == "summary")
      if (const auto* t = std::get_if<Table>(&l.payload))
        for (const auto& row : t->rows)
          if (row.size() == 2 && row[0] == "warning") banner_->showWarning(QString::fromStdString(row[1]));
  const auto cands = candidatesFrom(out->layers);
  showDetection(volumes, cands);
  stage_->setText(tr("%n candidate(s) in %1 s", nullptr, static_cast<int>(cands.size())).arg(out->run.seconds, 0, 'f', 1));
  updateActions();
  Q_EMIT detectionFinished(true);
}

std::vector<session::StudyCandidate> StudyWindow::candidatesFrom(const std::vector<Layer>& layers) const {
  std::vector<session::StudyCandidate> out;
  for (const Layer& l : layers) {
    const auto* t = std::get_if<Table>(&l.payload);
    if (l.id != "candidates" || !t) continue;
    auto col = [t](const char* name) {
      const auto it = std::find(t->columns.begin(), t->columns.end(), name);
      return it == t->columns.end() ? -1 : static_cast<int>(it - t->columns.begin());
    };
    const int id = col("id"), lk = col("likelihood"), ml = col("volume_ml"), dm = col("max_diameter_mm"),
              ct = col("centroid_lps_mm");
    for (const auto& row : t->rows) {
      session::StudyCandidate c;
      auto num = [&row](int i) { return i >= 0 && i < int(row.size()) ? std::atof(row[i].c_str()) : 0.0; };
      c.id = static_cast<int>(num(id));
      c.likelihood = num(lk);
      c.volumeMl = num(ml);
      c.maxDiameterMm = num(dm);
      if (ct >= 0 && ct < int(row.size()))
        if (auto v = parseTriple(row[ct])) c.centroidLps = *v;
      c.location = locationOf(c.centroidLps);
      out.push_back(std::move(c));
    }
  }
  return out;
}

void StudyWindow::showDetection(const std::vector<session::StudyVolume>& volumes,
                                std::vector<session::StudyCandidate> candidates) {
  results_ = volumes;
  candidates_->setCandidates(candidates);
  for (SliceView* v : views_) applyOverlays(v);
#ifdef LOUPE_HAVE_VTK_VIEW
  if (auto* v3 = qobject_cast<widgets::VolumeView3D*>(view3D_))
    for (const auto& r : results_)
      if (r.id == QLatin1String("candidate_labels") && r.volume) v3->setLabelSurfaces(*r.volume);
#endif
  if (!candidates.empty()) candidates_->activate(0);
}

void StudyWindow::show3D() {
#ifdef LOUPE_HAVE_VTK_VIEW
  if (view3D_ || !reference_) return;
  auto* v = new widgets::VolumeView3D(pane3D_);
  v->setObjectName(QStringLiteral("volumeView3D"));
  pane3D_->layout()->addWidget(v);
  view3D_ = v;
  v->setVolume(*reference_);
  for (const auto& r : results_)
    if (r.id == QLatin1String("candidate_labels") && r.volume) v->setLabelSurfaces(*r.volume);
  const Vec3 c = link_->crosshair();
  v->setCrosshair({c[0], c[1], c[2]});
  connect(v, &widgets::VolumeView3D::renderError, this, [this](const QString& m) { banner_->showWarning(m); });
#endif
}

// ---- sessions

session::Session StudyWindow::toSession() const {
  session::Session s;
  s.title = study_.path.empty() ? tr("Prostate MRI study")
                                : tr("Prostate MRI: %1").arg(QFileInfo(QString::fromStdString(study_.path)).fileName());
  s.createdAt = session::nowUtc();
  s.savedAt = s.createdAt;
  s.loupeVersion = QString::fromStdString(host::loupeVersion());
  s.run = run_;
  session::StudyRecord st;
  for (const QString& p : paths_) {
    QString role = QString::fromStdString(volume::sequenceRole(QFileInfo(p).fileName().toStdString()));
    if (role.isEmpty()) role = QFileInfo(p).fileName();
    auto q = session::describeStudySequence(role, p);
    st.sequences.push_back(q ? *q : session::StudySequence{role, QFileInfo(p).absoluteFilePath(), {}, 0});
  }
  st.volumes = results_;
  st.candidates = candidates_->candidates();
  const Vec3 c = link_->crosshair();
  st.crosshair = {c[0], c[1], c[2]};
  st.layout = layout_ == Layout::Planes ? QStringLiteral("planes") : QStringLiteral("sequences");
  st.plane = QString::fromLatin1(widgets::slicePlaneName(plane_));
  st.sequence = planeSequence_;
  st.zoom = link_->zoom();
  for (const auto& [role, w] : windows_) st.windows.emplace_back(role, w);
  s.study = std::move(st);
  return s;
}

bool StudyWindow::saveSession(const QString& path) {
  auto ok = session::saveSession(toSession(), path);
  if (!ok) {
    banner_->showError(tr("Cannot save the session: %1").arg(QString::fromStdString(ok.error().message)));
    return false;
  }
  sessionPath_ = path;
  stage_->setText(tr("Saved %1").arg(QFileInfo(path).fileName()));
  return true;
}

bool StudyWindow::openSession(const QString& path) {
  auto loaded = session::loadSession(path);
  if (!loaded) {
    banner_->showError(QString::fromStdString(loaded.error().message));
    return false;
  }
  if (!loaded->study) {
    banner_->showError(tr("%1 holds no MRI study (open it in the main window)").arg(QDir::toNativeSeparators(path)));
    return false;
  }
  const session::StudyRecord st = *loaded->study;
  QStringList paths;
  QStringList changed;
  for (const auto& q : st.sequences) {
    paths << q.path;
    auto now = session::describeStudySequence(q.role, q.path);
    if (!now) {
      banner_->showError(tr("The study's %1 is missing: %2").arg(roleTitle(q.role), QDir::toNativeSeparators(q.path)));
      return false;
    }
    if (!q.sha256.isEmpty() && now->sha256 != q.sha256) changed << QDir::toNativeSeparators(q.path);
  }
  if (!openStudyAndWait(paths)) return false;
  if (!changed.isEmpty())
    banner_->showWarning(tr("Changed since the session was saved (the results may not belong to them): %1")
                             .arg(changed.join(QStringLiteral(", "))));
  run_ = loaded->run;
  for (const auto& [role, w] : st.windows) windows_[role] = w;
  const auto plane = widgets::slicePlaneFromName(st.plane.toStdString()).value_or(SlicePlane::Axial);
  setLayout(st.layout == QLatin1String("planes") ? Layout::Planes : Layout::Sequences, plane, st.sequence);
  showDetection(st.volumes, st.candidates);
  link_->setZoom(st.zoom);
  jumpTo({st.crosshair[0], st.crosshair[1], st.crosshair[2]});
  sessionPath_ = path;
  return true;
}

bool StudyWindow::exportReport(const QString& path) {
  session::ReportOptions options;
  options.sessionPath = sessionPath_;
  auto ok = session::writeReport(toSession(), path, options);
  if (!ok) {
    banner_->showError(tr("Cannot write the report: %1").arg(QString::fromStdString(ok.error().message)));
    return false;
  }
  stage_->setText(tr("Report written to %1").arg(QFileInfo(path).fileName()));
  return true;
}

}  // namespace loupe::gui
