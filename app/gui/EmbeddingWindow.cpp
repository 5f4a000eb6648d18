#include "EmbeddingWindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMap>
#include <QMenuBar>
#include <QMessageBox>
#include <QOpenGLContext>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "widgets/Gallery.h"
#include "widgets/ScatterColors.h"
#include "widgets/ScatterView.h"

namespace loupe::gui {

namespace {
constexpr int kNeighbours = 24;
constexpr int kSelectionRowsShown = 500;
constexpr int kContinuousAbove = 20;  // numeric columns with more distinct values get a colour map
const char* kClusterKeys[] = {"cluster:kmeans-vectors", "cluster:kmeans-layout", "cluster:hdbscan-layout"};
}  // namespace

EmbeddingWindow::EmbeddingWindow(QWidget* parent) : QMainWindow(parent, Qt::Window) {
  setObjectName(QStringLiteral("embeddingWindow"));
  setWindowTitle(tr("Embedding Explorer"));
  setAttribute(Qt::WA_DeleteOnClose, false);
  buildUi();
  resize(1400, 900);
}

bool EmbeddingWindow::openGLAvailable(QString* reason) {
  static const QString why = [] {
    const QString platform = QGuiApplication::platformName();
    if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal"))
      return tr("the '%1' display platform draws no OpenGL").arg(platform);
    QOpenGLContext context;
    if (!context.create()) return tr("no OpenGL context can be created on this display");
    return QString();
  }();
  if (reason) *reason = why;
  return why.isEmpty();
}

EmbeddingWindow::~EmbeddingWindow() {
  cancel_.cancel();
  if (job_) job_->waitForFinished();
  if (saveJob_) saveJob_->waitForFinished();
}

void EmbeddingWindow::buildUi() {
  view_ = new widgets::ScatterView(this);
  view_->setObjectName(QStringLiteral("scatterView"));
  gallery_ = new widgets::Gallery(this);
  gallery_->setObjectName(QStringLiteral("neighbourGallery"));
  gallery_->setThumbnailSize(84);

  // Toolbar: open, projection, colour, selection mode.
  QToolBar* bar = addToolBar(tr("Embeddings"));
  bar->setObjectName(QStringLiteral("embeddingToolbar"));
  bar->setMovable(false);
  QAction* openAction = bar->addAction(tr("Open..."), this, &EmbeddingWindow::openDialog);
  openAction->setToolTip(tr("Open an embedding store folder, a .npy matrix (with its .csv) or Fashion-MNIST"));
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Projection "), bar));
  projectionCombo_ = new QComboBox(bar);
  projectionCombo_->setObjectName(QStringLiteral("projectionCombo"));
  for (const Projection p : availableProjections())
    projectionCombo_->addItem(QString::fromLatin1(projectionName(p)), static_cast<int>(p));
  bar->addWidget(projectionCombo_);
  runButton_ = new QPushButton(tr("Run"), bar);
  runButton_->setObjectName(QStringLiteral("runProjectionButton"));
  stopButton_ = new QPushButton(tr("Stop"), bar);
  stopButton_->setObjectName(QStringLiteral("stopButton"));
  stopButton_->setEnabled(false);
  stopButton_->setToolTip(tr("Stop the projection or clustering; a projection keeps the layout reached so far"));
  bar->addWidget(runButton_);
  bar->addWidget(stopButton_);
  connect(runButton_, &QPushButton::clicked, this,
          [this] { runProjection(static_cast<Projection>(projectionCombo_->currentData().toInt())); });
  connect(stopButton_, &QPushButton::clicked, this, &EmbeddingWindow::stopJob);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Colour by "), bar));
  colorCombo_ = new QComboBox(bar);
  colorCombo_->setObjectName(QStringLiteral("colorCombo"));
  colorCombo_->setMinimumContentsLength(18);
  bar->addWidget(colorCombo_);
  bar->addWidget(new QLabel(tr(" k "), bar));
  clusterK_ = new QSpinBox(bar);
  clusterK_->setRange(2, 200);
  clusterK_->setValue(10);
  clusterK_->setToolTip(tr("Clusters for k-means; smallest cluster size for HDBSCAN"));
  bar->addWidget(clusterK_);
  connect(colorCombo_, &QComboBox::activated, this, [this] { colorBy(colorCombo_->currentData().toString()); });
  connect(clusterK_, &QSpinBox::editingFinished, this, [this] {
    if (colorKey().startsWith(QLatin1String("cluster:"))) {
      clusters_.clear();
      clusterMethod_ = -1;
      applyColors();
    }
  });
  bar->addSeparator();
  modes_ = new QActionGroup(this);
  const struct {
    const char* text;
    widgets::ScatterView::Mode mode;
    const char* key;
    const char* tip;
  } modes[] = {{"Pan", widgets::ScatterView::Mode::Pan, "P", "Drag to pan (right button always pans), wheel to zoom"},
               {"Rectangle", widgets::ScatterView::Mode::Rectangle, "R", "Drag a rectangle to select; Shift adds, Ctrl removes"},
               {"Lasso", widgets::ScatterView::Mode::Lasso, "L", "Draw around points to select; Shift adds, Ctrl removes"}};
  for (const auto& m : modes) {
    QAction* a = bar->addAction(tr(m.text));
    a->setCheckable(true);
    a->setShortcut(QKeySequence(QString::fromLatin1(m.key)));
    a->setToolTip(tr(m.tip));
    a->setObjectName(QStringLiteral("mode%1").arg(QString::fromLatin1(m.text)));
    modes_->addAction(a);
    const auto mode = m.mode;
    connect(a, &QAction::triggered, this, [this, mode] { view_->setMode(mode); });
    if (mode == widgets::ScatterView::Mode::Pan) a->setChecked(true);
  }
  bar->addAction(tr("Fit"), this, &EmbeddingWindow::fitView)->setToolTip(tr("Show every point (F)"));
  // A view the user has not panned or zoomed follows the layout: it is fitted again when a projection ends.
  connect(view_, &widgets::ScatterView::viewChanged, this, [this] {
    if (!fitting_) viewMoved_ = true;
  });

  // Right side: the selection and the neighbours.
  auto* selectionBox = new QWidget(this);
  auto* selLayout = new QVBoxLayout(selectionBox);
  selLayout->setContentsMargins(4, 4, 4, 4);
  selectionCount_ = new QLabel(tr("No selection: draw a rectangle (R) or a lasso (L)"), selectionBox);
  selectionCount_->setObjectName(QStringLiteral("selectionCount"));
  selectionTable_ = new QTableWidget(selectionBox);
  selectionTable_->setObjectName(QStringLiteral("selectionTable"));
  selectionTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  selectionTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  selectionTable_->verticalHeader()->hide();
  selectionTable_->horizontalHeader()->setStretchLastSection(true);
  auto* buttons = new QHBoxLayout;
  auto* csvButton = new QPushButton(tr("Export CSV..."), selectionBox);
  csvButton->setObjectName(QStringLiteral("exportCsvButton"));
  auto* imagesButton = new QPushButton(tr("Export Images..."), selectionBox);
  imagesButton->setObjectName(QStringLiteral("exportImagesButton"));
  connect(csvButton, &QPushButton::clicked, this, &EmbeddingWindow::exportCsvDialog);
  connect(imagesButton, &QPushButton::clicked, this, &EmbeddingWindow::exportImagesDialog);
  buttons->addWidget(csvButton);
  buttons->addWidget(imagesButton);
  buttons->addStretch();
  selLayout->addWidget(selectionCount_);
  selLayout->addWidget(selectionTable_);
  selLayout->addLayout(buttons);
  connect(selectionTable_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
    if (QTableWidgetItem* item = selectionTable_->item(row, 0)) showNeighboursOf(item->text().toLongLong());
  });

  auto* neighbourBox = new QWidget(this);
  auto* nbLayout = new QVBoxLayout(neighbourBox);
  nbLayout->setContentsMargins(4, 4, 4, 4);
  neighbourTitle_ = new QLabel(tr("Click a point for its nearest neighbours; drop an image on the plot to place it"),
                               neighbourBox);
  neighbourTitle_->setObjectName(QStringLiteral("neighbourTitle"));
  neighbourTitle_->setWordWrap(true);
  nbLayout->addWidget(neighbourTitle_);
  nbLayout->addWidget(gallery_);

  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(selectionBox);
  right->addWidget(neighbourBox);
  right->setStretchFactor(0, 2);
  right->setStretchFactor(1, 3);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(view_);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({900, 480});
  setCentralWidget(split);

  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("embeddingStatus"));
  info_ = new QLabel(this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(240);
  progress_->hide();
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(info_);
  statusBar()->addPermanentWidget(progress_);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(openAction);
  QAction* saveAction = file->addAction(tr("&Save as Embedding Store..."), this, &EmbeddingWindow::saveStoreDialog);
  saveAction->setObjectName(QStringLiteral("saveStoreAction"));
  saveAction->setToolTip(tr("Write the vectors shown, their metadata and thumbnails as a store folder that "
                            "loupe --embeddings reopens"));
  file->addAction(tr("Export Selection as &CSV..."), this, &EmbeddingWindow::exportCsvDialog);
  file->addAction(tr("Export Selection &Images..."), this, &EmbeddingWindow::exportImagesDialog);
  file->addSeparator();
  file->addAction(tr("&Model Package for Dropped Images..."), this, &EmbeddingWindow::chooseModelDialog);
  file->addSeparator();
  file->addAction(tr("&Close"), QKeySequence::Close, this, &QWidget::close);

  connect(view_, &widgets::ScatterView::selectionChanged, this, &EmbeddingWindow::updateSelectionList);
  connect(view_, &widgets::ScatterView::pointClicked, this, [this](std::int32_t id) { showNeighboursOf(id); });
  connect(view_, &widgets::ScatterView::filesDropped, this, [this](const QStringList& paths, QPointF) {
    QString error;
    if (!placeImage(paths.front(), &error)) showMessage(error, true);
  });
}

// --- data -------------------------------------------------------------------------------------------------

bool EmbeddingWindow::open(const QString& path, QString* error, std::int64_t limit) {
  QApplication::setOverrideCursor(Qt::WaitCursor);
  auto set = EmbeddingSet::open(path, {}, limit);
  QApplication::restoreOverrideCursor();
  if (!set) {
    const QString message = QString::fromStdString(set.error().message);
    if (error) *error = message;
    showMessage(message, true);
    return false;
  }
  setEmbeddings(set.value());
  return true;
}

void EmbeddingWindow::setEmbeddings(std::shared_ptr<EmbeddingSet> set) { showSet(std::move(set), Projection::Pca); }

void EmbeddingWindow::showSet(std::shared_ptr<EmbeddingSet> set, Projection method) {
  stopJob();
  if (job_) job_->waitForFinished();
  set_ = std::move(set);
  layout_.clear();
  projection_ = {};
  clusters_.clear();
  clusterMethod_ = -1;
  neighbours_.clear();
  neighbourFocus_ = -1;
  colors_.clear();
  live_ = false;
  pendingSet_.reset();
  caption_.clear();
  projectingCaption_.clear();
  vectorUpdates_ = projectedUpdates_ = 0;
  unaligned_.clear();
  alignment_ = {};
  embedderFolder_.clear();
  gallery_->setItems({});
  view_->clearMarker();
  view_->setHighlighted({});
  updateTitle();
  bindHoverProviders();
  // Until a projection arrives: every point at the origin would be useless; PCA is fast, start it.
  fillColorCombo();
  if (!set_->notices().isEmpty()) showMessage(set_->notices().join(QStringLiteral("; ")));
  runProjection(method);
}

void EmbeddingWindow::bindHoverProviders() {
  auto weak = std::weak_ptr<EmbeddingSet>(set_);
  view_->setHoverProviders(
      [weak](std::int32_t id) {
        const auto s = weak.lock();
        return s ? s->thumbnail(id, 112) : QImage();
      },
      [weak](std::int32_t id) {
        const auto s = weak.lock();
        return s ? s->describe(id) : QString();
      });
}

void EmbeddingWindow::updateTitle() {
  if (!set_) return;
  QString title = tr("Embedding Explorer — %1").arg(set_->title());
  if (!caption_.isEmpty()) title += QStringLiteral(" — ") + caption_;
  setWindowTitle(title);
  const QString size = tr("%1 points, %2-d").arg(set_->size()).arg(set_->dim());
  info_->setText(caption_.isEmpty() ? size : caption_ + QStringLiteral("  ·  ") + size);
}

void EmbeddingWindow::setProjectionMethod(Projection method) {
  projectionMethod_ = method;
  const int index = projectionCombo_->findData(static_cast<int>(method));
  if (index >= 0) projectionCombo_->setCurrentIndex(index);
}

// --- live embeddings --------------------------------------------------------------------------------------

bool EmbeddingWindow::setEmbeddings(std::vector<float> values, int n, int d, std::vector<EmbeddingColumn> metadata,
                                    EmbeddingPixels thumbnails, const QString& title, const QString& caption,
                                    QString* error) {
  auto fail = [&](const QString& message) {
    if (error) *error = message;
    showMessage(message, true);
    return false;
  };
  // Rows are ids that later updates address: none may be dropped, so non-finite values are refused here.
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return fail(tr("%1: row %2 holds NaN or Inf (did the model diverge?)")
                      .arg(title)
                      .arg(d > 0 ? qulonglong(i / std::size_t(d)) : 0ull));
  auto set = EmbeddingSet::fromVectors(std::move(values), n, d, std::move(metadata), title, std::move(thumbnails));
  if (!set) return fail(QString::fromStdString(set.error().message));
  showSet(set.value(), projectionMethod_);
  live_ = true;
  projectingCaption_ = caption;
  return true;
}

bool EmbeddingWindow::updateVectors(std::vector<float> values, int n, int d, const QString& caption, QString* error) {
  auto fail = [&](const QString& message) {
    if (error) *error = message;
    showMessage(message, true);
    return false;
  };
  if (!set_) return fail(tr("No embeddings are shown yet to update"));
  if (n != set_->size())
    return fail(tr("The update has %1 rows but the view shows %2; open them as new embeddings").arg(n).arg(set_->size()));
  auto next = set_->withVectors(std::move(values), d);
  if (!next)
    return fail((caption.isEmpty() ? QString() : caption + QStringLiteral(": ")) +
                QString::fromStdString(next.error().message));
  live_ = true;
  pendingSet_ = next.value();
  pendingCaption_ = caption;
  embedderFolder_.clear();  // new vectors: a model package set before did not make them
  ++vectorUpdates_;
  // The newest vectors win: a t-SNE/UMAP run (or clustering) still busy with older ones is stopped (t-SNE/UMAP
  // keep the layout reached, which the next run starts from); a PCA, a matter of milliseconds, is let finish so
  // that its epoch is drawn. The finished handler then starts this one.
  if (jobRunning()) {
    if (cancelOnUpdate_) cancel_.cancel();
    return true;
  }
  startPendingUpdate();
  return true;
}

void EmbeddingWindow::startPendingUpdate() {
  if (!pendingSet_) return;
  set_ = std::move(pendingSet_);
  pendingSet_.reset();
  projectingCaption_ = pendingCaption_;
  if (!embedderFolder_.isEmpty()) {  // the package that made these vectors
    if (const auto r = set_->setModelPackage(embedderFolder_); !r) {
      showMessage(QString::fromStdString(r.error().message), true);
      embedderFolder_.clear();
    }
  }
  bindHoverProviders();
  // Clusters were of the old vectors or layout; a dropped image's place too.
  clusters_.clear();
  clusterMethod_ = -1;
  if (neighbourFocus_ >= 0) {
    showNeighboursOf(neighbourFocus_);  // the same point's neighbours among the new vectors
  } else if (view_->hasMarker()) {
    view_->clearMarker();
    view_->setHighlighted({});
    neighbours_.clear();
    gallery_->setItems({});
  }
  startProjection(projectionMethod_);
}

void EmbeddingWindow::setPointColors(std::vector<QRgb> colors) {
  colors_ = std::move(colors);
  view_->setColors(colors_);
}

bool EmbeddingWindow::setEmbedderPackage(const QString& folder, QString* error) {
  if (!set_) {
    if (error) *error = tr("No embeddings are shown");
    return false;
  }
  const auto r = set_->setModelPackage(folder);
  if (!r) {
    if (error) *error = QString::fromStdString(r.error().message);
    showMessage(QString::fromStdString(r.error().message), true);
    return false;
  }
  embedderFolder_ = folder;
  return true;
}

bool EmbeddingWindow::saving() const { return saveJob_ && saveJob_->isRunning(); }

void EmbeddingWindow::saveStore(const QString& folder) {
  if (!set_ || saving()) {
    const QString message = set_ ? tr("A save is already running") : tr("No embeddings to save");
    showMessage(message, true);
    Q_EMIT storeSaved(false, message);
    return;
  }
  auto set = set_;
  QString model = sourceModel_;
  if (model.isEmpty()) model = set->canEmbedImages() ? set->embedderName() : QStringLiteral("precomputed");
  auto result = std::make_shared<std::optional<Result<void>>>();
  delete saveJob_;
  saveJob_ = new QFutureWatcher<void>(this);
  connect(saveJob_, &QFutureWatcher<void>::finished, this, [this, result, folder, n = set->size()] {
    const bool ok = result->has_value() && result->value().ok();
    const QString message =
        ok ? tr("Saved %1 embeddings as a store in %2 (open it with loupe --embeddings)").arg(n).arg(folder)
           : tr("Could not save the store: %1")
                 .arg(result->has_value() ? QString::fromStdString(result->value().error().message) : tr("internal error"));
    showMessage(message, !ok);
    Q_EMIT storeSaved(ok, message);
  });
  showMessage(tr("Saving %1 embeddings to %2...").arg(set->size()).arg(folder));
  saveJob_->setFuture(QtConcurrent::run([set, folder, model, result] { *result = saveEmbeddingStore(*set, folder, model); }));
}

void EmbeddingWindow::saveStoreDialog() {
  if (!set_) {
    showMessage(tr("No embeddings to save"), true);
    return;
  }
  const QString folder = QFileDialog::getSaveFileName(this, tr("Save as Embedding Store (a new folder)"),
                                                      QStringLiteral("embeddings-store"));
  if (!folder.isEmpty()) saveStore(folder);
}

void EmbeddingWindow::fillColorCombo() {
  colorCombo_->clear();
  colorCombo_->addItem(tr("(one colour)"), QString());
  for (const auto& c : set_->columns()) colorCombo_->addItem(c.name, c.name);
  colorCombo_->addItem(tr("Clusters: k-means on the vectors"), QString::fromLatin1(kClusterKeys[0]));
  colorCombo_->addItem(tr("Clusters: k-means on the layout"), QString::fromLatin1(kClusterKeys[1]));
  colorCombo_->addItem(tr("Clusters: HDBSCAN on the layout"), QString::fromLatin1(kClusterKeys[2]));
  // Default colouring: the label column; else the truth or prediction a collection is usually explored by
  // (e.g. the face stores of `loupe-cli eval age --features-out`: true age, else predicted age).
  int pick = set_->labelColumn().isEmpty() ? -1 : colorCombo_->findData(set_->labelColumn());
  for (const char* name : {"true_age", "age", "predicted_age"})
    if (pick < 0) pick = colorCombo_->findData(QString::fromLatin1(name));
  colorCombo_->setCurrentIndex(pick < 0 ? 0 : pick);
}

QString EmbeddingWindow::colorKey() const { return colorCombo_->currentData().toString(); }

void EmbeddingWindow::colorBy(const QString& key) {
  const int i = colorCombo_->findData(key);
  if (i >= 0) colorCombo_->setCurrentIndex(i);
  applyColors();
}

void EmbeddingWindow::applyColors() {
  if (!set_ || view_->count() != set_->size()) return;
  const QString key = colorKey();
  if (key.isEmpty()) {
    setPointColors(std::vector<QRgb>(static_cast<std::size_t>(set_->size()), widgets::categoricalPalette(1)[0]));
    view_->setLegend({});
    return;
  }
  for (int m = 0; m < 3; ++m) {
    if (key != QLatin1String(kClusterKeys[m])) continue;
    if (clusterMethod_ != m || static_cast<std::int64_t>(clusters_.size()) != set_->size()) {
      runClusters(m);
      return;
    }
    int k = 0;
    for (const int c : clusters_) k = std::max(k, c + 1);
    const auto palette = widgets::categoricalPalette(k);
    setPointColors(widgets::colorsForCategories(clusters_, palette));
    std::vector<std::pair<QString, QRgb>> legend;
    for (int c = 0; c < k && c < 20; ++c) legend.push_back({tr("cluster %1").arg(c), palette[static_cast<std::size_t>(c)]});
    if (std::find(clusters_.begin(), clusters_.end(), -1) != clusters_.end())
      legend.push_back({tr("noise"), widgets::kScatterMissingColor});
    view_->setLegend(std::move(legend), colorCombo_->currentText().section(QLatin1Char(':'), 1).trimmed());
    return;
  }
  const EmbeddingColumn* column = set_->column(key);
  if (!column) return;
  if (column->numeric) {
    std::set<double> distinct;
    for (const double v : column->numbers) {
      if (std::isfinite(v)) distinct.insert(v);
      if (distinct.size() > static_cast<std::size_t>(kContinuousAbove)) break;
    }
    if (distinct.size() > static_cast<std::size_t>(kContinuousAbove)) {
      double lo = INFINITY, hi = -INFINITY;
      for (const double v : column->numbers)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      setPointColors(widgets::colorsForValues(column->numbers, Colormap::Viridis, lo, hi));
      auto rgb = [](float t) {
        const auto c = colormapColor(Colormap::Viridis, t);
        return qRgb(c[0], c[1], c[2]);
      };
      view_->setLegend({{QString::number(lo, 'g', 4), rgb(0.f)}, {QString::number((lo + hi) / 2, 'g', 4), rgb(0.5f)},
                        {QString::number(hi, 'g', 4), rgb(1.f)}},
                       column->name);
      return;
    }
  }
  const auto cats = widgets::categoriesOf(column->text);
  const auto palette = widgets::categoricalPalette(static_cast<int>(cats.names.size()));
  setPointColors(widgets::colorsForCategories(cats.category, palette));
  std::vector<std::pair<QString, QRgb>> legend;
  for (std::size_t c = 0; c < cats.names.size() && c < 20; ++c) legend.push_back({cats.names[c], palette[c]});
  if (cats.names.size() > 20) legend.push_back({tr("... %1 more").arg(cats.names.size() - 20), widgets::kScatterMissingColor});
  view_->setLegend(std::move(legend), column->name);
}

// --- jobs -------------------------------------------------------------------------------------------------

// Running, or finished with its result not handled yet (the watcher's finished signal is queued): until the
// handler ran, the watcher must not be replaced, or that result would be lost.
bool EmbeddingWindow::jobRunning() const { return job_ && (job_->isRunning() || !jobHandled_); }

void EmbeddingWindow::replaceJobWatcher() {
  if (job_) {
    disconnect(job_, nullptr, this, nullptr);  // a result still queued for it is dropped, not handled late
    job_->deleteLater();                       // may be the watcher whose handler is running now
  }
  job_ = new QFutureWatcher<void>(this);
  jobHandled_ = false;
}

void EmbeddingWindow::stopJob() {
  if (jobRunning()) {
    cancel_.cancel();
    showMessage(tr("Stopping..."));
  }
}

void EmbeddingWindow::setBusy(bool busy, const QString& what) {
  stopButton_->setEnabled(busy);
  runButton_->setEnabled(!busy);
  progress_->setVisible(busy);
  if (busy) {
    progress_->setValue(0);
    progress_->setFormat(what + QStringLiteral(" %p%"));
    showMessage(what + QStringLiteral("..."));
  }
}

void EmbeddingWindow::showMessage(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

void EmbeddingWindow::onLayout(std::vector<float> xy, int iteration) {
  if (!set_ || static_cast<std::int64_t>(xy.size()) != 2 * set_->size()) return;
  const bool first = layout_.size() != xy.size();
  layout_ = xy;
  ++layoutUpdates_;
  // Keep the user's zoom while a layout optimises, except for the first one.
  view_->setPositions(std::move(xy), !first);
  if (first) {
    fitView();
    applyColors();
  }
  if (iteration > 1) showMessage(tr("%1: iteration %2").arg(QString::fromLatin1(projectionName(projectionMethod_))).arg(iteration));
}

void EmbeddingWindow::runProjection(Projection method) {
  if (!set_) return;
  if (jobRunning()) {
    cancel_.cancel();
    job_->waitForFinished();
  }
  if (pendingSet_) {  // live vectors waiting: project those
    setProjectionMethod(method);
    startPendingUpdate();
    return;
  }
  startProjection(method);
}

void EmbeddingWindow::startProjection(Projection method) {
  cancel_ = CancelToken();
  cancelOnUpdate_ = method != Projection::Pca;
  projectionMethod_ = method;
  if (method != Projection::Pca) {
    // t-SNE / UMAP start from a new layout: earlier clusters of the layout no longer apply.
    if (clusterMethod_ > 0) clusterMethod_ = -1;
  }
  const int index = projectionCombo_->findData(static_cast<int>(method));
  if (index >= 0) projectionCombo_->setCurrentIndex(index);
  setBusy(true, QString::fromLatin1(projectionName(method)));
  auto set = set_;
  auto cancel = cancel_;
  auto pending = layoutPending_;
  auto latest = latest_;
  auto latestMutex = latestMutex_;
  auto result = std::make_shared<std::optional<Result<ProjectionResult>>>();
  auto lastPermille = std::make_shared<std::atomic<int>>(-1);
  // Live embeddings: every layout is mapped onto the one shown (Procrustes) before it is shown, and t-SNE/UMAP
  // start from it, so the picture stays put from one epoch to the next.
  std::vector<float> reference;
  if (live_ && static_cast<std::int64_t>(layout_.size()) == 2 * set_->size()) reference = layout_;
  auto alignment = std::make_shared<std::pair<std::vector<float>, LayoutTransform>>();
  // Intermediate layouts are drawn at most every 40 ms: each frame costs the GUI thread a repaint (tens of ms
  // with a software rasteriser) that the optimisation and, in live mode, the training need the cores for.
  // The final layout always arrives through the finished handler.
  auto lastPost = std::make_shared<std::atomic<std::int64_t>>(std::numeric_limits<std::int64_t>::min() / 2);
  LayoutSink sink = [this, pending, latest, latestMutex, lastPost](std::vector<float> xy, int iteration) {
    {
      std::lock_guard<std::mutex> lock(*latestMutex);
      latest->first = std::move(xy);
      latest->second = iteration;
    }
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (now - lastPost->load() < 40) return true;
    lastPost->store(now);
    if (!pending->exchange(true))
      QMetaObject::invokeMethod(this, [this, pending, latest, latestMutex] {
        std::pair<std::vector<float>, int> take;
        {
          std::lock_guard<std::mutex> lock(*latestMutex);
          take = std::move(*latest);
          pending->store(false);
        }
        if (!take.first.empty()) onLayout(std::move(take.first), take.second);
      }, Qt::QueuedConnection);
    return true;
  };
  Progress progress([this, lastPermille](double fraction, const std::string&) {
    const int permille = static_cast<int>(fraction * 1000);
    if (lastPermille->exchange(permille) == permille) return;
    QMetaObject::invokeMethod(this, [this, permille] { progress_->setValue(permille); }, Qt::QueuedConnection);
  });
  ProjectionOptions options;
  options.method = method;
  if (!reference.empty() && method != Projection::Pca) options.initialLayout = reference;
  replaceJobWatcher();
  connect(job_, &QFutureWatcher<void>::finished, this, [this, result, alignment] {
    jobHandled_ = true;
    // Layout updates posted before the end arrive first (queued in order); then the result.
    setBusy(false, {});
    const bool superseded = pendingSet_ != nullptr;  // newer live vectors wait: they are projected next
    if (result->has_value()) {
      const auto& r = result->value();
      if (!r.ok()) {
        const bool cancelled = r.error().code == ErrorCode::Cancelled;
        if (!(cancelled && superseded)) {
          showMessage(cancelled ? tr("Stopped") : QString::fromStdString(r.error().message), !cancelled);
          Q_EMIT projectionFinished(false);
        }
      } else {
        projection_ = r.value();
        unaligned_ = std::move(alignment->first);
        alignment_ = alignment->second;
        onLayout(projection_.xy, projection_.iterations);
        if (!(superseded && projection_.stopped)) {
          QString message = tr("%1 (%2 s, %3 points); neighbours: %4")
                                .arg(projection_.summary)
                                .arg(projection_.seconds, 0, 'f', 1)
                                .arg(set_->size())
                                .arg(set_->searchMethod());
          if (live_) {  // the caption is in the title and beside the status; say how the layout was kept steady
            caption_ = projectingCaption_;
            ++projectedUpdates_;
            updateTitle();
            message = tr("%1 (%2 s)").arg(projection_.summary).arg(projection_.seconds, 0, 'f', 1);
            if (alignment_.valid)
              message += tr("; aligned to the previous layout: rotation %1°%2, scale %3")
                             .arg(alignment_.rotationDegrees, 0, 'f', 1)
                             .arg(alignment_.reflection ? tr(" after a reflection") : QString())
                             .arg(alignment_.scale, 0, 'g', 3);
          }
          if (!viewMoved_) fitView();
          showMessage(message);
          if (!superseded && colorKey().startsWith(QLatin1String("cluster:"))) applyColors();  // re-cluster
          Q_EMIT projectionFinished(true);
        }
      }
    }
    if (pendingSet_ && !jobRunning()) startPendingUpdate();
  });
  job_->setFuture(QtConcurrent::run([set, options, sink, cancel, progress, result, reference, alignment] {
    // A stop keeps the layout reached so far: the sink reports it as stopped through the cancel token.
    LayoutSink stopAware = [sink, cancel, &reference](std::vector<float> xy, int iteration) {
      if (!reference.empty()) applyTransform(xy, procrustesAlign(xy, reference));
      sink(std::move(xy), iteration);
      return !cancel.isCancelled();
    };
    *result = loupe::gui::runProjection(*set, options, stopAware, cancel, progress);
    auto& r = result->value();
    if (!r.ok()) return;
    auto& xy = r.value().xy;
    alignment->first = xy;  // as computed
    if (!reference.empty()) {
      alignment->second = procrustesAlign(xy, reference);
      applyTransform(xy, alignment->second);
    }
  }));
}

void EmbeddingWindow::runClusters(int method) {
  if (!set_) return;
  if (method > 0 && layout_.empty()) {
    showMessage(tr("Run a projection first"), true);
    return;
  }
  if (jobRunning()) {
    showMessage(tr("Wait for the running job or stop it first"), true);
    return;
  }
  cancel_ = CancelToken();
  cancelOnUpdate_ = true;
  setBusy(true, tr("Clustering"));
  auto set = set_;
  auto layout = layout_;
  auto cancel = cancel_;
  const int k = clusterK_->value();
  auto result = std::make_shared<std::optional<Result<std::vector<int>>>>();
  replaceJobWatcher();
  connect(job_, &QFutureWatcher<void>::finished, this, [this, result, method] {
    jobHandled_ = true;
    setBusy(false, {});
    if (!result->has_value()) return;
    const auto& r = result->value();
    if (!r.ok()) {
      showMessage(QString::fromStdString(r.error().message), r.error().code != ErrorCode::Cancelled);
      return;
    }
    clusters_ = r.value();
    clusterMethod_ = method;
    int k = 0, noise = 0;
    for (const int c : clusters_) k = std::max(k, c + 1), noise += c < 0 ? 1 : 0;
    showMessage(noise ? tr("%1 clusters, %2 noise points").arg(k).arg(noise) : tr("%1 clusters").arg(k));
    applyColors();
    Q_EMIT clustersReady();
  });
  const auto cm = static_cast<ClusterMethod>(method);
  job_->setFuture(QtConcurrent::run([set, layout, cm, k, cancel, result] {
    *result = clusterRows(*set, layout, cm, k, 0, cancel);
  }));
}

// --- selection --------------------------------------------------------------------------------------------

void EmbeddingWindow::updateSelectionList() {
  const auto& ids = view_->selection();
  selectionTable_->clear();
  if (!set_ || ids.empty()) {
    selectionTable_->setRowCount(0);
    selectionTable_->setColumnCount(0);
    selectionCount_->setText(tr("No selection: draw a rectangle (R) or a lasso (L)"));
    return;
  }
  const auto& columns = set_->columns();
  QStringList headers{tr("id")};
  for (const auto& c : columns) headers << c.name;
  selectionTable_->setColumnCount(headers.size());
  selectionTable_->setHorizontalHeaderLabels(headers);
  const int shown = std::min<int>(static_cast<int>(ids.size()), kSelectionRowsShown);
  selectionTable_->setRowCount(shown);
  for (int r = 0; r < shown; ++r) {
    const auto id = static_cast<std::size_t>(ids[static_cast<std::size_t>(r)]);
    selectionTable_->setItem(r, 0, new QTableWidgetItem(QString::number(id)));
    for (std::size_t c = 0; c < columns.size(); ++c)
      selectionTable_->setItem(r, static_cast<int>(c) + 1, new QTableWidgetItem(columns[c].text[id]));
  }
  selectionTable_->resizeColumnsToContents();
  // A summary of the label column in the selection: what the researcher usually wants to know first.
  QString summary;
  if (const EmbeddingColumn* label = set_->labelColumn().isEmpty() ? nullptr : set_->column(set_->labelColumn())) {
    QMap<QString, int> counts;
    for (const auto id : ids) ++counts[label->text[static_cast<std::size_t>(id)]];
    QList<QPair<int, QString>> sorted;
    for (auto it = counts.begin(); it != counts.end(); ++it) sorted.append({it.value(), it.key()});
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    QStringList parts;
    for (int i = 0; i < sorted.size() && i < 4; ++i) parts << QStringLiteral("%1 %2").arg(sorted[i].first).arg(sorted[i].second);
    summary = QStringLiteral(" — ") + parts.join(QStringLiteral(", "));
  }
  selectionCount_->setText(tr("%n selected", nullptr, static_cast<int>(ids.size())) +
                           (static_cast<int>(ids.size()) > shown ? tr(" (first %1 listed)").arg(shown) : QString()) + summary);
}

bool EmbeddingWindow::exportSelectionCsv(const QString& path, QString* error) {
  if (!set_ || view_->selection().empty()) {
    if (error) *error = tr("Nothing is selected");
    return false;
  }
  const auto r = writeSelectionCsv(*set_, view_->selection(), path);
  if (!r) {
    if (error) *error = QString::fromStdString(r.error().message);
    return false;
  }
  showMessage(tr("Wrote %1 rows to %2").arg(view_->selection().size()).arg(path));
  return true;
}

int EmbeddingWindow::exportSelectionImages(const QString& folder, QString* error) {
  if (!set_ || view_->selection().empty()) {
    if (error) *error = tr("Nothing is selected");
    return -1;
  }
  const auto r = copySelectionImages(*set_, view_->selection(), folder);
  if (!r) {
    if (error) *error = QString::fromStdString(r.error().message);
    return -1;
  }
  showMessage(tr("Wrote %1 images to %2").arg(r.value()).arg(folder));
  return r.value();
}

// --- neighbours -------------------------------------------------------------------------------------------

void EmbeddingWindow::showNeighbourList(const std::vector<EmbeddingNeighbour>& list, const QString& title,
                                        std::int32_t focus) {
  neighbours_ = list;
  std::vector<widgets::GalleryItem> items;
  const auto set = set_;
  const QString keyBase = QStringLiteral("emb%1:").arg(reinterpret_cast<quintptr>(set.get()));
  std::vector<std::int32_t> ids;
  for (const auto& n : list) {
    widgets::GalleryItem item;
    const std::int64_t id = n.id;
    item.path = set->imagePath(id);
    item.key = keyBase + QString::number(id);
    item.provider = [set, id](QSize box, QString* error) {
      QImage image = set->thumbnail(id, std::max(box.width(), box.height()));
      if (image.isNull() && error) *error = QObject::tr("row %1 has no image").arg(id);
      return image;
    };
    item.score = n.similarity;
    const EmbeddingColumn* label = set->labelColumn().isEmpty() ? nullptr : set->column(set->labelColumn());
    item.caption = QStringLiteral("#%1 %2 d=%3")
                       .arg(id)
                       .arg(label ? label->text[static_cast<std::size_t>(id)] : QString())
                       .arg(1.0 - n.similarity, 0, 'f', 3);
    item.metadata.insert(QStringLiteral("id"), static_cast<qlonglong>(id));
    item.metadata.insert(QStringLiteral("cosine similarity"), n.similarity);
    item.metadata.insert(QStringLiteral("cosine distance"), 1.0 - n.similarity);
    for (const auto& c : set->columns()) item.metadata.insert(c.name, c.text[static_cast<std::size_t>(id)]);
    items.push_back(std::move(item));
    ids.push_back(static_cast<std::int32_t>(id));
  }
  gallery_->setItems(std::move(items));
  neighbourTitle_->setText(title);
  view_->setHighlighted(std::move(ids), focus);
  Q_EMIT neighboursShown();
}

void EmbeddingWindow::showNeighboursOf(std::int64_t id) {
  if (!set_ || id < 0 || id >= set_->size()) return;
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const auto r = set_->neighboursOf(id, kNeighbours);
  QApplication::restoreOverrideCursor();
  if (!r) {
    showMessage(QString::fromStdString(r.error().message), true);
    return;
  }
  view_->clearMarker();
  neighbourFocus_ = id;
  showNeighbourList(r.value(), tr("%1 nearest neighbours of %2 (cosine distance, %3)")
                                   .arg(r->size())
                                   .arg(set_->describe(id, 1).replace(QLatin1Char('\n'), QStringLiteral("  ")))
                                   .arg(set_->searchMethod()),
                    static_cast<std::int32_t>(id));
}

bool EmbeddingWindow::placeImage(const QString& imageFile, QString* error) {
  auto fail = [&](const QString& message) {
    if (error) *error = message;
    return false;
  };
  if (!set_) return fail(tr("Open embeddings first"));
  if (layout_.empty()) return fail(tr("Wait for the projection before dropping an image"));
  if (!set_->canEmbedImages())
    return fail(tr("%1 has no model to embed images with: choose one with File > Model Package for Dropped Images")
                    .arg(set_->title()));
  QApplication::setOverrideCursor(Qt::WaitCursor);
  const auto vector = set_->embedImage(imageFile);
  QApplication::restoreOverrideCursor();
  if (!vector) return fail(QString::fromStdString(vector.error().message));
  auto where = loupe::gui::placeVector(*set_, projection_, projectionMethod_, layout_, vector.value());
  if (!where) return fail(QString::fromStdString(where.error().message));
  if (projectionMethod_ == Projection::Pca && alignment_.valid) {  // the PCA layout shown was aligned
    std::vector<float> p{static_cast<float>(where->x()), static_cast<float>(where->y())};
    applyTransform(p, alignment_);
    *where = QPointF(p[0], p[1]);
  }
  const auto nb = set_->neighbours(vector.value(), kNeighbours);
  if (!nb) return fail(QString::fromStdString(nb.error().message));
  neighbourFocus_ = -1;
  view_->setMarker(where.value(), QFileInfo(imageFile).fileName());
  showNeighbourList(nb.value(), tr("%1 nearest neighbours of the dropped image %2 (embedded with %3; %4)")
                                    .arg(nb->size())
                                    .arg(QFileInfo(imageFile).fileName(), set_->embedderName(),
                                         projectionMethod_ == Projection::Pca
                                             ? tr("placed by the PCA projection")
                                             : tr("placed at its neighbours' weighted mean position")),
                    -1);
  return true;
}

void EmbeddingWindow::fitView() {
  fitting_ = true;
  view_->fitToData();
  fitting_ = false;
  viewMoved_ = false;
}

QImage EmbeddingWindow::snapshot() {
  QImage image = grab().toImage();
  const QImage plot = view_->grabFramebuffer();
  QPainter painter(&image);
  painter.drawImage(QRect(view_->mapTo(this, QPoint(0, 0)), view_->size()), plot);
  return image;
}

// --- dialogs ----------------------------------------------------------------------------------------------

void EmbeddingWindow::openDialog() {
  QSettings settings;
  const QString last = settings.value(QStringLiteral("lastEmbeddingPath")).toString();
  QFileDialog dialog(this, tr("Open Embeddings"), last);
  dialog.setNameFilters({tr("NumPy matrix (*.npy)"), tr("Embedding store (manifest.json)"), tr("All files (*)")});
  dialog.setFileMode(QFileDialog::ExistingFile);
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return;
  QString path = dialog.selectedFiles().front();
  if (QFileInfo(path).fileName() == QLatin1String("manifest.json")) path = QFileInfo(path).absolutePath();
  else if (QFileInfo(path).fileName().contains(QLatin1String("idx"))) path = QFileInfo(path).absolutePath();
  settings.setValue(QStringLiteral("lastEmbeddingPath"), path);
  open(path);
}

void EmbeddingWindow::exportCsvDialog() {
  if (view_->selection().empty()) {
    showMessage(tr("Nothing is selected"), true);
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Selection as CSV"), QStringLiteral("selection.csv"),
                                                    tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!exportSelectionCsv(path, &error)) showMessage(error, true);
}

void EmbeddingWindow::exportImagesDialog() {
  if (view_->selection().empty()) {
    showMessage(tr("Nothing is selected"), true);
    return;
  }
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Export Selection Images to Folder"));
  if (folder.isEmpty()) return;
  QString error;
  if (exportSelectionImages(folder, &error) < 0) showMessage(error, true);
}

void EmbeddingWindow::chooseModelDialog() {
  if (!set_) return;
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Model Package (folder with loupe-model.json)"));
  if (folder.isEmpty()) return;
  const auto r = set_->setModelPackage(folder);
  if (!r) showMessage(QString::fromStdString(r.error().message), true);
  else showMessage(tr("Dropped images are embedded with %1").arg(set_->embedderName()));
}

}  // namespace loupe::gui
