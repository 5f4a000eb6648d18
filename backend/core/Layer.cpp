#include "Layer.h"

namespace loupe {

const std::vector<std::string>& layerKindNames() {
  static const std::vector<std::string> kinds = {
      "heatmap", "labelmap", "mask", "polylines", "points", "boxes", "volume_overlay",
      "embedding_table", "gallery", "table", "text"};
  return kinds;
}

Image Heatmap::render() const {
  Image out(width, height, ColorOrder::RGBA);
  const float span = rangeMax - rangeMin;
  for (int y = 0; y < height; ++y) {
    std::uint8_t* d = out.row<std::uint8_t>(y);
    const float* v = values.data() + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width; ++x, d += 4) {
      const float t = span > 0.f ? (v[x] - rangeMin) / span : 0.f;
      const auto c = colormapColor(colormap, t);
      d[0] = c[0]; d[1] = c[1]; d[2] = c[2]; d[3] = 255;
    }
  }
  return out;
}

std::string Layer::kind() const {
  switch (payload.index()) {
    case 0: return "heatmap";
    case 1: return "mask";
    case 2: return "table";
  }
  return "?";
}

}  // namespace loupe
