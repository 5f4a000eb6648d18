#pragma once
// Bookkeeping that Loupe's trainers (EmbeddingTrainer, ForgeryTrainer) share around their own steps: the
// progress line with the running loss and an ETA from this run's pace, and the end of an epoch (mean loss
// recorded, checkpoint written, the caller's per-epoch callback run with the model in eval mode). What a step
// computes stays in each trainer.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::train {

// "1m05s", "2h03m"; "?" for a negative or non-finite number of seconds.
inline std::string formatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int t = int(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}

// What a checkpoint records about the run so far: epochs done and their mean losses.
struct EpochState {
  int epoch = 0;
  std::vector<double> losses;
};

// Reports "epoch E/N, loss L, ETA T" after every step; the ETA extrapolates the steps this run has taken
// (a resumed run does not count the time of the epochs it skipped).
class StepProgress {
 public:
  StepProgress(Progress progress, int epochs, std::int64_t totalSteps)
      : progress_(std::move(progress)), epochs_(epochs), totalSteps_(totalSteps) {}

  // After global step `step` (0-based, counted from the first epoch) of `epoch` (0-based); `meanLoss` is the
  // epoch's running mean.
  void stepDone(int epoch, std::int64_t step, double meanLoss) {
    ++stepsThisRun_;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = elapsed / double(stepsThisRun_) * double(totalSteps_ - step - 1);
    std::ostringstream stage;
    stage.precision(4);
    stage << "epoch " << epoch + 1 << "/" << epochs_ << ", loss " << meanLoss << ", ETA " << formatDuration(eta);
    progress_.report(double(step + 1) / double(totalSteps_), stage.str());
  }

 private:
  Progress progress_;
  int epochs_;
  std::int64_t totalSteps_;
  std::int64_t stepsThisRun_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The end of epoch `epoch` (0-based): its mean loss goes into `state`, `saveCheckpoint()` runs when given (it
// sees the updated state), then `onEpoch()` when given, with `model` in eval mode (back in train mode after).
// Returns whether to go on (false when onEpoch asks to stop), or the checkpoint's error.
template <class Model>
Result<bool> finishEpoch(Model& model, EpochState& state, int epoch, double meanLoss,
                         const std::function<Result<void>()>& saveCheckpoint, const std::function<bool()>& onEpoch) {
  state.epoch = epoch + 1;
  state.losses.push_back(meanLoss);
  if (saveCheckpoint)
    if (auto ok = saveCheckpoint(); !ok) return ok.error();
  if (!onEpoch) return true;
  model->eval();
  const bool goOn = onEpoch();
  model->train();
  return goOn;
}

// The end of a run: the model in eval mode, the losses of every epoch so far and the wall time since `start`,
// into a result with the fields model, epochLoss and seconds.
template <class TrainResultT, class Model>
TrainResultT finishRun(TrainResultT result, Model& model, const EpochState& state, std::chrono::steady_clock::time_point start) {
  model->eval();
  result.model = model;
  result.epochLoss = state.losses;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace loupe::train
