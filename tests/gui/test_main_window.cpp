// MainWindow: tasks from the built plugins, a real ELA run drawn over a real photo, bad files reported in
// the banner without losing the current image, cancellation returning the window to idle, recent files,
// the side-by-side comparison of original and result.
#include <QAbstractSpinBox>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDropEvent>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <memory>

#include "ErrorBanner.h"
#include "MainWindow.h"
#include "RecentFiles.h"
#include "TestFiles.h"
#include "core/Colormap.h"
#include "host/PluginHost.h"
#include "widgets/ImageView.h"
#include "widgets/LayerList.h"
#include "widgets/LayerStack.h"

using loupe::gui::ErrorBanner;
using loupe::gui::MainWindow;

namespace {

constexpr int kRunTimeoutMs = 30'000;

int distance(const QColor& a, const QColor& b) {
  return std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

 private:
  loupe::host::PluginHost host_;
  QString rocket_;
  QTemporaryDir tmp_;

  std::unique_ptr<MainWindow> makeWindow() {
    auto w = std::make_unique<MainWindow>(host_);
    w->show();
    if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
    return w;
  }

  template <class T> static T* child(QWidget* w, const char* name) {
    return w->findChild<T*>(QString::fromLatin1(name));
  }

  // Opens rocket.jpg with forgery.ela selected.
  std::unique_ptr<MainWindow> windowWithPhoto() {
    auto w = makeWindow();
    if (!w || !w->openImage(rocket_) || !w->selectTask(QStringLiteral("forgery.ela"))) return nullptr;
    return w;
  }

  static bool runAndWait(MainWindow& w) {
    QSignalSpy finished(&w, &MainWindow::runFinished);
    QTest::mouseClick(child<QPushButton>(&w, "runButton"), Qt::LeftButton);
    return finished.wait(kRunTimeoutMs) || finished.count() > 0;
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings (recent files) go to a test location
    loupe::gui::RecentFiles().clear();
    host_.scan();
    QVERIFY2(host_.findTask("forgery.ela").spec, "the forgery plugin was not found (LOUPE_PLUGIN_PATH)");
    rocket_ = loupe::test::debianPhoto("rocket.jpg");
    QVERIFY(tmp_.isValid());
  }

  void shouldListTasksByPluginWithTheirParameters() {
    auto w = makeWindow();
    QVERIFY(w);
    auto* tree = child<QTreeWidget>(w.get(), "taskTree");
    QVERIFY(tree);
    QTreeWidgetItem* group = nullptr;
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
      if (tree->topLevelItem(i)->text(0) == QStringLiteral("Forgery")) group = tree->topLevelItem(i);
    QVERIFY(group);
    // Grouped by the manifest's task categories (tests/forgery_gui checks the whole tree): ELA is the
    // first task of the first category, Compression.
    QVERIFY(group->childCount() >= 1);
    QCOMPARE(group->child(0)->text(0), QStringLiteral("Compression"));
    QVERIFY(group->child(0)->childCount() >= 1);
    QCOMPARE(group->child(0)->child(0)->text(0), QStringLiteral("Error Level Analysis"));

    QVERIFY(w->selectTask(QStringLiteral("forgery.ela")));
    auto* quality = child<QSpinBox>(w.get(), "param_quality");
    QVERIFY(quality);
    QCOMPARE(quality->minimum(), 1);
    QCOMPARE(quality->maximum(), 100);
    QCOMPARE(quality->value(), 90);
    auto* amplification = child<QDoubleSpinBox>(w.get(), "param_amplification");
    QVERIFY(amplification);
    QCOMPARE(amplification->value(), 20.0);
    auto* colormap = child<QComboBox>(w.get(), "param_colormap");
    QVERIFY(colormap);
    QCOMPARE(colormap->currentText(), QStringLiteral("magma"));
    QCOMPARE(colormap->count(), 4);

    QVERIFY(w->applyParameters({{"quality", "75"}}));
    QCOMPARE(quality->value(), 75);
    QVERIFY(!w->applyParameters({{"quality", "300"}}));  // out of range: banner, editor unchanged
    QVERIFY(!w->banner()->isHidden());
    QCOMPARE(quality->value(), 75);
  }

  void shouldDrawElaOverlayOverImage() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = windowWithPhoto();
    QVERIFY(w);
    auto* canvas = child<loupe::widgets::ImageView>(w.get(), "imageView");
    QVERIFY(canvas && canvas->hasImage());
    QVERIFY(canvas == w->view());

    QVERIFY(runAndWait(*w));
    QVERIFY2(w->lastResult().ok, w->lastResult().error.message.c_str());
    QVERIFY(!w->isBusy());
    QCOMPARE(w->layers()->count(), 1);  // the heatmap; the table goes to the Results panel
    QCOMPARE(w->layers()->at(0)->kind(), loupe::widgets::ViewLayer::Kind::Heatmap);
    QCOMPARE(w->layerList()->currentIndex(), 0);  // selected, so the panel's slider acts on it

    child<QSlider>(w.get(), "opacitySlider")->setValue(100);
    QCOMPARE(w->layers()->at(0)->opacity(), 1.0);
    // The image alone, grabbed after the run (result panels change the view's size when they appear):
    // the layers checkbox hides the overlay; only the small "Original" badge is drawn over the photo.
    child<QCheckBox>(w.get(), "overlayCheck")->setChecked(false);
    const QImage before = canvas->grab().toImage();
    const QRect originalBadge = canvas->badgeRect().adjusted(-2, -2, 2, 2);
    child<QCheckBox>(w.get(), "overlayCheck")->setChecked(true);
    const QImage after = canvas->grab().toImage();
    QCOMPARE(after.size(), before.size());

    // The ELA heatmap the window received; where it is locally flat (3 x 3), the drawn colour is its magma colour.
    const loupe::Heatmap* ela = nullptr;
    for (const auto& layer : w->lastResult().layers)
      if (const auto* h = std::get_if<loupe::Heatmap>(&layer.payload)) ela = h;
    QVERIFY(ela);
    QCOMPARE(ela->colormap, loupe::Colormap::Magma);
    const auto t = [ela](int x, int y) {
      return std::clamp((ela->at(x, y) - ela->rangeMin) / (ela->rangeMax - ela->rangeMin), 0.f, 1.f);
    };

    // Sample a grid over the drawn image, away from the legend.
    const QRect image = canvas->imageRect();
    const QRect legend = canvas->legendRect().adjusted(-2, -2, 2, 2);
    int samples = 0, changed = 0, flat = 0, matching = 0;
    for (int gy = 1; gy < 40; ++gy) {
      for (int gx = 1; gx < 40; ++gx) {
        const QPoint p(image.left() + image.width() * gx / 40, image.top() + image.height() * gy / 40);
        if (legend.contains(p) || originalBadge.contains(p)) continue;
        ++samples;
        const QColor a = after.pixelColor(p);
        if (distance(a, before.pixelColor(p)) > 12) ++changed;
        const auto pos = canvas->widgetToImage(p);
        QVERIFY(pos);
        const int x = static_cast<int>(pos->x()), y = static_cast<int>(pos->y());
        if (x < 2 || y < 2 || x + 2 >= ela->width || y + 2 >= ela->height) continue;
        float lo = 1.f, hi = 0.f;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) lo = std::min(lo, t(x + dx, y + dy)), hi = std::max(hi, t(x + dx, y + dy));
        if (hi - lo > 0.06f) continue;
        ++flat;
        const auto m = loupe::colormapColor(loupe::Colormap::Magma, t(x, y));
        if (distance(a, QColor(m[0], m[1], m[2])) <= 8) ++matching;
      }
    }
    QVERIFY(samples > 1000);
    QVERIFY2(changed > samples / 3, qPrintable(QStringLiteral("%1 of %2 changed").arg(changed).arg(samples)));
    QVERIFY2(flat >= 20, qPrintable(QStringLiteral("only %1 flat points").arg(flat)));
    QVERIFY2(matching >= flat * 9 / 10, qPrintable(QStringLiteral("%1 of %2 flat points match magma").arg(matching).arg(flat)));

    // With the layers hidden the view shows the photo itself, but for the "Original" badge. Reference:
    // the file decoded by Qt's own JPEG reader, where the photo is locally flat.
    child<QCheckBox>(w.get(), "overlayCheck")->setChecked(false);
    QVERIFY(canvas->showsOriginal());
    const QImage hidden = canvas->grab().toImage();
    const QRect badge = canvas->badgeRect();
    QVERIFY(!badge.isEmpty() && badge.width() * badge.height() * 50 < hidden.width() * hidden.height());
    QCOMPARE(hidden, before);
    const QImage photo = QImage(rocket_).convertToFormat(QImage::Format_RGB888);
    QCOMPARE(photo.width(), ela->width);
    int photoFlat = 0, photoMatching = 0;
    for (int gy = 1; gy < 40; ++gy) {
      for (int gx = 1; gx < 40; ++gx) {
        const QPoint p(image.left() + image.width() * gx / 40, image.top() + image.height() * gy / 40);
        if (badge.adjusted(-2, -2, 2, 2).contains(p)) continue;
        const auto pos = canvas->widgetToImage(p);
        QVERIFY(pos);
        const int x = static_cast<int>(pos->x()), y = static_cast<int>(pos->y());
        if (x < 2 || y < 2 || x + 2 >= photo.width() || y + 2 >= photo.height()) continue;
        int spread = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx)
            spread = std::max(spread, distance(photo.pixelColor(x + dx, y + dy), photo.pixelColor(x, y)));
        if (spread > 6) continue;
        ++photoFlat;
        if (distance(hidden.pixelColor(p), photo.pixelColor(x, y)) <= 6) ++photoMatching;
      }
    }
    QVERIFY2(photoFlat >= 20, qPrintable(QStringLiteral("only %1 flat photo points").arg(photoFlat)));
    QVERIFY2(photoMatching >= photoFlat * 9 / 10,
             qPrintable(QStringLiteral("%1 of %2 flat points show the photo").arg(photoMatching).arg(photoFlat)));
    child<QCheckBox>(w.get(), "overlayCheck")->setChecked(true);
    QCOMPARE(canvas->grab().toImage(), after);

    auto* table = child<QTableWidget>(w.get(), "resultTable");
    QVERIFY(table);
    QVERIFY(table->rowCount() >= 4);
    QCOMPARE(table->item(1, 0)->text(), QStringLiteral("mean_error"));
  }

  void shouldReportUnreadableFileInBannerAndKeepImage_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("text file named .jpg") << QByteArray("This is not a photo, just text.\n") << QStringLiteral("text file");
    QTest::newRow("empty file") << QByteArray() << QStringLiteral("empty");
  }

  void shouldReportUnreadableFileInBannerAndKeepImage() {
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = windowWithPhoto();
    QVERIFY(w);
    const QString bad = tmp_.filePath(QStringLiteral("bad.jpg"));
    QVERIFY(loupe::test::writeText(bad, content));

    QVERIFY(!w->openImage(bad));
    auto* banner = child<ErrorBanner>(w.get(), "errorBanner");
    QVERIFY(banner && banner == w->banner());
    QVERIFY(!banner->isHidden());
    QCOMPARE(banner->kind(), ErrorBanner::Kind::Error);
    QVERIFY2(banner->text().contains(QStringLiteral("bad.jpg")), qPrintable(banner->text()));
    QVERIFY2(banner->text().contains(expected, Qt::CaseInsensitive), qPrintable(banner->text()));
    QCOMPARE(w->imagePath(), rocket_);
    QVERIFY(w->view()->hasImage());

    // Still usable: the photo runs.
    QVERIFY(child<QPushButton>(w.get(), "runButton")->isEnabled());
    QVERIFY(runAndWait(*w));
    QVERIFY(w->lastResult().ok);

    QTest::mouseClick(child<QAbstractButton>(w.get(), "errorBannerClose"), Qt::LeftButton);
    QVERIFY(banner->isHidden());
  }

  void shouldWarnAboutTruncatedJpeg() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = makeWindow();
    QVERIFY(w);
    const QString cut = tmp_.filePath(QStringLiteral("cut.jpg"));
    QVERIFY(loupe::test::writeTruncatedCopy(rocket_, cut, 0.7));
    QVERIFY(w->openImage(cut));
    QVERIFY(!w->banner()->isHidden());
    QCOMPARE(w->banner()->kind(), ErrorBanner::Kind::Warning);
    QVERIFY2(w->banner()->text().contains(QStringLiteral("truncated")), qPrintable(w->banner()->text()));
  }

  void shouldReturnToIdleWhenCancelled() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = windowWithPhoto();
    QVERIFY(w);
    auto* run = child<QPushButton>(w.get(), "runButton");
    auto* cancel = child<QPushButton>(w.get(), "cancelButton");
    auto* progress = child<QProgressBar>(w.get(), "progressBar");
    QVERIFY(run && cancel && progress);
    QVERIFY(!cancel->isEnabled());

    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QTest::mouseClick(run, Qt::LeftButton);
    QVERIFY(w->isBusy());
    QVERIFY(!run->isEnabled());          // one job at a time
    QVERIFY(!w->runSelectedTask());
    QVERIFY(cancel->isEnabled() && progress->isVisible());
    QTest::mouseClick(cancel, Qt::LeftButton);  // the task may already be done: either outcome is fine

    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, kRunTimeoutMs);
    QVERIFY(!w->isBusy());
    QVERIFY(w->lastResult().ok || w->lastResult().cancelled());
    QVERIFY(run->isEnabled());
    QVERIFY(!cancel->isEnabled());
    QVERIFY(!progress->isVisible());
    if (w->lastResult().cancelled()) QVERIFY(w->banner()->isHidden());  // cancelling is not an error
  }

  void shouldCancelAndWaitWhenClosedDuringRun() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = windowWithPhoto();
    QVERIFY(w);
    QVERIFY(w->runSelectedTask());
    QVERIFY(w->close());
    QVERIFY(!w->isBusy());  // the worker has stopped; destroying the window is safe
  }

  void shouldOpenDroppedFile() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = makeWindow();
    QVERIFY(w);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(rocket_)});
    const QPoint at = w->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(w.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(w.get(), &drop);
    QCOMPARE(w->imagePath(), rocket_);
    QVERIFY(w->view()->hasImage());
  }

  void shouldDropMissingFileFromRecentList() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    const QString gone = tmp_.filePath(QStringLiteral("gone.jpg"));
    QVERIFY(QFile::copy(rocket_, gone));
    auto w = makeWindow();
    QVERIFY(w);
    QVERIFY(w->openImage(gone));
    QVERIFY(w->openImage(rocket_));
    QVERIFY(loupe::gui::RecentFiles().paths().contains(gone));
    QCOMPARE(loupe::gui::RecentFiles().paths().first(), rocket_);
    QVERIFY(QFile::remove(gone));

    auto* menu = w->findChild<QMenu*>(QStringLiteral("recentMenu"));
    QVERIFY(menu);
    Q_EMIT menu->aboutToShow();
    QAction* entry = nullptr;
    for (QAction* a : menu->actions())
      if (a->toolTip() == gone) entry = a;
    QVERIFY(entry);
    entry->trigger();
    QVERIFY(!loupe::gui::RecentFiles().paths().contains(gone));
    QVERIFY2(w->banner()->text().contains(QStringLiteral("no longer exists")), qPrintable(w->banner()->text()));
    QCOMPARE(w->imagePath(), rocket_);
  }

  void shouldListBrokenPluginsGreyedWithReason() {
    loupe::host::PluginHost host;
    host.setSearchPaths({QStringLiteral(FIXTURE_PLUGIN_DIR)});
    host.scan();
    QStringList reasons;
    for (const auto& p : host.plugins())
      if (p->state == loupe::host::PluginRecord::State::Invalid) reasons << QString::fromStdString(p->error);
    QVERIFY(!reasons.isEmpty());

    MainWindow w(host);
    auto* tree = child<QTreeWidget>(&w, "taskTree");
    int greyed = 0;
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
      const QTreeWidgetItem* item = tree->topLevelItem(i);
      if (!item->text(0).endsWith(QStringLiteral("(unavailable)"))) continue;
      ++greyed;
      QCOMPARE(item->flags(), Qt::NoItemFlags);
      QVERIFY(std::any_of(reasons.begin(), reasons.end(),
                          [item](const QString& r) { return item->toolTip(0).contains(r); }));
    }
    QCOMPARE(greyed, reasons.size());
  }

  void shouldReportPluginThatFailsToLoad() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    loupe::host::PluginHost host;
    host.setSearchPaths({QStringLiteral(FIXTURE_PLUGIN_DIR)});
    host.scan();
    MainWindow w(host);
    QVERIFY(w.openImage(rocket_));
    QVERIFY(w.selectTask(QStringLiteral("fixture_missing_dep.throws")));
    QVERIFY(!w.runSelectedTask());
    QVERIFY(!w.isBusy());
    QCOMPARE(w.banner()->kind(), ErrorBanner::Kind::Error);
    QVERIFY2(w.banner()->text().contains(QStringLiteral("failed to load")), qPrintable(w.banner()->text()));
    // Now listed greyed, with the reason.
    QVERIFY(!w.selectTask(QStringLiteral("fixture_missing_dep.throws")));
    QVERIFY2(w.banner()->text().contains(QStringLiteral("unavailable")), qPrintable(w.banner()->text()));
  }

  void shouldReportTaskThatThrows() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    loupe::host::PluginHost host;
    host.setSearchPaths({QStringLiteral(FIXTURE_PLUGIN_DIR)});
    host.scan();
    MainWindow w(host);
    QVERIFY(w.openImage(rocket_));
    QVERIFY(w.selectTask(QStringLiteral("fixture_throws.throws")));
    QSignalSpy finished(&w, &MainWindow::runFinished);
    QVERIFY(w.runSelectedTask());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kRunTimeoutMs);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY(!w.lastResult().ok);
    QCOMPARE(w.banner()->kind(), ErrorBanner::Kind::Error);
    QVERIFY2(w.banner()->text().contains(QStringLiteral("unexpectedly")), qPrintable(w.banner()->text()));
    QVERIFY(child<QPushButton>(&w, "runButton")->isEnabled());
    QVERIFY(w.view()->hasImage() && w.layers()->isEmpty());
  }

  void shouldCompareOriginalAndResultSideBySide() {
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = windowWithPhoto();
    QVERIFY(w);
    QVERIFY(runAndWait(*w));
    QVERIFY(w->lastResult().ok);
    auto* result = w->view();
    auto* original = child<loupe::widgets::ImageView>(w.get(), "compareView");
    QVERIFY(original && original == w->compareView());
    QVERIFY(original->isHidden());

    auto* compare = w->findChild<QAction*>(QStringLiteral("compareAction"));
    QVERIFY(compare && compare->isCheckable());
    compare->trigger();
    QVERIFY(w->isComparing());
    QTRY_VERIFY(original->isVisible() && original->width() > 100);
    QCOMPARE(original->imageSize(), result->imageSize());
    QVERIFY(original->layers()->isEmpty());  // the original: no layers
    QCOMPARE(std::abs(original->width() - result->width()) <= 2, true);  // halves

    // Zoom and pan the result: the original follows in image coordinates.
    result->setView(2.0, QPointF(200, 150));
    QCOMPARE(original->scale(), 2.0);
    QVERIFY(std::abs(original->viewCentre().x() - 200) < 1e-9 && std::abs(original->viewCentre().y() - 150) < 1e-9);
    original->panBy(QPointF(30, -12));
    QVERIFY(std::abs(result->viewCentre().x() - original->viewCentre().x()) < 1e-9);
    QVERIFY(std::abs(result->viewCentre().y() - original->viewCentre().y()) < 1e-9);

    // Same zoom, same place: where the result has no heatmap drawn, both show the same photo pixels;
    // where it has, they differ.
    const QImage left = original->grab().toImage(), right = result->grab().toImage();
    int differ = 0, samples = 0;
    for (int y = 40; y < std::min(left.height(), right.height()) - 40; y += 23)
      for (int x = 20; x < std::min(left.width(), right.width()) - 20; x += 19, ++samples)
        differ += left.pixel(x, y) != right.pixel(x, y);
    QVERIFY2(differ > samples / 2, qPrintable(QStringLiteral("%1 of %2 differ").arg(differ).arg(samples)));

    compare->trigger();
    QVERIFY(!w->isComparing());
    QVERIFY(original->isHidden());
    result->setView(1.0, QPointF(100, 100));
    QCOMPARE(original->scale(), 2.0);  // no longer synchronized
  }

  void cleanupTestCase() { loupe::gui::RecentFiles().clear(); }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
