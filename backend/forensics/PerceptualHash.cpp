#include "PerceptualHash.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdio>
#include <vector>

#include "Convert.h"

namespace loupe::forensics {

namespace {
cv::Mat shrink(const cv::Mat& gray, int w, int h) {
  cv::Mat out;
  // INTER_AREA only averages when shrinking; tiny images are enlarged (nearest) instead.
  const bool shrinking = gray.cols >= w && gray.rows >= h;
  cv::resize(gray, out, cv::Size(w, h), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_NEAREST);
  return out;
}
}  // namespace

Result<PerceptualHashes> perceptualHashes(const Image& image) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to hash"};
  const cv::Mat gray = detail::grayFloat(image);
  PerceptualHashes h;

  const cv::Mat a = shrink(gray, 8, 8);
  const double mean = cv::mean(a)[0];
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) h.aHash = (h.aHash << 1) | (a.at<float>(y, x) > mean ? 1u : 0u);

  const cv::Mat d = shrink(gray, 9, 8);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) h.dHash = (h.dHash << 1) | (d.at<float>(y, x + 1) > d.at<float>(y, x) ? 1u : 0u);

  // 2-D DCT-II, unnormalised: X[k] = 2 sum_n x[n] cos(pi k (2n + 1) / 2N), along columns then rows.
  const cv::Mat p = shrink(gray, 32, 32);
  constexpr int N = 32;
  double c[8][N];
  for (int k = 0; k < 8; ++k)
    for (int n = 0; n < N; ++n) c[k][n] = 2.0 * std::cos(M_PI * k * (2 * n + 1) / (2.0 * N));
  double rows[8][N];  // DCT along y (axis 0) for the 8 lowest vertical frequencies
  for (int k = 0; k < 8; ++k)
    for (int x = 0; x < N; ++x) {
      double s = 0;
      for (int y = 0; y < N; ++y) s += c[k][y] * p.at<float>(y, x);
      rows[k][x] = s;
    }
  std::vector<double> low(64);
  for (int ky = 0; ky < 8; ++ky)
    for (int kx = 0; kx < 8; ++kx) {
      double s = 0;
      for (int x = 0; x < N; ++x) s += c[kx][x] * rows[ky][x];
      low[static_cast<std::size_t>(ky * 8 + kx)] = s;
    }
  // A flat image has only a DC term; its other coefficients are rounding noise (~1e-15 DC), which would
  // make the bits random. Such values are exactly zero in exact arithmetic: treat them so.
  const double tiny = 1e-9 * (std::abs(low[0]) + 1.0);
  for (double& v : low)
    if (std::abs(v) < tiny) v = 0.0;
  std::vector<double> sorted = low;
  std::sort(sorted.begin(), sorted.end());
  const double median = 0.5 * (sorted[31] + sorted[32]);
  for (double v : low) h.pHash = (h.pHash << 1) | (v > median ? 1u : 0u);
  return h;
}

std::string hashHex(std::uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

int hammingDistance(std::uint64_t a, std::uint64_t b) { return static_cast<int>(std::bitset<64>(a ^ b).count()); }

}  // namespace loupe::forensics
