#include "TrainingPanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFile>
#include <QFileInfo>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPainterPath>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "EmbeddingWindow.h"
#include "core/CancelToken.h"
#include "io/LabelledFolder.h"
#include "runtime/NativeModels.h"
#include "train/EmbeddingTrainer.h"
#include "train/data/Idx.h"
#include "train/losses/Loss.h"
#include "train/metrics/EmbeddingMetrics.h"

namespace loupe::gui {
namespace {

// Losses this trainer can feed: classifier logits (ce, cone) or two augmented views + labels. The others in
// the registry need inputs it does not make (MoCo's momentum keys, per-pixel masks, reader confidences).
const std::set<std::string> kTrainable = {"ce", "cone", "supcon", "infonce", "triplet_cosine"};

// Held-out images embedded after every epoch (kNN accuracy and the explorer's points), and the kNN bank.
constexpr int64_t kMaxHeldOut = 5000, kMaxBank = 10000;

QString duration(double s) {
  if (!std::isfinite(s) || s < 0) return QStringLiteral("?");
  const qint64 t = qint64(s + 0.5);
  if (t >= 3600) return QStringLiteral("%1h%2m").arg(t / 3600).arg((t / 60) % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

// ---------------------------------------------------------------------------------------------- LossPlot

LossPlot::LossPlot(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("lossPlot"));
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void LossPlot::clear() {
  points_.clear();
  update();
}

void LossPlot::setSteps(qint64 perEpoch, qint64 total) {
  perEpoch_ = std::max<qint64>(1, perEpoch);
  total_ = std::max<qint64>(1, total);
  update();
}

void LossPlot::addPoint(qint64 step, double loss) {
  if (!std::isfinite(loss)) return;
  points_.append(QPointF(double(step), loss));
  update();
}

void LossPlot::truncate(qint64 step) {
  while (!points_.isEmpty() && points_.last().x() >= double(step)) points_.removeLast();
  update();
}

void LossPlot::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  const QFontMetrics fm(font());
  const int left = fm.horizontalAdvance(QStringLiteral("0.0000")) + 10, bottom = fm.height() + 10, top = fm.height() + 8,
            right = 12;
  const QRectF area(left, top, std::max(10, width() - left - right), std::max(10, height() - top - bottom));
  p.setPen(palette().text().color());
  p.drawText(QRectF(left, 2, area.width(), fm.height()), Qt::AlignLeft, tr("training loss per batch (thin) and running mean"));

  double lo = 0, hi = 1;
  if (!points_.isEmpty()) {
    lo = hi = points_.first().y();
    for (const auto& q : points_) {
      lo = std::min(lo, q.y());
      hi = std::max(hi, q.y());
    }
    if (hi - lo < 1e-9) hi = lo + 1e-3;
    lo = std::max(0.0, lo - 0.05 * (hi - lo));
  }
  const double xMax = double(std::max<qint64>(total_, points_.isEmpty() ? 1 : qint64(points_.last().x()) + 1));
  auto toPixel = [&](double step, double loss) {
    return QPointF(area.left() + area.width() * step / xMax, area.bottom() - area.height() * (loss - lo) / (hi - lo));
  };

  // Grid: epochs on x, four loss levels on y.
  QColor grid = palette().mid().color();
  grid.setAlpha(90);
  const qint64 epochs = (total_ + perEpoch_ - 1) / perEpoch_;
  const qint64 labelEvery = std::max<qint64>(1, epochs / 10);
  for (qint64 e = 0; e <= epochs; ++e) {
    const double x = area.left() + area.width() * double(e * perEpoch_) / xMax;
    if (x > area.right() + 0.5) break;
    p.setPen(grid);
    p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
    if (e % labelEvery == 0) {
      p.setPen(palette().text().color());
      p.drawText(QRectF(x - 30, area.bottom() + 3, 60, fm.height()), Qt::AlignHCenter, QString::number(e));
    }
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4.0;
    const double y = toPixel(0, v).y();
    p.setPen(grid);
    p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
    p.setPen(palette().text().color());
    p.drawText(QRectF(0, y - fm.height() / 2.0, left - 6, fm.height()), Qt::AlignRight | Qt::AlignVCenter,
               QString::number(v, 'f', hi - lo < 0.1 ? 4 : 3));
  }
  p.setPen(palette().text().color());
  p.drawText(QRectF(0, area.bottom() + 3, left - 6, fm.height()), Qt::AlignRight, tr("epoch"));
  p.drawRect(area);
  if (points_.isEmpty()) {
    p.drawText(area, Qt::AlignCenter, tr("no training yet"));
    return;
  }

  QPainterPath raw, smooth;
  double ema = points_.first().y();
  const double alpha = 2.0 / (std::min<double>(double(perEpoch_), 50.0) + 1.0);
  for (int i = 0; i < points_.size(); ++i) {
    const auto& q = points_[i];
    ema = i == 0 ? q.y() : alpha * q.y() + (1 - alpha) * ema;
    const QPointF a = toPixel(q.x(), q.y()), b = toPixel(q.x(), ema);
    if (i == 0) {
      raw.moveTo(a);
      smooth.moveTo(b);
    } else {
      raw.lineTo(a);
      smooth.lineTo(b);
    }
  }
  p.setClipRect(area.adjusted(-1, -1, 1, 1));
  QColor thin(70, 130, 200, 110);
  p.setPen(QPen(thin, 1.0));
  p.drawPath(raw);
  p.setPen(QPen(QColor(20, 80, 170), 2.2));
  p.drawPath(smooth);
}

// -------------------------------------------------------------------------------------- the worker side

struct TrainingRunState {
  CancelToken cancel;
  // Inputs (copied from the form before the run starts).
  QString source;  // "fashion-mnist" or a folder
  int limit = 0;
  std::string loss = "ce", outputFolder;
  int epochs = 5;
  int64_t batch = 256;
  double lr = 2e-3;
  std::vector<int> widths;  // empty: the trainer's default
  bool resume = false;
  // Outputs, read by the GUI thread after the future finished.
  bool ok = false, cancelled = false;
  QString message;
};

namespace {

struct LoadedData {
  train::ImageSet train, heldOut;
  std::vector<double> mean, stdv;
  QString description;
  int skipped = 0;
};

// An image folder with one sub-folder per class (or train/ + test/ with class folders), read by the loader
// loupe-cli train embeddings uses: every image becomes 28 x 28 grey (as Fashion-MNIST); 10% of every class
// (seed 0) is held out for the kNN accuracy. Unreadable images are skipped and counted.
Result<LoadedData> loadImageFolder(const QString& folder, const CancelToken& cancel) {
  auto f = io::loadLabelledFolder(folder.toStdString(), {}, cancel);
  if (!f) return f.error();
  if (f->train.size() < 2 || f->test.size() == 0)
    return Error{ErrorCode::InvalidArgument, folder.toStdString() + ": too few readable images (" +
                                                 std::to_string(f->train.size() + f->test.size()) + ", " +
                                                 std::to_string(f->skipped) + " unreadable)"};
  LoadedData d;
  d.train = {f->train.images, f->train.labels, f->classNames};
  d.heldOut = {f->test.images, f->test.labels, f->classNames};
  d.mean = f->mean;
  d.stdv = f->stdv;
  d.description = folder;
  d.skipped = f->skipped;
  return d;
}

Result<LoadedData> loadData(const TrainingRunState& s) {
  LoadedData d;
  if (s.source == QLatin1String("fashion-mnist")) {
    auto tr = train::loadFashionMnist(train::Split::Train);
    if (!tr) return tr.error();
    auto te = train::loadFashionMnist(train::Split::Test);
    if (!te) return te.error();
    d.train = std::move(*tr);
    d.heldOut = std::move(*te);
    d.mean = train::kFashionMnistMean;
    d.stdv = train::kFashionMnistStd;
    d.description = QStringLiteral("Fashion-MNIST");
  } else {
    auto f = loadImageFolder(s.source, s.cancel);
    if (!f) return f.error();
    d = std::move(*f);
  }
  if (s.limit > 0 && s.limit < d.train.size()) {
    d.train.images = d.train.images.narrow(0, 0, s.limit);
    d.train.labels = d.train.labels.narrow(0, 0, s.limit);
  }
  const int64_t held = std::min<int64_t>({d.heldOut.size(), kMaxHeldOut, std::max<int64_t>(1000, d.train.size())});
  d.heldOut.images = d.heldOut.images.narrow(0, 0, held);
  d.heldOut.labels = d.heldOut.labels.narrow(0, 0, held);
  return d;
}

// Embeddings of `images` by `model` (eval mode) in batches, checking `cancel` between them.
Result<torch::Tensor> embedAll(runtime::EmbeddingCnn& model, const torch::Tensor& images, const LoadedData& d,
                               const CancelToken& cancel) {
  torch::NoGradGuard noGrad;
  const torch::Tensor mean = torch::tensor(std::vector<float>(d.mean.begin(), d.mean.end())).view({1, -1, 1, 1});
  const torch::Tensor stdv = torch::tensor(std::vector<float>(d.stdv.begin(), d.stdv.end())).view({1, -1, 1, 1});
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < images.size(0); i += 512) {
    if (cancel.isCancelled()) return Error::cancelled();
    const torch::Tensor x = (images.narrow(0, i, std::min<int64_t>(512, images.size(0) - i)).to(torch::kFloat) / 255.0 - mean) / stdv;
    parts.push_back(model->embed(x));
  }
  return torch::cat(parts);
}

}  // namespace

// ---------------------------------------------------------------------------------------------- the panel

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("trainingPanel"));
  setWindowTitle(tr("Train Embeddings"));

  auto* form = new QFormLayout;
  data_ = new QComboBox;
  data_->setObjectName(QStringLiteral("data"));
  data_->addItem(tr("Fashion-MNIST (60,000 + 10,000 images)"), QStringLiteral("fashion-mnist"));
  data_->addItem(tr("Image folder (one sub-folder per class)"), QStringLiteral("folder"));
  folder_ = new QLineEdit;
  folder_->setObjectName(QStringLiteral("folder"));
  folder_->setPlaceholderText(tr("folder with one sub-folder per class"));
  auto* browse = new QPushButton(tr("…"));
  browse->setToolTip(tr("Choose the image folder"));
  auto* folderRow = new QHBoxLayout;
  folderRow->addWidget(folder_, 1);
  folderRow->addWidget(browse);
  folder_->setEnabled(false);
  connect(data_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { folder_->setEnabled(data_->currentData().toString() == QLatin1String("folder")); });
  connect(browse, &QPushButton::clicked, this, &TrainingPanel::browseData);
  limit_ = new QSpinBox;
  limit_->setObjectName(QStringLiteral("limit"));
  limit_->setRange(0, 10'000'000);
  limit_->setSpecialValueText(tr("all"));
  limit_->setSingleStep(1000);
  limit_->setToolTip(tr("Train on the first N training images only (quick trials)"));
  loss_ = new QComboBox;
  loss_->setObjectName(QStringLiteral("loss"));
  for (const auto& [name, summary] : train::registeredLosses()) {
    if (!kTrainable.count(name)) continue;
    loss_->addItem(QString::fromStdString(name), QString::fromStdString(name));
    loss_->setItemData(loss_->count() - 1, QString::fromStdString(summary), Qt::ToolTipRole);
  }
  loss_->setCurrentIndex(std::max(0, loss_->findData(QStringLiteral("ce"))));
  epochs_ = new QSpinBox;
  epochs_->setObjectName(QStringLiteral("epochs"));
  epochs_->setRange(1, 10000);
  epochs_->setValue(20);
  batch_ = new QSpinBox;
  batch_->setObjectName(QStringLiteral("batch"));
  batch_->setRange(2, 65536);
  batch_->setValue(256);
  lr_ = new QDoubleSpinBox;
  lr_->setObjectName(QStringLiteral("learningRate"));
  lr_->setDecimals(5);
  lr_->setRange(1e-5, 10.0);
  lr_->setSingleStep(1e-4);
  lr_->setValue(2e-3);
  lr_->setToolTip(tr("Peak learning rate of AdamW (linear warm-up, then cosine decay)"));
  output_ = new QLineEdit;
  output_->setObjectName(QStringLiteral("output"));
  output_->setText(QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("training/embedder")));
  output_->setToolTip(tr("Checkpoint while training, then the model package"));
  auto* browseOut = new QPushButton(tr("…"));
  browseOut->setToolTip(tr("Choose the output folder"));
  connect(browseOut, &QPushButton::clicked, this, &TrainingPanel::browseOutput);
  auto* outRow = new QHBoxLayout;
  outRow->addWidget(output_, 1);
  outRow->addWidget(browseOut);
  form->addRow(tr("Data"), data_);
  form->addRow(tr("Folder"), folderRow);
  form->addRow(tr("Training images"), limit_);
  form->addRow(tr("Loss"), loss_);
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(tr("Batch size"), batch_);
  form->addRow(tr("Learning rate"), lr_);
  form->addRow(tr("Output"), outRow);

  startButton_ = new QPushButton(tr("Start"));
  startButton_->setObjectName(QStringLiteral("start"));
  startButton_->setToolTip(tr("Train afresh (replaces the checkpoint in the output folder)"));
  stopButton_ = new QPushButton(tr("Stop"));
  stopButton_->setObjectName(QStringLiteral("stop"));
  stopButton_->setEnabled(false);
  resumeButton_ = new QPushButton(tr("Resume"));
  resumeButton_->setObjectName(QStringLiteral("resume"));
  resumeButton_->setToolTip(tr("Continue from the checkpoint in the output folder"));
  connect(startButton_, &QPushButton::clicked, this, &TrainingPanel::start);
  connect(stopButton_, &QPushButton::clicked, this, &TrainingPanel::stop);
  connect(resumeButton_, &QPushButton::clicked, this, &TrainingPanel::resume);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(startButton_);
  buttons->addWidget(stopButton_);
  buttons->addWidget(resumeButton_);
  showEmbeddings_ = new QCheckBox(tr("Show embeddings"));
  showEmbeddings_->setObjectName(QStringLiteral("showEmbeddings"));
  showEmbeddings_->setChecked(true);
  showEmbeddings_->setToolTip(tr("Open the Embedding Explorer on the held-out images and re-project their embeddings "
                                 "after every epoch, aligned to the previous epoch's layout"));
  if (QString why; !EmbeddingWindow::openGLAvailable(&why)) {
    showEmbeddings_->setChecked(false);
    showEmbeddings_->setEnabled(false);
    showEmbeddings_->setToolTip(tr("The embedding view needs OpenGL: %1").arg(why));
  }
  connect(showEmbeddings_, &QCheckBox::toggled, this, [this](bool on) {
    if (!on) {
      if (view_) view_->hide();
    } else if (lastN_ > 0) {
      showEmbeddingsInView();
      if (view_) view_->raise();
    }
  });

  auto* settings = new QGroupBox(tr("Training"));
  auto* settingsLayout = new QVBoxLayout(settings);
  settingsLayout->addLayout(form);
  settingsLayout->addLayout(buttons);
  settingsLayout->addWidget(showEmbeddings_);
  settingsLayout->addStretch(1);

  progress_ = new QProgressBar;
  progress_->setObjectName(QStringLiteral("progress"));
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setFormat(tr("idle"));
  status_ = new QLabel(tr("Choose data and a loss, then Start."));
  status_->setObjectName(QStringLiteral("status"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  plot_ = new LossPlot;
  epochTable_ = new QTableWidget(0, 3);
  epochTable_->setObjectName(QStringLiteral("epochs"));
  epochTable_->setHorizontalHeaderLabels({tr("epoch"), tr("mean loss"), tr("kNN accuracy")});
  epochTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  epochTable_->verticalHeader()->hide();
  epochTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  epochTable_->setMaximumHeight(150);
  epochTable_->setToolTip(tr("kNN: cosine, k = 20, weighted vote exp(sim / 0.07), held-out images against the training images"));

  auto* right = new QVBoxLayout;
  right->addWidget(progress_);
  right->addWidget(status_);
  right->addWidget(plot_, 1);
  right->addWidget(epochTable_);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(settings);
  layout->addLayout(right, 1);

  connect(&watcher_, &QFutureWatcher<void>::finished, this, &TrainingPanel::onFinished);
}

TrainingPanel::~TrainingPanel() {
  if (run_) run_->cancel.cancel();
  watcher_.waitForFinished();
}

void TrainingPanel::setDataSource(const QString& source) {
  if (source == QLatin1String("fashion-mnist")) {
    data_->setCurrentIndex(0);
  } else {
    data_->setCurrentIndex(1);
    folder_->setText(source);
  }
}
void TrainingPanel::setTrainLimit(int images) { limit_->setValue(images); }
void TrainingPanel::setLoss(const QString& loss) {
  const int i = loss_->findData(loss);
  if (i >= 0) loss_->setCurrentIndex(i);
}
void TrainingPanel::setEpochs(int epochs) { epochs_->setValue(epochs); }
void TrainingPanel::setBatchSize(int batch) { batch_->setValue(batch); }
void TrainingPanel::setLearningRate(double lr) { lr_->setValue(lr); }
void TrainingPanel::setOutputFolder(const QString& folder) { output_->setText(folder); }
void TrainingPanel::setModelWidths(const QVector<int>& widths) { widths_ = widths; }
void TrainingPanel::setShowEmbeddings(bool show) { showEmbeddings_->setChecked(show); }
bool TrainingPanel::showsEmbeddings() const { return showEmbeddings_->isChecked(); }
QString TrainingPanel::outputFolder() const { return output_->text(); }
QString TrainingPanel::checkpointPath() const { return QDir(outputFolder()).filePath(QStringLiteral("checkpoint.pt")); }
bool TrainingPanel::isRunning() const { return watcher_.isRunning(); }
QString TrainingPanel::statusText() const { return status_->text(); }

void TrainingPanel::browseData() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder (one sub-folder per class)"), folder_->text());
  if (!dir.isEmpty()) folder_->setText(dir);
}

void TrainingPanel::browseOutput() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), output_->text());
  if (!dir.isEmpty()) output_->setText(dir);
}

void TrainingPanel::start() { launch(false); }
void TrainingPanel::resume() { launch(true); }

void TrainingPanel::stop() {
  if (!run_ || !isRunning()) return;
  run_->cancel.cancel();
  status_->setText(tr("Stopping after this batch…"));
  stopButton_->setEnabled(false);
}

void TrainingPanel::setRunning(bool running) {
  startButton_->setEnabled(!running);
  resumeButton_->setEnabled(!running);
  stopButton_->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{data_, limit_, loss_, epochs_, batch_, lr_, output_})
    w->setEnabled(!running);
  folder_->setEnabled(!running && data_->currentData().toString() == QLatin1String("folder"));
  Q_EMIT runningChanged(running);
}

void TrainingPanel::launch(bool resume) {
  if (isRunning()) return;
  auto s = std::make_shared<TrainingRunState>();
  s->source = data_->currentData().toString() == QLatin1String("folder") ? folder_->text() : QStringLiteral("fashion-mnist");
  if (s->source.isEmpty()) {
    status_->setText(tr("Choose an image folder first."));
    return;
  }
  s->limit = limit_->value();
  s->loss = loss_->currentData().toString().toStdString();
  s->epochs = epochs_->value();
  s->batch = batch_->value();
  s->lr = lr_->value();
  s->widths.assign(widths_.begin(), widths_.end());
  s->outputFolder = outputFolder().toStdString();
  s->resume = resume;
  if (resume && !QFileInfo::exists(checkpointPath())) {
    status_->setText(tr("No checkpoint to resume from in %1: Start a run first.").arg(outputFolder()));
    return;
  }
  if (!resume) {
    QFile::remove(checkpointPath());
    plot_->clear();
    epochTable_->setRowCount(0);
    accuracies_.clear();
    completedEpochs_ = 0;
  }
  run_ = s;
  firstStep_ = -1;
  startEpoch_ = 0;
  clock_.start();
  progress_->setValue(0);
  progress_->setFormat(tr("loading data…"));
  status_->setText(resume ? tr("Resuming from %1…").arg(checkpointPath()) : tr("Loading the data…"));
  setRunning(true);

  watcher_.setFuture(QtConcurrent::run([s, this] {
    auto post = [this](auto fn) { QMetaObject::invokeMethod(this, fn, Qt::QueuedConnection); };
    auto data = loadData(*s);
    if (!data) {
      s->cancelled = data.error().code == ErrorCode::Cancelled;
      s->message = QString::fromStdString(data.error().message);
      return;
    }
    LoadedData& d = *data;
    const int64_t bankSize = std::min<int64_t>(kMaxBank, d.train.size());
    const torch::Tensor bankImages = d.train.images.narrow(0, 0, bankSize);
    const torch::Tensor bankLabels = d.train.labels.narrow(0, 0, bankSize);
    QStringList names;
    for (const auto& n : d.train.classNames) names << QString::fromStdString(n);
    const QString what = QStringLiteral("%1: %2 training images, %3 held out%4")
                             .arg(d.description)
                             .arg(d.train.size())
                             .arg(d.heldOut.size())
                             .arg(d.skipped ? QStringLiteral(", %1 unreadable skipped").arg(d.skipped) : QString());
    // The held-out images for the embedding view's thumbnails (grey bytes, one image after the other).
    const torch::Tensor heldPixels = d.heldOut.images.to(torch::kUInt8).contiguous();
    std::vector<std::uint8_t> pixels(heldPixels.data_ptr<std::uint8_t>(), heldPixels.data_ptr<std::uint8_t>() + heldPixels.numel());
    const QString heldTitle = QStringLiteral("%1 held-out images of %2").arg(d.heldOut.size()).arg(d.description);
    post([this, names, what, pixels = std::move(pixels), h = int(heldPixels.size(2)), w = int(heldPixels.size(3)),
          heldTitle] {
      classNames_ = names;
      dataSummary_ = what;
      status_->setText(what);
      heldOutPixels_ = pixels;
      heldOutHeight_ = h;
      heldOutWidth_ = w;
      heldOutTitle_ = heldTitle;
    });
    std::error_code ec;
    std::filesystem::create_directories(s->outputFolder, ec);

    train::TrainOptions o;
    o.loss = s->loss;
    o.epochs = s->epochs;
    o.batchSize = std::min<int64_t>(s->batch, d.train.size());
    o.learningRate = s->lr;
    if (!s->widths.empty()) o.model.widths = s->widths;
    o.warmupSteps = int(std::min<int64_t>(100, int64_t(s->epochs) * (d.train.size() / o.batchSize) / 10));
    o.checkpointPath = (std::filesystem::path(s->outputFolder) / "checkpoint.pt").string();
    o.resume = s->resume;
    const int64_t perEpoch = d.train.size() / o.batchSize;
    post([this, perEpoch, total = perEpoch * s->epochs] { plot_->setSteps(perEpoch, total); });
    o.onStep = [&](int64_t step, int64_t total, double loss) { post([this, step, total, loss] { onStep(step, total, loss); }); };
    o.onEpoch = [&](int epoch, double loss, const std::map<std::string, double>&, runtime::EmbeddingCnn& model) {
      auto bank = embedAll(model, bankImages, d, s->cancel);
      auto held = embedAll(model, d.heldOut.images, d, s->cancel);
      if (!bank || !held) return false;  // cancelled
      auto knn = train::knnClassify(*bank, bankLabels, *held, d.heldOut.labels, {}, s->cancel);
      const double acc = knn ? knn->accuracy : std::nan("");
      const torch::Tensor e = held->contiguous();
      std::vector<float> values(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
      const torch::Tensor yl = d.heldOut.labels.to(torch::kInt).contiguous();
      std::vector<int> labels(yl.data_ptr<int>(), yl.data_ptr<int>() + yl.numel());
      post([this, epoch, loss, acc, values = std::move(values), n = int(e.size(0)), dim = int(e.size(1)),
            labels = std::move(labels)] { onEpoch(epoch, loss, acc, values, n, dim, labels); });
      return !s->cancel.isCancelled();
    };
    auto result = train::trainEmbeddingCnn(d.train, o, d.mean, d.stdv, Progress{}, s->cancel);
    if (!result) {
      s->cancelled = result.error().code == ErrorCode::Cancelled;
      s->message = QString::fromStdString(result.error().message);
      return;
    }
    if (s->cancel.isCancelled()) {  // stopped in the epoch callback: the checkpoint holds that epoch
      s->cancelled = true;
      return;
    }
    runtime::NativePackageInfo info;
    info.id = "embedder-" + s->loss;
    info.name = "Embedder (" + s->loss + ", trained in Loupe's training panel)";
    info.input.layout = "NCHW";
    info.input.channels = 1;
    info.input.colorOrder = "gray";
    info.input.size.kind = runtime::SizePolicy::Kind::Fixed;
    info.input.size.width = info.input.size.height = 28;
    info.input.scale = 1.0 / 255.0;
    info.input.mean = d.mean;
    info.input.std = d.stdv;
    info.labels = d.train.classNames;
    info.provenance = "trained in Loupe's training panel on " + d.description.toStdString() + " (" +
                      std::to_string(d.train.size()) + " images): loss " + s->loss + ", " + std::to_string(s->epochs) +
                      " epochs, batch " + std::to_string(o.batchSize) + ", AdamW lr " + std::to_string(s->lr);
    if (auto ok = runtime::saveEmbeddingCnnPackage(result->model, info, s->outputFolder); !ok) {
      s->message = QString::fromStdString(ok.error().message);
      return;
    }
    s->ok = true;
    s->message = QStringLiteral("Trained %1 epochs in %2; package written to %3")
                     .arg(s->epochs)
                     .arg(duration(result->seconds))
                     .arg(QString::fromStdString(s->outputFolder));
  }));
}

void TrainingPanel::onStep(qint64 step, qint64 total, double loss) {
  if (firstStep_ < 0) {
    firstStep_ = step;
    startEpoch_ = int(step / plot_->stepsPerEpoch());
    plot_->truncate(step);  // a resumed run re-does the epoch that was stopped half-way
    clock_.restart();
  }
  plot_->addPoint(step, loss);
  const double fraction = double(step + 1) / double(std::max<qint64>(1, total));
  progress_->setValue(int(1000 * fraction));
  const qint64 done = step - firstStep_ + 1;
  const double eta = double(clock_.elapsed()) / 1000.0 / double(done) * double(total - step - 1);
  progress_->setFormat(tr("%p% — step %1/%2 — ETA %3").arg(step + 1).arg(total).arg(duration(eta)));
}

void TrainingPanel::onEpoch(int epoch, double loss, double accuracy, const std::vector<float>& values, int n, int d,
                            const std::vector<int>& labels) {
  completedEpochs_ = epoch;
  if (accuracies_.size() >= epoch) accuracies_.resize(epoch - 1);
  accuracies_.append(accuracy);
  const int row = epochTable_->rowCount();
  epochTable_->insertRow(row);
  epochTable_->setItem(row, 0, new QTableWidgetItem(QString::number(epoch)));
  epochTable_->setItem(row, 1, new QTableWidgetItem(QString::number(loss, 'f', 4)));
  epochTable_->setItem(row, 2, new QTableWidgetItem(std::isfinite(accuracy) ? QStringLiteral("%1%").arg(100 * accuracy, 0, 'f', 2)
                                                                            : tr("n/a")));
  epochTable_->scrollToBottom();
  status_->setText(tr("Epoch %1: mean loss %2, kNN accuracy %3% on %4 held-out images")
                       .arg(epoch)
                       .arg(loss, 0, 'f', 4)
                       .arg(100 * accuracy, 0, 'f', 2)
                       .arg(n));
  embeddedLabels_ = labels;
  lastValues_ = values;
  lastN_ = n;
  lastD_ = d;
  lastEpoch_ = epoch;
  lastAccuracy_ = accuracy;
  totalEpochs_ = run_ ? run_->epochs : epoch;
  lastLoss_ = run_ ? QString::fromStdString(run_->loss) : QString();
  if (showEmbeddings_->isChecked()) showEmbeddingsInView();
  Q_EMIT embeddingsUpdated(values, n, d);
  Q_EMIT epochFinished(epoch, loss, accuracy);
}

void TrainingPanel::onFinished() {
  const auto s = run_;
  setRunning(false);
  if (!s) return;
  if (s->ok) {
    progress_->setValue(1000);
    progress_->setFormat(tr("done"));
    status_->setText(s->message);
    if (view_ && view_->isLive()) {  // dropped images: embedded by the model just written
      QString error;
      if (view_->setEmbedderPackage(outputFolder(), &error)) view_->setSourceModel(QStringLiteral("embedder-") + lastLoss_);
    }
  } else if (s->cancelled) {
    progress_->setFormat(tr("stopped at %p%"));
    status_->setText(completedEpochs_ > 0 ? tr("Stopped. The checkpoint holds epoch %1: Resume continues from there.").arg(completedEpochs_)
                                          : tr("Stopped before the first epoch ended (no checkpoint yet)."));
  } else {
    progress_->setFormat(tr("failed"));
    status_->setText(tr("Training failed: %1").arg(s->message));
  }
  Q_EMIT finished(s->ok, s->ok ? s->message : status_->text());
}

EmbeddingWindow* TrainingPanel::embeddingWindow() {
  if (!view_) {
    view_ = new EmbeddingWindow(this);
    view_->setObjectName(QStringLiteral("trainingEmbeddings"));
    // UMAP shows the classes as the clusters a researcher looks for (seconds for a few thousand points, off
    // the GUI thread); PCA when this build has no UMAP.
    const auto methods = availableProjections();
    const bool umap = std::find(methods.begin(), methods.end(), Projection::Umap) != methods.end();
    view_->setProjectionMethod(umap ? Projection::Umap : Projection::Pca);
    view_->resize(1200, 800);
    view_->installEventFilter(this);
  }
  return view_;
}

void TrainingPanel::showEmbeddingsInView() {
  if (lastN_ <= 0 || !EmbeddingWindow::openGLAvailable()) return;
  embeddingWindow();
  const QString caption = tr("epoch %1/%2, kNN %3")
                              .arg(lastEpoch_)
                              .arg(totalEpochs_)
                              .arg(std::isfinite(lastAccuracy_) ? QStringLiteral("%1%").arg(100 * lastAccuracy_, 0, 'f', 2) : tr("n/a"));
  const bool sameRows = view_->isLive() && view_->embeddings() && view_->embeddings()->size() == lastN_ &&
                        viewLabels_ == embeddedLabels_ && viewPixels_ == heldOutPixels_;
  QString error;
  if (sameRows) {
    view_->updateVectors(lastValues_, lastN_, lastD_, caption, &error);
  } else {
    const bool thumbnails = heldOutHeight_ > 0 && heldOutWidth_ > 0 &&
                            heldOutPixels_.size() == std::size_t(lastN_) * std::size_t(heldOutHeight_ * heldOutWidth_);
    std::vector<QString> label(static_cast<std::size_t>(lastN_)), row(static_cast<std::size_t>(lastN_));
    for (int i = 0; i < lastN_; ++i) {
      const int c = i < int(embeddedLabels_.size()) ? embeddedLabels_[std::size_t(i)] : -1;
      label[std::size_t(i)] = c >= 0 && c < classNames_.size() ? classNames_[c] : QString::number(c);
      row[std::size_t(i)] = QString::number(i);
    }
    std::vector<EmbeddingColumn> columns(2);
    columns[0].name = QStringLiteral("label");
    columns[0].text = std::move(label);
    columns[1].name = QStringLiteral("held_out_row");
    columns[1].text = std::move(row);
    columns[1].numeric = true;
    for (int i = 0; i < lastN_; ++i) columns[1].numbers.push_back(i);
    EmbeddingPixels pixels;
    if (thumbnails) {
      pixels.values = heldOutPixels_;
      pixels.height = heldOutHeight_;
      pixels.width = heldOutWidth_;
    }
    if (view_->setEmbeddings(lastValues_, lastN_, lastD_, std::move(columns), std::move(pixels),
                             heldOutTitle_.isEmpty() ? tr("held-out images") : heldOutTitle_, caption, &error)) {
      viewPixels_ = heldOutPixels_;
      viewLabels_ = embeddedLabels_;
    }
  }
  view_->setSourceModel(tr("training panel: loss %1, epoch %2").arg(lastLoss_).arg(lastEpoch_));
  if (!view_->isVisible()) view_->show();
}

bool TrainingPanel::eventFilter(QObject* watched, QEvent* event) {
  // Closing the view unticks the box (no more updates) until it is ticked again.
  if (watched == view_ && event->type() == QEvent::Close && showEmbeddings_->isChecked()) {
    const QSignalBlocker block(showEmbeddings_);
    showEmbeddings_->setChecked(false);
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace loupe::gui
