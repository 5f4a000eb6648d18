#include "GalleryModel.h"

#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <numeric>

namespace loupe::widgets {

GalleryModel::GalleryModel(QSize thumbnailBox, QObject* parent)
    : QAbstractListModel(parent), loader_(new ThumbnailLoader(thumbnailBox, this)) {
  connect(loader_, &ThumbnailLoader::ready, this, &GalleryModel::onThumbnail);
  connect(loader_, &ThumbnailLoader::failed, this, [this](const QString& key) { onThumbnail(key); });
}

void GalleryModel::setItems(std::vector<GalleryItem> items) {
  beginResetModel();
  loader_->want({});
  items_ = std::move(items);
  rowsByKey_.clear();
  for (int row = 0; row < static_cast<int>(items_.size()); ++row) {
    GalleryItem& item = items_[static_cast<size_t>(row)];
    if (item.key.isEmpty()) item.key = item.path;
    if (item.caption.isEmpty()) item.caption = QFileInfo(item.path).fileName();
    rowsByKey_[item.key].push_back(row);
  }
  // Rank 1 is the highest score; ties share the order of the input; items without a score get none.
  std::vector<int> order(items_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [this](int a, int b) {
    const double sa = items_[static_cast<size_t>(a)].score, sb = items_[static_cast<size_t>(b)].score;
    if (std::isnan(sb)) return !std::isnan(sa);
    if (std::isnan(sa)) return false;
    return sa > sb;
  });
  ranks_.assign(items_.size(), 0);
  for (size_t i = 0; i < order.size(); ++i)
    if (!std::isnan(items_[static_cast<size_t>(order[i])].score)) ranks_[static_cast<size_t>(order[i])] = static_cast<int>(i) + 1;
  endResetModel();
}

int GalleryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(items_.size());
}

QString GalleryModel::thumbnailKey(int row) const { return item(row).key; }

GalleryModel::ThumbnailState GalleryModel::thumbnailState(int row) const {
  const QString& key = item(row).key;
  if (loader_->cached(key)) return ThumbnailState::Ready;
  if (!loader_->failure(key).isEmpty()) return ThumbnailState::Failed;
  return ThumbnailState::Loading;
}

ThumbnailLoader::Request GalleryModel::request(int row) const {
  const GalleryItem& it = item(row);
  return {it.key, it.path, it.provider};
}

QVariant GalleryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const int row = index.row();
  const GalleryItem& it = item(row);
  switch (role) {
    case Qt::DisplayRole:
    case CaptionRole: return it.caption;
    case Qt::DecorationRole: {
      const QImage* image = loader_->cached(it.key);
      return image ? QVariant(*image) : QVariant();
    }
    case ScoreRole: return it.score;
    case RankRole: return ranks_[static_cast<size_t>(row)];
    case PathRole: return it.path;
    case MetadataRole: return it.metadata;
    case ThumbnailStateRole: return static_cast<int>(thumbnailState(row));
    case ErrorRole: return loader_->failure(it.key);
    case Qt::ToolTipRole: {
      QStringList lines{it.caption};
      if (!it.path.isEmpty() && it.path != it.caption) lines << it.path;
      if (!std::isnan(it.score))
        lines << tr("Score %1 (rank %2 of %3)").arg(QLocale().toString(it.score, 'g', 6)).arg(ranks_[static_cast<size_t>(row)]).arg(rowCount());
      for (auto m = it.metadata.constBegin(); m != it.metadata.constEnd(); ++m)
        lines << QStringLiteral("%1: %2").arg(m.key(), m.value().toString());
      const QString error = loader_->failure(it.key);
      if (!error.isEmpty()) lines << tr("Cannot show: %1").arg(error);
      return lines.join(QLatin1Char('\n'));
    }
    default: return {};
  }
}

QHash<int, QByteArray> GalleryModel::roleNames() const {
  QHash<int, QByteArray> names = QAbstractListModel::roleNames();
  names.insert(ScoreRole, "score");
  names.insert(RankRole, "rank");
  names.insert(CaptionRole, "caption");
  names.insert(PathRole, "path");
  names.insert(MetadataRole, "metadata");
  names.insert(ThumbnailStateRole, "thumbnailState");
  names.insert(ErrorRole, "error");
  return names;
}

void GalleryModel::onThumbnail(const QString& key) {
  const auto rows = rowsByKey_.constFind(key);
  if (rows == rowsByKey_.constEnd()) return;
  static const QList<int> roles{Qt::DecorationRole, ThumbnailStateRole, ErrorRole, Qt::ToolTipRole};
  for (int row : *rows) {
    const QModelIndex i = index(row);
    Q_EMIT dataChanged(i, i, roles);
  }
}

}  // namespace loupe::widgets
