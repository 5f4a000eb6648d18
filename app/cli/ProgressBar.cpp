#include "ProgressBar.h"

#include <algorithm>
#include <cmath>

namespace loupe::cli {

ProgressBar::ProgressBar(std::FILE* out, bool enabled) : out_(out), enabled_(enabled) {}

void ProgressBar::update(double fraction, const std::string& stage) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && fraction < 1.0 && now - lastDraw_ < std::chrono::milliseconds(100)) return;
  lastDraw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int width = 30;
  const int filled = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * width));
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '.');
  char eta[32] = "ETA --";
  if (fraction > 0.02 && fraction < 1.0) std::snprintf(eta, sizeof eta, "ETA %.0fs", elapsed * (1.0 - fraction) / fraction);
  else if (fraction >= 1.0) std::snprintf(eta, sizeof eta, "%.1fs", elapsed);
  std::string text = stage.substr(0, 40);
  std::fprintf(out_, "\r\033[K[%s] %3d%% %-40s %s", bar.c_str(), static_cast<int>(fraction * 100), text.c_str(), eta);
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
}

}  // namespace loupe::cli
