#include "AnalysisJob.h"

#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <memory>
#include <mutex>

namespace loupe::gui {

namespace {

// Forwards at most one update per percent or stage change, so a task that reports per row does not
// flood the GUI thread's event queue.
class ProgressForwarder {
 public:
  explicit ProgressForwarder(AnalysisJob* job) : job_(job) {}
  void operator()(double fraction, const std::string& stage) {
    const int percent = static_cast<int>(std::floor(fraction * 100.0));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (percent == lastPercent_ && stage == lastStage_) return;
      lastPercent_ = percent;
      lastStage_ = stage;
    }
    const QString text = QString::fromStdString(stage);
    QMetaObject::invokeMethod(
        job_, [job = job_, fraction, text] { Q_EMIT job->progressChanged(fraction, text); }, Qt::QueuedConnection);
  }

 private:
  AnalysisJob* job_;
  std::mutex mutex_;
  int lastPercent_ = -1;
  std::string lastStage_;
};

JobResult runJob(host::PluginHost& host, const host::RunRequest& request, const CancelToken& cancel,
                 const Progress& progress) {
  JobResult out;
  out.taskId = request.taskId;
  host::RunStage stage = host::RunStage::Usage;
  auto plan = host::planRun(host, request, &stage);
  if (!plan) {
    out.stage = stage;
    out.error = plan.error();
    return out;
  }
  out.taskTitle = plan->spec.title;
  out.deviceName = plan->deviceName;
  out.input = plan->input;
  if (cancel.isCancelled()) {
    out.error = Error::cancelled();
    return out;
  }
  auto outcome = host::executeRun(*plan, cancel, progress);
  if (!outcome) {
    out.stage = host::RunStage::Task;
    out.error = outcome.error();
    return out;
  }
  out.ok = true;
  out.layers = std::move(outcome->layers);
  out.seconds = outcome->seconds;
  return out;
}

}  // namespace

AnalysisJob::AnalysisJob(host::PluginHost& host, QObject* parent) : QObject(parent), host_(host) {
  connect(&watcher_, &QFutureWatcher<JobResult>::finished, this, &AnalysisJob::onFinished);
}

AnalysisJob::~AnalysisJob() {
  // No signals from a destructor: just stop the worker before the host and this object go away.
  cancel_.cancel();
  if (running_) watcher_.waitForFinished();
}

Result<void> AnalysisJob::start(const host::RunRequest& request) {
  if (running_) return Error{ErrorCode::InvalidArgument, "A task is already running"};
  // Load the plugin here, on the GUI thread; the worker then only asks the loaded plugin for a task.
  if (host_.findTask(request.taskId).spec) {
    auto probe = host_.createTask(request.taskId);
    if (!probe) return probe.error();
  }
  cancel_ = CancelToken();
  running_ = true;
  const CancelToken cancel = cancel_;
  auto forwarder = std::make_shared<ProgressForwarder>(this);
  const Progress progress([forwarder](double f, const std::string& s) { (*forwarder)(f, s); });
  host::PluginHost* host = &host_;
  watcher_.setFuture(QtConcurrent::run([host, request, cancel, progress] { return runJob(*host, request, cancel, progress); }));
  return {};
}

bool AnalysisJob::isRunning() const { return running_; }

void AnalysisJob::cancel() {
  if (running_) cancel_.cancel();
}

void AnalysisJob::waitForFinished() {
  if (!running_) return;
  watcher_.waitForFinished();
  onFinished();  // now, not when the watcher's queued signal arrives
}

void AnalysisJob::onFinished() {
  if (!running_) return;  // already delivered by waitForFinished()
  running_ = false;
  result_ = watcher_.future().isValid() && watcher_.future().resultCount() > 0 ? watcher_.result() : JobResult{};
  if (!result_.ok && result_.error.message.empty())
    result_.error = Error{ErrorCode::Internal, "The task ended without a result"};
  Q_EMIT finished();
}

}  // namespace loupe::gui
