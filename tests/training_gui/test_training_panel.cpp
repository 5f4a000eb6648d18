// TrainingPanel drives the real trainer (backend/train) on a worker thread: a tiny run (512 Fashion-MNIST
// images, batch 64) shows progress with an ETA, a loss curve of finite values and per-epoch kNN accuracy,
// hands the held-out embeddings to the explorer after each epoch; Stop ends the run within one batch;
// Resume continues the epoch count from the checkpoint and ends with a model package. The GUI thread stays
// responsive throughout (a timer keeps firing). An image folder drawn by the test (two shapes, one
// unreadable file) trains too, with the unreadable file skipped and counted.
// Reference for "learns": 10 Fashion-MNIST classes give 10% by chance; after 3 epochs on 512 images the
// kNN accuracy is far above that (about 60-70% measured here), so >= 30% fails only if training is broken.

#include <QAction>
#include <QCheckBox>
#include <QGuiApplication>
#include <QMainWindow>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <filesystem>

#include "TrainingPanel.h"

using loupe::gui::TrainingPanel;

namespace {
bool haveFashionMnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ||
         std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte");
}
}  // namespace

class TestTrainingPanel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldTrainStopAndResumeOnFashionMnist() {
    if (!haveFashionMnist()) QSKIP("Debian's dataset-fashion-mnist is not installed");
    QTemporaryDir out;
    TrainingPanel panel;
    panel.setDataSource(QStringLiteral("fashion-mnist"));
    panel.setTrainLimit(512);
    panel.setLoss(QStringLiteral("ce"));
    panel.setEpochs(6);
    panel.setBatchSize(64);
    panel.setLearningRate(2e-3);
    panel.setOutputFolder(out.path());
    panel.resize(980, 560);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));

    QSignalSpy epochs(&panel, &TrainingPanel::epochFinished);
    QSignalSpy embeddings(&panel, &TrainingPanel::embeddingsUpdated);
    QSignalSpy finished(&panel, &TrainingPanel::finished);
    // The GUI thread must keep running while the worker trains: count timer ticks.
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
    ticker.start(20);

    // Stop as soon as the first epoch is reported: the worker is then in the next epoch (or its evaluation).
    QElapsedTimer stopClock;
    auto stopper = connect(&panel, &TrainingPanel::epochFinished, &panel, [&](int epoch) {
      if (epoch == 1) {
        stopClock.start();
        panel.stop();
      }
    });
    panel.start();
    QVERIFY(panel.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    const qint64 stopMs = stopClock.elapsed();
    disconnect(stopper);
    QCOMPARE(finished.at(0).at(0).toBool(), false);  // stopped, not finished
    QVERIFY2(stopMs < 3000, qPrintable(QStringLiteral("stop took %1 ms").arg(stopMs)));
    QVERIFY(!panel.isRunning());
    QVERIFY(QFile::exists(panel.checkpointPath()));
    QVERIFY(ticks > 5);

    // Progress, ETA and a loss curve of finite, decreasing-on-average values.
    QVERIFY(panel.progressBar()->value() > 0);
    QVERIFY(epochs.count() >= 1);
    const auto& points = panel.lossPlot()->points();
    QVERIFY2(points.size() >= 8, qPrintable(QString::number(points.size())));  // 512 / 64 steps per epoch
    for (const auto& p : points) QVERIFY(std::isfinite(p.y()) && p.y() > 0);
    QCOMPARE(points.first().x(), 0.0);

    // The explorer's data: held-out embeddings, one row per held-out image, with labels.
    QVERIFY(embeddings.count() >= 1);
    const auto values = embeddings.at(0).at(0).value<std::vector<float>>();
    const int n = embeddings.at(0).at(1).toInt(), d = embeddings.at(0).at(2).toInt();
    QCOMPARE(d, 128);
    QCOMPARE(n, 1000);  // held out: max(1000, training images), at most 5,000
    QCOMPARE(values.size(), std::size_t(n) * std::size_t(d));
    for (float v : values) QVERIFY(std::isfinite(v));
    QCOMPARE(int(panel.embeddedLabels().size()), n);
    QCOMPARE(panel.classNames().size(), 10);

    // Resume: continues after the checkpoint's epoch, to the end, and writes the package.
    const int before = epochs.count();
    const int checkpointEpoch = epochs.at(before - 1).at(0).toInt();
    finished.clear();
    panel.resume();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QVERIFY(panel.startEpoch() >= checkpointEpoch);
    QVERIFY(panel.startEpoch() >= 1);
    QVERIFY(epochs.count() > before);
    QCOMPARE(epochs.at(before).at(0).toInt(), panel.startEpoch() + 1);  // the count goes on, not from 1
    QCOMPARE(epochs.last().at(0).toInt(), 6);
    QCOMPARE(panel.completedEpochs(), 6);
    QCOMPARE(panel.progressBar()->value(), 1000);
    // The curve goes on from where it was (steps strictly increasing, none restarted at 0).
    const auto& all = panel.lossPlot()->points();
    for (int i = 1; i < all.size(); ++i) QVERIFY(all[i].x() > all[i - 1].x());
    QCOMPARE(all.last().x(), double(6 * 8 - 1));
    const double acc = epochs.last().at(2).toDouble();
    QVERIFY2(acc >= 0.3 && acc <= 1.0, qPrintable(QString::number(acc)));
    QVERIFY(QFile::exists(out.filePath(QStringLiteral("loupe-model.json"))));
    QVERIFY(QFile::exists(out.filePath(QStringLiteral("model.pt"))));

    if (const QByteArray shot = qgetenv("LOUPE_TRAINING_SCREENSHOT"); !shot.isEmpty())
      QVERIFY(panel.grab().save(QString::fromLocal8Bit(shot)));
  }

  void shouldTrainOnAnImageFolderAndSkipUnreadableFiles() {
    // Two classes drawn here: a filled disc and a hollow square at varying positions and sizes.
    QTemporaryDir root, out;
    for (int c = 0; c < 2; ++c) {
      const QString dir = root.filePath(c == 0 ? QStringLiteral("disc") : QStringLiteral("square"));
      QDir().mkpath(dir);
      for (int i = 0; i < 60; ++i) {
        QImage img(40, 40, QImage::Format_RGB32);
        img.fill(Qt::black);
        QPainter p(&img);
        const int s = 12 + i % 10, x = 4 + (i * 7) % (36 - s), y = 4 + (i * 5) % (36 - s);
        if (c == 0) {
          p.setBrush(Qt::white);
          p.setPen(Qt::NoPen);
          p.drawEllipse(x, y, s, s);
        } else {
          p.setPen(QPen(Qt::white, 2));
          p.drawRect(x, y, s, s);
        }
        p.end();
        QVERIFY(img.save(QStringLiteral("%1/%2.png").arg(dir).arg(i, 3, 10, QLatin1Char('0'))));
      }
    }
    QFile broken(root.filePath(QStringLiteral("disc/broken.png")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("not a png at all");
    broken.close();

    TrainingPanel panel;
    panel.setDataSource(root.path());
    panel.setLoss(QStringLiteral("supcon"));
    panel.setEpochs(4);
    panel.setBatchSize(32);
    panel.setOutputFolder(out.path());
    QSignalSpy finished(&panel, &TrainingPanel::finished);
    QSignalSpy epochs(&panel, &TrainingPanel::epochFinished);
    panel.start();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QVERIFY2(panel.dataSummary().contains(QStringLiteral("108 training images, 12 held out, 1 unreadable skipped")),
             qPrintable(panel.dataSummary()));
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QCOMPARE(epochs.count(), 4);
    QCOMPARE(panel.classNames(), QStringList({QStringLiteral("disc"), QStringLiteral("square")}));
    QCOMPARE(int(panel.embeddedLabels().size()), 12);  // every tenth image of each class is held out
    QVERIFY2(epochs.last().at(2).toDouble() >= 0.75, qPrintable(QString::number(epochs.last().at(2).toDouble())));
  }

  void shouldDisableTheEmbeddingViewWithoutOpenGL() {
    // This test runs on the offscreen platform, which draws no OpenGL: the live view (an OpenGL scatter
    // plot) is off, its box disabled with the reason, and asking for it shows nothing instead of crashing.
    TrainingPanel panel;
    auto* box = panel.findChild<QCheckBox*>(QStringLiteral("showEmbeddings"));
    QVERIFY(box);
    if (QGuiApplication::platformName() != QLatin1String("offscreen")) QSKIP("needs the offscreen platform");
    QVERIFY(!box->isEnabled());
    QVERIFY(!panel.showsEmbeddings());
    QVERIFY2(box->toolTip().contains(QStringLiteral("OpenGL")), qPrintable(box->toolTip()));
    panel.setShowEmbeddings(true);
    QVERIFY(panel.findChildren<QMainWindow*>().isEmpty());  // no explorer window was made
  }

  void shouldRefuseResumeWithoutCheckpoint() {
    QTemporaryDir out;
    TrainingPanel panel;
    panel.setOutputFolder(out.path());
    QSignalSpy running(&panel, &TrainingPanel::runningChanged);
    panel.resume();
    QVERIFY(!panel.isRunning());
    QCOMPARE(running.count(), 0);
    QVERIFY(panel.statusText().contains(QStringLiteral("No checkpoint")));
  }
};

QTEST_MAIN(TestTrainingPanel)
#include "test_training_panel.moc"
