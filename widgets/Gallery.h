#pragma once
// Gallery: a ranked grid of thumbnails, each with its rank, score and caption, over a GalleryModel.
// A filter box (caption or file name), a sort order (score high to low, low to high, or as given) and a
// count sit above the grid. Keyboard: arrows, PgUp/PgDn, Home/End move the current item; Enter or a
// double-click opens it (openRequested), a click emits itemClicked. Selection is extended with Shift/Ctrl.
//
// Responsive with tens of thousands of items: the grid lays out uniform cells, and only the thumbnails of
// the rows on screen plus a margin are asked of the model's ThumbnailLoader, which decodes them on worker
// threads; scrolling replaces that request, so rows scrolled away are cancelled before they are decoded.
// A placeholder is drawn while a thumbnail loads and an error tile for files that cannot be read.

#include <QSortFilterProxyModel>
#include <QTimer>
#include <QWidget>

#include <vector>

#include "GalleryModel.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;

namespace loupe::widgets {

// Filter (caption or file name contains the text, case-insensitive) and score order; items without a
// score are always last.
class GalleryProxy : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setText(const QString& text);
  QString text() const { return text_; }

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  QString text_;
};

class Gallery : public QWidget {
  Q_OBJECT

 public:
  enum class SortOrder { ScoreDescending, ScoreAscending, AsGiven };

  explicit Gallery(QWidget* parent = nullptr);

  void setItems(std::vector<GalleryItem> items);
  // Thumbnail edge in pixels (default 160); cached thumbnails are dropped.
  void setThumbnailSize(int pixels);
  int thumbnailSize() const { return thumbnailSize_; }

  void setSortOrder(SortOrder order);
  SortOrder sortOrder() const { return sortOrder_; }
  void setFilterText(const QString& text);

  // Items are addressed by their row in the model (the order given to setItems()).
  int count() const;          // all items
  int shownCount() const;     // items that pass the filter
  int currentItem() const;    // -1: none
  void setCurrentItem(int item);
  QVector<int> selectedItems() const;
  // Model rows in display order on screen now (first, last inclusive); {-1, -1} when none.
  QPair<int, int> visibleRange() const;
  // Display rows whose thumbnails are wanted now: on screen plus the margin.
  QPair<int, int> wantedRange() const { return wanted_; }
  void scrollToItem(int item);
  // True when every cell on screen shows its thumbnail or its error tile (none is loading).
  bool visibleThumbnailsDone() const;

  GalleryModel* model() const { return model_; }
  GalleryProxy* proxy() const { return proxy_; }
  QListView* view() const { return view_; }
  QLineEdit* filterEdit() const { return filter_; }

 Q_SIGNALS:
  void itemClicked(int item);
  void openRequested(int item);
  void currentItemChanged(int item);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void updateWanted();
  void scheduleWanted();
  void updateCount();
  void applyGrid();
  QPair<int, int> visibleDisplayRows() const;

  GalleryModel* model_;
  GalleryProxy* proxy_;
  QListView* view_;
  QLineEdit* filter_;
  QComboBox* sort_;
  QLabel* countLabel_;
  QTimer wantTimer_;
  int thumbnailSize_ = 160;
  SortOrder sortOrder_ = SortOrder::ScoreDescending;
  QPair<int, int> wanted_{-1, -1};
};

}  // namespace loupe::widgets
