#include "EmbeddingAlign.h"

#include <algorithm>
#include <cmath>

namespace loupe::gui {

namespace {
constexpr double kPi = 3.14159265358979323846;

bool finitePair(const std::vector<float>& a, std::size_t i) { return std::isfinite(a[2 * i]) && std::isfinite(a[2 * i + 1]); }
}  // namespace

LayoutTransform procrustesAlign(const std::vector<float>& from, const std::vector<float>& to) {
  LayoutTransform t;
  if (from.size() != to.size() || from.size() % 2 != 0) return t;
  const std::size_t n = from.size() / 2;
  // Means over the pairs where both points are finite.
  double mx0 = 0, mx1 = 0, my0 = 0, my1 = 0;
  std::int64_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!finitePair(from, i) || !finitePair(to, i)) continue;
    mx0 += from[2 * i];
    mx1 += from[2 * i + 1];
    my0 += to[2 * i];
    my1 += to[2 * i + 1];
    ++m;
  }
  if (m < 2) return t;
  mx0 /= double(m), mx1 /= double(m), my0 /= double(m), my1 /= double(m);
  // M = Xc^T Yc, |Xc|^2 and |Yc|^2.
  double m00 = 0, m01 = 0, m10 = 0, m11 = 0, xx = 0, yy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!finitePair(from, i) || !finitePair(to, i)) continue;
    const double a0 = from[2 * i] - mx0, a1 = from[2 * i + 1] - mx1;
    const double b0 = to[2 * i] - my0, b1 = to[2 * i + 1] - my1;
    m00 += a0 * b0;
    m01 += a0 * b1;
    m10 += a1 * b0;
    m11 += a1 * b1;
    xx += a0 * a0 + a1 * a1;
    yy += b0 * b0 + b1 * b1;
  }
  if (!(xx > 0.0) || !std::isfinite(xx)) return t;
  const double rotTrace = std::hypot(m00 + m11, m01 - m10);
  const double refTrace = std::hypot(m00 - m11, m01 + m10);
  double trace = 0.0;
  if (rotTrace >= refTrace) {
    trace = rotTrace;
    const double c = rotTrace > 0 ? (m00 + m11) / rotTrace : 1.0, s = rotTrace > 0 ? (m01 - m10) / rotTrace : 0.0;
    t.r00 = c, t.r01 = s, t.r10 = -s, t.r11 = c;
    t.reflection = false;
    // x R with R = [[c, s], [-s, c]] turns (1, 0) to (c, s): an anticlockwise angle atan2(s, c).
    t.rotationDegrees = std::atan2(s, c) * 180.0 / kPi;
  } else {
    trace = refTrace;
    const double c = (m00 - m11) / refTrace, s = (m01 + m10) / refTrace;
    t.r00 = c, t.r01 = s, t.r10 = s, t.r11 = -c;
    t.reflection = true;
    // (1, 0) -> (c, s) and (0, 1) -> (s, -c): a mirror in the x axis then the rotation by atan2(s, c).
    t.rotationDegrees = std::atan2(s, c) * 180.0 / kPi;
  }
  t.scale = trace > 0.0 ? trace / xx : 1.0;
  t.tx = my0 - t.scale * (mx0 * t.r00 + mx1 * t.r10);
  t.ty = my1 - t.scale * (mx0 * t.r01 + mx1 * t.r11);
  // Residual: |Yc|^2 - trace^2 / |Xc|^2 at the optimum (never negative in exact arithmetic).
  t.residual = std::sqrt(std::max(0.0, yy - trace * trace / xx) / double(m));
  t.fitted = m;
  t.valid = true;
  return t;
}

void applyTransform(std::vector<float>& xy, const LayoutTransform& t) {
  for (std::size_t i = 0; i + 1 < xy.size(); i += 2) {
    const double x = xy[i], y = xy[i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    xy[i] = static_cast<float>(t.scale * (x * t.r00 + y * t.r10) + t.tx);
    xy[i + 1] = static_cast<float>(t.scale * (x * t.r01 + y * t.r11) + t.ty);
  }
}

}  // namespace loupe::gui
