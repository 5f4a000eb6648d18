// Settings: each control stores its value in QSettings and takes effect at once (device of the next run,
// LibTorch's thread count, the colour map of heatmaps, the autosave timer); CUDA is greyed out with the
// reason on a machine without it; Clear empties the recent files; the plugin table lists every plugin
// the host found, broken fixture plugins with their load errors.
#include <QAbstractItemView>
#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/Parallel.h>

#include <memory>

#include "AppSettings.h"
#include "MainWindow.h"
#include "RecentFiles.h"
#include "SessionController.h"
#include "SettingsDialog.h"
#include "host/PluginHost.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

using namespace loupe;
using loupe::gui::AppSettings;
using loupe::gui::MainWindow;
using loupe::gui::SettingsDialog;

class TestSettingsDialog : public QObject {
  Q_OBJECT

 private:
  host::PluginHost host_;
  QTemporaryDir tmp_;

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings(QStringLiteral("Loupe"), QStringLiteral("loupe")).clear();
    host_.setSearchPaths(QStringList{QStringLiteral(FIXTURE_PLUGIN_DIR)} + host::PluginHost::defaultSearchPaths());
    host_.scan();
  }

  void shouldStoreAndApplyAtOnce() {
    AppSettings settings;
    gui::RecentFiles recent;
    SettingsDialog dialog(settings, host_, recent);
    auto* threads = dialog.findChild<QSpinBox*>(QStringLiteral("threadsSpin"));
    QVERIFY(threads);
    threads->setValue(1);
    QCOMPARE(at::get_num_threads(), 1);
    threads->setValue(2);
    QCOMPARE(at::get_num_threads(), 2);
    auto* autosave = dialog.findChild<QSpinBox*>(QStringLiteral("autosaveSpin"));
    QSignalSpy autosaveSpy(&settings, &AppSettings::autosaveChanged);
    autosave->setValue(15);
    QCOMPARE(autosaveSpy.count(), 1);
    auto* colormap = dialog.findChild<QComboBox*>(QStringLiteral("colormapCombo"));
    colormap->setCurrentIndex(colormap->findData(QStringLiteral("gray")));
    auto* device = dialog.findChild<QComboBox*>(QStringLiteral("deviceCombo"));
    device->setCurrentIndex(device->findData(QStringLiteral("cpu")));
    // Stored: a new AppSettings (next start) reads them back.
    AppSettings again;
    QCOMPARE(again.threads(), 2);
    QCOMPARE(again.autosaveSeconds(), 15);
    QCOMPARE(again.colormap(), QStringLiteral("gray"));
    QCOMPARE(again.device(), QStringLiteral("cpu"));
    settings.setThreads(0);
  }

  void shouldGreyOutCudaWithTheReason() {
    AppSettings settings;
    gui::RecentFiles recent;
    SettingsDialog dialog(settings, host_, recent);
    auto* device = dialog.findChild<QComboBox*>(QStringLiteral("deviceCombo"));
    auto* note = dialog.findChild<QLabel*>(QStringLiteral("deviceNote"));
    const QString why = AppSettings::cudaUnavailableReason();
    auto* model = qobject_cast<QStandardItemModel*>(device->model());
    QStandardItem* cuda = model->item(device->findData(QStringLiteral("cuda")));
    if (why.isEmpty()) {  // a CUDA machine
      QVERIFY(cuda->isEnabled());
      QVERIFY(note->isHidden());
      return;
    }
    QVERIFY(!cuda->isEnabled());
    QCOMPARE(cuda->toolTip(), why);
    QVERIFY(note->text().contains(why));
  }

  void shouldClearRecentFiles() {
    AppSettings settings;
    gui::RecentFiles recent;
    recent.add(tmp_.filePath(QStringLiteral("a.png")));
    SettingsDialog dialog(settings, host_, recent);
    auto* clear = dialog.findChild<QPushButton*>(QStringLiteral("clearRecentButton"));
    QVERIFY(clear->isEnabled());
    clear->click();
    QVERIFY(gui::RecentFiles().paths().isEmpty());
    QVERIFY(!clear->isEnabled());
  }

  void shouldListPluginsWithLoadErrors() {
    AppSettings settings;
    gui::RecentFiles recent;
    SettingsDialog dialog(settings, host_, recent);
    auto* table = dialog.findChild<QTableWidget*>(QStringLiteral("pluginTable"));
    QCOMPARE(table->rowCount(), static_cast<int>(host_.plugins().size()));
    int broken = 0;
    for (int row = 0; row < table->rowCount(); ++row) {
      const auto& p = *host_.plugins()[static_cast<std::size_t>(row)];
      QCOMPARE(table->item(row, 2)->text(), QString::fromLatin1(host::pluginStateName(p.state)));
      if (!p.error.empty()) {
        ++broken;
        QCOMPARE(table->item(row, 3)->text(), QString::fromStdString(p.error));
      }
    }
    QVERIFY2(broken >= 2, "the fixture folder holds broken plugins");  // wrong API, broken manifest, ...
  }

  void shouldApplyToTheWindow() {
    host::PluginHost host;
    host.scan();
    MainWindow w(host);
    w.settings()->setAutosaveSeconds(7);
    QCOMPARE(w.session()->autosaveInterval(), 7);
    // The colour map recolours the heatmaps shown.
    Heatmap m;
    m.width = m.height = 4;
    m.values.assign(16, 0.5f);
    w.layers()->add(std::make_shared<widgets::HeatmapLayer>(QStringLiteral("h"), QStringLiteral("h"), m));
    w.settings()->setColormap(QStringLiteral("magma"));
    QCOMPARE(dynamic_cast<widgets::HeatmapLayer*>(w.layers()->at(0))->colormap(), Colormap::Magma);
    w.settings()->setColormap(QStringLiteral("jet"));
    QCOMPARE(dynamic_cast<widgets::HeatmapLayer*>(w.layers()->at(0))->colormap(), Colormap::Jet);
    w.settings()->setColormap(QString());
    w.settings()->setAutosaveSeconds(AppSettings::kDefaultAutosaveSeconds);
  }
};

QTEST_MAIN(TestSettingsDialog)
#include "test_settings_dialog.moc"
