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

#include <QFutureWatcher>
#include <QMainWindow>
#include <QPointer>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

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
  ~EmbeddingWindow() override;                           // stops a running job and waits for it

  // Opens a set (see EmbeddingSet::open) and starts a PCA; false with *error when it cannot be read.
  // `limit` > 0 keeps the first rows only.
  bool open(const QString& path, QString* error = nullptr, std::int64_t limit = 0);
  // Asks for a set with a file dialog (.npy, a store's manifest.json, an IDX file) and opens it.
  void openDialog();
  // Shows an already opened set.
  void setEmbeddings(std::shared_ptr<EmbeddingSet> set);
  std::shared_ptr<EmbeddingSet> embeddings() const { return set_; }

  // Runs a projection on the worker thread (the current one is stopped first).
  void runProjection(Projection method);
  void stopJob();
  bool jobRunning() const;
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

  std::shared_ptr<EmbeddingSet> set_;
  std::vector<float> layout_;
  ProjectionResult projection_;
  Projection projectionMethod_ = Projection::Pca;
  int layoutUpdates_ = 0;
  std::vector<int> clusters_;
  int clusterMethod_ = -1;
  std::vector<EmbeddingNeighbour> neighbours_;

  // The one background job (projection or clustering) and its cancel flag.
  QFutureWatcher<void>* job_ = nullptr;
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
