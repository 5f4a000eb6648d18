#pragma once
// Edit > Settings: device (auto / cpu / cuda, with cuda greyed out and the reason shown when it cannot
// be used), LibTorch threads, the colour map for new heatmaps, the autosave interval, the recent files
// (with Clear), and every plugin the host found with its state and load error. Changes apply at once
// (AppSettings stores and signals them); there is nothing to confirm.

#include <QDialog>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace loupe::host {
class PluginHost;
}

namespace loupe::gui {

class AppSettings;
class RecentFiles;

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  SettingsDialog(AppSettings& settings, const host::PluginHost& host, RecentFiles& recent, QWidget* parent = nullptr);

  // Refills the plugin table (a plugin may have failed to load since the dialog opened).
  void refreshPlugins();

 private:
  void refreshRecent();

  AppSettings& settings_;
  const host::PluginHost& host_;
  RecentFiles& recent_;
  QComboBox* device_ = nullptr;
  QLabel* deviceNote_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QComboBox* colormap_ = nullptr;
  QSpinBox* autosave_ = nullptr;
  QLabel* recentCount_ = nullptr;
  QPushButton* clearRecent_ = nullptr;
  QTableWidget* plugins_ = nullptr;
};

}  // namespace loupe::gui
