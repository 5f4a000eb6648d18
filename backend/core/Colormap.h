#pragma once
// Colour maps for heatmaps: viridis and magma (perceptually uniform), jet, gray.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "Result.h"

namespace loupe {

enum class Colormap { Viridis, Magma, Jet, Gray };

Result<Colormap> colormapFromName(const std::string& name);
const char* colormapName(Colormap map);
std::vector<std::string> colormapNames();
// Colour of t in [0, 1] (clamped) as 8-bit RGB, from a 256-entry table.
std::array<std::uint8_t, 3> colormapColor(Colormap map, float t);

}  // namespace loupe
