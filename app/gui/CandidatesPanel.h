#pragma once
// The lesion candidates of a study (from prostate.detect), one row each: likelihood, volume in mL, largest
// diameter in mm, location (world LPS mm and, where known, side and zone). Clicking a row jumps every view
// of the StudyWindow there; the reader sets a PI-RADS category (1-5, or not assessed) and a comment per
// candidate, which the session keeps and the case report lists.

#include <QWidget>

#include <array>
#include <optional>
#include <vector>

#include "session/Session.h"

class QLabel;
class QTableWidget;

namespace loupe::gui {

class CandidatesPanel : public QWidget {
  Q_OBJECT

 public:
  enum Column { Id, Likelihood, VolumeMl, Diameter, Location, Where, Pirads, Comment, ColumnCount };

  explicit CandidatesPanel(QWidget* parent = nullptr);

  // Replaces the rows (assessments included).
  void setCandidates(const std::vector<session::StudyCandidate>& candidates);
  // The rows with the reader's current PI-RADS and comments.
  std::vector<session::StudyCandidate> candidates() const;
  int count() const { return static_cast<int>(rows_.size()); }

  void setPirads(int row, std::optional<int> category);
  void setComment(int row, const QString& comment);
  // Selects a row and jumps there, as a click does.
  void activate(int row);
  QTableWidget* table() const { return table_; }

 Q_SIGNALS:
  // A row was clicked (or activate() called): the candidate's centroid in world mm (LPS).
  void candidateActivated(int row, std::array<double, 3> worldLps);
  // A PI-RADS category or a comment changed.
  void assessmentChanged();

 private:
  void onCellChanged(int row, int column);

  QTableWidget* table_ = nullptr;
  QLabel* caption_ = nullptr;
  std::vector<session::StudyCandidate> rows_;
  bool filling_ = false;
};

}  // namespace loupe::gui
