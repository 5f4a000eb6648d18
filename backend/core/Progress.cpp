#include "Progress.h"

#include <algorithm>
#include <cmath>

namespace loupe {

Progress::Progress(Sink sink) { state_->sink = std::move(sink); }

void Progress::report(double fraction, const std::string& stage) {
  const double local = std::isnan(fraction) ? 0.0 : std::clamp(fraction, 0.0, 1.0);
  const double global = begin_ + (end_ - begin_) * local;
  // Without this lock two threads could update in one order and reach the sink in the other,
  // making a progress bar jump backwards. Recursive: a sink may report again on the same thread.
  std::lock_guard<std::recursive_mutex> ordered(state_->delivery);
  Sink sink;
  std::string currentStage;
  double current;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->fraction = std::max(state_->fraction, global);
    if (!stage.empty()) state_->stage = stage;
    current = state_->fraction;
    currentStage = state_->stage;
    sink = state_->sink;
  }
  if (sink) sink(current, currentStage);
}

Progress Progress::slice(double begin, double end) const {
  Progress child(*this);
  child.begin_ = begin_ + (end_ - begin_) * std::clamp(begin, 0.0, 1.0);
  child.end_ = begin_ + (end_ - begin_) * std::clamp(end, 0.0, 1.0);
  return child;
}

double Progress::fraction() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->fraction;
}

std::string Progress::stage() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stage;
}

}  // namespace loupe
