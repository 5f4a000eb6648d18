#pragma once
// The workbench's preferences, kept in QSettings (organisation "Loupe", application "loupe") and applied
// as soon as they change: the compute device, LibTorch's thread count, the colour map new heatmaps are
// drawn with, and how often the open session is autosaved for crash recovery.

#include <QObject>
#include <QString>

namespace loupe::gui {

class AppSettings : public QObject {
  Q_OBJECT

 public:
  static constexpr int kDefaultAutosaveSeconds = 60;

  explicit AppSettings(QObject* parent = nullptr);

  QString device() const { return device_; }       // auto, cpu, cuda, cuda:N
  int threads() const { return threads_; }          // 0: one per core
  QString colormap() const { return colormap_; }    // empty: as the task returns it; else viridis, magma, jet, gray
  int autosaveSeconds() const { return autosave_; }  // 0: off

  void setDevice(const QString& device);
  void setThreads(int threads);
  void setColormap(const QString& colormap);
  void setAutosaveSeconds(int seconds);

  // Sets LibTorch's thread count from threads(); returns the count in effect.
  int applyThreads() const;
  // Empty when CUDA can be used; otherwise why not ("LibTorch was built without CUDA", ...).
  static QString cudaUnavailableReason();

 Q_SIGNALS:
  void deviceChanged(const QString& device);
  void threadsChanged(int threads);
  void colormapChanged(const QString& colormap);
  void autosaveChanged(int seconds);

 private:
  void store(const char* key, const QVariant& value);

  QString device_;
  int threads_ = 0;
  QString colormap_;
  int autosave_ = kDefaultAutosaveSeconds;
};

}  // namespace loupe::gui
