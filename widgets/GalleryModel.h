#pragma once
// GalleryModel: the items of a Gallery (a ranked set of images with a score, a caption and free-form
// metadata) as a list model. Thumbnails come from the model's ThumbnailLoader: data(DecorationRole) is the
// cached thumbnail or nothing; ThumbnailStateRole says whether it is loading, ready or failed. The model
// never decodes on the GUI thread; the view asks for what is on screen (see Gallery::updateWanted()).

#include <QAbstractListModel>
#include <QHash>
#include <QVariantMap>
#include <QVector>

#include <cmath>
#include <limits>
#include <vector>

#include "Thumbnail.h"

namespace loupe::widgets {

struct GalleryItem {
  QString path;                // the image file (thumbnail source unless `provider` is set; opened on Enter)
  ThumbnailProvider provider;  // optional: makes the thumbnail instead of reading `path`
  QString key;                 // thumbnail cache key; empty: the path (items with one file share a thumbnail)
  double score = std::numeric_limits<double>::quiet_NaN();  // NaN: no score (ranked last)
  QString caption;             // empty: the file name
  QVariantMap metadata;        // shown in the tooltip
};

class GalleryModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    ScoreRole = Qt::UserRole + 1,  // double (NaN: none)
    RankRole,                      // int, 1 = highest score; 0 for items without a score
    CaptionRole,
    PathRole,
    MetadataRole,
    ThumbnailStateRole,  // ThumbnailState as int
    ErrorRole,           // why the thumbnail failed
  };
  enum class ThumbnailState { Loading = 0, Ready = 1, Failed = 2 };

  explicit GalleryModel(QSize thumbnailBox = QSize(160, 160), QObject* parent = nullptr);

  void setItems(std::vector<GalleryItem> items);
  const std::vector<GalleryItem>& items() const { return items_; }
  const GalleryItem& item(int row) const { return items_.at(static_cast<size_t>(row)); }

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;

  ThumbnailLoader* loader() const { return loader_; }
  QString thumbnailKey(int row) const;
  ThumbnailState thumbnailState(int row) const;
  ThumbnailLoader::Request request(int row) const;

 private:
  void onThumbnail(const QString& key);

  std::vector<GalleryItem> items_;
  std::vector<int> ranks_;
  QHash<QString, QVector<int>> rowsByKey_;
  ThumbnailLoader* loader_;
};

}  // namespace loupe::widgets
