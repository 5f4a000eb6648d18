// The forgery tools in the real window with the real forgery plugin: the task tree groups them by the
// manifest's categories (Sherloq-like tool tree); forgery.localize on a splice the test makes (a patch of
// skimage's coffee.png pasted into rocket.jpg) shows a heatmap + mask whose threshold slider redraws the
// mask from the heatmap values (reference: the test's own comparison of the result's heatmap values with
// the threshold) and updates the Results table; Space toggles original/result; a second tool runs side
// by side (CompareSlot) while the slider keeps working; a bookmark keeps the localisation's view.

#include <QImage>
#include <QPainter>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <string>
#include <variant>

#include "BookmarkDock.h"
#include "CompareSlot.h"
#include "MainWindow.h"
#include "ParamForm.h"
#include "RecentFiles.h"
#include "SessionController.h"
#include "TestFiles.h"
#include "ThresholdPanel.h"
#include "ToolTree.h"
#include "host/PluginHost.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

using loupe::gui::MainWindow;

namespace {

constexpr int kTaskIdRole = Qt::UserRole + 1;  // MainWindow's role for task ids

QTreeWidgetItem* child(QTreeWidgetItem* parent, const QString& text) {
  for (int i = 0; parent && i < parent->childCount(); ++i)
    if (parent->child(i)->text(0) == text) return parent->child(i);
  return nullptr;
}

QStringList taskIds(QTreeWidgetItem* node) {
  QStringList ids;
  for (int i = 0; node && i < node->childCount(); ++i) ids << node->child(i)->data(0, kTaskIdRole).toString();
  return ids;
}

QString cell(const QTableWidget* table, const QString& key) {
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->item(r, 0) && table->item(r, 0)->text() == key && table->item(r, 1)) return table->item(r, 1)->text();
  return QStringLiteral("<missing>");
}

const loupe::Heatmap* heatmapOf(const std::vector<loupe::Layer>& layers) {
  for (const auto& l : layers)
    if (const auto* h = std::get_if<loupe::Heatmap>(&l.payload)) return h;
  return nullptr;
}

std::string paramOf(const std::vector<std::pair<std::string, std::string>>& params, const std::string& name) {
  for (const auto& [key, value] : params)
    if (key == name) return value;
  return "<missing>";
}

double meanDifference(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
  double sum = 0;
  for (int j = 0; j < std::min(x.height(), y.height()); ++j)
    for (int i = 0; i < std::min(x.width(), y.width()); ++i)
      sum += std::abs(qRed(x.pixel(i, j)) - qRed(y.pixel(i, j))) + std::abs(qGreen(x.pixel(i, j)) - qGreen(y.pixel(i, j)));
  return sum / (2.0 * x.width() * x.height());
}

}  // namespace

class TestForgeryWorkbench : public QObject {
  Q_OBJECT

 private:
  loupe::host::PluginHost host_;
  QTemporaryDir dir_;
  QString splice_;

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    loupe::gui::RecentFiles().clear();
    host_.scan();
    QVERIFY2(host_.findTask("forgery.localize").spec, "the forgery plugin was not found (LOUPE_PLUGIN_PATH)");
    const QString rocket = loupe::test::debianPhoto("rocket.jpg"), coffee = loupe::test::debianPhoto("coffee.png");
    if (rocket.isEmpty() || coffee.isEmpty()) QSKIP("python3-skimage's rocket.jpg / coffee.png are not installed");
    QImage base(rocket);
    const QImage patch = QImage(coffee).copy(150, 100, 220, 160);
    QPainter(&base).drawImage(QPoint(330, 180), patch);
    splice_ = dir_.filePath(QStringLiteral("splice.png"));
    QVERIFY(base.save(splice_));
  }

  void toolTreeGroupsByCategory() {
    MainWindow w(host_);
    w.setRecoveryPromptEnabled(false);
    auto* tree = w.findChild<QTreeWidget*>(QStringLiteral("taskTree"));
    QVERIFY(tree);
    QTreeWidgetItem* forgery = nullptr;
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
      if (tree->topLevelItem(i)->text(0) == QStringLiteral("Forgery")) forgery = tree->topLevelItem(i);
    QVERIFY(forgery);
    // Only category nodes under the plugin (every forgery task has one), in the manifest's order.
    QStringList categories;
    for (int i = 0; i < forgery->childCount(); ++i) {
      QVERIFY(forgery->child(i)->data(0, loupe::gui::kToolCategoryRole).isValid());
      QVERIFY(!(forgery->child(i)->flags() & Qt::ItemIsSelectable));
      categories << forgery->child(i)->text(0);
    }
    QCOMPARE(categories, (QStringList{"Compression", "Localisation", "Noise", "Metadata & file", "Copy-move"}));
    QCOMPARE(taskIds(child(forgery, "Compression")), (QStringList{"forgery.ela", "forgery.jpeg"}));
    QCOMPARE(taskIds(child(forgery, "Localisation")), QStringList{"forgery.localize"});
    QCOMPARE(taskIds(child(forgery, "Noise")), QStringList{"forgery.noise"});
    QCOMPARE(taskIds(child(forgery, "Metadata & file")), (QStringList{"forgery.metadata", "forgery.hashes"}));
    QCOMPARE(taskIds(child(forgery, "Copy-move")), QStringList{"forgery.copymove"});
    // Selecting by id still finds a task two levels down.
    QVERIFY(w.selectTask(QStringLiteral("forgery.jpeg")));
    QCOMPARE(w.selectedTaskId(), QStringLiteral("forgery.jpeg"));
    QCOMPARE(tree->currentItem()->parent()->text(0), QStringLiteral("Compression"));
  }

  void localizeThresholdToggleCompareBookmark() {
    MainWindow w(host_);
    w.setRecoveryPromptEnabled(false);
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.openImage(splice_));
    QVERIFY(!w.thresholdPanel()->isVisible());
    QVERIFY(w.selectTask(QStringLiteral("forgery.localize")));
    QSignalSpy finished(&w, &MainWindow::runFinished);
    QVERIFY(w.runSelectedTask());
    QVERIFY(finished.wait(60'000));
    QVERIFY(finished.at(0).at(0).toBool());

    loupe::gui::ThresholdPanel* panel = w.thresholdPanel();
    QVERIFY(panel->isActive() && panel->isVisible());
    QCOMPARE(panel->slider()->value(), 50);  // the task's default threshold 0.5
    const loupe::Heatmap* heat = heatmapOf(w.lastResult().layers);
    QVERIFY(heat);
    auto* table = w.findChild<QTableWidget*>(QStringLiteral("resultTable"));
    QVERIFY(cell(table, "forgery_found") == QStringLiteral("yes"));  // k-means always splits

    const QImage before = w.view()->grab().toImage();
    for (double t : {0.8, 0.3}) {
      panel->slider()->setValue(static_cast<int>(t * 100));
      const auto* mask = dynamic_cast<const loupe::widgets::MaskLayer*>(w.layers()->find("forgery_mask"));
      QVERIFY(mask);
      QCOMPARE(mask->mask().width, heat->width);
      std::size_t forged = 0, wrong = 0;
      for (std::size_t i = 0; i < heat->values.size(); ++i) {
        const bool f = heat->values[i] >= static_cast<float>(t);
        forged += f;
        wrong += (mask->mask().values[i] != 0) != f;
      }
      QCOMPARE(wrong, std::size_t(0));
      QCOMPARE(cell(table, "threshold"), QString::number(t, 'f', 2));
      QCOMPARE(cell(table, "forged_fraction"), QString::number(double(forged) / heat->values.size(), 'f', 4));
      QVERIFY(cell(table, "verdict").endsWith(QString::number(t, 'f', 2)));
    }
    // The drawn view changed with the mask (0.5 -> 0.3 grows the forged area).
    QVERIFY(meanDifference(before, w.view()->grab().toImage()) > 0.05);

    // Space: the original, Space again: the result.
    w.view()->setFocus();
    const QImage result = w.view()->grab().toImage();
    QTest::keyClick(w.view(), Qt::Key_Space);
    QVERIFY(w.view()->showsOriginal());
    QVERIFY(meanDifference(result, w.view()->grab().toImage()) > 1.0);
    QTest::keyClick(w.view(), Qt::Key_Space);
    QVERIFY(!w.view()->showsOriginal());

    // A second tool side by side (noise residual), synchronized; the localisation stays in the main view.
    QSignalSpy second(&w, &MainWindow::compareFinished);
    QVERIFY(w.runCompareTask(QStringLiteral("forgery.noise"), {}));
    QVERIFY(second.wait(60'000));
    QVERIFY(second.at(0).at(0).toBool());
    QVERIFY(w.isComparing());
    QVERIFY(w.compareView()->caption().startsWith(QStringLiteral("Noise residual")));
    QVERIFY(w.view()->caption().startsWith(QStringLiteral("Forgery localisation")));
    QVERIFY(panel->isActive());
    panel->setThreshold(0.6);
    QVERIFY(w.layers()->find("forgery_mask")->title().contains(QStringLiteral("0.60")));
    // The form follows the operating point, so Run reproduces the mask on screen.
    auto* form = w.findChild<loupe::gui::ParamForm*>();
    QVERIFY(form);
    bool inForm = false;
    for (const auto& [name, value] : form->values()) inForm |= name == "threshold" && value == "0.6";
    if (!inForm)
      for (const auto& [name, value] : form->values()) inForm |= name == "threshold" && std::stod(value) == 0.6;
    QVERIFY(inForm);
    w.view()->zoomAt(QPointF(100, 100), 2.0);
    QCOMPARE(w.compareView()->scale(), w.view()->scale());

    // A bookmark keeps the localisation: its task and the visible heatmap + mask.
    const int before_ = w.bookmarks()->count();
    w.findChild<QAction*>(QStringLiteral("addBookmarkAction"))->trigger();
    QCOMPARE(w.bookmarks()->count(), before_ + 1);
    const auto& b = w.bookmarks()->bookmarks().back();
    QCOMPARE(b.taskId, QStringLiteral("forgery.localize"));
    QVERIFY(b.visibleLayers.contains(QStringLiteral("forgery_mask")));
    QVERIFY(b.visibleLayers.contains(QStringLiteral("forgery_probability")));
    QVERIFY(!b.snapshotPng.isEmpty());
    QVERIFY2(paramOf(b.params, "threshold") == "0.60", paramOf(b.params, "threshold").c_str());  // the slider's

    // Saved, then the slider moves: the session is dirty, and a new save keeps the mask, table and threshold
    // as shown (reference: the test's own thresholding of the run's heatmap at 0.45).
    const QString casePath = dir_.filePath(QStringLiteral("case.loupe"));
    {
      auto saved = w.session()->save(casePath);
      QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    }
    QVERIFY(!w.session()->isDirty());
    panel->slider()->setValue(45);
    QVERIFY(w.session()->isDirty());
    w.findChild<QAction*>(QStringLiteral("addBookmarkAction"))->trigger();
    QCOMPARE(paramOf(w.bookmarks()->bookmarks().back().params, "threshold"), std::string("0.45"));
    std::size_t forged45 = 0;
    for (float v : heat->values) forged45 += v >= 0.45f;
    const QString fraction45 = QString::number(double(forged45) / heat->values.size(), 'f', 4);
    QCOMPARE(cell(table, "forged_fraction"), fraction45);
    const QString verdict45 = cell(table, "verdict");

    // Saved as a case and opened in a new window: the localisation comes back as it was shown, with its
    // slider, table rows, run parameters and bookmarks.
    auto saved = w.session()->save(casePath);
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    QVERIFY(!w.session()->isDirty());
    {
      MainWindow restored(host_);
      restored.setRecoveryPromptEnabled(false);
      restored.show();
      QVERIFY(restored.session()->open(casePath));
      QVERIFY(restored.thresholdPanel()->isActive());
      const auto* shown = dynamic_cast<const loupe::widgets::MaskLayer*>(restored.layers()->find("forgery_mask"));
      QVERIFY(shown);
      QCOMPARE(shown->mask().values.size(), heat->values.size());
      std::size_t wrong45 = 0;
      for (std::size_t i = 0; i < heat->values.size(); ++i) wrong45 += (shown->mask().values[i] != 0) != (heat->values[i] >= 0.45f);
      QCOMPARE(wrong45, std::size_t(0));
      QVERIFY(shown->title().contains(QStringLiteral("0.45")));
      QCOMPARE(restored.thresholdPanel()->slider()->value(), 45);
      auto* restoredTable = restored.findChild<QTableWidget*>(QStringLiteral("resultTable"));
      QVERIFY(restoredTable);
      QCOMPARE(cell(restoredTable, "threshold"), QStringLiteral("0.45"));
      QCOMPARE(cell(restoredTable, "forged_fraction"), fraction45);
      QCOMPARE(cell(restoredTable, "verdict"), verdict45);
      const auto captured = restored.session()->capture();
      QVERIFY(captured.run);
      QCOMPARE(paramOf(captured.run->params, "threshold"), std::string("0.45"));
      QVERIFY(!restored.session()->isDirty());  // opening is not an edit
      QCOMPARE(restored.bookmarks()->count(), w.bookmarks()->count());
      QCOMPARE(paramOf(restored.bookmarks()->bookmarks().back().params, "threshold"), std::string("0.45"));
      QCOMPARE(paramOf(restored.bookmarks()->bookmarks().at(restored.bookmarks()->count() - 2).params, "threshold"),
               std::string("0.60"));
      restored.thresholdPanel()->setThreshold(0.9);
      const auto* mask = dynamic_cast<const loupe::widgets::MaskLayer*>(restored.layers()->find("forgery_mask"));
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < heat->values.size(); ++i) wrong += (mask->mask().values[i] != 0) != (heat->values[i] >= 0.9f);
      QCOMPARE(wrong, std::size_t(0));
    }

    // Another image: no result, no slider.
    QVERIFY(w.openImage(loupe::test::debianPhoto("coffee.png")));
    QVERIFY(!panel->isActive());
  }
};

QTEST_MAIN(TestForgeryWorkbench)
#include "test_forgery_workbench.moc"
