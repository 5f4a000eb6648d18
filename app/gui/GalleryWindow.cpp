#include "GalleryWindow.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QTextStream>
#include <QVBoxLayout>

#include <cmath>

#include "widgets/Gallery.h"

namespace loupe::gui {

namespace {

const QStringList kImagePatterns{QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png"),
                                 QStringLiteral("*.tif"), QStringLiteral("*.tiff"), QStringLiteral("*.bmp"),
                                 QStringLiteral("*.webp")};

QVariantMap fileMetadata(const QFileInfo& info) {
  QVariantMap m;
  m.insert(QStringLiteral("size"), QLocale().formattedDataSize(info.size()));
  m.insert(QStringLiteral("modified"), QLocale().toString(info.lastModified(), QLocale::ShortFormat));
  return m;
}

Error bad(const QString& message) { return Error{ErrorCode::InvalidArgument, message.toStdString()}; }

}  // namespace

Result<std::vector<widgets::GalleryItem>> galleryItemsFromFolder(const QString& dir) {
  const QDir folder(dir);
  if (!folder.exists()) return Error{ErrorCode::NotFound, QStringLiteral("%1: no such folder").arg(dir).toStdString()};
  const QFileInfoList files = folder.entryInfoList(kImagePatterns, QDir::Files | QDir::Readable, QDir::Name | QDir::IgnoreCase);
  if (files.isEmpty())
    return bad(QStringLiteral("%1 holds no images (looked for %2)").arg(dir, kImagePatterns.join(QLatin1Char(' '))));
  std::vector<widgets::GalleryItem> items;
  items.reserve(static_cast<size_t>(files.size()));
  for (const QFileInfo& f : files) {
    widgets::GalleryItem item;
    item.path = f.absoluteFilePath();
    item.caption = f.fileName();
    item.metadata = fileMetadata(f);
    items.push_back(std::move(item));
  }
  return items;
}

Result<std::vector<widgets::GalleryItem>> galleryItemsFromList(const QString& listFile) {
  QFile file(listFile);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
    return Error{ErrorCode::NotFound, QStringLiteral("%1: %2").arg(listFile, file.errorString()).toStdString()};
  const QDir base = QFileInfo(listFile).absoluteDir();
  const QString name = QFileInfo(listFile).fileName();
  QTextStream in(&file);
  std::vector<widgets::GalleryItem> items;
  static const QRegularExpression separator(QStringLiteral("[,\\t]"));
  for (int lineNo = 1; !in.atEnd(); ++lineNo) {
    const QString line = in.readLine().trimmed();
    if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) continue;
    const QStringList fields = line.split(separator);
    if (fields.size() < 2) return bad(QStringLiteral("%1 line %2: expected path,score[,caption]").arg(name).arg(lineNo));
    bool ok = false;
    const double score = fields[1].trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(score)) {
      if (items.empty() && lineNo == 1) continue;  // a header
      return bad(QStringLiteral("%1 line %2: '%3' is not a score").arg(name).arg(lineNo).arg(fields[1].trimmed()));
    }
    widgets::GalleryItem item;
    const QString path = fields[0].trimmed();
    item.path = QDir::isAbsolutePath(path) ? path : base.absoluteFilePath(path);
    item.score = score;
    if (fields.size() > 2) {  // the caption is the rest of the line, separators included
      const int afterScore = static_cast<int>(line.indexOf(separator, line.indexOf(separator) + 1));
      item.caption = line.mid(afterScore + 1).trimmed();
    }
    item.metadata = fileMetadata(QFileInfo(item.path));
    item.metadata.insert(QStringLiteral("list"), QStringLiteral("%1 line %2").arg(name).arg(lineNo));
    items.push_back(std::move(item));
  }
  if (items.empty()) return bad(QStringLiteral("%1 lists no images").arg(name));
  return items;
}

GalleryWindow::GalleryWindow(QWidget* parent) : QWidget(parent, Qt::Window), gallery_(new widgets::Gallery(this)) {
  setObjectName(QStringLiteral("galleryWindow"));
  info_ = new QLabel(this);
  info_->setObjectName(QStringLiteral("galleryInfo"));
  info_->setForegroundRole(QPalette::PlaceholderText);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 8, 8, 8);
  layout->addWidget(info_);
  layout->addWidget(gallery_, 1);
  connect(gallery_, &widgets::Gallery::openRequested, this,
          [this](int item) { Q_EMIT openImage(gallery_->model()->item(item).path); });
  resize(1100, 760);
}

bool GalleryWindow::open(const QString& path, QString* error) {
  const QFileInfo info(path);
  if (!info.exists()) {
    if (error) *error = tr("%1: no such file or folder").arg(path);
    return false;
  }
  const bool folder = info.isDir();
  auto items = folder ? galleryItemsFromFolder(path) : galleryItemsFromList(path);
  if (!items) {
    if (error) *error = QString::fromStdString(items.error().message);
    return false;
  }
  const bool scored = !folder;
  source_ = info.absoluteFilePath();
  gallery_->setSortOrder(scored ? widgets::Gallery::SortOrder::ScoreDescending : widgets::Gallery::SortOrder::AsGiven);
  gallery_->setItems(std::move(*items));
  setWindowTitle(tr("%1 \u2014 Gallery \u2014 Loupe").arg(info.fileName()));
  info_->setText(folder ? tr("Folder %1. Enter or double-click opens an image.").arg(QDir::toNativeSeparators(source_))
                        : tr("Ranked list %1. Enter or double-click opens an image.").arg(QDir::toNativeSeparators(source_)));
  return true;
}

}  // namespace loupe::gui
