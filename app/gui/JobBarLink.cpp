#include "JobBarLink.h"

#include "AnalysisJob.h"
#include "widgets/JobBar.h"

namespace loupe::gui {

QString describeParameters(const std::vector<std::pair<std::string, std::string>>& params) {
  QStringList parts;
  for (const auto& [name, value] : params)
    parts << QStringLiteral("%1=%2").arg(QString::fromStdString(name), QString::fromStdString(value));
  return parts.join(QStringLiteral(", "));
}

JobBarLink::JobBarLink(AnalysisJob& job, widgets::JobBar* bar, QObject* parent) : QObject(parent), job_(job), bar_(bar) {
  connect(&job_, &AnalysisJob::progressChanged, this, [this](double fraction, const QString& stage) {
    if (running_ && bar_) bar_->setProgress(id_, fraction, stage);
  });
  connect(&job_, &AnalysisJob::finished, this, &JobBarLink::onFinished);
  if (bar_)
    connect(bar_, &widgets::JobBar::cancelRequested, this, [this](int id) {
      if (running_ && id == id_) job_.cancel();
    });
}

void JobBarLink::started(const QString& title, const QString& parameters) {
  if (!bar_) return;
  if (running_) bar_->finishJob(id_, widgets::JobBar::Outcome::Cancelled);  // never left dangling
  id_ = bar_->addJob(title, parameters);
  running_ = true;
}

void JobBarLink::onFinished() {
  if (!running_) return;
  running_ = false;
  if (!bar_) return;
  const JobResult& result = job_.result();
  if (result.ok) bar_->finishJob(id_, widgets::JobBar::Outcome::Ok);
  else if (result.cancelled()) bar_->finishJob(id_, widgets::JobBar::Outcome::Cancelled);
  else bar_->finishJob(id_, widgets::JobBar::Outcome::Failed, QString::fromStdString(result.error.message));
}

}  // namespace loupe::gui
