#pragma once
// A one-line progress bar with stage text and ETA, redrawn in place on a terminal (stderr).

#include <chrono>
#include <cstdio>
#include <string>

namespace loupe::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out, bool enabled);
  void update(double fraction, const std::string& stage);
  void finish();  // clears the line

 private:
  std::FILE* out_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastDraw_{};
  bool drawn_ = false;
};

}  // namespace loupe::cli
