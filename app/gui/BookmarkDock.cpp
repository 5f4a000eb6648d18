#include "BookmarkDock.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIcon>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPainter>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QSignalBlocker>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace loupe::gui {

using session::Bookmark;
using session::BookmarkStatus;

namespace {

constexpr QSize kThumb(96, 64);

QColor statusColour(BookmarkStatus s) {
  switch (s) {
    case BookmarkStatus::Ok: return QColor(0x1b, 0x7f, 0x3a);
    case BookmarkStatus::ToCheck: return QColor(0xc2, 0x8a, 0x00);
    case BookmarkStatus::Warning: return QColor(0xb4, 0x23, 0x18);
  }
  return Qt::gray;
}

// The snapshot scaled into the thumbnail box with a status stripe on its left edge.
QIcon thumbnail(const Bookmark& b) {
  QPixmap pix(kThumb);
  pix.fill(Qt::transparent);
  QPainter p(&pix);
  const QImage image = QImage::fromData(b.snapshotPng, "PNG");
  if (!image.isNull()) {
    const QImage scaled = image.scaled(kThumb - QSize(6, 0), Qt::KeepAspectRatio, Qt::SmoothTransformation);
    p.drawImage(6 + (kThumb.width() - 6 - scaled.width()) / 2, (kThumb.height() - scaled.height()) / 2, scaled);
  }
  p.fillRect(0, 0, 4, kThumb.height(), statusColour(b.status));
  return QIcon(pix);
}

}  // namespace

BookmarkDock::BookmarkDock(QWidget* parent) : QDockWidget(tr("Bookmarks"), parent) {
  setObjectName(QStringLiteral("bookmarkDock"));
  setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
  auto* body = new QWidget(this);
  auto* layout = new QVBoxLayout(body);
  layout->setContentsMargins(4, 4, 4, 4);

  auto* bar = new QHBoxLayout;
  add_ = new QToolButton(body);
  add_->setObjectName(QStringLiteral("addBookmarkButton"));
  add_->setText(tr("Add"));
  add_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  add_->setIcon(style()->standardIcon(QStyle::SP_FileDialogNewFolder));
  add_->setToolTip(tr("Bookmark the current view, tool and parameters (Ctrl+B)"));
  connect(add_, &QToolButton::clicked, this, &BookmarkDock::addRequested);
  delete_ = new QToolButton(body);
  delete_->setObjectName(QStringLiteral("deleteBookmarkButton"));
  delete_->setText(tr("Delete"));
  delete_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  delete_->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
  delete_->setToolTip(tr("Delete the selected bookmark"));
  connect(delete_, &QToolButton::clicked, this, [this] { remove(currentIndex()); });
  bar->addWidget(add_);
  bar->addWidget(delete_);
  bar->addStretch(1);
  layout->addLayout(bar);

  list_ = new QListWidget(body);
  list_->setObjectName(QStringLiteral("bookmarkList"));
  list_->setIconSize(kThumb);
  list_->setSelectionMode(QAbstractItemView::SingleSelection);
  list_->setWordWrap(true);
  list_->setMinimumHeight(kThumb.height() + 8);
  connect(list_, &QListWidget::currentRowChanged, this, &BookmarkDock::showDetails);
  connect(list_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) { Q_EMIT activated(list_->row(item)); });
  connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) { Q_EMIT activated(list_->row(item)); });
  layout->addWidget(list_, 1);

  details_ = new QWidget(body);
  auto* form = new QFormLayout(details_);
  form->setContentsMargins(0, 0, 0, 0);
  title_ = new QLineEdit(details_);
  title_->setObjectName(QStringLiteral("bookmarkTitle"));
  connect(title_, &QLineEdit::textEdited, this, [this](const QString& text) { setTitle(currentIndex(), text); });
  status_ = new QComboBox(details_);
  status_->setObjectName(QStringLiteral("bookmarkStatus"));
  for (auto s : {BookmarkStatus::Ok, BookmarkStatus::ToCheck, BookmarkStatus::Warning})
    status_->addItem(session::statusTitle(s), static_cast<int>(s));
  connect(status_, &QComboBox::currentIndexChanged, this, [this] {
    if (!updating_) setStatus(currentIndex(), static_cast<BookmarkStatus>(status_->currentData().toInt()));
  });
  comment_ = new QPlainTextEdit(details_);
  comment_->setObjectName(QStringLiteral("bookmarkComment"));
  comment_->setPlaceholderText(tr("What this view shows, what to check"));
  // Small minimum: the panel shares its dock area with the layer list on small screens.
  comment_->setMinimumHeight(comment_->fontMetrics().lineSpacing() * 2 + 12);
  comment_->setMaximumHeight(comment_->fontMetrics().lineSpacing() * 6 + 12);
  connect(comment_, &QPlainTextEdit::textChanged, this, [this] {
    if (!updating_) setComment(currentIndex(), comment_->toPlainText());
  });
  info_ = new QLabel(details_);
  info_->setObjectName(QStringLiteral("bookmarkInfo"));
  info_->setWordWrap(true);
  info_->setStyleSheet(QStringLiteral("color: palette(mid);"));
  form->addRow(tr("Title:"), title_);
  form->addRow(tr("Status:"), status_);
  form->addRow(tr("Comment:"), comment_);
  form->addRow(info_);
  layout->addWidget(details_);
  setWidget(body);
  showDetails();
}

void BookmarkDock::setBookmarks(std::vector<Bookmark> bookmarks) {
  bookmarks_ = std::move(bookmarks);
  rebuild();
}

void BookmarkDock::rebuild() {
  {
    QSignalBlocker block(list_);
    list_->clear();
    for (std::size_t i = 0; i < bookmarks_.size(); ++i) new QListWidgetItem(list_);
    for (int i = 0; i < count(); ++i) refreshRow(i);
  }
  list_->setCurrentRow(count() > 0 ? 0 : -1);
  showDetails();
}

void BookmarkDock::add(Bookmark bookmark) {
  bookmarks_.push_back(std::move(bookmark));
  new QListWidgetItem(list_);
  refreshRow(count() - 1);
  list_->setCurrentRow(count() - 1);
  Q_EMIT changed();
}

bool BookmarkDock::remove(int index) {
  if (index < 0 || index >= count()) return false;
  bookmarks_.erase(bookmarks_.begin() + index);
  delete list_->takeItem(index);
  showDetails();
  Q_EMIT changed();
  return true;
}

int BookmarkDock::currentIndex() const { return list_->currentRow(); }
void BookmarkDock::setCurrentIndex(int index) { list_->setCurrentRow(index); }

void BookmarkDock::setStatus(int index, BookmarkStatus status) {
  if (index < 0 || index >= count() || bookmarks_[static_cast<std::size_t>(index)].status == status) return;
  bookmarks_[static_cast<std::size_t>(index)].status = status;
  refreshRow(index);
  if (index == currentIndex()) showDetails();
  Q_EMIT changed();
}

void BookmarkDock::setComment(int index, const QString& comment) {
  if (index < 0 || index >= count() || bookmarks_[static_cast<std::size_t>(index)].comment == comment) return;
  bookmarks_[static_cast<std::size_t>(index)].comment = comment;
  refreshRow(index);
  if (index == currentIndex() && comment_->toPlainText() != comment) showDetails();
  Q_EMIT changed();
}

void BookmarkDock::setTitle(int index, const QString& title) {
  if (index < 0 || index >= count() || bookmarks_[static_cast<std::size_t>(index)].title == title) return;
  bookmarks_[static_cast<std::size_t>(index)].title = title;
  refreshRow(index);
  if (index == currentIndex() && title_->text() != title) showDetails();
  Q_EMIT changed();
}

void BookmarkDock::refreshRow(int index) {
  QListWidgetItem* item = list_->item(index);
  if (!item) return;
  const Bookmark& b = bookmarks_[static_cast<std::size_t>(index)];
  QString text = QStringLiteral("%1\n%2").arg(b.title, session::statusTitle(b.status));
  if (!b.comment.isEmpty()) text += QStringLiteral(" \u2014 ") + b.comment.section(QLatin1Char('\n'), 0, 0).left(60);
  item->setText(text);
  item->setIcon(thumbnail(b));
  item->setToolTip(b.comment.isEmpty() ? b.title : b.title + QStringLiteral("\n\n") + b.comment);
}

void BookmarkDock::showDetails() {
  const int index = currentIndex();
  const bool any = index >= 0 && index < count();
  details_->setEnabled(any);
  delete_->setEnabled(any);
  updating_ = true;
  if (any) {
    const Bookmark& b = bookmarks_[static_cast<std::size_t>(index)];
    if (title_->text() != b.title) title_->setText(b.title);
    status_->setCurrentIndex(status_->findData(static_cast<int>(b.status)));
    if (comment_->toPlainText() != b.comment) comment_->setPlainText(b.comment);
    QString view = b.view.fit ? tr("whole image") : tr("zoom %1 % at %2, %3").arg(b.view.scale * 100.0, 0, 'f', 0).arg(b.view.centreX, 0, 'f', 0).arg(b.view.centreY, 0, 'f', 0);
    info_->setText(tr("%1 \u00b7 %2 \u00b7 %3").arg(b.taskId.isEmpty() ? tr("no tool") : b.taskId, view, b.createdAt));
  } else {
    title_->clear();
    comment_->clear();
    info_->setText(count() == 0 ? tr("No bookmarks. Press Add (Ctrl+B) to keep the current view with a note.") : QString());
  }
  updating_ = false;
}

}  // namespace loupe::gui
