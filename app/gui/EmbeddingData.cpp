// The Embedding Explorer's data and computations: the one file of the explorer that includes LibTorch.
#include "EmbeddingData.h"

#include <torch/types.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>

#include "analysis/Hdbscan.h"
#include "analysis/KMeans.h"
#include "io/ImageReader.h"
#include "runtime/ImageModel.h"
#include "runtime/ModelPackage.h"
#include "runtime/NativeModels.h"
#include "io/LabelledFolder.h"
#include "train/data/Idx.h"
#include "widgets/Thumbnail.h"

#ifdef LOUPE_HAVE_INDEX
#include "index/Csv.h"
#include "index/EmbeddingStore.h"
#include "index/Npy.h"
#endif
#if __has_include("analysis/Tsne.h") && __has_include("analysis/Umap.h")
#include "analysis/Tsne.h"
#include "analysis/Umap.h"
#define LOUPE_HAVE_TSNE_UMAP 1
#endif

namespace loupe::gui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool isLabelName(const QString& name) {
  static const QStringList names = {"label", "labels", "class", "category", "target", "y", "cluster"};
  return names.contains(name.toLower());
}

bool isPathName(const QString& name) {
  static const QStringList names = {"path", "file", "filename", "image", "image_path", "filepath"};
  return names.contains(name.toLower());
}

EmbeddingColumn makeColumn(const QString& name, std::vector<QString> cells) {
  EmbeddingColumn c;
  c.name = name;
  c.text = std::move(cells);
  bool numeric = true, any = false;
  c.numbers.resize(c.text.size(), std::nan(""));
  for (std::size_t i = 0; i < c.text.size() && numeric; ++i) {
    const QString& t = c.text[i];
    if (t.trimmed().isEmpty()) continue;
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok || !std::isfinite(v)) numeric = false;
    else {
      c.numbers[i] = v;
      any = true;
    }
  }
  c.numeric = numeric && any;
  if (!c.numeric) c.numbers.clear();
  return c;
}

// L2-normalised rows, zero rows left zero.
torch::Tensor normalizedRows(const torch::Tensor& x) {
  return x / x.norm(2, 1, true).clamp_min(1e-12);
}

}  // namespace

struct EmbeddingSet::Impl {
  QString title, source, baseDir;
  QStringList notices;
  std::vector<std::int64_t> dropped;
  torch::Tensor vectors;  // float32 [N, D], CPU
  std::vector<EmbeddingColumn> columns;
  QString labelColumn, pathColumn;
  // Pixel thumbnails (Fashion-MNIST): uint8 [N, H, W].
  torch::Tensor pixels;
  bool pixelEmbedder = false;
  // Model embedder.
  QString modelFolder, modelName;
  mutable std::mutex modelMutex;
  mutable std::optional<runtime::ImageModel> model;
  mutable std::optional<runtime::NativeEmbedder> native;  // Loupe's own EmbeddingCnn packages (format native)
  // Search.
  mutable std::once_flag normalizedOnce;
  mutable torch::Tensor normalized;
#ifdef LOUPE_HAVE_INDEX
  mutable std::mutex storeMutex;
  std::shared_ptr<index::EmbeddingStore> store;
#endif

  const torch::Tensor& unit() const {
    std::call_once(normalizedOnce, [this] { normalized = normalizedRows(vectors); });
    return normalized;
  }
};

EmbeddingSet::EmbeddingSet() : d_(std::make_unique<Impl>()) {}
EmbeddingSet::~EmbeddingSet() = default;

std::int64_t EmbeddingSet::size() const { return d_->vectors.defined() ? d_->vectors.size(0) : 0; }
std::int64_t EmbeddingSet::dim() const { return d_->vectors.defined() ? d_->vectors.size(1) : 0; }
QString EmbeddingSet::title() const { return d_->title; }
QString EmbeddingSet::source() const { return d_->source; }
QStringList EmbeddingSet::notices() const { return d_->notices; }
const std::vector<std::int64_t>& EmbeddingSet::droppedRows() const { return d_->dropped; }
const std::vector<EmbeddingColumn>& EmbeddingSet::columns() const { return d_->columns; }
QString EmbeddingSet::labelColumn() const { return d_->labelColumn; }

const EmbeddingColumn* EmbeddingSet::column(const QString& name) const {
  for (const auto& c : d_->columns)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

// Drops rows with NaN/Inf (and their metadata), records them, picks the label and path columns.
Result<std::shared_ptr<EmbeddingSet>> finish(std::shared_ptr<EmbeddingSet> set) {
  auto& d = set->impl();
  if (!d.vectors.defined() || d.vectors.dim() != 2 || d.vectors.size(0) == 0 || d.vectors.size(1) == 0)
    return Error{ErrorCode::CorruptData, d.source.toStdString() + ": no vectors"};
  d.vectors = d.vectors.to(torch::kFloat32).contiguous();
  const std::int64_t n = d.vectors.size(0);
  for (const auto& c : d.columns)
    if (static_cast<std::int64_t>(c.text.size()) != n)
      return Error{ErrorCode::CorruptData, d.source.toStdString() + ": column '" + c.name.toStdString() + "' has " +
                                               std::to_string(c.text.size()) + " rows but there are " +
                                               std::to_string(n) + " vectors"};
  const torch::Tensor finiteRows = torch::isfinite(d.vectors).all(1);
  const std::int64_t good = finiteRows.sum().item<std::int64_t>();
  if (good == 0) return Error{ErrorCode::CorruptData, d.source.toStdString() + ": every row holds NaN or Inf"};
  std::vector<QString> sourceRows;
  if (good < n) {
    const auto keepAcc = finiteRows.accessor<bool, 1>();
    std::vector<bool> keep(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      keep[static_cast<std::size_t>(i)] = keepAcc[i];
      if (!keepAcc[i]) d.dropped.push_back(i);
      else sourceRows.push_back(QString::number(i));
    }
    d.vectors = d.vectors.index({finiteRows}).contiguous();
    if (d.pixels.defined()) d.pixels = d.pixels.index({finiteRows}).contiguous();
    for (auto& c : d.columns) {
      std::vector<QString> text;
      std::vector<double> numbers;
      for (std::int64_t i = 0; i < n; ++i) {
        if (!keep[static_cast<std::size_t>(i)]) continue;
        text.push_back(c.text[static_cast<std::size_t>(i)]);
        if (c.numeric) numbers.push_back(c.numbers[static_cast<std::size_t>(i)]);
      }
      c.text = std::move(text);
      c.numbers = std::move(numbers);
    }
    QStringList shown;
    for (std::size_t k = 0; k < d.dropped.size() && k < 10; ++k) shown << QString::number(d.dropped[k]);
    d.notices << QObject::tr("%1 of %2 rows hold NaN or Inf and were left out (rows %3%4)")
                     .arg(n - good)
                     .arg(n)
                     .arg(shown.join(", "), d.dropped.size() > 10 ? QStringLiteral(", ...") : QString());
  }
  // Ids stay row numbers of what is shown; keep the source row as a column when rows were dropped.
  if (!d.dropped.empty())
    d.columns.insert(d.columns.begin(), makeColumn(QStringLiteral("source_row"), std::move(sourceRows)));
  for (const auto& c : d.columns) {
    if (d.labelColumn.isEmpty() && isLabelName(c.name)) d.labelColumn = c.name;
    if (d.pathColumn.isEmpty() && isPathName(c.name) && !c.numeric) d.pathColumn = c.name;
  }
  return set;
}

#ifdef LOUPE_HAVE_INDEX
std::vector<EmbeddingColumn> columnsFromMeta(const index::MetaTable& meta) {
  std::vector<EmbeddingColumn> out;
  for (const auto& c : meta.columns()) {
    std::vector<QString> cells;
    cells.reserve(c.text.size());
    for (const auto& t : c.text) cells.push_back(qs(t));
    out.push_back(makeColumn(qs(c.name), std::move(cells)));
  }
  return out;
}
#endif

Result<std::shared_ptr<EmbeddingSet>> limitRows(Result<std::shared_ptr<EmbeddingSet>> r, std::int64_t limit) {
  if (!r.ok() || limit <= 0) return r;
  auto& d = r.value()->impl();
  const std::int64_t n = d.vectors.size(0);
  if (limit >= n) return r;
  d.vectors = d.vectors.slice(0, 0, limit).contiguous();
  if (d.pixels.defined()) d.pixels = d.pixels.slice(0, 0, limit).contiguous();
  for (auto& c : d.columns) {
    c.text.resize(static_cast<std::size_t>(limit));
    if (c.numeric) c.numbers.resize(static_cast<std::size_t>(limit));
  }
#ifdef LOUPE_HAVE_INDEX
  d.store.reset();  // its index covers every row
#endif
  d.notices << QObject::tr("Showing the first %1 of %2 rows").arg(limit).arg(n);
  return r;
}

}  // namespace

Result<std::shared_ptr<EmbeddingSet>> EmbeddingSet::fromVectors(std::vector<float> vectors, std::int64_t n,
                                                                 std::int64_t dim, std::vector<EmbeddingColumn> columns,
                                                                 const QString& title, EmbeddingPixels thumbnails) {
  if (n <= 0 || dim <= 0 || static_cast<std::int64_t>(vectors.size()) != n * dim)
    return Error{ErrorCode::InvalidArgument, "fromVectors: " + std::to_string(vectors.size()) + " values are not " +
                                                 std::to_string(n) + " x " + std::to_string(dim)};
  const bool hasPixels = !thumbnails.values.empty();
  if (hasPixels && (thumbnails.height <= 0 || thumbnails.width <= 0 ||
                    static_cast<std::int64_t>(thumbnails.values.size()) != n * thumbnails.height * thumbnails.width))
    return Error{ErrorCode::InvalidArgument, "fromVectors: " + std::to_string(thumbnails.values.size()) +
                                                 " thumbnail bytes are not " + std::to_string(n) + " images of " +
                                                 std::to_string(thumbnails.height) + " x " +
                                                 std::to_string(thumbnails.width)};
  std::shared_ptr<EmbeddingSet> set(new EmbeddingSet());
  auto& d = set->impl();
  d.title = d.source = title;
  d.vectors = torch::from_blob(vectors.data(), {n, dim}, torch::kFloat32).clone();
  if (hasPixels)
    d.pixels = torch::from_blob(thumbnails.values.data(), {n, thumbnails.height, thumbnails.width}, torch::kUInt8).clone();
  d.columns = std::move(columns);
  return finish(set);
}

Result<std::shared_ptr<EmbeddingSet>> EmbeddingSet::withVectors(std::vector<float> vectors, std::int64_t dim) const {
  const std::int64_t n = size();
  if (dim <= 0 || static_cast<std::int64_t>(vectors.size()) != n * dim)
    return Error{ErrorCode::InvalidArgument, std::to_string(vectors.size()) + " values are not " + std::to_string(n) +
                                                 " rows of " + std::to_string(dim) + " (the rows shown)"};
  for (std::size_t i = 0; i < vectors.size(); ++i)
    if (!std::isfinite(vectors[i]))
      return Error{ErrorCode::CorruptData, "row " + std::to_string(std::int64_t(i) / dim) +
                                               " of the new vectors holds NaN or Inf (did the model diverge?); the "
                                               "layout shown is kept"};
  std::shared_ptr<EmbeddingSet> set(new EmbeddingSet());
  auto& d = set->impl();
  const auto& s = *d_;
  d.title = s.title;
  d.source = s.source;
  d.baseDir = s.baseDir;
  d.dropped = s.dropped;
  d.columns = s.columns;
  d.labelColumn = s.labelColumn;
  d.pathColumn = s.pathColumn;
  d.pixels = s.pixels;  // never written after opening: shared
  d.vectors = torch::from_blob(vectors.data(), {n, dim}, torch::kFloat32).clone();
  return set;
}

Result<std::shared_ptr<EmbeddingSet>> EmbeddingSet::openFashionMnist(const QString& folder, std::int64_t limit) {
  auto train = train::loadFashionMnist(train::Split::Train, folder.toStdString());
  if (!train) return train.error();
  auto test = train::loadFashionMnist(train::Split::Test, folder.toStdString());
  if (!test) return test.error();
  std::shared_ptr<EmbeddingSet> set(new EmbeddingSet());
  auto& d = set->impl();
  d.source = folder.isEmpty() ? qs(train::defaultFashionMnistFolder()) : folder;
  d.title = QObject::tr("Fashion-MNIST (%1)").arg(d.source);
  torch::Tensor images = torch::cat({train->images, test->images}, 0);  // uint8 [N, 1, 28, 28]
  torch::Tensor labels = torch::cat({train->labels, test->labels}, 0);
  if (limit > 0 && limit < images.size(0)) {
    // A quick look: an even share of both splits keeps train and test in view.
    images = images.slice(0, 0, limit);
    labels = labels.slice(0, 0, limit);
  }
  const std::int64_t n = images.size(0), ntrain = std::min<std::int64_t>(train->size(), n);
  d.pixels = images.squeeze(1).contiguous();
  d.vectors = images.reshape({n, -1}).to(torch::kFloat32).div_(255.0f).contiguous();
  d.pixelEmbedder = true;
  const auto& names = train::fashionMnistClassNames();
  std::vector<QString> label(static_cast<std::size_t>(n)), split(static_cast<std::size_t>(n)), index(static_cast<std::size_t>(n));
  const auto acc = labels.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto l = acc[i];
    label[static_cast<std::size_t>(i)] = l >= 0 && l < static_cast<std::int64_t>(names.size()) ? qs(names[static_cast<std::size_t>(l)]) : QString::number(l);
    split[static_cast<std::size_t>(i)] = i < ntrain ? QStringLiteral("train") : QStringLiteral("test");
    index[static_cast<std::size_t>(i)] = QString::number(i < ntrain ? i : i - ntrain);
  }
  d.columns.push_back(makeColumn(QStringLiteral("label"), std::move(label)));
  d.columns.push_back(makeColumn(QStringLiteral("split"), std::move(split)));
  d.columns.push_back(makeColumn(QStringLiteral("index"), std::move(index)));
  d.notices << QObject::tr("Vectors: the raw pixels / 255 (784-d); a dropped image is embedded the same way");
  return finish(set);
}

Result<std::shared_ptr<EmbeddingSet>> EmbeddingSet::open(const QString& path, const QString& csv, std::int64_t limit,
                                                         const CancelToken& cancel, Progress progress) {
  if (path == QLatin1String("fashion-mnist")) return openFashionMnist({}, limit);
  const QFileInfo info(path);
  if (!info.exists()) return Error{ErrorCode::NotFound, path.toStdString() + ": no such file or folder"};
  if (info.isDir()) {
    const QDir dir(path);
    if (dir.exists(QStringLiteral("manifest.json"))) {
#ifdef LOUPE_HAVE_INDEX
      std::vector<std::string> notices;
      auto store = index::EmbeddingStore::open(path.toStdString(), {}, &notices, cancel, progress);
      if (!store) return store.error();
      std::shared_ptr<EmbeddingSet> set(new EmbeddingSet());
      auto& d = set->impl();
      d.source = path;
      d.title = QObject::tr("Embedding store %1").arg(info.fileName());
      d.baseDir = QFileInfo(qs(store->manifest().source.input)).isDir() ? qs(store->manifest().source.input) : path;
      d.vectors = store->vectors();
      d.columns = columnsFromMeta(store->meta());
      for (const auto& n : notices) d.notices << qs(n);
      if (!store->manifest().droppedRows.empty())
        d.notices << QObject::tr("%1 input rows were left out on import (NaN/Inf)").arg(store->manifest().droppedRows.size());
      d.store = std::make_shared<index::EmbeddingStore>(std::move(store.value()));
      return limitRows(finish(set), limit);
#else
      return Error{ErrorCode::UnsupportedFormat,
                   path.toStdString() + " is an embedding store, but this build has no FAISS (Debian: libfaiss-dev)"};
#endif
    }
    if (dir.exists(QStringLiteral("train-images-idx3-ubyte.gz")) || dir.exists(QStringLiteral("train-images-idx3-ubyte")))
      return openFashionMnist(path, limit);
    return Error{ErrorCode::UnsupportedFormat,
                 path.toStdString() + ": neither an embedding store (manifest.json) nor Fashion-MNIST IDX files"};
  }
  if (info.suffix().toLower() == QLatin1String("npy")) {
#ifdef LOUPE_HAVE_INDEX
    progress.report(0.0, "Reading " + info.fileName().toStdString());
    auto matrix = index::readNpyMatrix(path.toStdString());
    if (!matrix) return matrix.error();
    std::shared_ptr<EmbeddingSet> set(new EmbeddingSet());
    auto& d = set->impl();
    d.source = path;
    d.title = info.fileName();
    d.baseDir = info.absolutePath();
    d.vectors = matrix.value();
    QString csvPath = csv;
    if (csvPath.isEmpty()) {
      const QString beside = info.absolutePath() + QLatin1Char('/') + info.completeBaseName() + QStringLiteral(".csv");
      if (QFileInfo::exists(beside)) csvPath = beside;
    }
    if (!csvPath.isEmpty()) {
      auto table = index::readCsv(csvPath.toStdString());
      if (!table) return table.error();
      auto meta = index::metaFromCsv(table.value(), QFileInfo(csvPath).fileName().toStdString());
      if (!meta) return meta.error();
      if (meta->rows() != d.vectors.size(0))
        return Error{ErrorCode::CorruptData, QFileInfo(csvPath).fileName().toStdString() + " has " +
                                                 std::to_string(meta->rows()) + " rows but " +
                                                 info.fileName().toStdString() + " has " +
                                                 std::to_string(d.vectors.size(0)) + " vectors"};
      d.columns = columnsFromMeta(meta.value());
      d.baseDir = QFileInfo(csvPath).absolutePath();
    } else {
      d.notices << QObject::tr("No metadata: %1.csv was not found beside the .npy").arg(info.completeBaseName());
    }
    progress.report(1.0);
    if (cancel.isCancelled()) return Error::cancelled();
    return limitRows(finish(set), limit);
#else
    return Error{ErrorCode::UnsupportedFormat, "Reading .npy needs loupe_index, which this build lacks (libfaiss-dev)"};
#endif
  }
  return Error{ErrorCode::UnsupportedFormat,
               path.toStdString() + ": open an embedding store folder, a .npy matrix (with a .csv of metadata) or "
                                    "Fashion-MNIST's IDX folder"};
}

// --- thumbnails and text ----------------------------------------------------------------------------------

bool EmbeddingSet::hasThumbnails() const { return d_->pixels.defined() || !d_->pathColumn.isEmpty(); }

QString EmbeddingSet::imagePath(std::int64_t id) const {
  const EmbeddingColumn* c = d_->pathColumn.isEmpty() ? nullptr : column(d_->pathColumn);
  if (!c || id < 0 || id >= size()) return {};
  const QString& p = c->text[static_cast<std::size_t>(id)];
  if (p.isEmpty()) return {};
  return QFileInfo(p).isAbsolute() ? p : QDir(d_->baseDir).absoluteFilePath(p);
}

QImage EmbeddingSet::thumbnail(std::int64_t id, int edge) const {
  if (id < 0 || id >= size()) return {};
  if (d_->pixels.defined()) {
    const torch::Tensor img = d_->pixels[id].contiguous();
    const int h = static_cast<int>(img.size(0)), w = static_cast<int>(img.size(1));
    QImage out(w, h, QImage::Format_Grayscale8);
    for (int y = 0; y < h; ++y) std::memcpy(out.scanLine(y), img.data_ptr<std::uint8_t>() + std::size_t(y) * w, std::size_t(w));
    return edge > 0 ? out.scaled(edge, edge, Qt::KeepAspectRatio, Qt::FastTransformation) : out;
  }
  const QString path = imagePath(id);
  if (path.isEmpty()) return {};
  QString error;
  return widgets::decodeThumbnail(path, QSize(edge, edge), &error);
}

QString EmbeddingSet::describe(std::int64_t id, int maxColumns) const {
  QString text = QStringLiteral("#%1").arg(id);
  int shown = 0;
  for (const auto& c : d_->columns) {
    if (shown >= maxColumns) break;
    if (c.name == d_->pathColumn) continue;
    text += QStringLiteral("\n%1: %2").arg(c.name, c.text[static_cast<std::size_t>(id)]);
    ++shown;
  }
  const QString path = imagePath(id);
  if (!path.isEmpty()) text += QStringLiteral("\n%1").arg(QFileInfo(path).fileName());
  return text;
}

// --- embedding new images ---------------------------------------------------------------------------------

bool EmbeddingSet::canEmbedImages() const { return d_->pixelEmbedder || !d_->modelFolder.isEmpty(); }

QString EmbeddingSet::embedderName() const {
  if (!d_->modelFolder.isEmpty()) return d_->modelName;
  if (d_->pixelEmbedder) return QObject::tr("raw pixels (28 x 28 grey)");
  return {};
}

Result<void> EmbeddingSet::setModelPackage(const QString& folder) {
  auto package = runtime::openModelPackage(folder.toStdString());
  if (!package) return package.error();
  if (package->format == runtime::ModelFormat::Native) {
    // Loupe's own embedder (trained by the panel or `loupe-cli train embeddings`): images are converted to its
    // channels and fixed size by io::modelInputU8, as `loupe-cli embed` does.
    const auto& size = package->input.size;
    if (size.kind != runtime::SizePolicy::Kind::Fixed || size.width < 1 || size.height < 1)
      return Error{ErrorCode::ModelError, package->id + ": a native package needs a fixed input size to embed images"};
    auto native = runtime::loadNativeEmbedder(folder.toStdString());
    if (!native) return native.error();
    if (native->model->config().embeddingDim != dim())
      return Error{ErrorCode::ModelError, package->id + " gives " + std::to_string(native->model->config().embeddingDim) +
                                              "-d embeddings but the set holds " + std::to_string(dim()) + "-d vectors"};
    std::lock_guard<std::mutex> lock(d_->modelMutex);
    d_->model.reset();
    d_->native.emplace(std::move(native.value()));
    d_->modelFolder = folder;
    d_->modelName = qs(package->id);
    return {};
  }
  const auto& outs = package->outputs;
  const bool hasEmbedding = std::any_of(outs.begin(), outs.end(), [](const runtime::OutputSpec& o) { return o.kind == "embedding"; });
  if (!hasEmbedding)
    return Error{ErrorCode::ModelError, "Model " + package->id + " has no output of kind \"embedding\""};
  runtime::ImageModelOptions options;
  options.warmupRuns = 0;
  auto model = runtime::ImageModel::fromPackage(package.value(), options);
  if (!model) return model.error();
  std::lock_guard<std::mutex> lock(d_->modelMutex);
  d_->native.reset();
  d_->model.emplace(std::move(model.value()));
  d_->modelFolder = folder;
  d_->modelName = qs(package->id);
  return {};
}

Result<std::vector<float>> EmbeddingSet::embedImage(const QString& imageFile) const {
  if (!d_->modelFolder.isEmpty()) {
    auto image = io::loadImage(imageFile.toStdString());
    if (!image) return image.error().withContext("Reading " + imageFile.toStdString());
    std::lock_guard<std::mutex> lock(d_->modelMutex);
    if (d_->native) {
      const auto& size = d_->native->package.input.size;
      auto input = io::modelInputU8(image.value(), d_->native->model->config().inChannels, size.width, size.height);
      if (!input) return input.error().withContext(imageFile.toStdString());
      auto e = d_->native->embed(input.value());
      if (!e) return e.error();
      const torch::Tensor v = e->reshape({-1}).to(torch::kFloat32).contiguous();
      return std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    }
    auto run = d_->model->infer(image.value());
    if (!run) return run.error();
    const auto& outs = d_->model->package().outputs;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      if (outs[i].kind != "embedding") continue;
      auto e = d_->model->embedding(run->outputs[i], i);
      if (!e) return e.error();
      const torch::Tensor v = e->reshape({-1}).to(torch::kFloat32).contiguous();
      if (v.numel() != dim())
        return Error{ErrorCode::ModelError, "Model " + d_->modelName.toStdString() + " gives " +
                                                std::to_string(v.numel()) + "-d embeddings but the set holds " +
                                                std::to_string(dim()) + "-d vectors"};
      return std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    }
    return Error{ErrorCode::ModelError, "Model has no embedding output"};
  }
  if (!d_->pixelEmbedder)
    return Error{ErrorCode::InvalidArgument,
                 "This embedding set has no model to embed images with; choose a model package (Embeddings > Model "
                 "Package...)"};
  QImage image(imageFile);
  if (image.isNull()) return Error{ErrorCode::UnsupportedFormat, imageFile.toStdString() + ": not a readable image"};
  const int h = static_cast<int>(d_->pixels.size(1)), w = static_cast<int>(d_->pixels.size(2));
  // As Fashion-MNIST was made: grey, fit into the square keeping the aspect ratio, centred on black; a light
  // background (mean of the border above mid-grey) is inverted first so the object is the bright part.
  QImage grey = image.convertToFormat(QImage::Format_Grayscale8);
  double border = 0.0;
  int count = 0;
  for (int x = 0; x < grey.width(); ++x) {
    border += grey.constScanLine(0)[x] + grey.constScanLine(grey.height() - 1)[x];
    count += 2;
  }
  for (int y = 0; y < grey.height(); ++y) {
    border += grey.constScanLine(y)[0] + grey.constScanLine(y)[grey.width() - 1];
    count += 2;
  }
  if (count > 0 && border / count > 127.0) grey.invertPixels();
  const QImage fitted = grey.scaled(w, h, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  QImage canvas(w, h, QImage::Format_Grayscale8);
  canvas.fill(0);
  for (int y = 0; y < fitted.height(); ++y) {
    const int oy = (h - fitted.height()) / 2 + y, ox = (w - fitted.width()) / 2;
    std::memcpy(canvas.scanLine(oy) + ox, fitted.constScanLine(y), std::size_t(fitted.width()));
  }
  std::vector<float> v(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) v[std::size_t(y) * std::size_t(w) + std::size_t(x)] = canvas.constScanLine(y)[x] / 255.0f;
  return v;
}

// --- neighbours -------------------------------------------------------------------------------------------

QString EmbeddingSet::searchMethod() const {
#ifdef LOUPE_HAVE_INDEX
  if (d_->store && d_->store->hasIndex())
    return QObject::tr("FAISS %1 index").arg(QString::fromLatin1(index::indexKindName(d_->store->indexKind())));
#endif
  return QObject::tr("exact cosine (matrix product)");
}

Result<std::vector<EmbeddingNeighbour>> EmbeddingSet::neighbours(const std::vector<float>& query, int k,
                                                                 std::int64_t exclude) const {
  if (static_cast<std::int64_t>(query.size()) != dim())
    return Error{ErrorCode::InvalidArgument, "Query has " + std::to_string(query.size()) + " values, the set " +
                                                 std::to_string(dim())};
  const int want = std::max(1, std::min<int>(k + (exclude >= 0 ? 1 : 0), static_cast<int>(size())));
  std::vector<EmbeddingNeighbour> out;
  const torch::Tensor q = torch::from_blob(const_cast<float*>(query.data()), {1, dim()}, torch::kFloat32).clone();
#ifdef LOUPE_HAVE_INDEX
  if (d_->store && d_->store->hasIndex()) {
    std::lock_guard<std::mutex> lock(d_->storeMutex);
    auto r = d_->store->search(q, want);
    if (!r) return r.error();
    for (const auto& nb : r.value().front()) {
      if (nb.id == exclude || nb.id < 0) continue;
      if (static_cast<int>(out.size()) >= k) break;
      out.push_back({nb.id, nb.similarity});
    }
    return out;
  }
#endif
  const torch::Tensor sims = d_->unit().matmul(normalizedRows(q).reshape({-1}));
  const auto top = sims.topk(want);
  const torch::Tensor values = std::get<0>(top), ids = std::get<1>(top);
  for (std::int64_t i = 0; i < ids.size(0); ++i) {
    const std::int64_t id = ids[i].item<std::int64_t>();
    if (id == exclude) continue;
    if (static_cast<int>(out.size()) >= k) break;
    out.push_back({id, values[i].item<float>()});
  }
  return out;
}

Result<std::vector<EmbeddingNeighbour>> EmbeddingSet::neighboursOf(std::int64_t id, int k) const {
  if (id < 0 || id >= size()) return Error{ErrorCode::InvalidArgument, "No row " + std::to_string(id)};
  const torch::Tensor row = d_->vectors[id].contiguous();
  std::vector<float> q(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
  return neighbours(q, k, id);
}

// --- projections ------------------------------------------------------------------------------------------

const char* projectionName(Projection p) {
  switch (p) {
    case Projection::Pca: return "PCA";
    case Projection::Tsne: return "t-SNE";
    case Projection::Umap: return "UMAP";
  }
  return "?";
}

std::vector<Projection> availableProjections() {
#ifdef LOUPE_HAVE_TSNE_UMAP
  return {Projection::Pca, Projection::Tsne, Projection::Umap};
#else
  return {Projection::Pca};
#endif
}

namespace {

struct Pca {
  torch::Tensor mean;        // float64 [D]
  torch::Tensor axes;        // float64 [D, dims]
  torch::Tensor eigenvalues; // float64 [dims], largest first
  double totalVariance = 0.0;
};

// Covariance in float64, accumulated over row blocks (no centred copy of a large matrix), then its
// eigenvectors; each axis' sign is fixed so its largest loading is positive (deterministic).
Result<Pca> fitPca(const torch::Tensor& x, int dims, const CancelToken& cancel, Progress progress) {
  const std::int64_t n = x.size(0), d = x.size(1), block = 65536;
  if (n < 2) return Error{ErrorCode::InvalidArgument, "PCA needs at least 2 rows"};
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor sum = torch::zeros({d}, opts), gram = torch::zeros({d, d}, opts);
  for (std::int64_t b = 0; b < n; b += block) {
    if (cancel.isCancelled()) return Error::cancelled();
    const torch::Tensor xb = x.slice(0, b, std::min(n, b + block)).to(torch::kFloat64);
    sum += xb.sum(0);
    gram.addmm_(xb.t(), xb);
    progress.report(0.8 * double(std::min(n, b + block)) / double(n), "PCA: covariance");
  }
  Pca p;
  p.mean = sum / double(n);
  const torch::Tensor cov = (gram - double(n) * torch::outer(p.mean, p.mean)) / double(n - 1);
  p.totalVariance = cov.diagonal().sum().item<double>();
  if (!(p.totalVariance > 0.0))
    return Error{ErrorCode::InvalidArgument, "PCA: every vector is the same (zero variance); nothing to project"};
  const auto eig = torch::linalg_eigh(cov, "L");
  const std::int64_t k = std::min<std::int64_t>(dims, d);
  p.eigenvalues = std::get<0>(eig).flip(0).slice(0, 0, k).clamp_min(0.0);
  torch::Tensor axes = std::get<1>(eig).flip(1).slice(1, 0, k).contiguous();
  const torch::Tensor largest = axes.abs().argmax(0);
  const torch::Tensor signs = axes.gather(0, largest.unsqueeze(0)).sign().squeeze(0);
  p.axes = axes * torch::where(signs == 0, torch::ones_like(signs), signs).unsqueeze(0);
  progress.report(0.9, "PCA: axes");
  return p;
}

torch::Tensor projectPca(const Pca& p, const torch::Tensor& x) {
  const std::int64_t n = x.size(0), block = 65536;
  std::vector<torch::Tensor> parts;
  for (std::int64_t b = 0; b < n; b += block)
    parts.push_back((x.slice(0, b, std::min(n, b + block)).to(torch::kFloat64) - p.mean).matmul(p.axes));
  return torch::cat(parts, 0);
}

std::vector<float> toXy(const torch::Tensor& layout) {
  const torch::Tensor t = layout.to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

}  // namespace

Result<ProjectionResult> runProjection(const EmbeddingSet& set, const ProjectionOptions& options, const LayoutSink& sink,
                                       const CancelToken& cancel, Progress progress) {
  QElapsedTimer timer;
  timer.start();
  const torch::Tensor& x = set.impl().vectors;
  ProjectionResult result;
  if (options.method == Projection::Pca) {
    auto pca = fitPca(x, 2, cancel, progress.slice(0.0, 0.9));
    if (!pca) return pca.error();
    torch::Tensor xy = projectPca(pca.value(), x);
    if (xy.size(1) < 2) xy = torch::cat({xy, torch::zeros({xy.size(0), 2 - xy.size(1)}, xy.options())}, 1);
    result.xy = toXy(xy);
    result.mean.assign(pca->mean.data_ptr<double>(), pca->mean.data_ptr<double>() + pca->mean.numel());
    const torch::Tensor axesT = pca->axes.t().contiguous();
    result.axes.assign(axesT.data_ptr<double>(), axesT.data_ptr<double>() + axesT.numel());
    if (result.axes.size() < 2 * result.mean.size()) result.axes.resize(2 * result.mean.size(), 0.0);
    const double explained = pca->eigenvalues.sum().item<double>() / pca->totalVariance;
    result.summary = QObject::tr("PCA: the 2 axes explain %1% of the variance").arg(100.0 * explained, 0, 'f', 1);
    result.iterations = 1;
    if (sink) sink(result.xy, 1);
    progress.report(1.0, "PCA done");
    result.seconds = timer.nsecsElapsed() / 1e9;
    return result;
  }
#ifdef LOUPE_HAVE_TSNE_UMAP
  const std::int64_t n = x.size(0);
  torch::Tensor warm;  // the warm start, rescaled to the method's initial spread (see ProjectionOptions)
  if (static_cast<std::int64_t>(options.initialLayout.size()) == 2 * n) {
    warm = torch::from_blob(const_cast<float*>(options.initialLayout.data()), {n, 2}, torch::kFloat32).to(torch::kFloat64);
    if (!torch::isfinite(warm).all().item<bool>()) warm = torch::Tensor();
  }
  if (warm.defined()) {
    warm = warm - warm.mean(0, true);
    if (options.method == Projection::Tsne) {
      const double sd = warm.select(1, 0).std().item<double>();
      warm = sd > 0 ? warm * (1e-4 / sd) : torch::Tensor();
    } else {
      const torch::Tensor lo = std::get<0>(warm.min(0, true));
      const double range = (std::get<0>(warm.max(0)) - lo.squeeze(0)).max().item<double>();
      warm = range > 0 ? (warm - lo) * (10.0 / range) : torch::Tensor();
    }
  }
  // Reduce to the first principal components first (t-SNE/UMAP neighbours in 50-d, as scikit-learn advises).
  torch::Tensor points = x;
  Progress work = progress;
  if (options.preReduceDims > 0 && x.size(1) > options.preReduceDims) {
    auto pca = fitPca(x, options.preReduceDims, cancel, progress.slice(0.0, 0.1));
    if (!pca) return pca.error();
    points = projectPca(pca.value(), x).to(torch::kFloat32).contiguous();
    work = progress.slice(0.1, 1.0);
  }
  analysis::LayoutCallback callback = [&](const torch::Tensor& layout, int iteration) {
    return sink ? sink(toXy(layout), iteration) : true;
  };
  if (options.method == Projection::Tsne) {
    analysis::TsneOptions o;
    o.seed = options.seed;
    o.perplexity = options.perplexity;
    if (options.iterations > 0) o.iterations = options.iterations;
    o.callbackEvery = 10;
    if (warm.defined()) o.initialLayout = warm.to(points.scalar_type());
    auto r = analysis::tsne(points, o, nullptr, callback, cancel, work);
    if (!r) return r.error();
    result.xy = toXy(r->layout);
    result.stopped = r->stopped;
    result.iterations = r->iterations;
    result.summary = QObject::tr("t-SNE: %1 iterations, KL %2").arg(r->iterations).arg(r->kl, 0, 'f', 3);
    if (warm.defined()) result.summary += QObject::tr(", started from the previous layout");
  } else {
    analysis::UmapOptions o;
    o.seed = options.seed;
    o.nNeighbors = options.neighbors;
    if (options.iterations > 0) o.epochs = options.iterations;
    o.callbackEvery = 5;
    if (warm.defined()) o.initialLayout = warm.to(points.scalar_type());
    auto r = analysis::umap(points, o, nullptr, callback, cancel, work);
    if (!r) return r.error();
    result.xy = toXy(r->layout);
    result.stopped = r->stopped;
    result.iterations = r->epochs;
    result.summary = QObject::tr("UMAP: %1 epochs").arg(r->epochs);
    if (warm.defined()) result.summary += QObject::tr(", started from the previous layout");
  }
  if (result.stopped) result.summary += QObject::tr(" (stopped)");
  result.seconds = timer.nsecsElapsed() / 1e9;
  return result;
#else
  return Error{ErrorCode::InvalidArgument, std::string(projectionName(options.method)) + " is not in this build"};
#endif
}

Result<QPointF> placeVector(const EmbeddingSet& set, const ProjectionResult& projection, Projection method,
                            const std::vector<float>& layout, const std::vector<float>& vector) {
  const auto d = static_cast<std::size_t>(set.dim());
  if (vector.size() != d) return Error{ErrorCode::InvalidArgument, "The vector does not match the set's dimension"};
  if (method == Projection::Pca && projection.mean.size() == d && projection.axes.size() == 2 * d) {
    double px = 0.0, py = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double c = double(vector[j]) - projection.mean[j];
      px += c * projection.axes[j];
      py += c * projection.axes[d + j];
    }
    return QPointF(px, py);
  }
  auto nb = set.neighbours(vector, 10);
  if (!nb) return nb.error();
  double wx = 0.0, wy = 0.0, ws = 0.0;
  for (const auto& n : nb.value()) {
    const double w = std::max(1e-6, double(n.similarity));
    wx += w * layout[2 * static_cast<std::size_t>(n.id)];
    wy += w * layout[2 * static_cast<std::size_t>(n.id) + 1];
    ws += w;
  }
  if (ws <= 0.0) return Error{ErrorCode::Internal, "No neighbours to place the vector by"};
  return QPointF(wx / ws, wy / ws);
}

// --- clusters ---------------------------------------------------------------------------------------------

Result<std::vector<int>> clusterRows(const EmbeddingSet& set, const std::vector<float>& layout, ClusterMethod method,
                                     int k, std::uint64_t seed, const CancelToken& cancel, Progress progress) {
  const std::int64_t n = set.size();
  torch::Tensor features;
  if (method == ClusterMethod::KMeansVectors) features = set.impl().vectors;
  else {
    if (static_cast<std::int64_t>(layout.size()) != 2 * n)
      return Error{ErrorCode::InvalidArgument, "Run a projection first: there is no layout to cluster"};
    features = torch::from_blob(const_cast<float*>(layout.data()), {n, 2}, torch::kFloat32);
  }
  torch::Tensor labels;
  if (method == ClusterMethod::HdbscanLayout) {
    if (n > 20000)
      return Error{ErrorCode::TooLarge, "HDBSCAN keeps an N x N distance matrix: " + std::to_string(n) +
                                            " points are too many (up to 20,000); use k-means, or open a subset"};
    analysis::HdbscanOptions o;
    o.minClusterSize = std::max(2, k);
    auto r = analysis::hdbscan(features, o, cancel, progress);
    if (!r) return r.error();
    labels = r->labels;
  } else {
    analysis::KMeansOptions o;
    o.k = std::max(1, k);
    o.metric = analysis::ClusterMetric::Euclidean;
    o.seed = seed;
    if (n < o.k) return Error{ErrorCode::InvalidArgument, "k-means: fewer points than clusters"};
    auto r = analysis::kmeans(features, o, cancel);
    if (!r) return r.error();
    labels = r->labels;
  }
  const torch::Tensor l = labels.to(torch::kCPU).to(torch::kInt32).contiguous();
  progress.report(1.0);
  return std::vector<int>(l.data_ptr<int>(), l.data_ptr<int>() + l.numel());
}

// --- export -----------------------------------------------------------------------------------------------

namespace {
QString csvField(const QString& text) {
  if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')) &&
      !text.contains(QLatin1Char('\r')) && !text.startsWith(QLatin1Char(' ')) && !text.endsWith(QLatin1Char(' ')))
    return text;
  QString quoted = text;
  quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}
}  // namespace

Result<void> writeSelectionCsv(const EmbeddingSet& set, const std::vector<std::int32_t>& ids, const QString& path) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
    return Error{ErrorCode::Io, path.toStdString() + ": cannot write (" + file.errorString().toStdString() + ")"};
  QTextStream out(&file);
  QStringList header{QStringLiteral("id")};
  for (const auto& c : set.columns()) header << csvField(c.name);
  const bool paths = set.hasThumbnails() && !set.impl().pathColumn.isEmpty();
  if (paths) header << QStringLiteral("image_file");
  out << header.join(QLatin1Char(',')) << '\n';
  for (const std::int32_t id : ids) {
    if (id < 0 || id >= set.size()) continue;
    QStringList row{QString::number(id)};
    for (const auto& c : set.columns()) row << csvField(c.text[static_cast<std::size_t>(id)]);
    if (paths) row << csvField(set.imagePath(id));
    out << row.join(QLatin1Char(',')) << '\n';
  }
  out.flush();
  if (!file.commit())
    return Error{ErrorCode::Io, path.toStdString() + ": cannot write (" + file.errorString().toStdString() + ")"};
  return {};
}

Result<int> copySelectionImages(const EmbeddingSet& set, const std::vector<std::int32_t>& ids, const QString& folder) {
  if (!QDir().mkpath(folder)) return Error{ErrorCode::Io, folder.toStdString() + ": cannot create the folder"};
  const QDir dir(folder);
  const EmbeddingColumn* label = set.labelColumn().isEmpty() ? nullptr : set.column(set.labelColumn());
  int written = 0, missing = 0;
  QStringList failures;
  for (const std::int32_t id : ids) {
    if (id < 0 || id >= set.size()) continue;
    const QString path = set.imagePath(id);
    if (!path.isEmpty()) {
      const QString target = dir.filePath(QStringLiteral("%1_%2").arg(id).arg(QFileInfo(path).fileName()));
      QFile::remove(target);
      if (QFile::copy(path, target)) ++written;
      else failures << QFileInfo(path).fileName();
      continue;
    }
    const QImage image = set.thumbnail(id, 0);
    if (image.isNull()) {
      ++missing;
      continue;
    }
    QString name = label ? label->text[static_cast<std::size_t>(id)] : QString();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]+")), QStringLiteral("-"));
    const QString target = dir.filePath(name.isEmpty() ? QStringLiteral("%1.png").arg(id) : QStringLiteral("%1_%2.png").arg(id).arg(name));
    if (image.save(target, "PNG")) ++written;
    else failures << QFileInfo(target).fileName();
  }
  if (written == 0 && (missing > 0 || !failures.isEmpty()))
    return Error{ErrorCode::Io, failures.isEmpty() ? "None of the selected rows has an image"
                                                   : "Could not copy " + failures.join(", ").toStdString()};
  if (!failures.isEmpty())
    return Error{ErrorCode::Io, std::to_string(written) + " images written, but could not copy " +
                                    failures.join(", ").toStdString()};
  return written;
}

// --- saving as a store ------------------------------------------------------------------------------------

Result<void> saveEmbeddingStore(const EmbeddingSet& set, const QString& folder, const QString& modelId,
                                const CancelToken& cancel, Progress progress) {
#ifdef LOUPE_HAVE_INDEX
  const auto& d = set.impl();
  const std::int64_t n = set.size();
  if (n == 0) return Error{ErrorCode::InvalidArgument, "Nothing to save: the view holds no embeddings"};
  if (!QDir().mkpath(folder)) return Error{ErrorCode::Io, folder.toStdString() + ": cannot create the folder"};
  index::MetaTable meta(n);
  for (const auto& c : d.columns) {
    if (c.name == d.pathColumn) continue;  // written below as absolute paths
    std::vector<std::string> cells;
    cells.reserve(c.text.size());
    for (const auto& t : c.text) cells.push_back(t.toStdString());
    if (auto r = meta.setColumn(c.name.toStdString(), std::move(cells)); !r) return r.error();
  }
  // Thumbnails: the rows' image files stay where they are (absolute paths); pixels held in memory become
  // PNG files beside the store, relative to it (so the folder can be moved), unless the store's recorded
  // input is itself a folder (the explorer then resolves relative paths against that folder).
  const QString input = set.source();
  const bool relative = !QFileInfo(input).isDir();
  std::vector<std::string> paths;
  if (!d.pathColumn.isEmpty()) {
    for (std::int64_t i = 0; i < n; ++i) paths.push_back(set.imagePath(i).toStdString());
  } else if (d.pixels.defined()) {
    const QDir store(folder);
    if (!store.mkpath(QStringLiteral("images")))
      return Error{ErrorCode::Io, store.filePath(QStringLiteral("images")).toStdString() + ": cannot create the folder"};
    const int digits = std::max<int>(5, static_cast<int>(QString::number(n - 1).size()));
    for (std::int64_t i = 0; i < n; ++i) {
      if (i % 256 == 0) {
        if (cancel.isCancelled()) return Error::cancelled();
        progress.report(0.8 * double(i) / double(n), "Writing thumbnails");
      }
      const QString name = QStringLiteral("images/%1.png").arg(i, digits, 10, QLatin1Char('0'));
      const QString file = store.filePath(name);
      if (!set.thumbnail(i, 0).save(file, "PNG")) return Error{ErrorCode::Io, file.toStdString() + ": cannot write"};
      paths.push_back((relative ? name : QFileInfo(file).absoluteFilePath()).toStdString());
    }
  }
  if (!paths.empty())
    if (auto r = meta.setColumn(d.pathColumn.isEmpty() ? "path" : d.pathColumn.toStdString(), std::move(paths)); !r)
      return r.error();
  index::StoreSource source;
  source.modelId = modelId.toStdString();
  source.input = input.toStdString();
  auto store = index::EmbeddingStore::create(d.vectors, std::move(meta), source);
  if (!store) return store.error();
  if (!d.dropped.empty()) store->manifest().droppedRows = d.dropped;
  progress.report(0.85, "Building the index");
  if (auto r = store->buildIndex({}, cancel); !r) return r.error();
  if (auto r = store->save(folder.toStdString(), cancel, progress.slice(0.9, 1.0)); !r) return r.error();
  progress.report(1.0);
  return {};
#else
  (void)set, (void)folder, (void)modelId, (void)cancel, (void)progress;
  return Error{ErrorCode::UnsupportedFormat, "Saving an embedding store needs loupe_index, which this build lacks (libfaiss-dev)"};
#endif
}

}  // namespace loupe::gui
