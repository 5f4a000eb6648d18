#include "AppSettings.h"

#include <QSettings>
#include <QVariant>

#include <algorithm>

#include "core/Colormap.h"
#include "core/Device.h"

namespace loupe::gui {

AppSettings::AppSettings(QObject* parent) : QObject(parent) {
  QSettings s(QStringLiteral("Loupe"), QStringLiteral("loupe"));
  device_ = s.value(QStringLiteral("compute/device"), QStringLiteral("auto")).toString();
  if (!DeviceRequest::parse(device_.toStdString())) device_ = QStringLiteral("auto");
  threads_ = std::max(0, s.value(QStringLiteral("compute/threads"), 0).toInt());
  colormap_ = s.value(QStringLiteral("view/colormap")).toString();
  if (!colormap_.isEmpty() && !colormapFromName(colormap_.toStdString())) colormap_.clear();
  autosave_ = std::max(0, s.value(QStringLiteral("session/autosaveSeconds"), kDefaultAutosaveSeconds).toInt());
}

void AppSettings::store(const char* key, const QVariant& value) {
  QSettings s(QStringLiteral("Loupe"), QStringLiteral("loupe"));
  s.setValue(QLatin1String(key), value);
}

void AppSettings::setDevice(const QString& device) {
  if (device == device_ || !DeviceRequest::parse(device.toStdString())) return;
  device_ = device;
  store("compute/device", device);
  Q_EMIT deviceChanged(device);
}

void AppSettings::setThreads(int threads) {
  threads = std::max(0, threads);
  if (threads == threads_) return;
  threads_ = threads;
  store("compute/threads", threads);
  applyThreads();
  Q_EMIT threadsChanged(threads);
}

void AppSettings::setColormap(const QString& colormap) {
  if (colormap == colormap_ || (!colormap.isEmpty() && !colormapFromName(colormap.toStdString()))) return;
  colormap_ = colormap;
  store("view/colormap", colormap);
  Q_EMIT colormapChanged(colormap);
}

void AppSettings::setAutosaveSeconds(int seconds) {
  seconds = std::max(0, seconds);
  if (seconds == autosave_) return;
  autosave_ = seconds;
  store("session/autosaveSeconds", seconds);
  Q_EMIT autosaveChanged(seconds);
}

int AppSettings::applyThreads() const { return configureThreads(threads_); }

QString AppSettings::cudaUnavailableReason() {
  auto request = DeviceRequest::parse("cuda");
  if (!request) return QString::fromStdString(request.error().message);
  auto device = resolveDevice(*request);
  return device ? QString() : QString::fromStdString(device.error().message);
}

}  // namespace loupe::gui
