// Autosave and crash recovery: unsaved work is written to this process's recovery file on the autosave
// interval from Settings; saving removes it. A recovery file left by a process that no longer runs (a
// crash) makes the next MainWindow offer to restore it; Restore brings the work back (unsaved, so it is
// not lost again), Discard deletes it. Files of processes that still run are left alone.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "AppSettings.h"
#include "BookmarkDock.h"
#include "ErrorBanner.h"
#include "MainWindow.h"
#include "SessionController.h"
#include "host/PluginHost.h"
#include "session/SessionFile.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"

using loupe::gui::MainWindow;
using loupe::gui::SessionController;
using namespace loupe;

namespace {

// The pid of a process that has ended (its number is free again, so nothing runs under it now).
qint64 deadPid() {
  QProcess p;
  p.start(QStringLiteral("true"), {});
  p.waitForFinished();
  return p.processId() > 0 ? p.processId() : 999999;
}

}  // namespace

class TestSessionRecovery : public QObject {
  Q_OBJECT

 private:
  host::PluginHost host_;
  QTemporaryDir tmp_;
  QString image_;
  QString recoveryDir_;

  std::unique_ptr<MainWindow> makeWindow() {
    auto w = std::make_unique<MainWindow>(host_);
    w->session()->setRecoveryDir(recoveryDir_);
    w->resize(1000, 700);
    w->show();
    if (!QTest::qWaitForWindowExposed(w.get())) return nullptr;
    return w;
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings(QStringLiteral("Loupe"), QStringLiteral("loupe")).clear();
    host_.scan();
    QVERIFY(tmp_.isValid());
    image_ = tmp_.filePath(QStringLiteral("photo.png"));
    QImage image(200, 150, QImage::Format_RGB32);
    for (int y = 0; y < 150; ++y)
      for (int x = 0; x < 200; ++x) image.setPixel(x, y, qRgb(x, y, (x * y) & 0xff));
    QVERIFY(image.save(image_));
    recoveryDir_ = tmp_.filePath(QStringLiteral("recovery"));
  }

  void cleanup() { QDir(recoveryDir_).removeRecursively(); }

  void shouldAutosaveOnTheIntervalAndForgetItWhenSaved() {
    auto w = makeWindow();
    QVERIFY(w);
    w->settings()->setAutosaveSeconds(1);
    QCOMPARE(w->session()->autosaveInterval(), 1);
    QVERIFY(w->openImage(image_));
    w->session()->addBookmark();
    w->bookmarks()->setComment(0, QStringLiteral("autosaved note"));
    const QString recovery = w->session()->recoveryPath();
    QVERIFY(recovery.contains(QString::number(QCoreApplication::applicationPid())));
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(recovery), 5000);
    auto loaded = session::loadSession(recovery);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    QCOMPARE(loaded->bookmarks.size(), std::size_t(1));
    QCOMPARE(loaded->bookmarks[0].comment, QStringLiteral("autosaved note"));

    // Saved: the recovery file has no purpose any more.
    QVERIFY(w->session()->save(tmp_.filePath(QStringLiteral("saved.loupe"))).ok());
    QVERIFY(!QFileInfo::exists(recovery));
    QVERIFY(!QFileInfo::exists(session::sidecarDir(recovery)));
    // Autosave off: no timer.
    w->settings()->setAutosaveSeconds(0);
    QCOMPARE(w->session()->autosaveInterval(), 0);
    w->settings()->setAutosaveSeconds(loupe::gui::AppSettings::kDefaultAutosaveSeconds);
  }

  void shouldOfferToRestoreAfterACrash() {
    // The crashed process: a window with a bookmarked image autosaves, then "dies" (its file is
    // renamed to the pid of a process that has ended).
    QString left;
    {
      auto w = makeWindow();
      QVERIFY(w);
      QVERIFY(w->openImage(image_));
      w->view()->setView(3.0, QPointF(50, 60));
      w->session()->addBookmark();
      w->bookmarks()->setComment(0, QStringLiteral("found before the crash"));
      QVERIFY(w->session()->autosaveNow());
      left = QDir(recoveryDir_).filePath(QStringLiteral("autosave-%1.loupe").arg(deadPid()));
      QVERIFY(QFile::rename(w->session()->recoveryPath(), left));
      QVERIFY(QDir().rename(session::sidecarDir(w->session()->recoveryPath()), session::sidecarDir(left)));
    }
    QVERIFY(QFileInfo::exists(left));

    // The next start: the prompt appears by itself.
    auto w = makeWindow();
    QVERIFY(w);
    QTRY_VERIFY(w->session()->recoveryPrompt());
    QMessageBox* prompt = w->session()->recoveryPrompt();
    QVERIFY(prompt->isVisible());
    QVERIFY(prompt->text().contains(QStringLiteral("photo.png")));
    auto* restore = prompt->findChild<QPushButton*>(QStringLiteral("restoreButton"));
    QVERIFY(restore);
    restore->click();
    QTRY_COMPARE(w->imagePath(), QFileInfo(image_).absoluteFilePath());
    QCOMPARE(w->bookmarks()->count(), 1);
    QCOMPARE(w->bookmarks()->bookmarks()[0].comment, QStringLiteral("found before the crash"));
    QCOMPARE(w->view()->scale(), 3.0);
    QVERIFY(w->session()->isDirty());        // recovered work is not saved anywhere yet
    QVERIFY(!QFileInfo::exists(left));       // taken over by this process's own recovery file
    QVERIFY(QFileInfo::exists(w->session()->recoveryPath()));
  }

  void shouldDiscardWhenAsked() {
    QString left;
    {
      auto w = makeWindow();
      QVERIFY(w->openImage(image_));
      w->session()->addBookmark();
      QVERIFY(w->session()->autosaveNow());
      left = QDir(recoveryDir_).filePath(QStringLiteral("autosave-%1.loupe").arg(deadPid()));
      QVERIFY(QFile::rename(w->session()->recoveryPath(), left));
      QVERIFY(QDir().rename(session::sidecarDir(w->session()->recoveryPath()), session::sidecarDir(left)));
    }
    auto w = makeWindow();
    QTRY_VERIFY(w->session()->recoveryPrompt());
    w->session()->recoveryPrompt()->findChild<QPushButton*>(QStringLiteral("discardButton"))->click();
    QTRY_VERIFY(!QFileInfo::exists(left));
    QVERIFY(!QFileInfo::exists(session::sidecarDir(left)));
    QVERIFY(w->imagePath().isEmpty());
  }

  void shouldLeaveFilesOfRunningProcessesAlone() {
    QProcess sleeper;
    sleeper.start(QStringLiteral("sleep"), {QStringLiteral("30")});
    QVERIFY(sleeper.waitForStarted());
    {
      auto w = makeWindow();
      QVERIFY(w->openImage(image_));
      w->session()->addBookmark();
      QVERIFY(w->session()->autosaveNow());
      const QString other = QDir(recoveryDir_).filePath(QStringLiteral("autosave-%1.loupe").arg(sleeper.processId()));
      QVERIFY(QFile::rename(w->session()->recoveryPath(), other));
    }
    auto w = makeWindow();
    QTest::qWait(200);
    QVERIFY(!w->session()->recoveryPrompt());
    QVERIFY(w->session()->orphanedRecoveryFiles().isEmpty());
    sleeper.kill();
    sleeper.waitForFinished();
    QCOMPARE(w->session()->orphanedRecoveryFiles().size(), 1);  // now it is an orphan
  }
};

QTEST_MAIN(TestSessionRecovery)
#include "test_session_recovery.moc"
