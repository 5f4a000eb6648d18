#pragma once
// Thumbnails decoded off the GUI thread for the Gallery.
//
// decodeThumbnail() reads an image file at reduced size: JPEG through libjpeg's DCT scaling (Qt's JPEG
// handler sets scale_denom 1/2, 1/4 or 1/8 when a scaled size is asked for at a quality below 50), so a
// 24-megapixel photo is never decoded at full size; other formats are read whole and scaled down. EXIF
// orientation is applied. Failures come back as a message naming the file and the problem.
//
// ThumbnailLoader keeps one queue of wanted thumbnails and a few worker threads (its own QThreadPool).
// want() replaces the queue: keys no longer wanted are dropped before they start (rows scrolled away);
// decodes already running finish and are cached. Finished thumbnails go into an LRU cache capped in
// bytes; ready() / failed() are delivered on the loader's (GUI) thread.

#include <QCache>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QSize>
#include <QString>
#include <QThreadPool>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace loupe::widgets {

// Makes a thumbnail that fits `box`; runs on a worker thread. Return a null image and set *error on failure.
using ThumbnailProvider = std::function<QImage(QSize box, QString* error)>;

// Reads `path` scaled to fit `box` (never enlarged). Null image + *error when the file cannot be read.
QImage decodeThumbnail(const QString& path, QSize box, QString* error);

class ThumbnailLoader : public QObject {
  Q_OBJECT

 public:
  struct Request {
    QString key;                  // cache key; a file's path when it comes from a file
    QString path;                 // read with decodeThumbnail() when no provider is given
    ThumbnailProvider provider;   // optional
  };

  explicit ThumbnailLoader(QSize box, QObject* parent = nullptr);
  ~ThumbnailLoader() override;  // drops the queue and waits for running decodes

  QSize box() const { return box_; }
  void setBox(QSize box);  // clears the cache
  // Cache capacity in bytes (default 64 MiB); least recently used thumbnails are dropped first.
  void setCacheLimit(qint64 bytes);
  qint64 cacheLimit() const { return cache_.maxCost(); }
  qint64 cacheBytes() const { return cache_.totalCost(); }
  void setMaxThreads(int threads);

  // The cached thumbnail (and marks it recently used), or nullptr.
  const QImage* cached(const QString& key) const;
  // The message for a key that failed, or an empty string.
  QString failure(const QString& key) const { return failures_.value(key); }

  // Replaces the queue with `requests` in priority order (first decoded first); cached and failed keys
  // and keys already being decoded are skipped. Queued keys that are not in `requests` are cancelled.
  void want(const std::vector<Request>& requests);
  void clear();  // cancels everything queued and empties the cache

  // Counters for tests and benchmarks.
  int queued() const;
  int decoding() const;
  qint64 decodedCount() const { return decoded_; }
  qint64 cancelledCount() const { return cancelled_; }

 Q_SIGNALS:
  void ready(const QString& key);
  void failed(const QString& key, const QString& message);

 private:
  struct Shared;
  void startWorkers();
  void deliver(const QString& key, const QImage& image, const QString& error, quint64 generation);

  QSize box_;
  mutable QCache<QString, QImage> cache_;
  QHash<QString, QString> failures_;
  QThreadPool pool_;
  std::shared_ptr<Shared> shared_;
  qint64 decoded_ = 0;
  qint64 cancelled_ = 0;
};

}  // namespace loupe::widgets
