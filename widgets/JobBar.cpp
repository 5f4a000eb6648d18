#include "JobBar.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace loupe::widgets {

struct JobBar::Row {
  Entry entry;
  QElapsedTimer clock;
  QFrame* widget = nullptr;
  QLabel* title = nullptr;
  QLabel* params = nullptr;
  QLabel* stage = nullptr;
  QProgressBar* bar = nullptr;
  QLabel* time = nullptr;
  QToolButton* cancel = nullptr;
};

namespace {

constexpr int kTickMs = 250;  // elapsed time and ETA refresh

}  // namespace

JobBar::JobBar(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("jobBar"));
  header_ = new QLabel(this);
  header_->setObjectName(QStringLiteral("jobHeader"));
  clear_ = new QPushButton(tr("Clear finished"), this);
  clear_->setObjectName(QStringLiteral("clearFinishedButton"));
  clear_->setToolTip(tr("Remove the jobs that have ended from this list"));
  connect(clear_, &QPushButton::clicked, this, &JobBar::clearFinished);

  auto* inner = new QWidget;
  list_ = new QVBoxLayout(inner);
  list_->setContentsMargins(0, 0, 0, 0);
  list_->setSpacing(2);
  empty_ = new QLabel(tr("No jobs yet. Run a task to see it here."), inner);
  empty_->setForegroundRole(QPalette::PlaceholderText);
  list_->addWidget(empty_);
  list_->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(inner);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);

  auto* top = new QHBoxLayout;
  top->setContentsMargins(0, 0, 0, 0);
  top->addWidget(header_, 1);
  top->addWidget(clear_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 4, 6, 4);
  layout->setSpacing(4);
  layout->addLayout(top);
  layout->addWidget(scroll, 1);

  ticker_.setInterval(kTickMs);
  connect(&ticker_, &QTimer::timeout, this, &JobBar::tick);
  updateHeader();
}

int JobBar::addJob(const QString& title, const QString& parameters) {
  auto* row = new Row;
  row->entry.id = nextId_++;
  row->entry.title = title;
  row->entry.parameters = parameters;
  row->entry.stage = tr("Starting");
  row->clock.start();

  row->widget = new QFrame;
  row->widget->setObjectName(QStringLiteral("job%1").arg(row->entry.id));
  row->widget->setFrameShape(QFrame::StyledPanel);
  auto* h = new QHBoxLayout(row->widget);
  h->setContentsMargins(6, 2, 4, 2);
  row->title = new QLabel(title, row->widget);
  row->title->setObjectName(QStringLiteral("jobTitle"));
  QFont bold = row->title->font();
  bold.setBold(true);
  row->title->setFont(bold);
  row->params = new QLabel(parameters, row->widget);
  row->params->setObjectName(QStringLiteral("jobParameters"));
  row->params->setForegroundRole(QPalette::PlaceholderText);
  row->params->setToolTip(parameters);
  row->params->setMinimumWidth(40);
  row->params->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  row->stage = new QLabel(row->widget);
  row->stage->setObjectName(QStringLiteral("jobStage"));
  row->stage->setMinimumWidth(160);
  row->stage->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  row->bar = new QProgressBar(row->widget);
  row->bar->setObjectName(QStringLiteral("jobProgress"));
  row->bar->setRange(0, 1000);
  row->bar->setFixedWidth(160);
  row->bar->setTextVisible(false);
  row->time = new QLabel(row->widget);
  row->time->setObjectName(QStringLiteral("jobTime"));
  row->time->setMinimumWidth(130);
  row->cancel = new QToolButton(row->widget);
  row->cancel->setObjectName(QStringLiteral("jobCancel"));
  row->cancel->setIcon(style()->standardIcon(QStyle::SP_DialogCancelButton));
  row->cancel->setText(tr("Cancel"));
  row->cancel->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  row->cancel->setToolTip(tr("Stop this job"));
  const int id = row->entry.id;
  connect(row->cancel, &QToolButton::clicked, this, [this, id] { requestCancel(id); });
  h->addWidget(row->title);
  h->addWidget(row->params, 2);
  h->addWidget(row->stage, 3);
  h->addWidget(row->bar);
  h->addWidget(row->time);
  h->addWidget(row->cancel);

  rows_[id] = row;
  empty_->hide();
  list_->insertWidget(list_->count() - 1, row->widget);  // before the stretch
  row->widget->show();  // now, not after the next event loop pass
  refreshRow(*row);
  if (!ticker_.isActive()) ticker_.start();
  updateHeader();
  Q_EMIT jobsChanged();
  return id;
}

void JobBar::setProgress(int id, double fraction, const QString& stage) {
  const auto it = rows_.find(id);
  if (it == rows_.end() || it->second->entry.outcome != Outcome::Running) return;
  Row& row = *it->second;
  row.entry.fraction = std::clamp(fraction, 0.0, 1.0);
  if (!stage.isEmpty()) row.entry.stage = stage;
  refreshRow(row);
}

void JobBar::finishJob(int id, Outcome outcome, const QString& message, double seconds) {
  const auto it = rows_.find(id);
  if (it == rows_.end() || it->second->entry.outcome != Outcome::Running || outcome == Outcome::Running) return;
  Row& row = *it->second;
  row.entry.outcome = outcome;
  row.entry.message = message;
  row.entry.cancelling = false;
  row.entry.seconds = seconds >= 0 ? seconds : row.clock.elapsed() / 1000.0;
  if (outcome == Outcome::Ok) row.entry.fraction = 1.0;
  refreshRow(row);
  if (runningCount() == 0) ticker_.stop();
  updateHeader();
  Q_EMIT jobsChanged();
}

void JobBar::requestCancel(int id) {
  const auto it = rows_.find(id);
  if (it == rows_.end() || it->second->entry.outcome != Outcome::Running || it->second->entry.cancelling) return;
  it->second->entry.cancelling = true;
  refreshRow(*it->second);
  Q_EMIT cancelRequested(id);
}

void JobBar::clearFinished() {
  for (auto it = rows_.begin(); it != rows_.end();) {
    if (it->second->entry.outcome == Outcome::Running) {
      ++it;
      continue;
    }
    delete it->second->widget;
    delete it->second;
    it = rows_.erase(it);
  }
  empty_->setVisible(rows_.empty());
  updateHeader();
  Q_EMIT jobsChanged();
}

std::optional<JobBar::Entry> JobBar::entry(int id) const {
  const auto it = rows_.find(id);
  if (it == rows_.end()) return std::nullopt;
  Entry e = it->second->entry;
  if (e.outcome == Outcome::Running) e.seconds = it->second->clock.elapsed() / 1000.0;
  return e;
}

QList<int> JobBar::jobIds() const {
  QList<int> ids;
  for (const auto& [id, row] : rows_) ids << id;
  return ids;
}

int JobBar::runningCount() const {
  return static_cast<int>(std::count_if(rows_.begin(), rows_.end(),
                                        [](const auto& r) { return r.second->entry.outcome == Outcome::Running; }));
}

int JobBar::finishedCount() const { return static_cast<int>(rows_.size()) - runningCount(); }

std::optional<double> JobBar::estimateRemaining(double fraction, double elapsedSeconds) {
  // Too early to extrapolate: less than 2 % done or under half a second of history.
  if (!(fraction >= 0.02) || fraction >= 1.0 || elapsedSeconds < 0.5) return std::nullopt;
  return elapsedSeconds * (1.0 - fraction) / fraction;
}

QString JobBar::formatDuration(double seconds) {
  if (seconds < 10.0) return tr("%1 s").arg(seconds, 0, 'f', 2);
  if (seconds < 60.0) return tr("%1 s").arg(seconds, 0, 'f', 1);
  const int total = static_cast<int>(std::lround(seconds));
  if (total < 3600) return tr("%1 min %2 s").arg(total / 60).arg(total % 60, 2, 10, QLatin1Char('0'));
  return tr("%1 h %2 min").arg(total / 3600).arg((total % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QSize JobBar::sizeHint() const {
  const int line = fontMetrics().height();
  const int row = std::max(line + 12, style()->pixelMetric(QStyle::PM_ToolBarIconSize) + 10);
  return {800, header_->sizeHint().height() + 3 * (row + 2) + 16};
}

void JobBar::refreshRow(Row& row) {
  const Entry& e = row.entry;
  const bool running = e.outcome == Outcome::Running;
  row.bar->setVisible(running);
  row.cancel->setVisible(running);
  row.cancel->setEnabled(running && !e.cancelling);
  row.bar->setValue(static_cast<int>(std::lround(e.fraction * 1000.0)));
  QPalette pal = row.stage->palette();
  pal.setColor(QPalette::WindowText, palette().color(QPalette::WindowText));
  switch (e.outcome) {
    case Outcome::Running: {
      row.stage->setText(e.cancelling ? tr("Cancelling\u2026") : e.stage);
      const double elapsed = row.clock.elapsed() / 1000.0;
      const auto left = estimateRemaining(e.fraction, elapsed);
      row.time->setText(left ? tr("%1, about %2 left").arg(formatDuration(elapsed), formatDuration(*left))
                             : tr("%1, estimating\u2026").arg(formatDuration(elapsed)));
      break;
    }
    case Outcome::Ok:
      row.stage->setText(tr("\u2714 Done"));
      pal.setColor(QPalette::WindowText, QColor(30, 130, 60));
      row.time->setText(tr("took %1").arg(formatDuration(e.seconds)));
      break;
    case Outcome::Failed:
      row.stage->setText(tr("\u2716 Failed: %1").arg(e.message));
      row.stage->setToolTip(e.message);
      pal.setColor(QPalette::WindowText, QColor(190, 40, 40));
      row.time->setText(tr("after %1").arg(formatDuration(e.seconds)));
      break;
    case Outcome::Cancelled:
      row.stage->setText(tr("Cancelled"));
      pal.setColor(QPalette::WindowText, QColor(150, 100, 20));
      row.time->setText(tr("after %1").arg(formatDuration(e.seconds)));
      break;
  }
  row.stage->setPalette(pal);
}

void JobBar::tick() {
  for (auto& [id, row] : rows_)
    if (row->entry.outcome == Outcome::Running) refreshRow(*row);
}

void JobBar::updateHeader() {
  const int running = runningCount(), finished = finishedCount();
  header_->setText(tr("<b>Jobs</b>: %1 running, %2 finished").arg(running).arg(finished));
  clear_->setEnabled(finished > 0);
}

}  // namespace loupe::widgets
