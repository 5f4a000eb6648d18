#pragma once
// One task run off the GUI thread: host::planRun + host::executeRun (the same pipeline as loupe-cli) on a
// QtConcurrent worker, watched by a QFutureWatcher. Progress is forwarded to the GUI thread with queued
// calls; cancel() sets the run's CancelToken. Destroying a running job cancels it and waits.
//
// The PluginHost is not thread-safe: while a job runs, its owner must not load plugins or rescan.
// The plugin library is loaded by start() on the calling (GUI) thread, so the plugin's QObject lives there.

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Result.h"
#include "host/TaskRunner.h"

namespace loupe::gui {

struct JobResult {
  bool ok = false;
  host::RunStage stage = host::RunStage::Task;  // where it failed
  Error error;
  std::string taskId;
  std::string taskTitle;
  std::string deviceName;
  Image input;  // the image the task saw
  std::vector<Layer> layers;
  double seconds = 0.0;

  bool cancelled() const { return !ok && error.code == ErrorCode::Cancelled; }
};

class AnalysisJob : public QObject {
  Q_OBJECT

 public:
  explicit AnalysisJob(host::PluginHost& host, QObject* parent = nullptr);
  ~AnalysisJob() override;

  // Starts a run; fails at once (nothing started) when a job is already running or the plugin cannot load.
  Result<void> start(const host::RunRequest& request);
  bool isRunning() const;
  // Asks the running task to stop; finished() still follows (with a Cancelled error, or a result when the
  // task was already past its last check).
  void cancel();
  // Blocks until the worker stops, then delivers finished() at once.
  void waitForFinished();
  // The last finished run.
  const JobResult& result() const { return result_; }

 Q_SIGNALS:
  void progressChanged(double fraction, const QString& stage);
  void finished();

 private:
  void onFinished();

  host::PluginHost& host_;
  QFutureWatcher<JobResult> watcher_;
  CancelToken cancel_;
  bool running_ = false;
  JobResult result_;
};

}  // namespace loupe::gui
