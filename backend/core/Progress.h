#pragma once
// Progress reporting: a fraction in [0, 1] plus a stage text, delivered to a sink callback.
// Sub-steps map their own 0..1 into a slice of the parent's range with `slice()`.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace loupe {

class Progress {
 public:
  using Sink = std::function<void(double fraction, const std::string& stage)>;

  Progress() = default;
  explicit Progress(Sink sink);

  // Reports `fraction` (clamped to [0, 1]) of this progress' range; fractions never go backwards.
  // Thread-safe: reports from several threads reach the sink one at a time and in non-decreasing order,
  // so the sink should be cheap (emit a signal, store a value). The sink may call fraction() and stage().
  void report(double fraction, const std::string& stage = {});
  // A child whose 0..1 covers [begin, end] of this one.
  Progress slice(double begin, double end) const;

  double fraction() const;
  std::string stage() const;

 private:
  struct State {
    Sink sink;
    std::recursive_mutex delivery;  // held while updating and calling the sink: keeps sink calls ordered
    std::mutex mutex;               // guards fraction and stage
    double fraction = 0.0;
    std::string stage;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
  double begin_ = 0.0;
  double end_ = 1.0;
};

}  // namespace loupe
