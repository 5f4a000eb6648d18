#pragma once
// Connects an AnalysisJob to the window's JobBar: each start() becomes a line in the bar, progress and
// stage text follow, the end is reported (done / failed with the message / cancelled), and the line's
// Cancel button cancels the job.

#include <QObject>
#include <QPointer>
#include <QString>

#include <string>
#include <utility>
#include <vector>

namespace loupe::widgets {
class JobBar;
}

namespace loupe::gui {

class AnalysisJob;

// "quality=90, amplification=20": a run's parameters as the job bar and view captions show them.
QString describeParameters(const std::vector<std::pair<std::string, std::string>>& params);

class JobBarLink : public QObject {
  Q_OBJECT

 public:
  JobBarLink(AnalysisJob& job, widgets::JobBar* bar, QObject* parent = nullptr);

  // Call once the job has started: adds its line. `title`: what runs ("Error Level Analysis on x.jpg").
  void started(const QString& title, const QString& parameters);
  // The bar's id of the running (or last) job; 0 before the first.
  int jobId() const { return id_; }

 private:
  void onFinished();

  AnalysisJob& job_;
  QPointer<widgets::JobBar> bar_;
  int id_ = 0;
  bool running_ = false;
};

}  // namespace loupe::gui
