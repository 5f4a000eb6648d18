#pragma once
// The second result of a window, for comparing two tools (or one tool with two parameter sets) side by
// side: runs a task on the window's image with its own AnalysisJob (it may run while the main job runs),
// and draws its layers in the second ImageView, which ViewSync keeps in step with the main view. With no
// second result that view shows the original image.

#include <QObject>
#include <QPointer>
#include <QString>

#include "AnalysisJob.h"
#include "core/Result.h"

namespace loupe::widgets {
class ImageView;
class JobBar;
class LayerStack;
}

namespace loupe::gui {

class JobBarLink;

class CompareSlot : public QObject {
  Q_OBJECT

 public:
  // `view` shows the second result; `bar` lists the runs (may be null). `host` must outlive the slot.
  CompareSlot(host::PluginHost& host, widgets::ImageView* view, widgets::JobBar* bar, QObject* parent = nullptr);

  // Runs `request` into the second view; `title` names the task in the job bar and the view's caption.
  Result<void> start(const host::RunRequest& request, const QString& title);
  bool isRunning() const { return job_.isRunning(); }
  void cancel() { job_.cancel(); }
  void waitForFinished() { job_.waitForFinished(); }
  // Drops the second result (and cancels a run): the view shows the original again.
  void clear();

  bool hasResult() const { return hasResult_; }
  // "Error Level Analysis (quality=75, ...)": what the second view shows; "Original" without a result.
  QString caption() const;
  widgets::LayerStack* layers() const { return layers_; }
  const JobResult& result() const { return job_.result(); }
  const host::RunRequest& request() const { return request_; }

 Q_SIGNALS:
  // A run ended; ok is false for failures and cancellations (message says why, empty when cancelled).
  void finished(bool ok, const QString& message);

 private:
  void onFinished();

  AnalysisJob job_;
  QPointer<widgets::ImageView> view_;  // a window's child: may go first when the window closes
  widgets::LayerStack* layers_;
  JobBarLink* link_;
  host::RunRequest request_;
  QString title_;
  bool hasResult_ = false;
  bool dropNext_ = false;  // clear() while running: the result that still arrives is not shown
};

}  // namespace loupe::gui
