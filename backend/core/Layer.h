#pragma once
// Typed results that plugins hand back and the viewer, the CLI and reports know how to show.
// Only the kinds implemented so far have payload types; the full list is the manifest vocabulary.

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "Colormap.h"
#include "Image.h"

namespace loupe {

// Every kind a manifest may declare as a task output.
const std::vector<std::string>& layerKindNames();

// A float map at the input's resolution, drawn through a colour map over [rangeMin, rangeMax].
struct Heatmap {
  int width = 0;
  int height = 0;
  std::vector<float> values;  // row-major, width * height
  float rangeMin = 0.f;
  float rangeMax = 1.f;
  Colormap colormap = Colormap::Viridis;
  std::string unit;  // legend text, e.g. "abs. error (grey levels)"

  float at(int x, int y) const { return values[static_cast<std::size_t>(y) * width + x]; }
  // RGBA 8-bit rendering; alpha is 255 everywhere.
  Image render() const;
};

// A binary mask (0 / 1) at the input's resolution.
struct Mask {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> values;
};

// Rows of named values: metrics, metadata, statistics.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct Layer {
  std::string id;     // unique within a result, e.g. "ela"
  std::string title;  // shown to users
  std::variant<Heatmap, Mask, Table> payload;

  std::string kind() const;  // "heatmap", "mask", "table"
};

}  // namespace loupe
