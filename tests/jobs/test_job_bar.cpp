// JobBar on its own: a running job shows its stage, progress and an estimate of the time left; its
// Cancel button asks for cancellation once; finished jobs stay listed with parameters, duration and
// outcome until "Clear finished"; several jobs can run at once.

#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>

#include "widgets/JobBar.h"

using loupe::widgets::JobBar;

class TestJobBar : public QObject {
  Q_OBJECT

 private:
  static QWidget* row(JobBar& bar, int id) { return bar.findChild<QWidget*>(QStringLiteral("job%1").arg(id)); }
  template <class T> static T* part(JobBar& bar, int id, const char* name) {
    QWidget* r = row(bar, id);
    return r ? r->findChild<T*>(QLatin1String(name)) : nullptr;
  }

 private Q_SLOTS:
  void estimatesTheTimeLeftFromTheProgress() {
    // Linear extrapolation: a quarter done in 3 s leaves 3 * 0.75 / 0.25 = 9 s.
    QCOMPARE(*JobBar::estimateRemaining(0.25, 3.0), 9.0);
    QCOMPARE(*JobBar::estimateRemaining(0.5, 10.0), 10.0);
    QVERIFY(!JobBar::estimateRemaining(0.01, 5.0));  // too little done to say
    QVERIFY(!JobBar::estimateRemaining(0.5, 0.2));   // too early to say
    QVERIFY(!JobBar::estimateRemaining(1.0, 5.0));   // done
    QCOMPARE(JobBar::formatDuration(1.234), QStringLiteral("1.23 s"));
    QCOMPARE(JobBar::formatDuration(42.0), QStringLiteral("42.0 s"));
    QCOMPARE(JobBar::formatDuration(125.0), QStringLiteral("2 min 05 s"));
    QCOMPARE(JobBar::formatDuration(3725.0), QStringLiteral("1 h 02 min"));
  }

  void showsARunningJobWithStageProgressAndEta() {
    JobBar bar;
    bar.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bar));
    const int id = bar.addJob(QStringLiteral("Error Level Analysis on big.jpg"), QStringLiteral("quality=90"));
    QCOMPARE(bar.runningCount(), 1);
    QCOMPARE(part<QLabel>(bar, id, "jobTitle")->text(), QStringLiteral("Error Level Analysis on big.jpg"));
    QCOMPARE(part<QLabel>(bar, id, "jobParameters")->text(), QStringLiteral("quality=90"));
    QVERIFY(part<QLabel>(bar, id, "jobTime")->text().contains(QStringLiteral("estimating")));
    QTest::qWait(600);  // past the half second the estimate waits for
    bar.setProgress(id, 0.5, QStringLiteral("Mapping the error level"));
    QCOMPARE(part<QLabel>(bar, id, "jobStage")->text(), QStringLiteral("Mapping the error level"));
    QCOMPARE(part<QProgressBar>(bar, id, "jobProgress")->value(), 500);
    const QString time = part<QLabel>(bar, id, "jobTime")->text();
    QVERIFY2(time.contains(QStringLiteral("left")), qPrintable(time));  // half done: about as long again
    const auto entry = bar.entry(id);
    QVERIFY(entry && entry->outcome == JobBar::Outcome::Running && entry->seconds >= 0.6);
  }

  void cancelButtonAsksOnceAndTheJobStaysListedAsCancelled() {
    JobBar bar;
    bar.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bar));
    const int id = bar.addJob(QStringLiteral("job"), QStringLiteral("a=1"));
    QSignalSpy cancel(&bar, &JobBar::cancelRequested);
    auto* button = part<QToolButton>(bar, id, "jobCancel");
    QVERIFY(button && button->isVisible() && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QCOMPARE(cancel.count(), 1);
    QCOMPARE(cancel.at(0).at(0).toInt(), id);
    QVERIFY(!button->isEnabled());
    QVERIFY(bar.entry(id)->cancelling);
    QVERIFY(part<QLabel>(bar, id, "jobStage")->text().startsWith(QStringLiteral("Cancelling")));
    bar.requestCancel(id);  // a second request is not sent again
    QCOMPARE(cancel.count(), 1);
    bar.finishJob(id, JobBar::Outcome::Cancelled, QString(), 0.42);
    QCOMPARE(bar.entry(id)->outcome, JobBar::Outcome::Cancelled);
    QCOMPARE(bar.entry(id)->parameters, QStringLiteral("a=1"));
    QCOMPARE(bar.entry(id)->seconds, 0.42);
    QVERIFY(!button->isVisible());
    QCOMPARE(part<QLabel>(bar, id, "jobStage")->text(), QStringLiteral("Cancelled"));
    QCOMPARE(part<QLabel>(bar, id, "jobTime")->text(), QStringLiteral("after 0.42 s"));
  }

  void keepsFinishedJobsUntilCleared() {
    JobBar bar;
    const int a = bar.addJob(QStringLiteral("A"), QStringLiteral("quality=90"));
    const int b = bar.addJob(QStringLiteral("B"), QStringLiteral("quality=60"));
    const int c = bar.addJob(QStringLiteral("C"), QString());
    QCOMPARE(bar.runningCount(), 3);  // several at once
    bar.finishJob(a, JobBar::Outcome::Ok, QString(), 1.5);
    bar.finishJob(b, JobBar::Outcome::Failed, QStringLiteral("big.jpg: truncated JPEG"), 0.25);
    QCOMPARE(bar.runningCount(), 1);
    QCOMPARE(bar.finishedCount(), 2);
    QCOMPARE(bar.entry(a)->seconds, 1.5);
    QCOMPARE(bar.entry(a)->fraction, 1.0);
    QCOMPARE(part<QLabel>(bar, a, "jobTime")->text(), QStringLiteral("took 1.50 s"));
    QCOMPARE(part<QLabel>(bar, b, "jobStage")->text(), QStringLiteral("\u2716 Failed: big.jpg: truncated JPEG"));
    QCOMPARE(bar.entry(b)->message, QStringLiteral("big.jpg: truncated JPEG"));
    // Ending a job twice changes nothing.
    bar.finishJob(a, JobBar::Outcome::Failed, QStringLiteral("late"));
    QCOMPARE(bar.entry(a)->outcome, JobBar::Outcome::Ok);

    auto* clear = bar.findChild<QPushButton*>(QStringLiteral("clearFinishedButton"));
    QVERIFY(clear && clear->isEnabled());
    QTest::mouseClick(clear, Qt::LeftButton);
    QCOMPARE(bar.jobIds(), QList<int>{c});  // the running job stays
    QVERIFY(!bar.entry(a) && !bar.entry(b));
    QVERIFY(!clear->isEnabled());
    bar.finishJob(c, JobBar::Outcome::Ok);
    QVERIFY(bar.entry(c)->seconds >= 0.0);
    const int d = bar.addJob(QStringLiteral("D"), QString());
    QVERIFY(d > c);  // ids are never reused
  }
};

QTEST_MAIN(TestJobBar)
#include "test_job_bar.moc"
