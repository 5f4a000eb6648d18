#pragma once
// JobBar: the jobs of a window, one line each. A running job shows its title and parameters, the stage
// it reports, a progress bar, the time elapsed and an estimate of the time left, and a Cancel button; a
// finished job keeps its parameters and shows how long it took and how it ended (done, failed with the
// message, cancelled). "Clear finished" removes the finished lines. Several jobs may run at once.
//
// The bar does not run anything: its owner adds a job when it starts one, forwards progress, reports the
// end, and acts on cancelRequested() (see app/gui/JobBarLink for AnalysisJob).

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <map>
#include <optional>

class QLabel;
class QPushButton;
class QVBoxLayout;

namespace loupe::widgets {

class JobBar : public QWidget {
  Q_OBJECT

 public:
  enum class Outcome { Running, Ok, Failed, Cancelled };

  struct Entry {
    int id = 0;
    QString title;
    QString parameters;
    QString stage;
    double fraction = 0.0;
    Outcome outcome = Outcome::Running;
    QString message;          // failure message
    double seconds = 0.0;     // elapsed so far, or the duration once finished
    bool cancelling = false;  // cancel was asked, the job has not ended yet
  };

  explicit JobBar(QWidget* parent = nullptr);

  // A job that starts now; returns its id (never reused).
  int addJob(const QString& title, const QString& parameters);
  void setProgress(int id, double fraction, const QString& stage = QString());
  // Ends a job; `seconds` < 0 uses the time since addJob().
  void finishJob(int id, Outcome outcome, const QString& message = QString(), double seconds = -1.0);
  // Same as pressing the job's Cancel button: marks it as cancelling and emits cancelRequested().
  void requestCancel(int id);
  void clearFinished();

  std::optional<Entry> entry(int id) const;
  QList<int> jobIds() const;  // in the order they were added
  int runningCount() const;
  int finishedCount() const;

  // Seconds left, extrapolated from the progress so far; nothing until there is enough to go on.
  static std::optional<double> estimateRemaining(double fraction, double elapsedSeconds);
  static QString formatDuration(double seconds);

  QSize sizeHint() const override;  // room for the header and three jobs

 Q_SIGNALS:
  void cancelRequested(int id);
  void jobsChanged();

 private:
  struct Row;
  void refreshRow(Row& row);
  void tick();
  void updateHeader();

  std::map<int, Row*> rows_;
  int nextId_ = 1;
  QVBoxLayout* list_;
  QLabel* header_;
  QLabel* empty_;
  QPushButton* clear_;
  QTimer ticker_;
};

}  // namespace loupe::widgets
