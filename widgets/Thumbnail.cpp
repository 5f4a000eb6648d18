#include "Thumbnail.h"

#include <QFileInfo>
#include <QImageReader>
#include <QMetaObject>
#include <QSet>

#include <algorithm>
#include <exception>

namespace loupe::widgets {

namespace {

// Below Qt's JPEG "high quality" threshold (50) the handler lets libjpeg scale the DCT (1/2, 1/4, 1/8).
constexpr int kFastJpegQuality = 25;

QSize fitted(QSize size, QSize box) {
  if (size.width() <= box.width() && size.height() <= box.height()) return size;
  return size.scaled(box, Qt::KeepAspectRatio).expandedTo(QSize(1, 1));
}

}  // namespace

QImage decodeThumbnail(const QString& path, QSize box, QString* error) {
  const QString name = QFileInfo(path).fileName();
  QImageReader reader(path);
  reader.setAutoTransform(true);
  if (!reader.canRead()) {
    if (error) {
      *error = QFileInfo(path).isFile() ? QStringLiteral("%1: not an image Qt can read (%2)").arg(name, reader.errorString())
                                        : QStringLiteral("%1: no such file").arg(name);
    }
    return {};
  }
  QSize size = reader.size();
  if (size.isValid() && size.width() > 0 && size.height() > 0) {
    // Rotated by EXIF: the box applies to the displayed orientation.
    const bool swapped = reader.transformation() & QImageIOHandler::TransformationRotate90;
    const QSize shown = swapped ? size.transposed() : size;
    QSize target = fitted(shown, box);
    if (swapped) target.transpose();
    if (target != size) {
      reader.setQuality(kFastJpegQuality);  // only the JPEG handler reads it: DCT scaling
      reader.setScaledSize(target);
    }
  }
  QImage image;
  try {
    image = reader.read();
  } catch (const std::exception& e) {  // e.g. std::bad_alloc from a hostile header
    if (error) *error = QStringLiteral("%1: %2").arg(name, QString::fromLocal8Bit(e.what()));
    return {};
  }
  if (image.isNull()) {
    if (error) *error = QStringLiteral("%1: %2").arg(name, reader.errorString());
    return {};
  }
  const QSize want = fitted(image.size(), box);
  if (want != image.size()) image = image.scaled(want, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  if (image.format() != QImage::Format_ARGB32_Premultiplied && image.format() != QImage::Format_RGB32)
    image = image.convertToFormat(image.hasAlphaChannel() ? QImage::Format_ARGB32_Premultiplied : QImage::Format_RGB32);
  return image;
}

struct ThumbnailLoader::Shared {
  std::mutex mutex;
  std::deque<Request> queue;
  QSet<QString> inFlight;
  int workers = 0;
  int maxWorkers = 2;
  quint64 generation = 0;
  QSize box;
};

ThumbnailLoader::ThumbnailLoader(QSize box, QObject* parent)
    : QObject(parent), box_(box), shared_(std::make_shared<Shared>()) {
  cache_.setMaxCost(64 * 1024 * 1024);
  const int threads = std::clamp(QThread::idealThreadCount() - 1, 1, 4);
  pool_.setMaxThreadCount(threads);
  shared_->maxWorkers = threads;
  shared_->box = box;
}

ThumbnailLoader::~ThumbnailLoader() {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->queue.clear();
  }
  pool_.waitForDone();
}

void ThumbnailLoader::setBox(QSize box) {
  if (box == box_) return;
  box_ = box;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->box = box;
    ++shared_->generation;
    shared_->queue.clear();
    shared_->inFlight.clear();
  }
  cache_.clear();
  failures_.clear();
}

void ThumbnailLoader::setCacheLimit(qint64 bytes) {
  cache_.setMaxCost(std::max<qint64>(bytes, 1));
}

void ThumbnailLoader::setMaxThreads(int threads) {
  threads = std::max(1, threads);
  pool_.setMaxThreadCount(threads);
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->maxWorkers = threads;
}

const QImage* ThumbnailLoader::cached(const QString& key) const { return cache_.object(key); }

int ThumbnailLoader::queued() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return static_cast<int>(shared_->queue.size());
}

int ThumbnailLoader::decoding() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return static_cast<int>(shared_->inFlight.size());
}

void ThumbnailLoader::want(const std::vector<Request>& requests) {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    QSet<QString> keep;
    std::deque<Request> next;
    for (const Request& r : requests) {
      if (r.key.isEmpty() || keep.contains(r.key)) continue;
      keep.insert(r.key);
      if (cache_.contains(r.key) || failures_.contains(r.key) || shared_->inFlight.contains(r.key)) continue;
      next.push_back(r);
    }
    for (const Request& old : shared_->queue)
      if (!keep.contains(old.key)) ++cancelled_;
    shared_->queue = std::move(next);
  }
  startWorkers();
}

void ThumbnailLoader::clear() {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    cancelled_ += static_cast<qint64>(shared_->queue.size());
    shared_->queue.clear();
    ++shared_->generation;
    shared_->inFlight.clear();
  }
  cache_.clear();
  failures_.clear();
}

void ThumbnailLoader::startWorkers() {
  std::shared_ptr<Shared> shared = shared_;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      // One worker per queued request, at most maxWorkers; each drains the queue until it is empty.
      if (shared->workers >= shared->maxWorkers || shared->workers >= static_cast<int>(shared->queue.size())) return;
      ++shared->workers;
    }
    pool_.start([this, shared] {
      for (;;) {
        Request request;
        quint64 generation = 0;
        QSize box;
        {
          std::lock_guard<std::mutex> lock(shared->mutex);
          if (shared->queue.empty()) {
            --shared->workers;
            return;
          }
          request = std::move(shared->queue.front());
          shared->queue.pop_front();
          shared->inFlight.insert(request.key);
          generation = shared->generation;
          box = shared->box;
        }
        QString error;
        QImage image;
        try {
          image = request.provider ? request.provider(box, &error) : decodeThumbnail(request.path, box, &error);
        } catch (const std::exception& e) {
          error = QString::fromLocal8Bit(e.what());
        }
        if (image.isNull() && error.isEmpty()) error = QStringLiteral("%1: no image").arg(request.key);
        const QString key = request.key;
        // `this` outlives the workers (the destructor waits); a queued call to a deleted object is dropped.
        QMetaObject::invokeMethod(
            this, [this, key, image, error, generation] { deliver(key, image, error, generation); },
            Qt::QueuedConnection);
      }
    });
  }
}

void ThumbnailLoader::deliver(const QString& key, const QImage& image, const QString& error, quint64 generation) {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    if (generation != shared_->generation) return;  // the box changed or clear() ran meanwhile
    shared_->inFlight.remove(key);
  }
  ++decoded_;
  if (image.isNull()) {
    failures_.insert(key, error);
    Q_EMIT failed(key, error);
    return;
  }
  cache_.insert(key, new QImage(image), std::max<qint64>(1, image.sizeInBytes()));
  Q_EMIT ready(key);
}

}  // namespace loupe::widgets
