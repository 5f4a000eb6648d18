#pragma once
// The data behind the Embedding Explorer, without LibTorch in the header (EmbeddingData.cpp is the
// explorer's only LibTorch file):
//   - EmbeddingSet: N vectors of dimension D with per-row metadata, thumbnails (image paths, or the pixels
//     of an image set such as Fashion-MNIST) and cosine neighbour search (the store's FAISS index when it has
//     one, else an exact matrix product). Opened from an embedding store folder (backend/index), a .npy
//     matrix with its metadata CSV, or Fashion-MNIST's IDX files. Immutable once opened, shared with workers.
//   - projections (PCA here; t-SNE and UMAP from backend/analysis when built) run with live layout updates,
//     cancellation and progress;
//   - clusters (k-means on the vectors or the layout, HDBSCAN on the layout) for colouring;
//   - selection export (CSV rows, image copies).

#include <QImage>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::gui {

struct EmbeddingColumn {
  QString name;
  bool numeric = false;          // every non-empty cell is a finite number
  std::vector<QString> text;     // one cell per row
  std::vector<double> numbers;   // numeric columns: the values (NaN for empty cells)
};

// Grey thumbnails held in memory (e.g. the held-out images of a training run): `count` images of
// height x width bytes, row-major, one after the other.
struct EmbeddingPixels {
  std::vector<std::uint8_t> values;
  int height = 0, width = 0;
  std::int64_t count() const { return height > 0 && width > 0 ? std::int64_t(values.size()) / (std::int64_t(height) * width) : 0; }
};

struct EmbeddingNeighbour {
  std::int64_t id = -1;
  float similarity = 0.f;  // cosine similarity; the distance shown is 1 - similarity
};

class EmbeddingSet {
 public:
  // Opens `path`: an embedding store folder (manifest.json), a .npy matrix (metadata from `csv`, or from the
  // .csv of the same name beside it when `csv` is empty), a folder holding Fashion-MNIST's IDX files, or the
  // word "fashion-mnist" for Debian's copy (/usr/share/datasets/fashion-mnist). `limit` > 0 keeps the first
  // `limit` rows (a quick look at a large set). Errors name the file and the problem.
  static Result<std::shared_ptr<EmbeddingSet>> open(const QString& path, const QString& csv = {},
                                                    std::int64_t limit = 0, const CancelToken& cancel = {},
                                                    Progress progress = {});
  // Fashion-MNIST (train then test split, 70,000 images) with the raw pixels / 255 as 784-d vectors: the
  // demo data set, and the embedder for images dropped on it (grey, 28 x 28, dark background).
  static Result<std::shared_ptr<EmbeddingSet>> openFashionMnist(const QString& folder = {}, std::int64_t limit = 0);
  // Vectors given directly (row-major n x dim) with their metadata columns and, optionally, one grey
  // thumbnail per row (refused when their count is not n).
  static Result<std::shared_ptr<EmbeddingSet>> fromVectors(std::vector<float> vectors, std::int64_t n, std::int64_t dim,
                                                           std::vector<EmbeddingColumn> columns, const QString& title,
                                                           EmbeddingPixels thumbnails = {});
  // The same rows (metadata, thumbnails, title, source) with other vectors of any dimension, e.g. the next
  // epoch of a model in training. Ids must stay the rows they were, so nothing is dropped: a non-finite value
  // is refused with its row named. The copy has no model package and no store index (exact search).
  Result<std::shared_ptr<EmbeddingSet>> withVectors(std::vector<float> vectors, std::int64_t dim) const;

  ~EmbeddingSet();

  std::int64_t size() const;
  std::int64_t dim() const;
  QString title() const;   // what was opened, for the window title
  QString source() const;  // the path as given
  // What the user should know about the data (rows dropped for NaN/Inf, a stale index ...).
  QStringList notices() const;
  // Rows of the input that were left out (non-finite values), 0-based.
  const std::vector<std::int64_t>& droppedRows() const;

  const std::vector<EmbeddingColumn>& columns() const;
  const EmbeddingColumn* column(const QString& name) const;
  // The column to colour by at first: "label", "class", "category" ... when present, else none.
  QString labelColumn() const;

  // Thumbnails: the row's image file (a "path"/"file"/"image" column, relative to the data's folder) or its
  // pixels; a null image when the row has none.
  bool hasThumbnails() const;
  QImage thumbnail(std::int64_t id, int edge) const;
  QString imagePath(std::int64_t id) const;  // absolute path, or empty
  // "#id  label: Coat  split: test" for the hover card and captions.
  QString describe(std::int64_t id, int maxColumns = 4) const;

  // Embedding images (a dropped file): the pixel embedder of an image set, or a model package whose output
  // is an embedding (setModelPackage). canEmbedImages() says which, embedderName() names it.
  bool canEmbedImages() const;
  QString embedderName() const;
  Result<void> setModelPackage(const QString& folder);
  Result<std::vector<float>> embedImage(const QString& imageFile) const;

  // The k most similar rows (cosine) to a query vector / to row `id` (itself excluded), most similar first.
  Result<std::vector<EmbeddingNeighbour>> neighbours(const std::vector<float>& query, int k,
                                                     std::int64_t exclude = -1) const;
  Result<std::vector<EmbeddingNeighbour>> neighboursOf(std::int64_t id, int k) const;
  QString searchMethod() const;  // "FAISS flat index", "exact (matrix product)" ...

  struct Impl;
  Impl& impl() const { return *d_; }

 private:
  EmbeddingSet();
  std::unique_ptr<Impl> d_;
};

// --- projections ----------------------------------------------------------------------------------------

enum class Projection { Pca, Tsne, Umap };
const char* projectionName(Projection p);  // "PCA", "t-SNE", "UMAP"
// PCA always; t-SNE and UMAP when backend/analysis has them in this build.
std::vector<Projection> availableProjections();

struct ProjectionOptions {
  Projection method = Projection::Pca;
  std::uint64_t seed = 0;
  int preReduceDims = 50;  // t-SNE/UMAP run on the first principal components (as scikit-learn advises)
  double perplexity = 30.0;
  int neighbors = 15;
  int iterations = 0;  // <= 0: the method's default
  // t-SNE/UMAP warm start: N interleaved (x, y) pairs (e.g. the previous layout of a live view), rescaled to
  // the method's initial spread (t-SNE: standard deviation 1e-4 on x, as scikit-learn's init; UMAP: the
  // larger side 10, as umap-learn) keeping its shape. Empty: PCA initialisation. PCA ignores it.
  std::vector<float> initialLayout;
};

struct ProjectionResult {
  std::vector<float> xy;  // N x 2
  bool stopped = false;   // stopped before the end (the layout so far)
  int iterations = 0;
  double seconds = 0.0;
  // PCA: mean and the two axes, to place new vectors exactly.
  std::vector<double> mean, axes;  // D, 2 x D
  QString summary;                 // e.g. "PCA: 2 axes explain 47.2% of the variance"
};

// Receives layouts while the optimisation runs (on the worker thread); return false to stop.
using LayoutSink = std::function<bool(std::vector<float> xy, int iteration)>;
Result<ProjectionResult> runProjection(const EmbeddingSet& set, const ProjectionOptions& options,
                                       const LayoutSink& sink = {}, const CancelToken& cancel = {},
                                       Progress progress = {});

// Where a new vector lands in a layout: PCA projects it exactly; t-SNE/UMAP have no out-of-sample map, so it
// goes to the similarity-weighted mean position of its k nearest rows (k = 10).
Result<QPointF> placeVector(const EmbeddingSet& set, const ProjectionResult& projection, Projection method,
                            const std::vector<float>& layout, const std::vector<float>& vector);

// --- clusters -------------------------------------------------------------------------------------------

enum class ClusterMethod { KMeansVectors, KMeansLayout, HdbscanLayout };
// Cluster ids per row (-1 = HDBSCAN noise). k: clusters for k-means, min cluster size for HDBSCAN.
// HDBSCAN keeps an N x N matrix: refused above 20,000 points with a message that suggests k-means.
Result<std::vector<int>> clusterRows(const EmbeddingSet& set, const std::vector<float>& layout, ClusterMethod method,
                                     int k, std::uint64_t seed = 0, const CancelToken& cancel = {},
                                     Progress progress = {});

// --- export ---------------------------------------------------------------------------------------------

// Writes the set as an embedding store folder (backend/index: manifest.json, vectors.f32, meta.csv and an
// exact FAISS index) that `loupe --embeddings FOLDER` reopens. Thumbnails held in memory are written as PNG
// files into FOLDER/images/ with a "path" column pointing at them, so the reopened store hovers the same
// images. `modelId` names what produced the vectors (the manifest's source). Needs loupe_index (FAISS).
Result<void> saveEmbeddingStore(const EmbeddingSet& set, const QString& folder, const QString& modelId,
                                const CancelToken& cancel = {}, Progress progress = {});

// "id" and every metadata column of the rows `ids`, RFC 4180 CSV with a header; the row's image path too
// when it has one. Written to a temporary file and renamed.
Result<void> writeSelectionCsv(const EmbeddingSet& set, const std::vector<std::int32_t>& ids, const QString& path);
// Copies the rows' image files (or writes their pixels as PNG) into `folder` as "<id>_<name>"; returns how
// many were written. Rows without an image are counted in the error when none could be written.
Result<int> copySelectionImages(const EmbeddingSet& set, const std::vector<std::int32_t>& ids, const QString& folder);

}  // namespace loupe::gui
