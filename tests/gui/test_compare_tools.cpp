// Comparing two results side by side: the same tool with two parameter sets (ELA at quality 95 in the
// main view, 60 in the second view, run through the real forgery plugin on skimage's rocket.jpg). The two
// views draw different results, their captions say which is which, and zoom/pan stay in step (ViewSync).
// Reference for "different": the two heatmaps' values (quality 60 re-compresses coarser, so its mean
// error level is higher than quality 95's for the same photo).

#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include <cmath>
#include <memory>
#include <variant>

#include "CompareSlot.h"
#include "MainWindow.h"
#include "RecentFiles.h"
#include "TestFiles.h"
#include "host/PluginHost.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"

using loupe::gui::MainWindow;

namespace {

double meanHeatmap(const std::vector<loupe::Layer>& layers) {
  for (const auto& layer : layers)
    if (const auto* h = std::get_if<loupe::Heatmap>(&layer.payload)) {
      double sum = 0;
      for (float v : h->values) sum += v;
      return sum / static_cast<double>(h->values.size());
    }
  return std::nan("");
}

double meanPixelDifference(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
  const int w = std::min(x.width(), y.width()), h = std::min(x.height(), y.height());
  double sum = 0;
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i) {
      const QRgb p = x.pixel(i, j), q = y.pixel(i, j);
      sum += std::abs(qRed(p) - qRed(q)) + std::abs(qGreen(p) - qGreen(q)) + std::abs(qBlue(p) - qBlue(q));
    }
  return sum / (3.0 * w * h);
}

}  // namespace

class TestCompareTools : public QObject {
  Q_OBJECT

 private:
  loupe::host::PluginHost host_;
  QString rocket_;

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    loupe::gui::RecentFiles().clear();
    host_.scan();
    QVERIFY2(host_.findTask("forgery.ela").spec, "the forgery plugin was not found (LOUPE_PLUGIN_PATH)");
    rocket_ = loupe::test::debianPhoto("rocket.jpg");
    if (rocket_.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
  }

  void twoParameterSetsShowTwoResultsInSyncedViews() {
    MainWindow w(host_);
    w.setRecoveryPromptEnabled(false);
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.openImage(rocket_));
    QVERIFY(w.selectTask(QStringLiteral("forgery.ela")));
    QVERIFY(w.applyParameters({{"quality", "95"}}));
    QSignalSpy main(&w, &MainWindow::runFinished);
    QVERIFY(w.runSelectedTask());
    QVERIFY(main.wait(30'000));
    QVERIFY(main.at(0).at(0).toBool());

    // The same tool, other parameters, from the form and the "Run in Second View" button.
    QVERIFY(w.applyParameters({{"quality", "60"}}));
    QSignalSpy second(&w, &MainWindow::compareFinished);
    QTest::mouseClick(w.findChild<QPushButton*>(QStringLiteral("compareRunButton")), Qt::LeftButton);
    QVERIFY(second.wait(30'000));
    QVERIFY(second.at(0).at(0).toBool());
    QVERIFY(w.isComparing());

    loupe::widgets::ImageView* left = w.compareView();
    loupe::widgets::ImageView* right = w.view();
    QVERIFY(left->isVisible() && right->isVisible());
    QCOMPARE(left->caption(), QStringLiteral("Error Level Analysis (quality=60)"));
    QCOMPARE(right->caption(), QStringLiteral("Error Level Analysis (quality=95)"));
    QVERIFY(!w.compareSlot()->layers()->isEmpty());
    QVERIFY(!w.layers()->isEmpty());

    // Two different results: in the data, and in the drawn pixels.
    const double m95 = meanHeatmap(w.lastResult().layers), m60 = meanHeatmap(w.compareSlot()->result().layers);
    qInfo("mean error level: quality 95 %.3f, quality 60 %.3f", m95, m60);
    QVERIFY2(m60 > m95 * 1.2, qPrintable(QStringLiteral("%1 vs %2").arg(m60).arg(m95)));
    const double drawn = meanPixelDifference(left->grab().toImage(), right->grab().toImage());
    QVERIFY2(drawn > 3.0, qPrintable(QString::number(drawn)));
    // ...and the second view is not just the original: switching its layers off changes it.
    const QImage withLayers = left->grab().toImage();
    left->setShowOriginal(true);
    QVERIFY(meanPixelDifference(withLayers, left->grab().toImage()) > 3.0);
    left->setShowOriginal(false);

    // Zoom and pan either view: the other follows (same image size: same scale and centre).
    right->zoomAt(QPointF(right->width() / 2.0, right->height() / 2.0), 3.0);
    QCOMPARE(left->scale(), right->scale());
    QVERIFY((left->viewCentre() - right->viewCentre()).manhattanLength() < 0.5);
    left->panBy(QPointF(40, -25));
    QCOMPARE(left->scale(), right->scale());
    QVERIFY((left->viewCentre() - right->viewCentre()).manhattanLength() < 0.5);
    const QPointF moved = right->viewCentre();
    left->zoomAt(QPointF(10, 10), 0.5);
    QCOMPARE(right->scale(), left->scale());
    QVERIFY((left->viewCentre() - right->viewCentre()).manhattanLength() < 0.5);
    QVERIFY((right->viewCentre() - moved).manhattanLength() > 1.0);

    // Another image drops the second result: that view shows the original again.
    QVERIFY(w.openImage(loupe::test::debianPhoto("coffee.png")));
    QVERIFY(w.compareSlot()->layers()->isEmpty());
    QCOMPARE(left->caption(), QStringLiteral("Original"));
  }

  void refusesUnknownTasksAndReportsBadParameters() {
    MainWindow w(host_);
    w.setRecoveryPromptEnabled(false);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.openImage(rocket_));
    QVERIFY(!w.runCompareTask(QStringLiteral("no.such.task"), {}));  // refused with a banner, nothing runs
    QVERIFY(!w.compareSlot()->isRunning());
    QSignalSpy second(&w, &MainWindow::compareFinished);
    // A bad parameter value fails in the second view's run and says why.
    QVERIFY(w.runCompareTask(QStringLiteral("forgery.ela"), {{"quality", "500"}}));
    QVERIFY(second.wait(30'000));
    QVERIFY(!second.at(0).at(0).toBool());
    QVERIFY(!w.compareSlot()->hasResult());
  }
};

QTEST_MAIN(TestCompareTools)
#include "test_compare_tools.moc"
