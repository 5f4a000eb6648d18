#include "Gallery.h"

#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace loupe::widgets {

namespace {

constexpr int kPad = 8;  // around the thumbnail inside a cell

int textLineHeight(const QFontMetrics& fm) { return fm.height() + 2; }

QString scoreText(double score) {
  if (std::isnan(score)) return {};
  const double a = std::abs(score);
  if (a != 0.0 && (a < 1e-3 || a >= 1e5)) return QString::number(score, 'g', 4);
  return QLocale().toString(score, 'f', a >= 100 ? 1 : 3);
}

// Draws one cell: the thumbnail (or a placeholder / error tile) with the rank badge, then caption and score.
class GalleryDelegate : public QStyledItemDelegate {
 public:
  GalleryDelegate(const int* thumbnail, QObject* parent) : QStyledItemDelegate(parent), thumbnail_(thumbnail) {}

  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
    const int t = *thumbnail_;
    return {t + 2 * kPad, t + 2 * kPad + 2 * textLineHeight(option.fontMetrics)};
  }

  void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    p->save();
    p->setRenderHint(QPainter::Antialiasing, true);
    const QPalette& pal = option.palette;
    const QRect cell = option.rect.adjusted(2, 2, -2, -2);
    const bool selected = option.state & QStyle::State_Selected;
    if (selected) {
      QColor h = pal.color(QPalette::Highlight);
      h.setAlpha(70);
      p->setPen(Qt::NoPen);
      p->setBrush(h);
      p->drawRoundedRect(cell, 6, 6);
    } else if (option.state & QStyle::State_MouseOver) {
      QColor h = pal.color(QPalette::Highlight);
      h.setAlpha(25);
      p->setPen(Qt::NoPen);
      p->setBrush(h);
      p->drawRoundedRect(cell, 6, 6);
    }
    if (option.state & QStyle::State_HasFocus) {
      p->setPen(QPen(pal.color(QPalette::Highlight), 2));
      p->setBrush(Qt::NoBrush);
      p->drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6);
    }

    const int t = *thumbnail_;
    // Cells may be wider than the thumbnail (the grid spreads over the width): centre it.
    const QRect box(option.rect.x() + std::max(kPad, (option.rect.width() - t) / 2), option.rect.y() + kPad, t, t);
    const auto state = static_cast<GalleryModel::ThumbnailState>(index.data(GalleryModel::ThumbnailStateRole).toInt());
    if (state == GalleryModel::ThumbnailState::Ready) {
      const QImage image = index.data(Qt::DecorationRole).value<QImage>();
      const QSize size = image.size().scaled(box.size(), Qt::KeepAspectRatio).boundedTo(image.size());
      const QRect target(box.x() + (t - size.width()) / 2, box.y() + (t - size.height()) / 2, size.width(), size.height());
      p->drawImage(target, image);
    } else if (state == GalleryModel::ThumbnailState::Failed) {
      drawErrorTile(p, box, pal);
    } else {
      drawPlaceholder(p, box, pal);
    }

    const int rank = index.data(GalleryModel::RankRole).toInt();
    if (rank > 0) {
      QFont f = option.font;
      f.setBold(true);
      f.setPointSizeF(f.pointSizeF() * 0.85);
      const QFontMetrics fm(f);
      const QString text = QStringLiteral("#%1").arg(rank);
      const QRect badge(box.x() + 3, box.y() + 3, fm.horizontalAdvance(text) + 8, fm.height() + 2);
      p->setPen(Qt::NoPen);
      p->setBrush(QColor(0, 0, 0, 160));
      p->drawRoundedRect(badge, 4, 4);
      p->setFont(f);
      p->setPen(Qt::white);
      p->drawText(badge, Qt::AlignCenter, text);
    }

    const QFontMetrics fm = option.fontMetrics;
    const int line = textLineHeight(fm);
    const QRect captionRect(box.x(), box.bottom() + 4, t, line);
    p->setFont(option.font);
    p->setPen(pal.color(selected ? QPalette::Text : QPalette::WindowText));
    p->drawText(captionRect, Qt::AlignLeft | Qt::AlignVCenter,
                fm.elidedText(index.data(GalleryModel::CaptionRole).toString(), Qt::ElideMiddle, t));
    const QString score = scoreText(index.data(GalleryModel::ScoreRole).toDouble());
    if (!score.isEmpty()) {
      const QRect scoreRect = captionRect.translated(0, line);
      p->setPen(pal.color(QPalette::PlaceholderText));
      p->drawText(scoreRect, Qt::AlignLeft | Qt::AlignVCenter, tr("score %1").arg(score));
    }
    p->restore();
  }

 private:
  static QString tr(const char* text) { return QApplication::translate("Gallery", text); }

  static void drawPlaceholder(QPainter* p, const QRect& box, const QPalette& pal) {
    QColor fill = pal.color(QPalette::Mid);
    fill.setAlpha(45);
    p->setPen(Qt::NoPen);
    p->setBrush(fill);
    p->drawRoundedRect(box, 4, 4);
    QColor dot = pal.color(QPalette::Mid);
    p->setBrush(dot);
    const QPoint c = box.center();
    for (int i = -1; i <= 1; ++i) p->drawEllipse(QPoint(c.x() + i * 12, c.y()), 3, 3);
  }

  static void drawErrorTile(QPainter* p, const QRect& box, const QPalette& pal) {
    p->setPen(QPen(QColor(190, 50, 50), 1.5));
    p->setBrush(QColor(190, 50, 50, 35));
    p->drawRoundedRect(box.adjusted(1, 1, -1, -1), 4, 4);
    // A broken picture: a frame with a crack, then the words.
    const QPoint c = box.center();
    const QRect frame(c.x() - 18, c.y() - 26, 36, 28);
    p->setBrush(Qt::NoBrush);
    p->drawRect(frame);
    QPainterPath crack;
    crack.moveTo(frame.center().x() - 4, frame.top());
    crack.lineTo(frame.center().x() + 3, frame.center().y() - 2);
    crack.lineTo(frame.center().x() - 3, frame.center().y() + 3);
    crack.lineTo(frame.center().x() + 4, frame.bottom());
    p->drawPath(crack);
    p->setPen(QColor(170, 40, 40));
    p->drawText(QRect(box.x(), c.y() + 6, box.width(), p->fontMetrics().height() + 2), Qt::AlignCenter,
                tr("cannot read"));
    Q_UNUSED(pal);
  }

  const int* thumbnail_;
};

}  // namespace

void GalleryProxy::setText(const QString& text) {
  const QString trimmed = text.trimmed();
  if (trimmed == text_) return;
  text_ = trimmed;
  invalidateFilter();
}

bool GalleryProxy::filterAcceptsRow(int sourceRow, const QModelIndex&) const {
  if (text_.isEmpty()) return true;
  const auto* model = qobject_cast<const GalleryModel*>(sourceModel());
  if (!model) return true;
  const GalleryItem& item = model->item(sourceRow);
  return item.caption.contains(text_, Qt::CaseInsensitive) ||
         QFileInfo(item.path).fileName().contains(text_, Qt::CaseInsensitive);
}

bool GalleryProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const double a = left.data(GalleryModel::ScoreRole).toDouble();
  const double b = right.data(GalleryModel::ScoreRole).toDouble();
  // Items without a score go last in either order (the proxy reverses lessThan for descending order).
  const bool descending = sortOrder() == Qt::DescendingOrder;
  if (std::isnan(a) || std::isnan(b)) {
    if (std::isnan(a) && std::isnan(b)) return false;
    return descending ? std::isnan(a) : std::isnan(b);
  }
  return a < b;
}

Gallery::Gallery(QWidget* parent) : QWidget(parent), model_(new GalleryModel(QSize(160, 160), this)), proxy_(new GalleryProxy(this)) {
  setObjectName(QStringLiteral("gallery"));
  proxy_->setSourceModel(model_);
  proxy_->setDynamicSortFilter(false);  // thumbnails arriving never re-sort

  filter_ = new QLineEdit(this);
  filter_->setObjectName(QStringLiteral("galleryFilter"));
  filter_->setPlaceholderText(tr("Filter by caption or file name"));
  filter_->setClearButtonEnabled(true);
  sort_ = new QComboBox(this);
  sort_->setObjectName(QStringLiteral("gallerySort"));
  sort_->addItem(tr("Score: high to low"));
  sort_->addItem(tr("Score: low to high"));
  sort_->addItem(tr("As given"));
  countLabel_ = new QLabel(this);
  countLabel_->setObjectName(QStringLiteral("galleryCount"));
  countLabel_->setForegroundRole(QPalette::PlaceholderText);

  view_ = new QListView(this);
  view_->setObjectName(QStringLiteral("galleryView"));
  view_->setViewMode(QListView::ListMode);  // IconMode's free layout does not scale to 10,000 items
  view_->setFlow(QListView::LeftToRight);
  view_->setWrapping(true);
  view_->setResizeMode(QListView::Adjust);
  view_->setUniformItemSizes(true);
  view_->setMovement(QListView::Static);
  view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view_->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  view_->setMouseTracking(true);
  view_->setItemDelegate(new GalleryDelegate(&thumbnailSize_, view_));
  view_->setModel(proxy_);
  view_->viewport()->installEventFilter(this);
  applyGrid();

  auto* top = new QHBoxLayout;
  top->setContentsMargins(0, 0, 0, 0);
  top->addWidget(filter_, 1);
  top->addWidget(sort_);
  top->addWidget(countLabel_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  layout->addLayout(top);
  layout->addWidget(view_, 1);
  setFocusProxy(view_);

  wantTimer_.setSingleShot(true);
  wantTimer_.setInterval(0);
  connect(&wantTimer_, &QTimer::timeout, this, &Gallery::updateWanted);
  connect(view_->verticalScrollBar(), &QScrollBar::valueChanged, this, &Gallery::scheduleWanted);
  connect(proxy_, &QAbstractItemModel::layoutChanged, this, &Gallery::scheduleWanted);
  connect(proxy_, &QAbstractItemModel::modelReset, this, &Gallery::scheduleWanted);
  connect(proxy_, &QAbstractItemModel::rowsInserted, this, &Gallery::scheduleWanted);
  connect(proxy_, &QAbstractItemModel::rowsRemoved, this, &Gallery::scheduleWanted);
  connect(proxy_, &QAbstractItemModel::layoutChanged, this, &Gallery::updateCount);
  connect(proxy_, &QAbstractItemModel::modelReset, this, &Gallery::updateCount);
  connect(proxy_, &QAbstractItemModel::rowsInserted, this, &Gallery::updateCount);
  connect(proxy_, &QAbstractItemModel::rowsRemoved, this, &Gallery::updateCount);
  connect(filter_, &QLineEdit::textChanged, this, &Gallery::setFilterText);
  connect(sort_, &QComboBox::currentIndexChanged, this, [this](int i) { setSortOrder(static_cast<SortOrder>(i)); });
  connect(view_, &QListView::clicked, this, [this](const QModelIndex& i) { Q_EMIT itemClicked(proxy_->mapToSource(i).row()); });
  // activated: Enter, or a double-click (or a single click where the style says so).
  connect(view_, &QListView::activated, this, [this](const QModelIndex& i) { Q_EMIT openRequested(proxy_->mapToSource(i).row()); });
  connect(view_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& i) {
    Q_EMIT currentItemChanged(i.isValid() ? proxy_->mapToSource(i).row() : -1);
  });
  setSortOrder(SortOrder::ScoreDescending);
  updateCount();
}

void Gallery::setItems(std::vector<GalleryItem> items) {
  model_->setItems(std::move(items));
  setSortOrder(sortOrder_);
  if (proxy_->rowCount() > 0) view_->setCurrentIndex(proxy_->index(0, 0));
  view_->scrollToTop();
  scheduleWanted();
}

void Gallery::setThumbnailSize(int pixels) {
  pixels = std::clamp(pixels, 32, 512);
  if (pixels == thumbnailSize_) return;
  thumbnailSize_ = pixels;
  model_->loader()->setBox(QSize(pixels, pixels));
  applyGrid();
  scheduleWanted();
}

void Gallery::applyGrid() {
  const int line = textLineHeight(view_->fontMetrics());
  // As many columns as fit, spread over the whole width (no empty band on the right).
  const int cell = thumbnailSize_ + 2 * kPad;
  // QListView lays a wrapping grid out as if the vertical scroll bar were there; keep a few pixels spare
  // so rounding never pushes the last column to the next row.
  const QScrollBar* bar = view_->verticalScrollBar();
  const int width = view_->viewport()->width() - (bar->isVisible() ? 0 : bar->sizeHint().width()) - 4;
  const int columns = std::max(1, width / cell);
  const int spread = width >= cell ? std::max(cell, (width - 1) / columns) : cell;
  const QSize grid(spread, thumbnailSize_ + 2 * kPad + 2 * line);
  if (view_->gridSize() != grid) view_->setGridSize(grid);
  view_->verticalScrollBar()->setSingleStep(std::max(8, thumbnailSize_ / 4));
}

void Gallery::setSortOrder(SortOrder order) {
  sortOrder_ = order;
  if (sort_->currentIndex() != static_cast<int>(order)) {
    QSignalBlocker block(sort_);
    sort_->setCurrentIndex(static_cast<int>(order));
  }
  proxy_->setSortRole(GalleryModel::ScoreRole);
  if (order == SortOrder::AsGiven) proxy_->sort(-1);
  else proxy_->sort(0, order == SortOrder::ScoreDescending ? Qt::DescendingOrder : Qt::AscendingOrder);
  scheduleWanted();
}

void Gallery::setFilterText(const QString& text) {
  if (filter_->text() != text) {
    QSignalBlocker block(filter_);
    filter_->setText(text);
  }
  proxy_->setText(text);
  if (!view_->currentIndex().isValid() && proxy_->rowCount() > 0) view_->setCurrentIndex(proxy_->index(0, 0));
  updateCount();
  scheduleWanted();
}

int Gallery::count() const { return model_->rowCount(); }
int Gallery::shownCount() const { return proxy_->rowCount(); }

int Gallery::currentItem() const {
  const QModelIndex i = view_->currentIndex();
  return i.isValid() ? proxy_->mapToSource(i).row() : -1;
}

void Gallery::setCurrentItem(int item) {
  const QModelIndex i = proxy_->mapFromSource(model_->index(item));
  if (!i.isValid()) return;
  view_->setCurrentIndex(i);
  view_->scrollTo(i);
}

void Gallery::scrollToItem(int item) {
  const QModelIndex i = proxy_->mapFromSource(model_->index(item));
  if (i.isValid()) view_->scrollTo(i, QAbstractItemView::PositionAtTop);
}

QVector<int> Gallery::selectedItems() const {
  QVector<int> rows;
  for (const QModelIndex& i : view_->selectionModel()->selectedIndexes()) rows << proxy_->mapToSource(i).row();
  std::sort(rows.begin(), rows.end());
  return rows;
}

void Gallery::updateCount() {
  const QLocale l;
  countLabel_->setText(shownCount() == count() ? tr("%1 items").arg(l.toString(count()))
                                               : tr("%1 of %2").arg(l.toString(shownCount()), l.toString(count())));
}

QPair<int, int> Gallery::visibleDisplayRows() const {
  const int n = proxy_->rowCount();
  if (n == 0 || !view_->viewport()->isVisible()) return {-1, -1};
  const int height = view_->viewport()->height();
  // Cells run in display order, row by row, so their tops never decrease: binary search both ends.
  auto rectOf = [this](int r) { return view_->visualRect(proxy_->index(r, 0)); };
  int lo = 0, hi = n - 1;
  while (lo < hi) {  // first cell whose bottom is on screen
    const int mid = (lo + hi) / 2;
    if (rectOf(mid).bottom() < 0) lo = mid + 1;
    else hi = mid;
  }
  const int first = lo;
  if (rectOf(first).top() >= height) return {-1, -1};
  lo = first;
  hi = n - 1;
  while (lo < hi) {  // last cell whose top is on screen
    const int mid = (lo + hi + 1) / 2;
    if (rectOf(mid).top() < height) lo = mid;
    else hi = mid - 1;
  }
  return {first, lo};
}

QPair<int, int> Gallery::visibleRange() const { return visibleDisplayRows(); }

bool Gallery::visibleThumbnailsDone() const {
  const auto [first, last] = visibleDisplayRows();
  if (first < 0) return proxy_->rowCount() == 0;
  for (int r = first; r <= last; ++r)
    if (model_->thumbnailState(proxy_->mapToSource(proxy_->index(r, 0)).row()) == GalleryModel::ThumbnailState::Loading)
      return false;
  return true;
}

void Gallery::scheduleWanted() {
  if (!wantTimer_.isActive()) wantTimer_.start();
}

void Gallery::updateWanted() {
  const auto [first, last] = visibleDisplayRows();
  if (first < 0) {
    wanted_ = {-1, -1};
    model_->loader()->want({});
    return;
  }
  const int n = proxy_->rowCount();
  // Columns as laid out: cells of the first row share its top.
  int columns = 1;
  const int top = view_->visualRect(proxy_->index(first, 0)).top();
  while (first + columns < n && view_->visualRect(proxy_->index(first + columns, 0)).top() == top) ++columns;
  const int margin = std::max(2 * columns, (last - first + 1) / 2);  // about half a page each way
  const int before = std::max(0, first - margin), after = std::min(n - 1, last + margin);
  wanted_ = {before, after};
  std::vector<ThumbnailLoader::Request> requests;
  requests.reserve(static_cast<size_t>(after - before + 1));
  auto add = [&](int displayRow) { requests.push_back(model_->request(proxy_->mapToSource(proxy_->index(displayRow, 0)).row())); };
  for (int r = first; r <= last; ++r) add(r);  // on screen first, then the next rows, then the previous ones
  for (int r = last + 1; r <= after; ++r) add(r);
  for (int r = first - 1; r >= before; --r) add(r);
  model_->loader()->want(requests);
}

bool Gallery::eventFilter(QObject* watched, QEvent* event) {
  if (watched == view_->viewport() && (event->type() == QEvent::Resize || event->type() == QEvent::Show)) {
    applyGrid();
    scheduleWanted();
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace loupe::widgets
