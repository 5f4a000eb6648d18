#pragma once
// Cooperative cancellation shared between the job owner (GUI, CLI signal handler) and backend code.
// Copies share one flag; checking it is a relaxed atomic load, cheap enough for inner loops.

#include <atomic>
#include <memory>

namespace loupe {

class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true, std::memory_order_relaxed); }
  bool isCancelled() const { return flag_->load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace loupe
