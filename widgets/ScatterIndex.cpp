#include "ScatterIndex.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace loupe::widgets {

namespace {
constexpr double kPointsPerCell = 4.0;
constexpr int kMaxCellsPerSide = 4096;
}  // namespace

void ScatterIndex::clear() {
  n_ = 0;
  bounds_ = {};
  gx_ = gy_ = 0;
  cellStart_.clear();
  order_.clear();
  sorted_.clear();
}

int ScatterIndex::cellX(double x) const {
  // Monotonic in x (a subtraction and a product by a positive constant, then floor): a point in a cell
  // right of the cell of x0 has x > x0, which makes whole-cell answers exact.
  const double c = std::floor((x - bounds_.minX) * invCellW_);
  return static_cast<int>(std::clamp(c, 0.0, double(gx_ - 1)));
}

int ScatterIndex::cellY(double y) const {
  const double c = std::floor((y - bounds_.minY) * invCellH_);
  return static_cast<int>(std::clamp(c, 0.0, double(gy_ - 1)));
}

void ScatterIndex::build(const float* xy, std::int64_t n) {
  clear();
  n_ = n;
  if (n <= 0) return;
  ScatterBounds b;
  b.minX = b.minY = std::numeric_limits<double>::infinity();
  b.maxX = b.maxY = -std::numeric_limits<double>::infinity();
  std::int64_t finite = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float x = xy[2 * i], y = xy[2 * i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    ++finite;
    b.minX = std::min<double>(b.minX, x);
    b.maxX = std::max<double>(b.maxX, x);
    b.minY = std::min<double>(b.minY, y);
    b.maxY = std::max<double>(b.maxY, y);
  }
  if (finite == 0) {
    bounds_ = {};
    return;
  }
  b.empty = false;
  bounds_ = b;
  double w = b.maxX - b.minX, h = b.maxY - b.minY;
  if (!(w > 0.0) && !(h > 0.0)) w = h = 1.0;
  else if (!(w > 0.0)) w = h * 1e-3;
  else if (!(h > 0.0)) h = w * 1e-3;
  // About kPointsPerCell points per cell, cells roughly square in data units.
  const double cells = std::max(1.0, double(finite) / kPointsPerCell);
  const double side = std::sqrt(cells * w / h);
  gx_ = static_cast<int>(std::clamp(std::ceil(side), 1.0, double(kMaxCellsPerSide)));
  gy_ = static_cast<int>(std::clamp(std::ceil(cells / gx_), 1.0, double(kMaxCellsPerSide)));
  // The last cell ends a little beyond the maximum so that max maps inside the grid.
  cellW_ = w / gx_ * (1.0 + 1e-9);
  cellH_ = h / gy_ * (1.0 + 1e-9);
  invCellW_ = 1.0 / cellW_;
  invCellH_ = 1.0 / cellH_;

  const std::size_t cellCount = std::size_t(gx_) * std::size_t(gy_);
  std::vector<std::uint32_t> cellOf(static_cast<std::size_t>(n), std::numeric_limits<std::uint32_t>::max());
  cellStart_.assign(cellCount + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const float x = xy[2 * i], y = xy[2 * i + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    const auto c = static_cast<std::uint32_t>(cellY(y)) * static_cast<std::uint32_t>(gx_) + static_cast<std::uint32_t>(cellX(x));
    cellOf[static_cast<std::size_t>(i)] = c;
    ++cellStart_[c + 1];
  }
  for (std::size_t c = 0; c < cellCount; ++c) cellStart_[c + 1] += cellStart_[c];
  order_.resize(static_cast<std::size_t>(finite));
  sorted_.resize(static_cast<std::size_t>(finite) * 2);
  std::vector<std::uint32_t> fill(cellStart_.begin(), cellStart_.end() - 1);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t c = cellOf[static_cast<std::size_t>(i)];
    if (c == std::numeric_limits<std::uint32_t>::max()) continue;
    const std::uint32_t slot = fill[c]++;
    order_[slot] = static_cast<std::int32_t>(i);
    sorted_[2 * std::size_t(slot)] = xy[2 * i];
    sorted_[2 * std::size_t(slot) + 1] = xy[2 * i + 1];
  }
}

std::int64_t ScatterIndex::markRect(double x0, double y0, double x1, double y1, std::vector<std::uint8_t>& mask,
                                    std::uint8_t value) const {
  if (bounds_.empty || static_cast<std::int64_t>(mask.size()) < n_) return 0;
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  if (x1 < bounds_.minX || x0 > bounds_.maxX || y1 < bounds_.minY || y0 > bounds_.maxY) return 0;
  const int cx0 = cellX(x0), cx1 = cellX(x1), cy0 = cellY(y0), cy1 = cellY(y1);
  std::int64_t count = 0;
  for (int cy = cy0; cy <= cy1; ++cy) {
    const bool rowInside = cy > cy0 && cy < cy1;
    for (int cx = cx0; cx <= cx1; ++cx) {
      const std::size_t c = std::size_t(cy) * std::size_t(gx_) + std::size_t(cx);
      const std::uint32_t begin = cellStart_[c], end = cellStart_[c + 1];
      if (rowInside && cx > cx0 && cx < cx1) {
        for (std::uint32_t k = begin; k < end; ++k) mask[static_cast<std::size_t>(order_[k])] = value;
        count += end - begin;
        continue;
      }
      for (std::uint32_t k = begin; k < end; ++k) {
        const double x = sorted_[2 * std::size_t(k)], y = sorted_[2 * std::size_t(k) + 1];
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
          mask[static_cast<std::size_t>(order_[k])] = value;
          ++count;
        }
      }
    }
  }
  return count;
}

bool ScatterIndex::pointInPolygon(const std::vector<double>& p, double x, double y) {
  const std::size_t m = p.size() / 2;
  bool inside = false;
  for (std::size_t i = 0, j = m - 1; i < m; j = i++) {
    const double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

std::int64_t ScatterIndex::markPolygon(const std::vector<double>& p, std::vector<std::uint8_t>& mask,
                                       std::uint8_t value) const {
  const std::size_t m = p.size() / 2;
  if (bounds_.empty || m < 3 || static_cast<std::int64_t>(mask.size()) < n_) return 0;
  double px0 = p[0], px1 = p[0], py0 = p[1], py1 = p[1];
  for (std::size_t i = 0; i < m; ++i) {
    if (!std::isfinite(p[2 * i]) || !std::isfinite(p[2 * i + 1])) return 0;
    px0 = std::min(px0, p[2 * i]);
    px1 = std::max(px1, p[2 * i]);
    py0 = std::min(py0, p[2 * i + 1]);
    py1 = std::max(py1, p[2 * i + 1]);
  }
  if (px1 < bounds_.minX || px0 > bounds_.maxX || py1 < bounds_.minY || py0 > bounds_.maxY) return 0;
  const int cx0 = cellX(px0), cx1 = cellX(px1), cy0 = cellY(py0), cy1 = cellY(py1);
  const int sw = cx1 - cx0 + 1, sh = cy1 - cy0 + 1;

  // Cells an edge passes through, conservatively: samples every half cell along each edge mark their
  // cell and its eight neighbours (a cell the segment crosses is within a neighbour of some sample).
  std::vector<std::uint8_t> boundary(std::size_t(sw) * std::size_t(sh), 0);
  const double step = 0.5 * std::min(cellW_, cellH_);
  for (std::size_t i = 0, j = m - 1; i < m; j = i++) {
    const double ax = p[2 * j], ay = p[2 * j + 1], bx = p[2 * i], by = p[2 * i + 1];
    const double len = std::hypot(bx - ax, by - ay);
    const auto samples = static_cast<std::int64_t>(std::ceil(len / step)) + 1;
    int lastX = -1, lastY = -1;
    for (std::int64_t s = 0; s <= samples; ++s) {
      const double t = samples > 0 ? double(s) / double(samples) : 0.0;
      const int cx = cellX(ax + (bx - ax) * t) - cx0, cy = cellY(ay + (by - ay) * t) - cy0;
      if (cx == lastX && cy == lastY) continue;
      lastX = cx;
      lastY = cy;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int x = cx + dx, y = cy + dy;
          if (x >= 0 && x < sw && y >= 0 && y < sh) boundary[std::size_t(y) * std::size_t(sw) + std::size_t(x)] = 1;
        }
    }
  }

  std::int64_t count = 0;
  std::vector<double> crossings;
  std::vector<std::size_t> rowEdges;
  for (int cy = cy0; cy <= cy1; ++cy) {
    const double rowY0 = bounds_.minY + cy * cellH_, rowY1 = rowY0 + cellH_;
    const double yc = 0.5 * (rowY0 + rowY1);
    crossings.clear();
    rowEdges.clear();
    const double margin = 0.5 * cellH_;
    for (std::size_t i = 0, j = m - 1; i < m; j = i++) {
      const double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
      if ((yi > yc) != (yj > yc)) crossings.push_back((xj - xi) * (yc - yi) / (yj - yi) + xi);
      if (std::max(yi, yj) >= rowY0 - margin && std::min(yi, yj) <= rowY1 + margin) rowEdges.push_back(i);
    }
    std::sort(crossings.begin(), crossings.end());
    std::size_t passed = 0;  // crossings at or left of the cell centre
    for (int cx = cx0; cx <= cx1; ++cx) {
      const std::size_t c = std::size_t(cy) * std::size_t(gx_) + std::size_t(cx);
      const std::uint32_t begin = cellStart_[c], end = cellStart_[c + 1];
      const double xc = bounds_.minX + (cx + 0.5) * cellW_;
      while (passed < crossings.size() && crossings[passed] <= xc) ++passed;
      if (begin == end) continue;
      if (!boundary[std::size_t(cy - cy0) * std::size_t(sw) + std::size_t(cx - cx0)]) {
        // pnpoly toggles for every crossing right of the point: odd -> inside.
        if ((crossings.size() - passed) % 2 == 1) {
          for (std::uint32_t k = begin; k < end; ++k) mask[static_cast<std::size_t>(order_[k])] = value;
          count += end - begin;
        }
        continue;
      }
      for (std::uint32_t k = begin; k < end; ++k) {
        const double x = sorted_[2 * std::size_t(k)], y = sorted_[2 * std::size_t(k) + 1];
        bool inside = false;
        for (const std::size_t i : rowEdges) {
          const std::size_t j = i == 0 ? m - 1 : i - 1;
          const double xi = p[2 * i], yi = p[2 * i + 1], xj = p[2 * j], yj = p[2 * j + 1];
          if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        if (inside) {
          mask[static_cast<std::size_t>(order_[k])] = value;
          ++count;
        }
      }
    }
  }
  return count;
}

namespace {
std::vector<std::int32_t> idsOf(const std::vector<std::uint8_t>& mask) {
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) ids.push_back(static_cast<std::int32_t>(i));
  return ids;
}
}  // namespace

std::vector<std::int32_t> ScatterIndex::inRect(double x0, double y0, double x1, double y1) const {
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n_), 0);
  markRect(x0, y0, x1, y1, mask);
  return idsOf(mask);
}

std::vector<std::int32_t> ScatterIndex::inPolygon(const std::vector<double>& polygonXY) const {
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n_), 0);
  markPolygon(polygonXY, mask);
  return idsOf(mask);
}

std::int32_t ScatterIndex::nearest(double x, double y, double radius, double* distance) const {
  if (bounds_.empty || !(radius >= 0.0) || !std::isfinite(x) || !std::isfinite(y)) return -1;
  if (x + radius < bounds_.minX || x - radius > bounds_.maxX || y + radius < bounds_.minY || y - radius > bounds_.maxY)
    return -1;
  const int cx0 = cellX(x - radius), cx1 = cellX(x + radius), cy0 = cellY(y - radius), cy1 = cellY(y + radius);
  double best = radius * radius;
  std::int32_t bestId = -1;
  for (int cy = cy0; cy <= cy1; ++cy)
    for (int cx = cx0; cx <= cx1; ++cx) {
      const std::size_t c = std::size_t(cy) * std::size_t(gx_) + std::size_t(cx);
      for (std::uint32_t k = cellStart_[c]; k < cellStart_[c + 1]; ++k) {
        const double dx = sorted_[2 * std::size_t(k)] - x, dy = sorted_[2 * std::size_t(k) + 1] - y;
        const double d2 = dx * dx + dy * dy;
        const std::int32_t id = order_[k];
        if (d2 < best || (d2 == best && (bestId < 0 || id < bestId))) {
          best = d2;
          bestId = id;
        }
      }
    }
  if (bestId >= 0 && distance) *distance = std::sqrt(best);
  return bestId;
}

}  // namespace loupe::widgets
