#pragma once
// The Embedding Explorer: an embedding set (store folder, .npy + CSV, Fashion-MNIST) as an OpenGL scatter
// plot (widgets/ScatterView) of its 2-D projection, with
//   - projections (PCA; t-SNE and UMAP when built) on a worker thread: progress, the layout updating live
//     while it optimises, Stop;
//   - colour by any metadata column (categories through a palette, numbers through viridis) or by clusters
//     (k-means on the vectors or the layout, HDBSCAN on the layout), with a legend;
//   - rectangle and lasso selection, listed with its metadata, exported as CSV or as image files;
//   - a click shows the point's nearest neighbours (cosine) in a Gallery with their distances, ringed in the
//     plot; hovering shows the thumbnail;
//   - an image dropped on the plot is embedded (the set's model or pixel embedder), marked where it lands and
//     its neighbours shown.
// File > Open Embeddings... in the main window and `loupe --embeddings PATH` open it.
//
// Live embeddings (the training panel's held-out images, re-embedded after every epoch): setEmbeddings(values,
// ...) shows the rows with their metadata and thumbnails, updateVectors() replaces their vectors. Each update
// is re-projected on the worker thread with the method chosen (an update that arrives while a t-SNE/UMAP
// runs cancels it, a PCA is let finish; only the newest waiting update is projected) and mapped onto the
// layout shown by the best rotation/reflection + scale + translation (EmbeddingAlign.h); t-SNE and UMAP also
// start from the layout shown, so clusters keep their places. Selection, colouring, zoom and the clicked
// point's neighbours (re-queried on the new vectors) are kept. File > Save as Embedding Store writes what is
// shown as a store folder (with the thumbnails) that `loupe --embeddings` reopens.

#include <QFutureWatcher>
#include <QMainWindow>
#include <QPointer>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "EmbeddingAlign.h"
#include "EmbeddingData.h"
#include "core/CancelToken.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QActionGroup;

namespace loupe::widgets {
class Gallery;
class ScatterView;
}  // namespace loupe::widgets

namespace loupe::gui {

class EmbeddingWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit EmbeddingWindow(QWidget* parent = nullptr);  // a top-level window even with a parent

  // Whether this display can draw the plot (an OpenGL widget): false on the offscreen/minimal platforms or
  // when no OpenGL context can be created, with the reason. Checked once per process.
  static bool openGLAvailable(QString* reason = nullptr);
  ~EmbeddingWindow() override;                           // stops a running job and waits for it

  // Opens a set (see EmbeddingSet::open) and starts a PCA; false with *error when it cannot be read.
  // `limit` > 0 keeps the first rows only.
  bool open(const QString& path, QString* error = nullptr, std::int64_t limit = 0);
  // Asks for a set with a file dialog (.npy, a store's manifest.json, an IDX file) and opens it.
  void openDialog();
  // Shows an already opened set.
  void setEmbeddings(std::shared_ptr<EmbeddingSet> set);
  std::shared_ptr<EmbeddingSet> embeddings() const { return set_; }

  // Live embeddings: rows given directly (row-major n x d, finite values), one metadata column entry per row,
  // optional grey thumbnails (n images); projected with projectionMethod(). `caption` (e.g. "epoch 1, kNN
  // 71.2%") goes into the title. False with *error (and a message in the status line) when they are refused.
  bool setEmbeddings(std::vector<float> values, int n, int d, std::vector<EmbeddingColumn> metadata,
                     EmbeddingPixels thumbnails, const QString& title, const QString& caption = {},
                     QString* error = nullptr);
  // New vectors for the rows shown (same n; any d): re-projected and aligned to the layout shown (see the
  // top of this file). False with *error when n differs or a value is not finite; the layout is then kept.
  bool updateVectors(std::vector<float> values, int n, int d, const QString& caption = {}, QString* error = nullptr);
  bool isLive() const { return live_; }
  int vectorUpdates() const { return vectorUpdates_; }         // updateVectors() accepted since setEmbeddings
  int projectedUpdates() const { return projectedUpdates_; }   // of those, projected to the end (none skipped)
  bool updatePending() const { return pendingSet_ != nullptr; }
  QString caption() const { return caption_; }                 // of the layout shown
  // The last finished projection as computed, and the transform that mapped it onto the previous layout
  // (valid = false for the first one: nothing to align to).
  const std::vector<float>& unalignedLayout() const { return unaligned_; }
  const LayoutTransform& lastAlignment() const { return alignment_; }
  // The projection later runs and updates use; without running one.
  void setProjectionMethod(Projection method);
  Projection projectionMethod() const { return projectionMethod_; }
  // The colours given to the plot, one per point (empty before the first layout).
  const std::vector<QRgb>& pointColors() const { return colors_; }

  // Dropped images are embedded with this model package (e.g. the one a training run just wrote).
  bool setEmbedderPackage(const QString& folder, QString* error = nullptr);
  // What produced the vectors, recorded in a saved store's manifest (default: the embedder's name).
  void setSourceModel(const QString& modelId) { sourceModel_ = modelId; }
  // Writes what is shown as an embedding store folder on a worker thread; storeSaved() follows.
  void saveStore(const QString& folder);
  bool saving() const;

  // Runs a projection on the worker thread (the current one is stopped first).
  void runProjection(Projection method);
  void stopJob();
  bool jobRunning() const;  // a projection or clustering runs or its result is not shown yet
  const std::vector<float>& layout() const { return layout_; }
  int layoutUpdates() const { return layoutUpdates_; }

  // Colour by a metadata column name, or by clusters ("cluster:kmeans-vectors", "cluster:kmeans-layout",
  // "cluster:hdbscan-layout"); "" = one colour.
  void colorBy(const QString& key);
  QString colorKey() const;

  // Neighbours of a row (as a click does) / of an image file (as a drop does); shown in the gallery.
  void showNeighboursOf(std::int64_t id);
  bool placeImage(const QString& imageFile, QString* error = nullptr);
  const std::vector<EmbeddingNeighbour>& neighbours() const { return neighbours_; }

  bool exportSelectionCsv(const QString& path, QString* error = nullptr);
  int exportSelectionImages(const QString& folder, QString* error = nullptr);

  // The window as shown, for screenshots: QWidget::grab() draws a QOpenGLWidget's frame over what its
  // QPainter overlays drew, so the plot is taken from its framebuffer (points and overlays) instead.
  QImage snapshot();

  widgets::ScatterView* view() const { return view_; }
  widgets::Gallery* gallery() const { return gallery_; }
  QTableWidget* selectionTable() const { return selectionTable_; }
  QLabel* statusLabel() const { return status_; }

 Q_SIGNALS:
  void projectionFinished(bool ok);
  void neighboursShown();
  void clustersReady();
  void storeSaved(bool ok, const QString& message);

 private:
  void buildUi();
  void setBusy(bool busy, const QString& what);
  void showMessage(const QString& text, bool error = false);
  void fillColorCombo();
  void applyColors();
  void runClusters(int method);
  void updateSelectionList();
  void onLayout(std::vector<float> xy, int iteration);
  void showNeighbourList(const std::vector<EmbeddingNeighbour>& list, const QString& title, std::int32_t focus);
  void exportCsvDialog();
  void exportImagesDialog();
  void chooseModelDialog();
  void saveStoreDialog();
  void showSet(std::shared_ptr<EmbeddingSet> set, Projection method);
  void bindHoverProviders();
  void startProjection(Projection method);
  void startPendingUpdate();
  void setPointColors(std::vector<QRgb> colors);
  void updateTitle();
  void replaceJobWatcher();  // a new job_ for the next job (the old one disconnected, deleted later)
  void fitView();  // fits the view to the points; it then follows new layouts until the user pans or zooms

  std::shared_ptr<EmbeddingSet> set_;
  std::vector<float> layout_;
  ProjectionResult projection_;
  Projection projectionMethod_ = Projection::Pca;
  int layoutUpdates_ = 0;
  std::vector<int> clusters_;
  int clusterMethod_ = -1;
  std::vector<EmbeddingNeighbour> neighbours_;
  std::int64_t neighbourFocus_ = -1;  // the clicked row whose neighbours are shown, or -1
  std::vector<QRgb> colors_;
  bool fitting_ = false, viewMoved_ = false;

  // Live embeddings.
  bool live_ = false;
  std::shared_ptr<EmbeddingSet> pendingSet_;  // the newest update waiting for the running job to end
  bool cancelOnUpdate_ = true;                 // the running job is cancelled by an update (not a PCA)
  QString pendingCaption_, projectingCaption_, caption_;
  int vectorUpdates_ = 0, projectedUpdates_ = 0;
  std::vector<float> unaligned_;
  LayoutTransform alignment_;
  QString sourceModel_;
  QString embedderFolder_;  // setEmbedderPackage's folder, applied again to later sets of the same vectors
  QFutureWatcher<void>* saveJob_ = nullptr;

  // The one background job (projection or clustering) and its cancel flag.
  QFutureWatcher<void>* job_ = nullptr;
  bool jobHandled_ = true;  // the finished handler of job_ has run
  CancelToken cancel_;
  std::shared_ptr<std::atomic<bool>> layoutPending_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::mutex> latestMutex_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::pair<std::vector<float>, int>> latest_ = std::make_shared<std::pair<std::vector<float>, int>>();

  widgets::ScatterView* view_ = nullptr;
  widgets::Gallery* gallery_ = nullptr;
  QTableWidget* selectionTable_ = nullptr;
  QLabel* selectionCount_ = nullptr;
  QLabel* neighbourTitle_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* info_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QComboBox* projectionCombo_ = nullptr;
  QComboBox* colorCombo_ = nullptr;
  QSpinBox* clusterK_ = nullptr;
  QPushButton* runButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QActionGroup* modes_ = nullptr;
};

}  // namespace loupe::gui
