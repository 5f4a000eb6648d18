#include "SettingsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <thread>

#include "AppSettings.h"
#include "RecentFiles.h"
#include "host/PluginHost.h"

namespace loupe::gui {

SettingsDialog::SettingsDialog(AppSettings& settings, const host::PluginHost& host, RecentFiles& recent, QWidget* parent)
    : QDialog(parent), settings_(settings), host_(host), recent_(recent) {
  setObjectName(QStringLiteral("settingsDialog"));
  setWindowTitle(tr("Loupe Settings"));
  auto* layout = new QVBoxLayout(this);

  auto* compute = new QGroupBox(tr("Computation"), this);
  auto* computeForm = new QFormLayout(compute);
  device_ = new QComboBox(compute);
  device_->setObjectName(QStringLiteral("deviceCombo"));
  device_->addItem(tr("Automatic (CUDA when available)"), QStringLiteral("auto"));
  device_->addItem(tr("CPU"), QStringLiteral("cpu"));
  device_->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
  const QString cudaWhyNot = AppSettings::cudaUnavailableReason();
  deviceNote_ = new QLabel(compute);
  deviceNote_->setObjectName(QStringLiteral("deviceNote"));
  deviceNote_->setWordWrap(true);
  if (!cudaWhyNot.isEmpty()) {
    if (auto* model = qobject_cast<QStandardItemModel*>(device_->model())) {
      QStandardItem* item = model->item(2);
      item->setEnabled(false);
      item->setToolTip(cudaWhyNot);
    }
    deviceNote_->setText(tr("CUDA is unavailable: %1").arg(cudaWhyNot));
  } else {
    deviceNote_->hide();
  }
  const QString current = settings_.device();
  int index = device_->findData(current.startsWith(QLatin1String("cuda")) ? QStringLiteral("cuda") : current);
  device_->setCurrentIndex(index < 0 ? 0 : index);
  connect(device_, &QComboBox::currentIndexChanged, this, [this] { settings_.setDevice(device_->currentData().toString()); });
  computeForm->addRow(tr("&Device:"), device_);
  computeForm->addRow(QString(), deviceNote_);

  threads_ = new QSpinBox(compute);
  threads_->setObjectName(QStringLiteral("threadsSpin"));
  threads_->setRange(0, 256);
  threads_->setSpecialValueText(tr("One per core (%1)").arg(std::max(1u, std::thread::hardware_concurrency())));
  threads_->setValue(settings_.threads());
  threads_->setToolTip(tr("Threads LibTorch uses for one task on the CPU"));
  connect(threads_, &QSpinBox::valueChanged, &settings_, &AppSettings::setThreads);
  computeForm->addRow(tr("&Threads:"), threads_);
  layout->addWidget(compute);

  auto* view = new QGroupBox(tr("Viewer and sessions"), this);
  auto* viewForm = new QFormLayout(view);
  colormap_ = new QComboBox(view);
  colormap_->setObjectName(QStringLiteral("colormapCombo"));
  colormap_->addItem(tr("As the task returns it"), QString());
  for (const char* name : {"viridis", "magma", "jet", "gray"}) colormap_->addItem(QString::fromLatin1(name), QString::fromLatin1(name));
  colormap_->setCurrentIndex(std::max(0, colormap_->findData(settings_.colormap())));
  connect(colormap_, &QComboBox::currentIndexChanged, this, [this] { settings_.setColormap(colormap_->currentData().toString()); });
  viewForm->addRow(tr("Heatmap &colour map:"), colormap_);

  autosave_ = new QSpinBox(view);
  autosave_->setObjectName(QStringLiteral("autosaveSpin"));
  autosave_->setRange(0, 3600);
  autosave_->setSuffix(tr(" s"));
  autosave_->setSpecialValueText(tr("Off"));
  autosave_->setValue(settings_.autosaveSeconds());
  autosave_->setToolTip(tr("How often unsaved work is written to a recovery file (restored after a crash)"));
  connect(autosave_, &QSpinBox::valueChanged, &settings_, &AppSettings::setAutosaveSeconds);
  viewForm->addRow(tr("&Autosave every:"), autosave_);

  auto* recentRow = new QWidget(view);
  auto* recentLayout = new QHBoxLayout(recentRow);
  recentLayout->setContentsMargins(0, 0, 0, 0);
  recentCount_ = new QLabel(recentRow);
  clearRecent_ = new QPushButton(tr("C&lear"), recentRow);
  clearRecent_->setObjectName(QStringLiteral("clearRecentButton"));
  connect(clearRecent_, &QPushButton::clicked, this, [this] {
    recent_.clear();
    refreshRecent();
  });
  recentLayout->addWidget(recentCount_, 1);
  recentLayout->addWidget(clearRecent_);
  viewForm->addRow(tr("Recent files:"), recentRow);
  layout->addWidget(view);

  auto* pluginBox = new QGroupBox(tr("Plugins"), this);
  auto* pluginLayout = new QVBoxLayout(pluginBox);
  plugins_ = new QTableWidget(pluginBox);
  plugins_->setObjectName(QStringLiteral("pluginTable"));
  plugins_->setColumnCount(4);
  plugins_->setHorizontalHeaderLabels({tr("Plugin"), tr("Version"), tr("State"), tr("Problem / file")});
  plugins_->verticalHeader()->hide();
  plugins_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  plugins_->setSelectionBehavior(QAbstractItemView::SelectRows);
  plugins_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  plugins_->horizontalHeader()->setStretchLastSection(true);
  plugins_->setWordWrap(true);
  pluginLayout->addWidget(plugins_);
  layout->addWidget(pluginBox, 1);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::accept);
  layout->addWidget(buttons);

  refreshRecent();
  refreshPlugins();
  resize(720, 560);
}

void SettingsDialog::refreshRecent() {
  const int n = static_cast<int>(recent_.paths().size());
  recentCount_->setText(n == 0 ? tr("none") : tr("%n file(s) in File > Open Recent", nullptr, n));
  clearRecent_->setEnabled(n > 0);
}

void SettingsDialog::refreshPlugins() {
  const auto& list = host_.plugins();
  plugins_->setRowCount(static_cast<int>(list.size()));
  for (int row = 0; row < static_cast<int>(list.size()); ++row) {
    const auto& p = *list[static_cast<std::size_t>(row)];
    const bool broken = p.state == host::PluginRecord::State::Invalid || p.state == host::PluginRecord::State::Failed;
    auto set = [&](int column, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      item->setToolTip(text + QStringLiteral("\n") + p.path);
      if (broken) item->setForeground(QColor(0xb4, 0x23, 0x18));
      plugins_->setItem(row, column, item);
    };
    set(0, p.manifest.id.empty() ? QFileInfo(p.path).fileName() : QString::fromStdString(p.manifest.id));
    set(1, QString::fromStdString(p.manifest.version));
    set(2, QString::fromLatin1(host::pluginStateName(p.state)));
    set(3, p.error.empty() ? p.path : QString::fromStdString(p.error));
  }
  plugins_->resizeRowsToContents();
}

}  // namespace loupe::gui
