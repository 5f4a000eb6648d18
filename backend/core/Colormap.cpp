#include "Colormap.h"

#include <algorithm>
#include <cmath>

namespace loupe {
namespace {
#include "ColormapTables.inc"

std::array<std::uint8_t, 3> jet(int i) {
  // MATLAB's jet: piecewise-linear ramps of r, g, b over [0, 1].
  const double t = i / 255.0;
  auto ramp = [](double x) { return std::clamp(1.5 - std::abs(4.0 * x), 0.0, 1.0); };
  const auto c = [](double v) { return static_cast<std::uint8_t>(std::lround(v * 255.0)); };
  return {c(ramp(t - 0.75)), c(ramp(t - 0.5)), c(ramp(t - 0.25))};
}
}  // namespace

Result<Colormap> colormapFromName(const std::string& name) {
  if (name == "viridis") return Colormap::Viridis;
  if (name == "magma") return Colormap::Magma;
  if (name == "jet") return Colormap::Jet;
  if (name == "gray" || name == "grey") return Colormap::Gray;
  return Error{ErrorCode::InvalidArgument, "Unknown colour map '" + name + "' (known: viridis, magma, jet, gray)"};
}

const char* colormapName(Colormap map) {
  switch (map) {
    case Colormap::Viridis: return "viridis";
    case Colormap::Magma: return "magma";
    case Colormap::Jet: return "jet";
    case Colormap::Gray: return "gray";
  }
  return "viridis";
}

std::vector<std::string> colormapNames() { return {"viridis", "magma", "jet", "gray"}; }

std::array<std::uint8_t, 3> colormapColor(Colormap map, float t) {
  if (!(t >= 0.f)) t = 0.f;  // also catches NaN
  const int i = std::min(255, static_cast<int>(std::lround(std::min(t, 1.f) * 255.f)));
  switch (map) {
    case Colormap::Viridis: return {k_viridis[i][0], k_viridis[i][1], k_viridis[i][2]};
    case Colormap::Magma: return {k_magma[i][0], k_magma[i][1], k_magma[i][2]};
    case Colormap::Jet: return jet(i);
    case Colormap::Gray: {
      const auto v = static_cast<std::uint8_t>(i);
      return {v, v, v};
    }
  }
  return {0, 0, 0};
}

}  // namespace loupe
