// Gallery with 10,000 items over 300 distinct 1600 x 1200 JPEGs (crops of Debian's skimage photos, written
// here): time until the first screen of thumbnails is drawn, the longest event-loop stall while scrolling
// from top to bottom (200 moves 15 ms apart, a quick drag of the scroll bar), and time until the bottom
// screen is complete. Peer, in the same run: a QListWidget whose delegate decodes a thumbnail on the GUI
// thread the first time a cell is painted (full decode + smooth scale, cached) - what a plain Qt list
// with icons does when made lazy; and the eager variant (all icons before showing) measured on 200 items.
// Usage: bench_gallery [items] (default 10000). Run with QT_QPA_PLATFORM=offscreen or under xvfb-run.

#include <QApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QListWidget>
#include <QPainter>
#include <QScrollBar>
#include <QStyledItemDelegate>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cstdio>
#include <functional>

#include "../gallery/GalleryFixture.h"
#include "widgets/Gallery.h"
#include "widgets/Thumbnail.h"

namespace {

constexpr int kBox = 160;

class StallMeter : public QObject {
 public:
  StallMeter() {
    timer_.setInterval(1);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, [this] {
      const double now = clock_.nsecsElapsed() / 1e6;
      worst_ = std::max(worst_, now - last_);
      last_ = now;
    });
  }
  void start() { clock_.start(); last_ = worst_ = 0; timer_.start(); }
  double stop() { timer_.stop(); return std::max(worst_, clock_.nsecsElapsed() / 1e6 - last_); }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  double last_ = 0, worst_ = 0;
};

// Waits (processing events) until done(); returns ms, or -1 after 120 s.
double waitFor(const std::function<bool()>& done) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > 120'000) return -1;
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
  }
  return t.nsecsElapsed() / 1e6;
}

// Scrolls top to bottom in 200 moves, 15 ms apart; returns the longest stall (ms).
double scrollDown(QScrollBar* bar, StallMeter& meter) {
  const int step = std::max(1, bar->maximum() / 200);
  while (bar->value() < bar->maximum()) {
    bar->setValue(std::min(bar->maximum(), bar->value() + step));
    QTest::qWait(15);
  }
  return meter.stop();
}

// The peer's delegate: decodes on the GUI thread when a cell is first painted.
class SyncDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    const QString path = index.data(Qt::UserRole).toString();
    auto it = cache_.find(path + QString::number(index.row()));
    if (it == cache_.end())
      it = cache_.insert(path + QString::number(index.row()),
                         QImage(path).scaled(kBox, kBox, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    p->drawImage(option.rect.topLeft() + QPoint(8, 8), *it);
    p->drawText(option.rect.adjusted(8, kBox + 12, -8, 0), index.data().toString());
    ++painted_;
  }
  QSize sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const override { return {kBox + 16, kBox + 40}; }
  mutable QHash<QString, QImage> cache_;
  mutable int painted_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  const int items = argc > 1 ? std::max(100, atoi(argv[1])) : 10000;
  QTemporaryDir dir;
  QElapsedTimer t;
  t.start();
  const QStringList files = loupe::test::writeGalleryPhotos(dir.filePath(QStringLiteral("p")), 300, QSize(1600, 1200), false);
  if (files.isEmpty()) {
    std::fprintf(stderr, "python3-skimage's photos are not installed\n");
    return 1;
  }
  std::printf("wrote %lld JPEGs of 1600 x 1200 in %.1f s; %d items\n", static_cast<long long>(files.size()), t.elapsed() / 1000.0, items);

  // Per-thumbnail decode cost: reduced JPEG decode (DCT scaling) vs full decode + smooth scale.
  t.restart();
  qint64 sink = 0;  // keeps the results alive
  for (int i = 0; i < 100; ++i) sink += loupe::widgets::decodeThumbnail(files[i], QSize(kBox, kBox), nullptr).width();
  const double reduced = t.nsecsElapsed() / 1e6 / 100;
  t.restart();
  for (int i = 0; i < 100; ++i) sink += QImage(files[i]).scaled(kBox, kBox, Qt::KeepAspectRatio, Qt::SmoothTransformation).width();
  const double full = t.nsecsElapsed() / 1e6 / 100;
  std::printf("one thumbnail: reduced decode %.2f ms, full decode + scale %.2f ms (%lld)\n", reduced, full, static_cast<long long>(sink / 200));

  {  // Loupe's Gallery
    loupe::widgets::Gallery g;
    g.resize(1200, 800);
    g.show();
    if (!QTest::qWaitForWindowExposed(&g)) return 1;
    std::vector<loupe::widgets::GalleryItem> list(static_cast<size_t>(items));
    for (int i = 0; i < items; ++i) {
      auto& it = list[static_cast<size_t>(i)];
      it.path = files[i % files.size()];
      it.key = QStringLiteral("%1#%2").arg(it.path).arg(i);
      it.score = 1.0 - double(i) / items;
      it.caption = QStringLiteral("item %1").arg(i);
    }
    StallMeter meter;
    meter.start();
    t.restart();
    g.setItems(std::move(list));
    const double first = waitFor([&] { return g.visibleThumbnailsDone(); }) >= 0 ? t.nsecsElapsed() / 1e6 : -1;
    const double stall = scrollDown(g.view()->verticalScrollBar(), meter);
    t.restart();
    const double bottom = waitFor([&] { return g.visibleThumbnailsDone(); });
    std::printf("Gallery:            first screen %7.0f ms | longest stall while scrolling %6.1f ms | bottom screen %6.0f ms after the scroll | %lld decoded\n",
                first, stall, bottom, static_cast<long long>(g.model()->loader()->decodedCount()));
  }
  {  // Peer: QListWidget, thumbnails decoded synchronously on the GUI thread when painted
    QListWidget w;
    w.setViewMode(QListView::ListMode);
    w.setFlow(QListView::LeftToRight);
    w.setWrapping(true);
    w.setResizeMode(QListView::Adjust);
    w.setUniformItemSizes(true);
    w.setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    w.setGridSize(QSize(kBox + 16, kBox + 40));
    auto* delegate = new SyncDelegate(&w);
    w.setItemDelegate(delegate);
    w.resize(1200, 800);
    w.show();
    if (!QTest::qWaitForWindowExposed(&w)) return 1;
    StallMeter meter;
    meter.start();
    t.restart();
    for (int i = 0; i < items; ++i) {
      auto* item = new QListWidgetItem(QStringLiteral("item %1").arg(i), &w);
      item->setData(Qt::UserRole, files[i % files.size()]);
    }
    w.doItemsLayout();
    w.viewport()->repaint();  // the first screen, decoded while painting
    const double first = t.nsecsElapsed() / 1e6;
    const double stall = scrollDown(w.verticalScrollBar(), meter);
    std::printf("QListWidget (sync): first screen %7.0f ms | longest stall while scrolling %6.1f ms | bottom screen is drawn with the last move | %d cells painted\n",
                first, stall, delegate->painted_);
  }
  {  // Eager peer: every icon before the list shows, on 200 items
    t.restart();
    QListWidget w;
    for (int i = 0; i < 200; ++i) {
      auto* item = new QListWidgetItem(QStringLiteral("item %1").arg(i), &w);
      item->setIcon(QIcon(QPixmap::fromImage(QImage(files[i % files.size()]).scaled(kBox, kBox, Qt::KeepAspectRatio, Qt::SmoothTransformation))));
    }
    const double ms = t.nsecsElapsed() / 1e6;
    std::printf("QListWidget (eager icons): %.0f ms for 200 items, i.e. about %.0f s before 10,000 items show\n", ms, ms / 200 * 10000 / 1000);
  }
  return 0;
}
