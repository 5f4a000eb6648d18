#pragma once
// The embedding training panel: trains Loupe's native embedding CNN (backend/train) on Fashion-MNIST or an
// image folder (one sub-folder per class) with a loss from the losses registry, on a worker thread.
// Start trains afresh, Stop cancels within one batch (the checkpoint keeps the last finished epoch), Resume
// continues from that checkpoint. While it runs: a progress bar with ETA, a live plot of the batch losses,
// and after every epoch the kNN accuracy (cosine, k = 20, weighted vote) of held-out images embedded by the
// current model, whose embeddings are also handed to the explorer (embeddingsUpdated). When training ends,
// the model is written as a native model package into the output folder.
//
// "Show embeddings" (on by default where the display has OpenGL) opens an Embedding Explorer (EmbeddingWindow)
// on the held-out images at the first epoch: their thumbnails, labels (colour by label, hover, neighbours,
// selection) and layout, re-projected after every epoch (UMAP when built, else PCA; the explorer's Projection
// box changes it) and aligned to the previous epoch's layout, with the epoch and kNN accuracy in its title.
// After the run it keeps the last epoch's layout; File > Save as Embedding Store there writes it for
// `loupe --embeddings`, and once the package is written, images dropped on it are embedded by the trained model.
//
// No LibTorch in this header: the run's state lives in the .cpp.

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QPointF>
#include <QPointer>
#include <QVector>
#include <QWidget>

#include <cstdint>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace loupe::gui {

// A QPainter line plot of the training loss per batch (thin) and its running mean (thick), x in epochs.
class LossPlot : public QWidget {
  Q_OBJECT

 public:
  explicit LossPlot(QWidget* parent = nullptr);
  void clear();
  // Steps in one epoch and in the whole run (the x axis spans the run).
  void setSteps(qint64 perEpoch, qint64 total);
  void addPoint(qint64 step, double loss);
  // Drops the points at or after `step` (a resumed run re-does the unfinished epoch).
  void truncate(qint64 step);
  const QVector<QPointF>& points() const { return points_; }
  qint64 stepsPerEpoch() const { return perEpoch_; }
  QSize sizeHint() const override { return {480, 220}; }
  QSize minimumSizeHint() const override { return {240, 140}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QVector<QPointF> points_;  // (step, loss)
  qint64 perEpoch_ = 1, total_ = 1;
};

struct TrainingRunState;  // the worker's side (LibTorch), TrainingPanel.cpp
class EmbeddingWindow;

class TrainingPanel : public QWidget {
  Q_OBJECT

 public:
  explicit TrainingPanel(QWidget* parent = nullptr);
  ~TrainingPanel() override;  // cancels a run and waits for it

  // The form, for scripts and tests. `source`: "fashion-mnist" or an image folder (sub-folder = class).
  void setDataSource(const QString& source);
  void setTrainLimit(int images);  // 0: all training images
  void setLoss(const QString& loss);
  void setEpochs(int epochs);
  void setBatchSize(int batch);
  void setLearningRate(double lr);
  void setOutputFolder(const QString& folder);
  // Channels per stage of the CNN (empty: the trainer's default, 32, 64, 128): small ones for quick trials.
  void setModelWidths(const QVector<int>& widths);
  // The live embedding view (the "Show embeddings" box): on shows it (with the last epoch's embeddings, or
  // from the next epoch), off hides it and stops updating it.
  void setShowEmbeddings(bool show);
  bool showsEmbeddings() const;
  // The live view: created here when missing (hidden until the first epoch, or until the box is ticked).
  EmbeddingWindow* embeddingWindow();
  QString outputFolder() const;
  QString checkpointPath() const;  // <output folder>/checkpoint.pt

  bool isRunning() const;
  int completedEpochs() const { return completedEpochs_; }
  int startEpoch() const { return startEpoch_; }  // of the current/last run: > 0 when resumed
  QVector<double> epochAccuracies() const { return accuracies_; }
  const LossPlot* lossPlot() const { return plot_; }
  QProgressBar* progressBar() const { return progress_; }
  QString statusText() const;
  // What the last run trains on: "<data>: N training images, M held out[, K unreadable skipped]".
  QString dataSummary() const { return dataSummary_; }
  // Labels (class indices) of the rows of the last embeddingsUpdated.
  const std::vector<int>& embeddedLabels() const { return embeddedLabels_; }
  QStringList classNames() const { return classNames_; }

 public Q_SLOTS:
  void start();   // afresh (an existing checkpoint in the output folder is replaced)
  void stop();    // cancels; returns at once, finished() follows within one batch
  void resume();  // continues from checkpointPath()

 Q_SIGNALS:
  // After every epoch: the held-out images' embeddings (row-major n x d) by the current model.
  void embeddingsUpdated(const std::vector<float>& values, int n, int d);
  void epochFinished(int epoch, double meanLoss, double knnAccuracy);
  void runningChanged(bool running);
  // ok: trained to the last epoch and the package was written; otherwise stopped or failed (message says).
  void finished(bool ok, const QString& message);

 private:
  void launch(bool resume);
  void onStep(qint64 step, qint64 total, double loss);
  void onEpoch(int epoch, double loss, double accuracy, const std::vector<float>& values, int n, int d,
               const std::vector<int>& labels);
  void onFinished();
  void setRunning(bool running);
  void browseData();
  void browseOutput();
  void showEmbeddingsInView();  // the last epoch's embeddings into the view (created on first use)
  bool eventFilter(QObject* watched, QEvent* event) override;

  QComboBox* data_;
  QLineEdit* folder_;
  QSpinBox* limit_;
  QComboBox* loss_;
  QSpinBox* epochs_;
  QSpinBox* batch_;
  QDoubleSpinBox* lr_;
  QLineEdit* output_;
  QPushButton* startButton_;
  QPushButton* stopButton_;
  QPushButton* resumeButton_;
  QProgressBar* progress_;
  QLabel* status_;
  LossPlot* plot_;
  QTableWidget* epochTable_;
  QCheckBox* showEmbeddings_;
  QPointer<EmbeddingWindow> view_;

  std::shared_ptr<TrainingRunState> run_;
  QFutureWatcher<void> watcher_;
  QElapsedTimer clock_;
  qint64 firstStep_ = -1;  // first step of this run (for the ETA)
  int completedEpochs_ = 0, startEpoch_ = 0;
  QVector<double> accuracies_;
  std::vector<int> embeddedLabels_;
  QStringList classNames_;
  QString dataSummary_;
  QVector<int> widths_;

  // For the embedding view: the held-out images of the current run (grey, height x width each), the last
  // epoch's embeddings, and the rows the view shows (to tell the same held-out images from other ones).
  std::vector<std::uint8_t> heldOutPixels_;
  int heldOutHeight_ = 0, heldOutWidth_ = 0;
  QString heldOutTitle_;
  std::vector<float> lastValues_;
  int lastN_ = 0, lastD_ = 0, lastEpoch_ = 0, totalEpochs_ = 0;
  double lastAccuracy_ = 0.0;
  QString lastLoss_;
  std::vector<std::uint8_t> viewPixels_;
  std::vector<int> viewLabels_;
};

}  // namespace loupe::gui
