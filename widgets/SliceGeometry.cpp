#include "SliceGeometry.h"

#include <algorithm>
#include <cmath>

namespace loupe::widgets {

namespace {

// Orientation letter of a world direction (LPS): its dominant component and sign.
char letterOf(const Vec3& d) {
  int axis = 0;
  for (int a = 1; a < 3; ++a)
    if (std::abs(d[a]) > std::abs(d[axis])) axis = a;
  static const char plus[3] = {'L', 'P', 'S'}, minus[3] = {'R', 'A', 'I'};
  return d[axis] >= 0 ? plus[axis] : minus[axis];
}

Vec3 column(const Mat3& m, int c) { return {m[c], m[3 + c], m[6 + c]}; }

Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return r;
}

bool nearInteger(double x, double tol = 1e-4) { return std::abs(x - std::round(x)) <= tol; }

template <typename T>
inline float asFloat(T v) {
  return static_cast<float>(v);
}

// Nearest-voxel samples of one slice. `get(offset)` reads the voxel.
template <typename T, typename Out, typename Convert>
std::int64_t sampleNearest(const T* data, const std::array<std::int64_t, 3>& n, const Vec3& start, const Vec3& du,
                           const Vec3& dv, int nu, int nv, Out outside, Out* out, Convert convert) {
  std::int64_t inside = 0;
  const double hi[3] = {n[0] - 0.5, n[1] - 0.5, n[2] - 0.5};
  const std::int64_t sx = 1, sy = n[0], sz = n[0] * n[1];
  for (int v = 0; v < nv; ++v) {
    const double r0 = start[0] + v * dv[0], r1 = start[1] + v * dv[1], r2 = start[2] + v * dv[2];
    Out* row = out + static_cast<std::size_t>(v) * nu;
    for (int u = 0; u < nu; ++u) {
      const double x = r0 + u * du[0], y = r1 + u * du[1], z = r2 + u * du[2];
      if (!(x >= -0.5 && y >= -0.5 && z >= -0.5 && x <= hi[0] && y <= hi[1] && z <= hi[2])) {
        row[u] = outside;
        continue;
      }
      const std::int64_t i = std::min<std::int64_t>(static_cast<std::int64_t>(x + 0.5), n[0] - 1);
      const std::int64_t j = std::min<std::int64_t>(static_cast<std::int64_t>(y + 0.5), n[1] - 1);
      const std::int64_t k = std::min<std::int64_t>(static_cast<std::int64_t>(z + 0.5), n[2] - 1);
      row[u] = convert(data[i * sx + j * sy + k * sz]);
      ++inside;
    }
  }
  return inside;
}

// Trilinear samples; neighbours past the edge repeat the edge.
template <typename T>
std::int64_t sampleLinear(const T* data, const std::array<std::int64_t, 3>& n, const Vec3& start, const Vec3& du,
                          const Vec3& dv, int nu, int nv, float outside, float* out) {
  std::int64_t inside = 0;
  const double hi[3] = {n[0] - 0.5, n[1] - 0.5, n[2] - 0.5};
  const std::int64_t sy = n[0], sz = n[0] * n[1];
  for (int v = 0; v < nv; ++v) {
    const double r0 = start[0] + v * dv[0], r1 = start[1] + v * dv[1], r2 = start[2] + v * dv[2];
    float* row = out + static_cast<std::size_t>(v) * nu;
    for (int u = 0; u < nu; ++u) {
      const double x = r0 + u * du[0], y = r1 + u * du[1], z = r2 + u * du[2];
      if (!(x >= -0.5 && y >= -0.5 && z >= -0.5 && x <= hi[0] && y <= hi[1] && z <= hi[2])) {
        row[u] = outside;
        continue;
      }
      const double fx0 = std::floor(x), fy0 = std::floor(y), fz0 = std::floor(z);
      const float fx = static_cast<float>(x - fx0), fy = static_cast<float>(y - fy0), fz = static_cast<float>(z - fz0);
      const std::int64_t x0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(fx0));
      const std::int64_t y0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(fy0));
      const std::int64_t z0 = std::max<std::int64_t>(0, static_cast<std::int64_t>(fz0));
      const std::int64_t x1 = std::min<std::int64_t>(n[0] - 1, static_cast<std::int64_t>(fx0) + 1);
      const std::int64_t y1 = std::min<std::int64_t>(n[1] - 1, static_cast<std::int64_t>(fy0) + 1);
      const std::int64_t z1 = std::min<std::int64_t>(n[2] - 1, static_cast<std::int64_t>(fz0) + 1);
      const std::int64_t xa = std::min(x0, n[0] - 1), ya = std::min(y0, n[1] - 1), za = std::min(z0, n[2] - 1);
      const T* p00 = data + za * sz + ya * sy;
      const T* p01 = data + za * sz + y1 * sy;
      const T* p10 = data + z1 * sz + ya * sy;
      const T* p11 = data + z1 * sz + y1 * sy;
      const float c00 = asFloat(p00[xa]) + fx * (asFloat(p00[x1]) - asFloat(p00[xa]));
      const float c01 = asFloat(p01[xa]) + fx * (asFloat(p01[x1]) - asFloat(p01[xa]));
      const float c10 = asFloat(p10[xa]) + fx * (asFloat(p10[x1]) - asFloat(p10[xa]));
      const float c11 = asFloat(p11[xa]) + fx * (asFloat(p11[x1]) - asFloat(p11[xa]));
      const float c0 = c00 + fy * (c01 - c00), c1 = c10 + fy * (c11 - c10);
      row[u] = c0 + fz * (c1 - c0);
      ++inside;
    }
  }
  return inside;
}

}  // namespace

const char* slicePlaneName(SlicePlane plane) {
  switch (plane) {
    case SlicePlane::Axial: return "axial";
    case SlicePlane::Sagittal: return "sagittal";
    case SlicePlane::Coronal: return "coronal";
  }
  return "axial";
}

std::optional<SlicePlane> slicePlaneFromName(const std::string& name) {
  for (auto p : {SlicePlane::Axial, SlicePlane::Sagittal, SlicePlane::Coronal})
    if (name == slicePlaneName(p)) return p;
  return std::nullopt;
}

char oppositeOrientation(char letter) {
  switch (letter) {
    case 'L': return 'R';
    case 'R': return 'L';
    case 'P': return 'A';
    case 'A': return 'P';
    case 'S': return 'I';
    case 'I': return 'S';
  }
  return '?';
}

Vec3 SliceFrame::refIndex(double u, double v, double s) const {
  Vec3 idx{};
  idx[uAxis] = flipU ? (nu - 1) - (u - 0.5) : u - 0.5;
  idx[vAxis] = flipV ? (nv - 1) - (v - 0.5) : v - 0.5;
  idx[nAxis] = s;
  return idx;
}

Vec3 SliceFrame::display(const Vec3& idx) const {
  const double u = (flipU ? (nu - 1) - idx[uAxis] : idx[uAxis]) + 0.5;
  const double v = (flipV ? (nv - 1) - idx[vAxis] : idx[vAxis]) + 0.5;
  return {u, v, idx[nAxis]};
}

SliceFrame makeSliceFrame(const Volume& reference, SlicePlane plane) {
  // Which index axis runs closest to each world axis (greedy on the largest direction cosines).
  std::array<int, 3> axisOf{-1, -1, -1};  // world axis -> index axis
  std::array<double, 3> signOf{1, 1, 1};
  std::array<bool, 3> used{false, false, false};
  for (int round = 0; round < 3; ++round) {
    double best = -1;
    int br = 0, bc = 0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        if (axisOf[r] < 0 && !used[c] && std::abs(reference.direction[r * 3 + c]) > best) {
          best = std::abs(reference.direction[r * 3 + c]);
          br = r;
          bc = c;
        }
    axisOf[br] = bc;
    used[bc] = true;
    signOf[br] = reference.direction[br * 3 + bc] >= 0 ? 1.0 : -1.0;
  }
  SliceFrame f;
  f.plane = plane;
  // want: +u along world axis wu (positive), +v along world axis wv with sign sv.
  int wu = 0, wv = 1, wn = 2;
  double wantV = 1.0;
  switch (plane) {
    case SlicePlane::Axial: wu = 0, wv = 1, wn = 2, wantV = 1.0; break;
    case SlicePlane::Sagittal: wu = 1, wv = 2, wn = 0, wantV = -1.0; break;
    case SlicePlane::Coronal: wu = 0, wv = 2, wn = 1, wantV = -1.0; break;
  }
  f.uAxis = axisOf[wu];
  f.vAxis = axisOf[wv];
  f.nAxis = axisOf[wn];
  f.flipU = signOf[wu] < 0;
  f.flipV = signOf[wv] * wantV < 0;
  f.nu = static_cast<int>(reference.size[f.uAxis]);
  f.nv = static_cast<int>(reference.size[f.vAxis]);
  f.ns = static_cast<int>(reference.size[f.nAxis]);
  f.su = reference.spacing[f.uAxis];
  f.sv = reference.spacing[f.vAxis];
  f.sn = reference.spacing[f.nAxis];
  Vec3 du = column(reference.direction, f.uAxis), dv = column(reference.direction, f.vAxis);
  if (f.flipU) du = {-du[0], -du[1], -du[2]};
  if (f.flipV) dv = {-dv[0], -dv[1], -dv[2]};
  f.plusU = letterOf(du);
  f.plusV = letterOf(dv);
  return f;
}

SliceSampler::SliceSampler(const Volume& source, const Volume& reference, const SliceFrame& frame)
    : source_(&source), frame_(frame) {
  const Mat3 sourceInv = inverse3(source.indexToWorldMatrix());
  b_ = mul(sourceInv, reference.indexToWorldMatrix());
  c_ = mul3(sourceInv, {reference.origin[0] - source.origin[0], reference.origin[1] - source.origin[1],
                        reference.origin[2] - source.origin[2]});
  aligned_ = true;
  for (double x : b_) aligned_ = aligned_ && nearInteger(x);
  for (double x : c_) aligned_ = aligned_ && nearInteger(x);
}

Vec3 SliceSampler::sourceIndex(double u, double v, double s) const {
  const Vec3 ref = frame_.refIndex(u, v, s);
  const Vec3 m = mul3(b_, ref);
  return {m[0] + c_[0], m[1] + c_[1], m[2] + c_[2]};
}

SliceSampler::Steps SliceSampler::steps(int s) const {
  Steps st;
  st.start = sourceIndex(0.5, 0.5, s);
  const Vec3 a = sourceIndex(1.5, 0.5, s), b = sourceIndex(0.5, 1.5, s);
  for (int i = 0; i < 3; ++i) {
    st.du[i] = a[i] - st.start[i];
    st.dv[i] = b[i] - st.start[i];
  }
  if (aligned_)  // exact integers: no drift, no rounding surprises at .5
    for (int i = 0; i < 3; ++i) {
      st.start[i] = std::round(st.start[i]);
      st.du[i] = std::round(st.du[i]);
      st.dv[i] = std::round(st.dv[i]);
    }
  return st;
}

std::int64_t SliceSampler::sample(int s, SliceInterpolation interpolation, float outside, float* out) const {
  if (!source_) return 0;
  const Steps st = steps(s);
  const Volume& src = *source_;
  const bool linear = interpolation == SliceInterpolation::Linear && !aligned_;
  if (src.type == VoxelType::Float32) {
    if (linear) return sampleLinear(src.floats.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, outside, out);
    return sampleNearest(src.floats.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, outside, out,
                         [](float x) { return x; });
  }
  if (linear) return sampleLinear(src.ints.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, outside, out);
  return sampleNearest(src.ints.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, outside, out,
                       [](std::int32_t x) { return static_cast<float>(x); });
}

std::int64_t SliceSampler::sampleLabels(int s, std::int32_t* out) const {
  if (!source_) return 0;
  const Steps st = steps(s);
  const Volume& src = *source_;
  if (src.type == VoxelType::Int32)
    return sampleNearest(src.ints.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, std::int32_t(0), out,
                         [](std::int32_t x) { return x; });
  return sampleNearest(src.floats.data(), src.size, st.start, st.du, st.dv, frame_.nu, frame_.nv, std::int32_t(0), out,
                       [](float x) { return std::isfinite(x) ? static_cast<std::int32_t>(std::lround(x)) : 0; });
}

}  // namespace loupe::widgets
