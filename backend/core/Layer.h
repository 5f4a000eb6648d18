#pragma once
// Typed results that plugins hand back and the viewer, the CLI and reports know how to show.
// Kinds without a payload type yet (volume_overlay, embedding_table, gallery, text) are manifest
// vocabulary only.

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
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

// One entry of a label table. Without a colour the viewer picks a distinct palette colour.
struct LabelInfo {
  std::int32_t value = 0;
  std::string name;
  std::optional<std::array<std::uint8_t, 3>> colour;
  bool visible = true;
};

// An integer map (one label per pixel, e.g. zones or lesions) and the table naming its labels.
struct LabelMap {
  int width = 0;
  int height = 0;
  std::vector<std::int32_t> values;  // row-major, width * height
  std::vector<LabelInfo> labels;
};

// Vector layers are in image coordinates: pixel (x, y) covers [x, x+1) x [y, y+1).
struct Point2 {
  float x = 0.f;
  float y = 0.f;
};

struct Polyline {
  std::vector<Point2> points;
  std::string label;
};

// Lines (lanes, contours, matched keypoint pairs) over an image of the given size.
struct Polylines {
  int width = 0;   // extent of the image the coordinates refer to
  int height = 0;
  std::vector<Polyline> lines;
};

struct Box {
  float x = 0.f;  // top-left corner
  float y = 0.f;
  float w = 0.f;
  float h = 0.f;
  std::string label;
  double score = std::numeric_limits<double>::quiet_NaN();  // NaN: no score
};

struct Boxes {
  int width = 0;
  int height = 0;
  std::vector<Box> boxes;
};

struct Keypoint {
  Point2 position;
  std::string label;
};

struct Points {
  int width = 0;
  int height = 0;
  std::vector<Keypoint> points;
};

struct Layer {
  std::string id;     // unique within a result, e.g. "ela"
  std::string title;  // shown to users
  std::variant<Heatmap, Mask, Table, LabelMap, Polylines, Boxes, Points> payload;

  // The manifest kind: "heatmap", "mask", "table", "labelmap", "polylines", "boxes", "points".
  std::string kind() const;
};

}  // namespace loupe
