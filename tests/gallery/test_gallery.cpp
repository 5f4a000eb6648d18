// Gallery with 10,000 items: it opens and scrolls top to bottom without blocking the event loop (the
// longest gap between ticks of a 1 ms timer is measured), the thumbnails of the rows on screen arrive
// (decoded off the GUI thread, only for what is on screen plus a margin), bad files get an error tile,
// keyboard navigation moves the current item, a click and Enter/double-click emit the right item, the
// score order and the filter are right. Inputs: crops of Debian's skimage photos written by the test.

#include <QElapsedTimer>
#include <QLineEdit>
#include <QListView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>

#include "GalleryFixture.h"
#include "TestFiles.h"
#include "widgets/Gallery.h"
#include "widgets/Thumbnail.h"

using loupe::widgets::Gallery;
using loupe::widgets::GalleryItem;
using loupe::widgets::GalleryModel;

namespace {

constexpr int kItems = 10000;
constexpr int kFiles = 240;
constexpr double kStallLimitMs = 100.0;

// Records the longest gap between consecutive ticks of a 1 ms timer on the GUI thread: how long the event
// loop was blocked at worst while it ran.
class StallMeter : public QObject {
 public:
  StallMeter() {
    timer_.setInterval(1);
    timer_.setTimerType(Qt::PreciseTimer);
    connect(&timer_, &QTimer::timeout, this, [this] {
      const double now = clock_.nsecsElapsed() / 1e6;
      worst_ = std::max(worst_, now - last_);
      last_ = now;
      ++ticks_;
    });
  }
  void start() {
    clock_.start();
    last_ = 0.0;
    worst_ = 0.0;
    ticks_ = 0;
    timer_.start();
  }
  // Counts the time since the last tick too: a stall at the very end is still a stall.
  double stop() {
    timer_.stop();
    worst_ = std::max(worst_, clock_.nsecsElapsed() / 1e6 - last_);
    return worst_;
  }
  int ticks() const { return ticks_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  double last_ = 0.0, worst_ = 0.0;
  int ticks_ = 0;
};

// A deterministic score in [0, 1) per item (a hash of the index), so the ranking is shuffled.
double scoreOf(int i) { return std::fmod(std::abs(std::sin(i * 12.9898) * 43758.5453), 1.0); }

}  // namespace

class TestGallery : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void opensAndScrolls10000ItemsWithoutBlocking();
  void thumbnailsOfVisibleRowsArrive();
  void badFilesGetAnErrorTile();
  void keyboardNavigationMovesTheCurrentItem();
  void clickAndDoubleClickEmitTheItem();
  void sortsByScoreAndFilters();
  void cacheStaysUnderItsLimit();
  void jpegIsDecodedAtReducedSize();

 private:
  std::vector<GalleryItem> items(bool uniqueKeys) const;
  void showGallery(Gallery& g);
  bool visibleReady(const Gallery& g) const;

  QTemporaryDir dir_;
  QStringList files_;
  QString truncated_, notImage_;
};

void TestGallery::initTestCase() {
  QVERIFY(dir_.isValid());
  files_ = loupe::test::writeGalleryPhotos(dir_.filePath(QStringLiteral("photos")), kFiles);
  if (files_.isEmpty()) QSKIP("python3-skimage's photos are not installed");
  truncated_ = dir_.filePath(QStringLiteral("truncated.jpg"));
  QVERIFY(loupe::test::writeTruncatedCopy(files_.first(), truncated_, 0.02));
  notImage_ = dir_.filePath(QStringLiteral("notes.png"));
  QVERIFY(loupe::test::writeText(notImage_, "this is not a PNG\n"));
}

// Item i shows file i % kFiles; every 997th item is a bad file. With unique keys every item is its own
// thumbnail (10,000 decodes if all were loaded), as in a gallery of 10,000 different images.
std::vector<GalleryItem> TestGallery::items(bool uniqueKeys) const {
  std::vector<GalleryItem> out(kItems);
  for (int i = 0; i < kItems; ++i) {
    GalleryItem& it = out[static_cast<size_t>(i)];
    it.path = i % 997 == 500 ? (i % 2 ? truncated_ : notImage_) : files_[i % files_.size()];
    if (uniqueKeys) it.key = QStringLiteral("%1#%2").arg(it.path).arg(i);
    it.score = scoreOf(i);
    it.caption = QStringLiteral("item %1").arg(i);
    it.metadata.insert(QStringLiteral("index"), i);
  }
  return out;
}

void TestGallery::showGallery(Gallery& g) {
  g.resize(1000, 720);
  g.show();
  QVERIFY(QTest::qWaitForWindowExposed(&g));
}

bool TestGallery::visibleReady(const Gallery& g) const {
  const auto [first, last] = g.visibleRange();
  if (first < 0) return false;
  for (int r = first; r <= last; ++r) {
    const QModelIndex i = g.proxy()->index(r, 0);
    if (i.data(GalleryModel::ThumbnailStateRole).toInt() == int(GalleryModel::ThumbnailState::Loading)) return false;
  }
  return true;
}

void TestGallery::opensAndScrolls10000ItemsWithoutBlocking() {
  Gallery g;
  showGallery(g);
  auto list = items(true);
  StallMeter meter;
  meter.start();
  QElapsedTimer open;
  open.start();
  g.setItems(std::move(list));
  const double setItemsMs = open.nsecsElapsed() / 1e6;
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
  const double firstPageMs = open.nsecsElapsed() / 1e6;
  QCOMPARE(g.count(), kItems);

  // Scroll like a user dragging the scroll bar's thumb from top to bottom in about three seconds: 200
  // moves, 15 ms apart (each moves the grid by a few pages).
  QScrollBar* bar = g.view()->verticalScrollBar();
  QVERIFY(bar->maximum() > 100 * bar->pageStep());  // 10,000 cells make a long grid
  const int step = std::max(1, bar->maximum() / 200);
  QElapsedTimer scrollClock;
  scrollClock.start();
  while (bar->value() < bar->maximum()) {
    bar->setValue(std::min(bar->maximum(), bar->value() + step));
    QTest::qWait(15);
  }
  const double scrollMs = scrollClock.nsecsElapsed() / 1e6;
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
  const double worst = meter.stop();

  auto* loader = g.model()->loader();
  qInfo("setItems %.1f ms, first page of thumbnails %.0f ms, scroll to bottom %.0f ms, %d ticks, longest stall %.1f ms; "
        "%lld decoded, %lld cancelled before decoding, cache %.1f MiB",
        setItemsMs, firstPageMs, scrollMs, meter.ticks(), worst, static_cast<long long>(loader->decodedCount()),
        static_cast<long long>(loader->cancelledCount()), loader->cacheBytes() / 1048576.0);
  QVERIFY2(worst < kStallLimitMs, qPrintable(QStringLiteral("the event loop was blocked for %1 ms").arg(worst)));
  // Lazy: scrolled past quickly, most rows were never decoded; those queued and scrolled away were dropped.
  QVERIFY2(loader->decodedCount() < kItems / 2, qPrintable(QString::number(loader->decodedCount())));
  QVERIFY(loader->cancelledCount() > 0);
  const auto [first, last] = g.visibleRange();
  QCOMPARE(last, kItems - 1);  // at the bottom
  QVERIFY(first > kItems - 200);
}

void TestGallery::thumbnailsOfVisibleRowsArrive() {
  Gallery g;
  showGallery(g);
  g.setItems(items(true));
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
  const auto [first, last] = g.visibleRange();
  QVERIFY(last - first + 1 >= 12);  // several rows of several columns at 1000 x 720
  const QSize box(g.thumbnailSize(), g.thumbnailSize());
  for (int r = first; r <= last; ++r) {
    const QModelIndex i = g.proxy()->index(r, 0);
    if (i.data(GalleryModel::ThumbnailStateRole).toInt() != int(GalleryModel::ThumbnailState::Ready)) continue;
    const QImage thumb = i.data(Qt::DecorationRole).value<QImage>();
    const QImage full(i.data(GalleryModel::PathRole).toString());
    QVERIFY(!full.isNull());
    // Fits the box, touches it on the long side, keeps the aspect ratio within a pixel.
    QVERIFY(thumb.width() <= box.width() && thumb.height() <= box.height());
    QVERIFY(thumb.width() == box.width() || thumb.height() == box.height());
    QVERIFY(std::abs(thumb.width() * full.height() - thumb.height() * full.width()) <= std::max(full.width(), full.height()));
    // And shows the file: the mean colour matches the full image's (a smooth reduction keeps means).
    auto mean = [](const QImage& im) {
      const QImage small = im.scaled(1, 1, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_RGB32);
      return QColor(small.pixel(0, 0));
    };
    const QColor a = mean(thumb), b = mean(full.scaled(thumb.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
    QVERIFY2(std::abs(a.red() - b.red()) < 12 && std::abs(a.green() - b.green()) < 12 && std::abs(a.blue() - b.blue()) < 12,
             qPrintable(QStringLiteral("%1: thumbnail mean %2 vs file %3").arg(i.data(GalleryModel::PathRole).toString(),
                                                                          a.name(), b.name())));
  }
  // Items off screen and beyond the margin were not asked for.
  const auto [wantedFirst, wantedLast] = g.wantedRange();
  QVERIFY(wantedLast < kItems - 1);
  const QModelIndex far = g.proxy()->index(kItems - 1, 0);
  QCOMPARE(far.data(GalleryModel::ThumbnailStateRole).toInt(), int(GalleryModel::ThumbnailState::Loading));
  Q_UNUSED(wantedFirst);
}

void TestGallery::badFilesGetAnErrorTile() {
  Gallery g;
  showGallery(g);
  std::vector<GalleryItem> list;
  list.push_back({files_[0], {}, {}, 0.9, QStringLiteral("good"), {}});
  list.push_back({truncated_, {}, {}, 0.8, QStringLiteral("truncated"), {}});
  list.push_back({notImage_, {}, {}, 0.7, QStringLiteral("text"), {}});
  list.push_back({dir_.filePath(QStringLiteral("missing.jpg")), {}, {}, 0.6, QStringLiteral("missing"), {}});
  g.setItems(std::move(list));
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 5000);
  auto state = [&](int row) { return g.model()->data(g.model()->index(row), GalleryModel::ThumbnailStateRole).toInt(); };
  auto error = [&](int row) { return g.model()->data(g.model()->index(row), GalleryModel::ErrorRole).toString(); };
  QCOMPARE(state(0), int(GalleryModel::ThumbnailState::Ready));
  QCOMPARE(state(2), int(GalleryModel::ThumbnailState::Failed));
  QCOMPARE(state(3), int(GalleryModel::ThumbnailState::Failed));
  QVERIFY2(error(2).contains(QStringLiteral("notes.png")), qPrintable(error(2)));
  QVERIFY2(error(3).contains(QStringLiteral("missing.jpg")) && error(3).contains(QStringLiteral("no such file")), qPrintable(error(3)));
  // A JPEG cut at 2 %: libjpeg pads the rest grey and Qt may still return an image; either way no crash,
  // and a failure names the file.
  if (state(1) == int(GalleryModel::ThumbnailState::Failed)) QVERIFY(error(1).contains(QStringLiteral("truncated.jpg")));
  // The error tile is drawn: the cell of the text file has the tile's red outline.
  const QImage shot = g.view()->viewport()->grab().toImage();
  const QRect cell = g.view()->visualRect(g.proxy()->mapFromSource(g.model()->index(2)));
  int reddish = 0;
  for (int y = cell.top(); y <= cell.bottom(); ++y)
    for (int x = cell.left(); x <= cell.right(); ++x) {
      const QColor c = shot.pixelColor(x * shot.width() / g.view()->viewport()->width(), y * shot.height() / g.view()->viewport()->height());
      if (c.red() > 150 && c.green() < 90 && c.blue() < 90) ++reddish;
    }
  QVERIFY2(reddish > 50, qPrintable(QString::number(reddish)));
}

void TestGallery::keyboardNavigationMovesTheCurrentItem() {
  Gallery g;
  showGallery(g);
  g.setItems(items(false));
  QListView* view = g.view();
  view->setFocus();
  auto displayRow = [&] { return view->currentIndex().row(); };
  QCOMPARE(displayRow(), 0);  // the best item is current after setItems()
  int columns = 1;  // as laid out: the cells of the first row share its top
  while (view->visualRect(g.proxy()->index(columns, 0)).top() == view->visualRect(g.proxy()->index(0, 0)).top()) ++columns;
  QVERIFY(columns >= 3);
  QTest::keyClick(view, Qt::Key_Right);
  QCOMPARE(displayRow(), 1);
  QTest::keyClick(view, Qt::Key_Down);
  QCOMPARE(displayRow(), 1 + columns);
  QTest::keyClick(view, Qt::Key_Left);
  QCOMPARE(displayRow(), columns);
  QTest::keyClick(view, Qt::Key_Up);
  QCOMPARE(displayRow(), 0);
  QTest::keyClick(view, Qt::Key_PageDown);
  const int afterPage = displayRow();
  QVERIFY2(afterPage >= 2 * columns && afterPage % columns == 0, qPrintable(QString::number(afterPage)));  // a page of rows down
  QTest::keyClick(view, Qt::Key_PageUp);
  QCOMPARE(displayRow(), 0);
  QTest::keyClick(view, Qt::Key_End);
  QCOMPARE(displayRow(), kItems - 1);
  QVERIFY(g.visibleRange().second == kItems - 1);  // scrolled to it
  QTest::keyClick(view, Qt::Key_Home);
  QCOMPARE(displayRow(), 0);

  QSignalSpy open(&g, &Gallery::openRequested);
  QTest::keyClick(view, Qt::Key_Right);
  QTest::keyClick(view, Qt::Key_Return);
  QCOMPARE(open.count(), 1);
  // Display row 1 is the item with the second-highest score.
  const int expected = g.proxy()->mapToSource(g.proxy()->index(1, 0)).row();
  QCOMPARE(open.at(0).at(0).toInt(), expected);
  QCOMPARE(g.currentItem(), expected);
  double best = -1, second = -1;
  for (int i = 0; i < kItems; ++i) {
    const double s = scoreOf(i);
    if (s > best) second = best, best = s;
    else if (s > second) second = s;
  }
  QCOMPARE(g.model()->item(expected).score, second);
}

void TestGallery::clickAndDoubleClickEmitTheItem() {
  Gallery g;
  showGallery(g);
  g.setItems(items(false));
  QSignalSpy clicked(&g, &Gallery::itemClicked);
  QSignalSpy open(&g, &Gallery::openRequested);
  const QModelIndex target = g.proxy()->index(7, 0);
  const int item = g.proxy()->mapToSource(target).row();
  const QPoint centre = g.view()->visualRect(target).center();
  QTest::mouseClick(g.view()->viewport(), Qt::LeftButton, {}, centre);
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked.at(0).at(0).toInt(), item);
  QCOMPARE(g.currentItem(), item);
  QCOMPARE(g.selectedItems(), QVector<int>{item});
  QCOMPARE(open.count(), 0);  // a single click selects; it does not open
  QTest::mouseDClick(g.view()->viewport(), Qt::LeftButton, {}, centre);
  QCOMPARE(open.count(), 1);
  QCOMPARE(open.at(0).at(0).toInt(), item);
  QCOMPARE(g.model()->item(item).caption, QStringLiteral("item %1").arg(item));
}

void TestGallery::sortsByScoreAndFilters() {
  Gallery g;
  showGallery(g);
  auto list = items(false);
  list[3].score = std::nan("");  // no score: last in either order, no rank
  g.setItems(std::move(list));
  auto scoreAt = [&](int r) { return g.proxy()->index(r, 0).data(GalleryModel::ScoreRole).toDouble(); };
  for (int r = 1; r + 1 < kItems; ++r) QVERIFY(scoreAt(r - 1) >= scoreAt(r));
  QCOMPARE(g.proxy()->mapToSource(g.proxy()->index(kItems - 1, 0)).row(), 3);
  QCOMPARE(g.proxy()->index(0, 0).data(GalleryModel::RankRole).toInt(), 1);
  QCOMPARE(g.model()->data(g.model()->index(3), GalleryModel::RankRole).toInt(), 0);

  g.setSortOrder(Gallery::SortOrder::ScoreAscending);
  for (int r = 1; r + 1 < kItems; ++r) QVERIFY(scoreAt(r - 1) <= scoreAt(r));
  QCOMPARE(g.proxy()->mapToSource(g.proxy()->index(kItems - 1, 0)).row(), 3);
  QCOMPARE(g.proxy()->index(kItems - 2, 0).data(GalleryModel::RankRole).toInt(), 1);  // the best is last but one

  g.setSortOrder(Gallery::SortOrder::AsGiven);
  for (int r = 0; r < 50; ++r) QCOMPARE(g.proxy()->mapToSource(g.proxy()->index(r, 0)).row(), r);

  // Filter: captions "item 12", "item 120".."item 129", "item 1200".."item 1299" contain "item 12".
  g.filterEdit()->setText(QStringLiteral("ITEM 12"));  // case-insensitive, through the box
  QCOMPARE(g.shownCount(), 1 + 10 + 100);
  for (int r = 0; r < g.shownCount(); ++r)
    QVERIFY(g.proxy()->index(r, 0).data(GalleryModel::CaptionRole).toString().startsWith(QStringLiteral("item 12")));
  g.setFilterText(QStringLiteral("photo_0003"));  // the file name: items i with i % 240 == 3, bad ones aside
  int expected = 0;
  for (int i = 0; i < kItems; ++i) expected += i % kFiles == 3 && i % 997 != 500;
  QCOMPARE(g.shownCount(), expected);
  g.setFilterText(QString());
  QCOMPARE(g.shownCount(), kItems);
}

void TestGallery::cacheStaysUnderItsLimit() {
  Gallery g;
  showGallery(g);
  const qint64 limit = 4 * 1024 * 1024;  // about 40 thumbnails of 160 x 120 x 4 bytes: less than two screens
  g.model()->loader()->setCacheLimit(limit);
  g.setItems(items(true));
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
  QScrollBar* bar = g.view()->verticalScrollBar();
  for (int page = 0; page < 6; ++page) {
    bar->setValue(bar->value() + bar->pageStep());
    QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
    QVERIFY(g.model()->loader()->cacheBytes() <= limit);
  }
  // Back at the top the first rows were evicted and come back (decoded again).
  const qint64 before = g.model()->loader()->decodedCount();
  bar->setValue(0);
  QTRY_VERIFY_WITH_TIMEOUT(visibleReady(g), 10000);
  QVERIFY(g.model()->loader()->decodedCount() > before);
}

void TestGallery::jpegIsDecodedAtReducedSize() {
  // A 4000 x 3000 JPEG: asked for 160 x 120, libjpeg's DCT scaling (1/8) hands Qt a 500 x 375 image,
  // which is then scaled smoothly. Check the result against a full decode + smooth scale.
  const QString big = dir_.filePath(QStringLiteral("big.jpg"));
  QImage source(loupe::test::debianPhoto("astronaut.png"));
  QVERIFY(!source.isNull());
  QVERIFY(source.scaled(4000, 3000).save(big, "JPEG", 92));
  QString error;
  QElapsedTimer t;
  t.start();
  const QImage thumb = loupe::widgets::decodeThumbnail(big, QSize(160, 160), &error);
  const double reducedMs = t.nsecsElapsed() / 1e6;
  QVERIFY2(!thumb.isNull(), qPrintable(error));
  QCOMPARE(thumb.size(), QSize(160, 120));
  t.restart();
  const QImage reference = QImage(big).scaled(160, 120, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_RGB32);
  const double fullMs = t.nsecsElapsed() / 1e6;
  double diff = 0;
  for (int y = 0; y < 120; ++y)
    for (int x = 0; x < 160; ++x) {
      const QColor a = thumb.pixelColor(x, y), b = reference.pixelColor(x, y);
      diff += std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
    }
  diff /= 160.0 * 120 * 3;
  qInfo("4000 x 3000 JPEG to 160 x 120: reduced decode %.1f ms, full decode + scale %.1f ms, mean |diff| %.2f",
        reducedMs, fullMs, diff);
  QVERIFY2(diff < 6.0, qPrintable(QString::number(diff)));
  // The reduced path decodes 1/64 of the pixels: even on a busy machine it is several times faster.
  QVERIFY2(reducedMs * 2 < fullMs, qPrintable(QStringLiteral("%1 vs %2 ms").arg(reducedMs).arg(fullMs)));
}

QTEST_MAIN(TestGallery)
#include "test_gallery.moc"
