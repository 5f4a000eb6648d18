// Learning-rate schedule shared by Loupe's trainers: linear warm-up over `warmupSteps`, then cosine decay
// to 0 at `totalSteps` (steps count from 0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace loupe::train {

inline double warmupCosineLr(double peak, std::int64_t step, std::int64_t warmupSteps, std::int64_t totalSteps) {
  if (step < warmupSteps) return peak * double(step + 1) / double(warmupSteps);
  const double progress = double(step - warmupSteps) / double(std::max<std::int64_t>(1, totalSteps - warmupSteps));
  return peak * 0.5 * (1 + std::cos(M_PI * progress));
}

}  // namespace loupe::train
