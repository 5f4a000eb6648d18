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

namespace {
struct KindName {
  const char* operator()(const Heatmap&) const { return "heatmap"; }
  const char* operator()(const Mask&) const { return "mask"; }
  const char* operator()(const Table&) const { return "table"; }
  const char* operator()(const LabelMap&) const { return "labelmap"; }
  const char* operator()(const Polylines&) const { return "polylines"; }
  const char* operator()(const Boxes&) const { return "boxes"; }
  const char* operator()(const Points&) const { return "points"; }
};
}  // namespace

std::string Layer::kind() const { return std::visit(KindName{}, payload); }

}  // namespace loupe
