#pragma once
// The operating point of a result that has a heatmap and a mask computed from it (forgery.localize: the
// forgery probability and "Forged regions (p >= t)"): a slider moves the threshold and the mask layer is
// recomputed from the heatmap's values on the GUI thread (no task re-run; about 10 ms for 12 MP), the mask
// layer's title and the result table's threshold, forged_fraction and verdict rows follow. Hidden for
// results without such a pair.

#include <QWidget>

#include <vector>

#include "core/Layer.h"

class QDoubleSpinBox;
class QLabel;
class QSlider;
class QTableWidget;

namespace loupe::widgets {
class LayerStack;
}

namespace loupe::gui {

// mask(x, y) = heatmap(x, y) >= threshold (NaN: 0); all 0 when `forgeryFound` is false, as the task does.
// `forged` (optional) receives the number of mask pixels set, counted in the same pass.
Mask thresholdMask(const Heatmap& heatmap, float threshold, bool forgeryFound = true, std::size_t* forged = nullptr);

class ThresholdPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ThresholdPanel(widgets::LayerStack* layers, QTableWidget* table, QWidget* parent = nullptr);

  // Looks for the heatmap + mask pair in a new result (same size, heatmap in [0, 1]) and its summary table
  // (rows "threshold", "forgery_found"); shows the panel at the result's threshold, or hides it.
  void attach(const std::vector<Layer>& result);
  void setTable(QTableWidget* table) { table_ = table; }
  bool isActive() const { return active_; }
  double threshold() const;
  // Moves the slider (steps of 0.01) and recomputes the mask.
  void setThreshold(double threshold);
  // Milliseconds the last update took (mask + layer swap + table), for the status line and benchmarks.
  double lastUpdateMs() const { return lastMs_; }
  QSlider* slider() const { return slider_; }
  // Writes the operating point shown into `result` (the layers of the attached run, as the task returned
  // them): the mask layer's values and title, and the summary table's threshold, forged_fraction and verdict
  // rows, as drawn and listed now. Returns false (nothing written) when inactive or the layers are not there.
  bool writeShownTo(std::vector<Layer>& result) const;

 Q_SIGNALS:
  void thresholdApplied(double threshold, double forgedFraction);

 private:
  void apply(double threshold);
  void updateTable(double threshold, double forgedFraction);
  double forgedFraction() const;
  QString verdict(double threshold, double forgedFraction) const;

  widgets::LayerStack* layers_;
  QTableWidget* table_;
  QSlider* slider_ = nullptr;
  QDoubleSpinBox* spin_ = nullptr;
  QLabel* info_ = nullptr;
  QString heatmapId_, maskId_;
  bool forgeryFound_ = true;
  bool active_ = false;
  bool swapping_ = false;
  double lastMs_ = 0.0;
};

}  // namespace loupe::gui
