#pragma once
// Keeping a live embedding view steady: a new 2-D layout of the same points (the next epoch of a model in
// training) is mapped onto the previous one by the similarity transform that fits it best in the
// least-squares sense (orthogonal Procrustes with scaling):
//
//   minimise  sum_i | s R x_i + t - y_i |^2   over s > 0, R in O(2) (a rotation or a reflection), t in R^2.
//
// A 2-D layout is only defined up to exactly these: PCA axes have arbitrary signs and rotate when two
// eigenvalues are close, t-SNE/UMAP are invariant to rotation, reflection and translation. Removing them
// and nothing else keeps every distance ratio of the new layout as computed.
//
// Closed form (Schoenemann 1966; Gower & Dijksterhuis, "Procrustes Problems", 2004): centre both sets,
// M = X^T Y (2 x 2). Over rotations R = [[c, s], [-s, c]] the trace tr(R^T M) = c (M00 + M11) + s (M01 - M10)
// is maximal at (c, s) proportional to (M00 + M11, M01 - M10), value sqrt((M00 + M11)^2 + (M01 - M10)^2);
// over reflections R = [[c, s], [s, -c]] at (c, s) proportional to (M00 - M11, M01 + M10), value
// sqrt((M00 - M11)^2 + (M01 + M10)^2) (the two values are the sum and the difference of M's singular values).
// The larger wins; s = that trace / |X|^2 and t = mean(Y) - s mean(X) R. Row vectors: x' = s x R + t.
// Plain C++ (double precision), no Qt and no LibTorch: O(N) for N points.

#include <cstdint>
#include <vector>

namespace loupe::gui {

struct LayoutTransform {
  double r00 = 1.0, r01 = 0.0, r10 = 0.0, r11 = 1.0;  // R (row-vector convention: x' = s x R + t)
  double scale = 1.0;
  double tx = 0.0, ty = 0.0;
  bool reflection = false;
  double rotationDegrees = 0.0;  // the angle of R's rotation part (after the reflection when there is one)
  double residual = 0.0;         // root-mean-square distance |s R x + t - y| over the fitted points
  std::int64_t fitted = 0;       // points used (both finite)
  bool valid = false;            // false: fewer than 2 usable points or a degenerate layout (identity returned)
};

// The best similarity transform taking `from` onto `to` (both N interleaved (x, y) pairs; pairs where either
// point is non-finite are ignored). Returns the identity (valid = false) when the sizes differ, fewer than 2
// points are usable, or `from` has all its points at one place.
LayoutTransform procrustesAlign(const std::vector<float>& from, const std::vector<float>& to);

// x' = s x R + t for every point (non-finite points stay as they are).
void applyTransform(std::vector<float>& xy, const LayoutTransform& transform);

}  // namespace loupe::gui
