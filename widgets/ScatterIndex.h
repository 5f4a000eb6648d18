#pragma once
// ScatterIndex: a uniform grid over the 2-D positions of a scatter plot, built once per layout update
// (O(N): one counting sort of the points by cell), that answers the view's questions without touching
// every point:
//   - rectangle selection: cells strictly inside the rectangle are taken whole, only the boundary cells'
//     points are tested;
//   - lasso selection (even-odd rule, the crossing test of W. R. Franklin's pnpoly): cells that no polygon
//     edge touches are inside or outside as a whole (one scanline per row of cells at the row's centre);
//     the points of the cells along the edges are tested one by one against the edges that span their row;
//   - nearest point within a radius (hover and click): only the cells the circle overlaps are searched.
// About four points per cell; the points are also stored in cell order so a cell's points are contiguous
// in memory. Points with a non-finite coordinate are left out of every answer.

#include <cstdint>
#include <vector>

namespace loupe::widgets {

struct ScatterBounds {
  double minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0;
  bool empty = true;  // no finite point
};

class ScatterIndex {
 public:
  // `xy`: n interleaved (x, y) pairs; id of a point = its position in the array. Copies what it needs.
  void build(const float* xy, std::int64_t n);
  void clear();

  std::int64_t size() const { return n_; }  // all points given to build(), finite or not
  const ScatterBounds& bounds() const { return bounds_; }
  int gridWidth() const { return gx_; }
  int gridHeight() const { return gy_; }

  // Sets mask[id] = value for every point inside the closed rectangle [x0, x1] x [y0, y1] (corners in any
  // order); `mask` must hold size() entries. Returns how many points are inside.
  std::int64_t markRect(double x0, double y0, double x1, double y1, std::vector<std::uint8_t>& mask,
                        std::uint8_t value = 1) const;
  // The same for the points inside a polygon (interleaved x, y vertices, closed implicitly; even-odd rule).
  std::int64_t markPolygon(const std::vector<double>& polygonXY, std::vector<std::uint8_t>& mask,
                           std::uint8_t value = 1) const;

  // Convenience: ids inside, ascending.
  std::vector<std::int32_t> inRect(double x0, double y0, double x1, double y1) const;
  std::vector<std::int32_t> inPolygon(const std::vector<double>& polygonXY) const;

  // The point nearest to (x, y) with distance <= radius (ties: lowest id), or -1. *distance receives it.
  std::int32_t nearest(double x, double y, double radius, double* distance = nullptr) const;

  // The even-odd test the selection uses, for one point (exposed for tests and small callers).
  static bool pointInPolygon(const std::vector<double>& polygonXY, double x, double y);

 private:
  int cellX(double x) const;
  int cellY(double y) const;

  std::int64_t n_ = 0;
  ScatterBounds bounds_;
  int gx_ = 0, gy_ = 0;
  double invCellW_ = 1.0, invCellH_ = 1.0, cellW_ = 1.0, cellH_ = 1.0;
  std::vector<std::uint32_t> cellStart_;  // gx * gy + 1 offsets into order_ / sorted_
  std::vector<std::int32_t> order_;       // point ids in cell order (ascending id within a cell)
  std::vector<float> sorted_;             // their (x, y) in the same order
};

}  // namespace loupe::widgets
