#include "SessionController.h"

#include <algorithm>

#include <QApplication>
#include <QBuffer>
#include <QDir>
#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QUuid>

#include <csignal>
#include <unistd.h>

#include "AppSettings.h"
#include "BookmarkDock.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "ThresholdPanel.h"
#include "session/Report.h"
#include "session/SessionFile.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

namespace loupe::gui {

using session::Bookmark;
using session::LayerStyle;
using session::Session;

namespace {

constexpr int kSnapshotMaxWidth = 1200;

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::array<std::uint8_t, 3> rgb(const QColor& c) {
  return {static_cast<std::uint8_t>(c.red()), static_cast<std::uint8_t>(c.green()), static_cast<std::uint8_t>(c.blue())};
}
QColor colour(const std::array<std::uint8_t, 3>& c) { return QColor(c[0], c[1], c[2]); }

bool processAlive(qint64 pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

qint64 pidOf(const QString& recoveryFile) {
  const QString base = QFileInfo(recoveryFile).completeBaseName();  // autosave-<pid>
  bool ok = false;
  const qint64 pid = base.mid(base.indexOf(QLatin1Char('-')) + 1).toLongLong(&ok);
  return ok ? pid : -1;
}

}  // namespace

SessionController::SessionController(MainWindow& window, AppSettings& settings, QObject* parent)
    : QObject(parent), window_(window), settings_(settings), recoveryDir_(defaultRecoveryDir()) {
  createdAt_ = session::nowUtc();
  timer_.setObjectName(QStringLiteral("autosaveTimer"));
  connect(&timer_, &QTimer::timeout, this, [this] {
    if (autosaveDue_) autosaveNow();
  });
  connect(&settings_, &AppSettings::autosaveChanged, this, &SessionController::updateTimer);
  updateTimer();
  connect(&window_, &MainWindow::runFinished, this, &SessionController::onRunFinished);
  connect(&window_, &MainWindow::imageChanged, this, &SessionController::onImageChanged);
  connect(window_.layers(), &widgets::LayerStack::layerChanged, this, &SessionController::markDirty);
  connect(window_.layers(), &widgets::LayerStack::layersChanged, this, &SessionController::markDirty);
  connect(window_.bookmarks(), &BookmarkDock::changed, this, &SessionController::markDirty);
  connect(window_.thresholdPanel(), &ThresholdPanel::thresholdApplied, this,
          [this](double threshold, double) { onThresholdApplied(threshold); });
  connect(window_.bookmarks(), &BookmarkDock::activated, this, &SessionController::goToBookmark);
  connect(window_.bookmarks(), &BookmarkDock::addRequested, this, &SessionController::addBookmark);
  locate_ = [this](const session::InputFile& missing) {
    const QString name = QFileInfo(missing.path).fileName();
    QMessageBox::warning(&window_, tr("Input missing"),
                         tr("The session's input %1 is not at %2.\nPlease locate it (its SHA-256 is checked).")
                             .arg(name, QDir::toNativeSeparators(missing.path)));
    return QFileDialog::getOpenFileName(&window_, tr("Locate %1").arg(name), QFileInfo(path_).absolutePath(),
                                        tr("%1;;All files (*)").arg(name));
  };
}

SessionController::~SessionController() = default;

QString SessionController::defaultRecoveryDir() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation)).filePath(QStringLiteral("recovery"));
}

void SessionController::setRecoveryDir(const QString& dir) { recoveryDir_ = dir; }

QString SessionController::recoveryPath() const {
  return QDir(recoveryDir_).filePath(QStringLiteral("autosave-%1.loupe").arg(QCoreApplication::applicationPid()));
}

void SessionController::updateTimer() {
  const int seconds = settings_.autosaveSeconds();
  if (seconds <= 0) timer_.stop();
  else timer_.start(seconds * 1000);
}

void SessionController::setDirty(bool dirty) {
  autosaveDue_ = dirty;
  if (dirty == dirty_) return;
  dirty_ = dirty;
  if (!dirty) removeSessionFiles(recoveryPath());  // saved: nothing to recover
  window_.updateTitle();
  Q_EMIT dirtyChanged(dirty);
}

void SessionController::markDirty() {
  if (applying_ == 0) setDirty(true);
}

QString SessionController::displayName() const {
  if (!path_.isEmpty()) return QFileInfo(path_).fileName();
  if (!window_.imagePath().isEmpty()) return QFileInfo(window_.imagePath()).fileName();
  return tr("Untitled");
}

void SessionController::setTitle(const QString& title) {
  if (title == title_) return;
  title_ = title;
  markDirty();
}

void SessionController::onRunFinished(bool ok) {
  if (!ok) return;
  const JobResult& result = window_.lastResult();
  const host::RunRequest& request = window_.lastRequest();
  session::RunRecord run;
  run.taskId = qs(result.taskId);
  run.taskTitle = qs(result.taskTitle);
  const host::TaskRef ref = window_.host().findTask(result.taskId);
  if (ref.plugin) {
    run.pluginId = qs(ref.plugin->manifest.id);
    run.pluginVersion = qs(ref.plugin->manifest.version);
  }
  run.device = qs(request.device);
  run.deviceName = qs(result.deviceName);
  run.params = request.params;
  run.seconds = result.seconds;
  run.finishedAt = session::nowUtc();
  run.models = session::modelsInParams(request.params);
  run_ = std::move(run);
  auto set = std::make_shared<session::LayerSet>();
  set->layers = result.layers;
  layers_ = std::move(set);
  shownStale_ = false;
  runImage_ = window_.imagePath();
  markDirty();
}

void SessionController::onThresholdApplied(double threshold) {
  // The slider's operating point is the run's threshold from now on: in the saved case's run parameters
  // and in new bookmarks (and thus the report); the mask and table follow at the next capture.
  if (run_ && runImage_ == window_.imagePath()) {
    const QString value = QString::number(threshold, 'f', 2);
    auto it = std::find_if(run_->params.begin(), run_->params.end(), [](const auto& p) { return p.first == "threshold"; });
    if (it != run_->params.end()) it->second = value.toStdString();
    else run_->params.emplace_back("threshold", value.toStdString());
    shownStale_ = layers_ != nullptr;
  }
  markDirty();
}

void SessionController::onImageChanged() {
  if (applying_ > 0) return;
  if (window_.imagePath() != runImage_) {  // results belong to the previous image
    run_.reset();
    layers_.reset();
    shownStale_ = false;
  }
  if (!path_.isEmpty() || window_.bookmarks()->count() > 0) markDirty();
  window_.updateTitle();
}

Session SessionController::capture() const {
  Session s;
  s.title = title_;
  s.createdAt = createdAt_;
  s.savedAt = session::nowUtc();
  s.loupeVersion = qs(host::loupeVersion());
  const widgets::ImageView* view = window_.view();
  if (!window_.imagePath().isEmpty()) {
    const QFileInfo info(window_.imagePath());
    session::InputFile in;
    in.path = info.absoluteFilePath();
    in.sha256 = qs(view->image().source.sha256);  // hashed when it was read
    in.size = info.size();
    s.input = in;
  }
  if (run_ && runImage_ == window_.imagePath()) {
    if (shownStale_ && layers_) {
      auto shown = std::make_shared<session::LayerSet>();
      shown->layers = layers_->layers;
      if (window_.thresholdPanel()->writeShownTo(shown->layers)) layers_ = std::move(shown);
      shownStale_ = false;
    }
    s.run = run_;
    s.layers = layers_;
  }
  for (const auto& layer : window_.layers()->layers()) {
    LayerStyle st;
    st.id = layer->id();
    st.visible = layer->isVisible();
    st.opacity = layer->opacity();
    if (auto* h = dynamic_cast<const widgets::HeatmapLayer*>(layer.get())) {
      st.rangeMin = h->rangeMin();
      st.rangeMax = h->rangeMax();
      st.colormap = QString::fromLatin1(colormapName(h->colormap()));
    } else if (auto* m = dynamic_cast<const widgets::MaskLayer*>(layer.get())) {
      st.maskStyle = m->style() == widgets::MaskLayer::Style::Outline ? QStringLiteral("outline") : QStringLiteral("fill");
      st.maskColour = rgb(m->colour());
    } else if (auto* l = dynamic_cast<const widgets::LabelMapLayer*>(layer.get())) {
      for (const auto& info : l->labels()) st.labels.push_back({info.value, info.visible, rgb(info.colour)});
    }
    s.styles.push_back(std::move(st));
  }
  s.view.fit = view->isFitMode();
  s.view.scale = view->scale();
  const QPointF centre = view->viewCentre();
  s.view.centreX = centre.x();
  s.view.centreY = centre.y();
  s.view.compare = window_.isComparing();
  s.view.showOriginal = view->showsOriginal();
  s.bookmarks = window_.bookmarks()->bookmarks();
  return s;
}

Result<void> SessionController::save(const QString& path) {
  Session s = capture();
  if (s.input) {
    auto in = session::describeInput(s.input->path, path);
    if (in && in->sha256 == s.input->sha256) s.input = *in;  // relative path too
    else if (s.input) s.input->relativePath = QFileInfo(path).absoluteDir().relativeFilePath(s.input->path);
  }
  auto saved = session::saveSession(s, path);
  if (!saved) return saved;
  if (QFileInfo(path).absoluteFilePath() != QFileInfo(path_).absoluteFilePath()) {
    path_ = QFileInfo(path).absoluteFilePath();
    Q_EMIT pathChanged(path_);
  }
  setDirty(false);
  window_.updateTitle();
  return {};
}

bool SessionController::open(const QString& path) {
  auto loaded = session::loadSession(path);
  if (!loaded) {
    window_.banner()->showError(tr("Cannot open the session: %1").arg(qs(loaded.error().message)));
    return false;
  }
  return apply(*loaded, QFileInfo(path).absoluteFilePath());
}

bool SessionController::apply(const Session& s, const QString& path) {
  ++applying_;
  QString warning;
  bool imageShown = false;
  window_.closeImage();
  if (s.input) {
    const session::InputCheck check = session::checkInput(*s.input, path);
    QString imagePath = check.path;
    if (check.state == session::InputCheck::State::Missing) {
      imagePath = locate_ ? locate_(*s.input) : QString();
      if (!imagePath.isEmpty()) {
        auto picked = session::describeInput(imagePath, path);
        if (!picked) warning = tr("Cannot read %1: %2").arg(imagePath, qs(picked.error().message));
        else if (picked->sha256 != s.input->sha256)
          warning = tr("%1 is not the file the session was made from: its SHA-256 differs. The results shown "
                       "belong to the original file.").arg(QDir::toNativeSeparators(imagePath));
      } else {
        warning = check.message;
      }
    } else if (check.state != session::InputCheck::State::Ok) {
      warning = check.message;
    }
    if (!imagePath.isEmpty()) imageShown = window_.openImage(imagePath);
  }
  if (s.run) {
    if (window_.selectTask(s.run->taskId)) window_.applyParameters(s.run->params);
    run_ = s.run;
    layers_ = s.layers;
    shownStale_ = false;
    runImage_ = window_.imagePath();
  } else {
    run_.reset();
    layers_.reset();
  }
  if (imageShown && s.hasLayers()) {
    host::RunRequest request;  // how the layers were made, for the view's caption
    if (s.run) {
      request.taskId = s.run->taskId.toStdString();
      request.inputPath = QFile::encodeName(window_.imagePath()).toStdString();
      request.params = s.run->params;
      request.device = s.run->device.toStdString();
    }
    window_.showRestoredResult(request, s.layers->layers);
    applyStyles(s.styles);
  }
  window_.bookmarks()->setBookmarks(s.bookmarks);
  if (!s.bookmarks.empty()) window_.bookmarks()->raise();  // a case with findings opens on them
  title_ = s.title;
  createdAt_ = s.createdAt.isEmpty() ? session::nowUtc() : s.createdAt;
  if (imageShown) applyView(s.view);
  path_ = path;
  --applying_;
  dirty_ = true;  // force the title and recovery update below
  setDirty(false);
  window_.updateTitle();
  Q_EMIT pathChanged(path_);
  if (!warning.isEmpty()) window_.banner()->showWarning(warning);
  Q_EMIT restored();
  return true;
}

void SessionController::applyStyles(const std::vector<LayerStyle>& styles) {
  widgets::LayerStack* stack = window_.layers();
  // Order: styles lists the drawn layers bottom to top.
  int target = 0;
  for (const LayerStyle& st : styles) {
    const int from = stack->indexOf(st.id);
    if (from < 0) continue;
    if (from != target) stack->move(from, target);
    ++target;
  }
  for (const LayerStyle& st : styles) {
    const int index = stack->indexOf(st.id);
    widgets::ViewLayer* layer = stack->at(index);
    if (!layer) continue;
    if (auto* h = dynamic_cast<widgets::HeatmapLayer*>(layer)) {
      if (auto map = colormapFromName(st.colormap.toStdString())) h->setColormap(*map);
      if (st.rangeMin && st.rangeMax) h->setRange(*st.rangeMin, *st.rangeMax);
    } else if (auto* m = dynamic_cast<widgets::MaskLayer*>(layer)) {
      if (!st.maskStyle.isEmpty())
        m->setStyle(st.maskStyle == QLatin1String("outline") ? widgets::MaskLayer::Style::Outline : widgets::MaskLayer::Style::Fill);
      if (st.maskColour) m->setColour(colour(*st.maskColour));
    } else if (auto* l = dynamic_cast<widgets::LabelMapLayer*>(layer)) {
      for (const auto& label : st.labels) {
        l->setLabelVisible(label.value, label.visible);
        l->setLabelColour(label.value, colour(label.colour));
      }
    }
    stack->notifyChanged(index);
    stack->setVisible(index, st.visible);
    stack->setOpacity(index, st.opacity);
  }
}

void SessionController::applyView(const session::ViewState& v) {
  window_.setCompare(v.compare);
  widgets::ImageView* view = window_.view();
  if (v.fit) view->fitToWindow();
  else view->setView(v.scale, QPointF(v.centreX, v.centreY));
  view->setShowOriginal(v.showOriginal);
}

void SessionController::newSession() {
  ++applying_;
  window_.closeImage();
  run_.reset();
  layers_.reset();
  shownStale_ = false;
  runImage_.clear();
  window_.bookmarks()->setBookmarks({});
  title_.clear();
  createdAt_ = session::nowUtc();
  path_.clear();
  --applying_;
  dirty_ = true;
  setDirty(false);
  window_.updateTitle();
  Q_EMIT pathChanged(path_);
}

bool SessionController::maybeSave() {
  if (!dirty_) return true;
  QMessageBox box(QMessageBox::Warning, tr("Unsaved work"),
                  tr("%1 has changes that are not saved.").arg(displayName()),
                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, &window_);
  box.setObjectName(QStringLiteral("unsavedPrompt"));
  box.setInformativeText(tr("Save the session before closing it?"));
  box.setDefaultButton(QMessageBox::Save);
  switch (box.exec()) {
    case QMessageBox::Save: return saveInteractive();
    case QMessageBox::Discard: return true;
    default: return false;
  }
}

bool SessionController::saveInteractive() {
  if (path_.isEmpty()) return saveAsInteractive();
  auto saved = save(path_);
  if (!saved) window_.banner()->showError(tr("The session was not saved: %1").arg(qs(saved.error().message)));
  return saved.ok();
}

bool SessionController::saveAsInteractive() {
  QString suggestion = path_;
  if (suggestion.isEmpty() && !window_.imagePath().isEmpty())
    suggestion = QFileInfo(window_.imagePath()).absolutePath() + QLatin1Char('/') + QFileInfo(window_.imagePath()).completeBaseName() + QStringLiteral(".loupe");
  QString path = QFileDialog::getSaveFileName(&window_, tr("Save Session"), suggestion, tr("Loupe sessions (*.loupe)"));
  if (path.isEmpty()) return false;
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".loupe");
  auto saved = save(path);
  if (!saved) window_.banner()->showError(tr("The session was not saved: %1").arg(qs(saved.error().message)));
  return saved.ok();
}

bool SessionController::openInteractive() {
  if (!maybeSave()) return false;
  const QString path = QFileDialog::getOpenFileName(&window_, tr("Open Session"), QFileInfo(path_).absolutePath(),
                                                    tr("Loupe sessions (*.loupe);;All files (*)"));
  return !path.isEmpty() && open(path);
}

bool SessionController::newInteractive() {
  if (!maybeSave()) return false;
  newSession();
  return true;
}

bool SessionController::exportReportInteractive() {
  QString suggestion = path_.isEmpty() ? window_.imagePath() : path_;
  if (!suggestion.isEmpty()) suggestion = QFileInfo(suggestion).absolutePath() + QLatin1Char('/') + QFileInfo(suggestion).completeBaseName() + QStringLiteral("-report.pdf");
  QString selected;
  QString out = QFileDialog::getSaveFileName(&window_, tr("Export Report"), suggestion,
                                             tr("PDF report (*.pdf);;HTML report (*.html)"), &selected);
  if (out.isEmpty()) return false;
  if (QFileInfo(out).suffix().isEmpty()) out += selected.contains(QLatin1String("html")) ? QStringLiteral(".html") : QStringLiteral(".pdf");
  session::ReportOptions options;
  options.sessionPath = path_;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  auto written = session::writeReport(capture(), out, options);
  QApplication::restoreOverrideCursor();
  if (!written) {
    window_.banner()->showError(tr("The report was not written: %1").arg(qs(written.error().message)));
    return false;
  }
  window_.statusBarMessage(tr("Report written to %1").arg(QDir::toNativeSeparators(out)));
  return true;
}

bool SessionController::autosaveNow() {
  if (window_.imagePath().isEmpty() && window_.bookmarks()->count() == 0) return false;
  if (!QDir().mkpath(recoveryDir_)) return false;
  Session s = capture();
  s.autosaveOf = path_;
  if (auto saved = session::saveSession(s, recoveryPath()); !saved) {
    window_.statusBarMessage(tr("Autosave failed: %1").arg(qs(saved.error().message)));
    return false;
  }
  autosaveDue_ = false;
  return true;
}

QStringList SessionController::orphanedRecoveryFiles() const {
  QStringList files;
  const QFileInfoList entries = QDir(recoveryDir_).entryInfoList({QStringLiteral("autosave-*.loupe")}, QDir::Files, QDir::Time);
  for (const QFileInfo& info : entries) {
    const qint64 pid = pidOf(info.filePath());
    if (pid == QCoreApplication::applicationPid() || processAlive(pid)) continue;
    files << info.absoluteFilePath();
  }
  return files;
}

void SessionController::offerRecovery() {
  const QStringList files = orphanedRecoveryFiles();
  if (files.isEmpty() || prompt_) return;
  const QString file = files.first();
  auto loaded = session::loadSession(file);
  if (!loaded) {  // a damaged autosave cannot be restored; say so once and drop it
    window_.banner()->showWarning(tr("An autosaved session could not be read and was removed: %1").arg(qs(loaded.error().message)));
    removeSessionFiles(file);
    return;
  }
  const QString what = loaded->input ? QFileInfo(loaded->input->path).fileName() : tr("untitled work");
  auto* box = new QMessageBox(QMessageBox::Question, tr("Recover unsaved work"),
                              tr("Loupe did not close normally. Restore the work on %1 autosaved %2?")
                                  .arg(what, QFileInfo(file).lastModified().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))),
                              QMessageBox::NoButton, &window_);
  box->setObjectName(QStringLiteral("recoveryPrompt"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  QPushButton* restore = box->addButton(tr("Restore"), QMessageBox::AcceptRole);
  restore->setObjectName(QStringLiteral("restoreButton"));
  QPushButton* discard = box->addButton(tr("Discard"), QMessageBox::DestructiveRole);
  discard->setObjectName(QStringLiteral("discardButton"));
  box->addButton(tr("Later"), QMessageBox::RejectRole)->setObjectName(QStringLiteral("laterButton"));
  box->setDefaultButton(restore);
  connect(box, &QMessageBox::buttonClicked, this, [this, file, restore, discard](QAbstractButton* button) {
    if (button == restore) restoreRecovery(file);
    else if (button == discard) removeSessionFiles(file);
  });
  prompt_ = box;
  box->open();
}

bool SessionController::restoreRecovery(const QString& file) {
  auto loaded = session::loadSession(file);
  if (!loaded) {
    window_.banner()->showError(tr("Cannot restore the autosaved session: %1").arg(qs(loaded.error().message)));
    return false;
  }
  const QString origin = loaded->autosaveOf;
  apply(*loaded, origin);  // relative paths resolve against the original session file
  removeSessionFiles(file);
  setDirty(true);  // recovered work is not saved anywhere yet
  autosaveNow();
  return true;
}

void SessionController::removeSessionFiles(const QString& path) {
  QFile::remove(path);
  QDir(session::sidecarDir(path)).removeRecursively();
}

void SessionController::shutdown() {
  timer_.stop();
  removeSessionFiles(recoveryPath());
}

Bookmark SessionController::captureBookmark() const {
  Bookmark b;
  b.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
  b.createdAt = session::nowUtc();
  b.title = tr("Bookmark %1").arg(window_.bookmarks()->count() + 1);
  const Session s = capture();
  b.view = s.view;
  if (run_ && runImage_ == window_.imagePath()) {
    b.taskId = run_->taskId;
    b.params = run_->params;
  } else {
    b.taskId = window_.selectedTaskId();
  }
  if (!window_.view()->showsOriginal())
    for (const auto& layer : window_.layers()->layers())
      if (layer->isVisible()) b.visibleLayers << layer->id();
  QPixmap shot = window_.viewArea()->grab();
  if (shot.width() > kSnapshotMaxWidth) shot = shot.scaledToWidth(kSnapshotMaxWidth, Qt::SmoothTransformation);
  QBuffer buffer(&b.snapshotPng);
  buffer.open(QIODevice::WriteOnly);
  shot.save(&buffer, "PNG");
  return b;
}

void SessionController::addBookmark() {
  if (window_.imagePath().isEmpty()) {
    window_.banner()->showError(tr("Open an image first: a bookmark keeps a view of it."));
    return;
  }
  window_.bookmarks()->add(captureBookmark());
  window_.bookmarks()->show();
  window_.bookmarks()->raise();
}

bool SessionController::goToBookmark(int index) {
  const auto& list = window_.bookmarks()->bookmarks();
  if (index < 0 || index >= static_cast<int>(list.size()) || window_.imagePath().isEmpty()) return false;
  const Bookmark& b = list[static_cast<std::size_t>(index)];
  ++applying_;
  applyView(b.view);
  widgets::LayerStack* stack = window_.layers();
  if (!b.view.showOriginal)
    for (int i = 0; i < stack->count(); ++i) stack->setVisible(i, b.visibleLayers.contains(stack->at(i)->id()));
  if (!b.taskId.isEmpty() && window_.selectedTaskId() != b.taskId && window_.selectTask(b.taskId)) window_.applyParameters(b.params);
  --applying_;
  return true;
}

}  // namespace loupe::gui
