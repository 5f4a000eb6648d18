// Sessions through the main window: a real ELA run on an image the test makes, styled, zoomed, compared
// and bookmarked, saved, then restored into a fresh window: the same layers (bit-identical values), styles,
// parameters, view and bookmarks, and the same pixels on screen. A changed input is reported, a moved case
// folder is followed, a missing input can be located; unsaved work is guarded when closing.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cstring>
#include <memory>

#include "BookmarkDock.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "SessionController.h"
#include "host/PluginHost.h"
#include "session/SessionFile.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

using loupe::gui::MainWindow;
using loupe::session::BookmarkStatus;
using namespace loupe;

namespace {

constexpr int kRunTimeoutMs = 30'000;

// A 320 x 240 "photo" with a smooth gradient and a noisy pasted square (ELA sees it).
bool writeTestImage(const QString& path, int variant = 0) {
  QImage image(320, 240, QImage::Format_RGB32);
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x) {
      int v = (x * 3 + y * 5 + ((x * 7919 + y * 104729) % 23)) & 0xff;
      if (x > 180 && x < 260 && y > 60 && y < 140) v = (x * y * 2654435761u) >> 24 & 0xff;
      image.setPixel(x, y, qRgb(v, (v + 60 + variant) & 0xff, 255 - v));
    }
  return image.save(path, "PNG");
}

const widgets::HeatmapLayer* heatmapOf(const MainWindow& w) {
  for (const auto& l : w.layers()->layers())
    if (auto* h = dynamic_cast<const widgets::HeatmapLayer*>(l.get())) return h;
  return nullptr;
}

// Clicks `button` of the next modal message box named `name` once it shows.
void answerNextPrompt(const QString& name, QMessageBox::StandardButton button) {
  QTimer::singleShot(0, [name, button] {
    QTRY_VERIFY(qobject_cast<QMessageBox*>(QApplication::activeModalWidget()));
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    QCOMPARE(box->objectName(), name);
    box->button(button)->click();
  });
}

}  // namespace

class TestSessionWindow : public QObject {
  Q_OBJECT

 private:
  host::PluginHost host_;
  QTemporaryDir tmp_;
  QString image_;
  QString sessionPath_;

  std::unique_ptr<MainWindow> makeWindow() {
    auto w = std::make_unique<MainWindow>(host_);
    w->resize(1100, 760);
    w->show();
    if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
    return w;
  }

  // The window of shouldRestoreEverythingExactly: ELA run, styled, zoomed, compared, two bookmarks.
  std::unique_ptr<MainWindow> workedWindow() {
    auto w = makeWindow();
    if (!w || !w->openImage(image_) || !w->selectTask(QStringLiteral("forgery.ela"))) return nullptr;
    if (!w->applyParameters({{"quality", "85"}, {"amplification", "12"}})) return nullptr;
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    if (!w->runSelectedTask() || !finished.wait(kRunTimeoutMs) || !finished.first().first().toBool()) return nullptr;
    widgets::LayerStack* stack = w->layers();
    const int heat = stack->indexOf(QStringLiteral("ela"));
    auto* h = dynamic_cast<widgets::HeatmapLayer*>(stack->at(heat));
    if (!h) return nullptr;
    h->setColormap(Colormap::Jet);
    h->setRange(1.5f, 9.25f);
    stack->notifyChanged(heat);
    stack->setOpacity(heat, 0.35);
    w->view()->setView(2.0, QPointF(210.5, 95.25));
    w->session()->addBookmark();
    w->bookmarks()->setStatus(0, BookmarkStatus::Warning);
    w->bookmarks()->setComment(0, QStringLiteral("Pasted square: error level\nhigher than the gradient"));
    w->setCompare(true);
    w->view()->setView(4.0, QPointF(40.0, 200.0));
    w->session()->addBookmark();
    w->bookmarks()->setStatus(1, BookmarkStatus::Ok);
    w->bookmarks()->setComment(1, QStringLiteral("Background is consistent"));
    return w;
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    host_.scan();
    if (!host_.findTask("forgery.ela").spec) QSKIP("the forgery plugin is not built");
    QVERIFY(tmp_.isValid());
    QVERIFY(QDir().mkpath(tmp_.filePath(QStringLiteral("case"))));
    image_ = tmp_.filePath(QStringLiteral("case/photo.png"));
    QVERIFY(writeTestImage(image_));
    sessionPath_ = tmp_.filePath(QStringLiteral("case/case.loupe"));
  }

  void shouldRestoreEverythingExactly() {
    auto w1 = workedWindow();
    QVERIFY(w1);
    QVERIFY(w1->session()->isDirty());
    QVERIFY(w1->isWindowModified());
    QVERIFY(w1->windowTitle().startsWith(QStringLiteral("photo.png[*]")));
    auto saved = w1->session()->save(sessionPath_);
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    QVERIFY(!w1->session()->isDirty());
    QVERIFY(!w1->isWindowModified());
    QVERIFY(w1->windowTitle().startsWith(QStringLiteral("case.loupe")));

    auto w2 = makeWindow();
    QVERIFY(w2);
    QVERIFY(w2->session()->open(sessionPath_));
    QVERIFY2(w2->banner()->isHidden(), qPrintable(w2->banner()->text()));
    QCOMPARE(QFileInfo(w2->imagePath()).absoluteFilePath(), QFileInfo(image_).absoluteFilePath());
    QVERIFY(!w2->session()->isDirty());

    // Layers: same ids, order, visibility, opacity and style; the heatmap's values bit for bit.
    QCOMPARE(w2->layers()->count(), w1->layers()->count());
    for (int i = 0; i < w1->layers()->count(); ++i) {
      const widgets::ViewLayer *a = w1->layers()->at(i), *b = w2->layers()->at(i);
      QCOMPARE(b->id(), a->id());
      QCOMPARE(b->isVisible(), a->isVisible());
      QCOMPARE(b->opacity(), a->opacity());
    }
    const auto *h1 = heatmapOf(*w1), *h2 = heatmapOf(*w2);
    QVERIFY(h1 && h2);
    QCOMPARE(h2->colormap(), Colormap::Jet);
    QCOMPARE(h2->rangeMin(), 1.5f);
    QCOMPARE(h2->rangeMax(), 9.25f);
    QCOMPARE(h2->heatmap().values.size(), h1->heatmap().values.size());
    QVERIFY(std::memcmp(h2->heatmap().values.data(), h1->heatmap().values.data(), h1->heatmap().values.size() * sizeof(float)) == 0);

    // The run's task and parameters are selected again.
    QCOMPARE(w2->selectedTaskId(), QStringLiteral("forgery.ela"));
    auto* quality = w2->findChild<QSpinBox*>(QStringLiteral("param_quality"));
    QVERIFY(quality);
    QCOMPARE(quality->value(), 85);

    // View: zoom, centre, comparison.
    QVERIFY(w2->isComparing());
    QCOMPARE(w2->view()->scale(), w1->view()->scale());
    QVERIFY(std::abs(w2->view()->viewCentre().x() - w1->view()->viewCentre().x()) < 1e-6);
    QVERIFY(std::abs(w2->view()->viewCentre().y() - w1->view()->viewCentre().y()) < 1e-6);

    // Bookmarks, snapshots included.
    QCOMPARE(w2->bookmarks()->count(), 2);
    for (int i = 0; i < 2; ++i) QVERIFY(w2->bookmarks()->bookmarks()[i] == w1->bookmarks()->bookmarks()[i]);
    QCOMPARE(w2->bookmarks()->bookmarks()[0].status, BookmarkStatus::Warning);
    QVERIFY(!w2->bookmarks()->bookmarks()[0].snapshotPng.isEmpty());
    QCOMPARE(w2->bookmarks()->bookmarks()[0].visibleLayers, QStringList{QStringLiteral("ela")});

    // What is drawn is the same, pixel for pixel.
    QCoreApplication::processEvents();
    QCOMPARE(w2->view()->size(), w1->view()->size());
    const QImage shot1 = w1->view()->grab().toImage(), shot2 = w2->view()->grab().toImage();
    if (shot1 != shot2) {
      shot1.save(QDir::temp().filePath(QStringLiteral("session-window-saved.png")));
      shot2.save(QDir::temp().filePath(QStringLiteral("session-window-restored.png")));
    }
    QVERIFY2(shot1 == shot2, "the restored view draws other pixels (both shots are in the temp folder)");

    // A bookmark brings its view back.
    QVERIFY(w2->session()->goToBookmark(0));
    QCOMPARE(w2->view()->scale(), 2.0);
    QVERIFY(std::abs(w2->view()->viewCentre().x() - 210.5) < 1e-6);
    QVERIFY(!w2->isComparing());
  }

  void shouldBookmarkARealPhoto() {
    // Debian's rocket.jpg: ELA, two bookmarks at 1:1 and 2:1 with notes, saved and restored. With
    // LOUPE_SCREENSHOT_SESSION=FILE the session is also written there (docs/screenshots come from it).
    const QString rocket = QStringLiteral("/usr/lib/python3/dist-packages/skimage/data/rocket.jpg");
    if (!QFileInfo::exists(rocket)) QSKIP("python3-skimage's rocket.jpg is not installed");
    auto w = makeWindow();
    QVERIFY(w && w->openImage(rocket) && w->selectTask(QStringLiteral("forgery.ela")));
    QSignalSpy finished(w.get(), &MainWindow::runFinished);
    QVERIFY(w->runSelectedTask());
    QVERIFY(finished.wait(kRunTimeoutMs));
    w->view()->setView(1.0, QPointF(330, 250));
    w->session()->addBookmark();
    w->bookmarks()->setTitle(0, QStringLiteral("Launch towers"));
    w->bookmarks()->setStatus(0, BookmarkStatus::ToCheck);
    w->bookmarks()->setComment(0, QStringLiteral("Edges of the towers stand out; typical for high-contrast detail, check against the sky."));
    w->view()->setView(2.0, QPointF(430, 120));
    w->session()->addBookmark();
    w->bookmarks()->setTitle(1, QStringLiteral("Sky"));
    w->bookmarks()->setStatus(1, BookmarkStatus::Ok);
    w->bookmarks()->setComment(1, QStringLiteral("Uniform low error level: no sign of pasting."));
    w->view()->fitToWindow();
    QTemporaryDir dir;
    const QString path = qEnvironmentVariableIsSet("LOUPE_SCREENSHOT_SESSION") ? qEnvironmentVariable("LOUPE_SCREENSHOT_SESSION")
                                                                               : dir.filePath(QStringLiteral("rocket.loupe"));
    w->session()->setTitle(QStringLiteral("Rocket launch photo: error level analysis"));
    QVERIFY(w->session()->save(path).ok());
    auto w2 = makeWindow();
    QVERIFY(w2->session()->open(path));
    QCOMPARE(w2->bookmarks()->count(), 2);
    QCOMPARE(w2->session()->title(), QStringLiteral("Rocket launch photo: error level analysis"));
    QVERIFY(w2->session()->goToBookmark(1));
    QCOMPARE(w2->view()->scale(), 2.0);
  }

  void shouldWarnWhenTheInputChanged() {
    QVERIFY(QFileInfo::exists(sessionPath_));
    const QString backup = image_ + QStringLiteral(".orig");
    QVERIFY(QFile::copy(image_, backup));
    QVERIFY(writeTestImage(image_, 1));  // other pixels, same name
    auto w = makeWindow();
    QVERIFY(w);
    QVERIFY(w->session()->open(sessionPath_));
    QVERIFY(!w->banner()->isHidden());
    QCOMPARE(w->banner()->kind(), loupe::gui::ErrorBanner::Kind::Warning);
    QVERIFY2(w->banner()->text().contains(QStringLiteral("has changed")), qPrintable(w->banner()->text()));
    QVERIFY(QFile::remove(image_));
    QVERIFY(QFile::rename(backup, image_));
  }

  void shouldFollowAMovedCaseFolderAndLocateAMissingInput() {
    QVERIFY(QFileInfo::exists(sessionPath_));
    // The case folder copied elsewhere (session, data folder, image), the original image gone.
    QTemporaryDir elsewhere;
    const QString moved = elsewhere.filePath(QStringLiteral("case.loupe"));
    QVERIFY(QFile::copy(sessionPath_, moved));
    QVERIFY(QDir().mkpath(session::sidecarDir(moved)));
    for (const QString& f : QDir(session::sidecarDir(sessionPath_)).entryList(QDir::Files))
      QVERIFY(QFile::copy(QDir(session::sidecarDir(sessionPath_)).filePath(f), QDir(session::sidecarDir(moved)).filePath(f)));
    QVERIFY(QFile::copy(image_, elsewhere.filePath(QStringLiteral("photo.png"))));
    const QString hidden = image_ + QStringLiteral(".away");
    QVERIFY(QFile::rename(image_, hidden));

    auto w = makeWindow();
    QVERIFY(w);
    QVERIFY(w->session()->open(moved));
    QCOMPARE(w->imagePath(), elsewhere.filePath(QStringLiteral("photo.png")));
    QVERIFY(w->banner()->text().contains(QStringLiteral("identical file")));
    QCOMPARE(w->layers()->count(), 1);

    // Missing everywhere: the user is asked and picks a copy with the same bytes.
    QVERIFY(QFile::remove(elsewhere.filePath(QStringLiteral("photo.png"))));
    const QString copy = elsewhere.filePath(QStringLiteral("renamed.png"));
    QVERIFY(QFile::copy(hidden, copy));
    int asked = 0;
    auto w2 = makeWindow();
    QVERIFY(w2);
    w2->session()->setLocateInput([&](const session::InputFile& missing) {
      ++asked;
      return missing.sha256.isEmpty() ? QString() : copy;
    });
    QVERIFY(w2->session()->open(moved));
    QCOMPARE(asked, 1);
    QCOMPARE(w2->imagePath(), copy);
    QVERIFY2(w2->banner()->isHidden(), qPrintable(w2->banner()->text()));  // same SHA-256: nothing to warn about
    QCOMPARE(w2->layers()->count(), 1);
    QVERIFY(QFile::rename(hidden, image_));
  }

  void shouldAskBeforeClosingUnsavedWork() {
    auto w = makeWindow();
    QVERIFY(w);
    QVERIFY(w->openImage(image_));
    QVERIFY(!w->session()->isDirty());  // looking at an image is not work to save
    QVERIFY(w->close());
    w = makeWindow();
    QVERIFY(w->openImage(image_));
    w->session()->addBookmark();
    QVERIFY(w->session()->isDirty());
    answerNextPrompt(QStringLiteral("unsavedPrompt"), QMessageBox::Cancel);
    QVERIFY(!w->close());
    QVERIFY(w->isVisible());
    answerNextPrompt(QStringLiteral("unsavedPrompt"), QMessageBox::Discard);
    QVERIFY(w->close());
  }

  void shouldStartAnEmptySession() {
    auto w = makeWindow();
    QVERIFY(w);
    QVERIFY(w->session()->open(sessionPath_));
    QVERIFY(w->session()->newInteractive());  // clean: no question
    QVERIFY(w->imagePath().isEmpty());
    QCOMPARE(w->layers()->count(), 0);
    QCOMPARE(w->bookmarks()->count(), 0);
    QVERIFY(w->session()->path().isEmpty());
    QVERIFY(w->windowTitle().startsWith(QStringLiteral("Untitled")));
  }
};

QTEST_MAIN(TestSessionWindow)
#include "test_session_window.moc"
