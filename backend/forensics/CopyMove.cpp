#include "CopyMove.h"

#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "Convert.h"

namespace loupe::forensics {
using namespace detail;

namespace {

struct Pair {
  cv::Point2f a, b;
  float sizeA = 0, sizeB = 0;  // keypoint diameters
};

using Affine = cv::Matx23d;

cv::Point2f apply(const Affine& m, const cv::Point2f& p) {
  return {float(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)), float(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2))};
}

// Least squares affine from >= 3 correspondences.
bool fitAffine(const std::vector<cv::Point2f>& src, const std::vector<cv::Point2f>& dst, Affine& out) {
  const int n = int(src.size());
  if (n < 3) return false;
  cv::Mat A(2 * n, 6, CV_64F, cv::Scalar(0)), b(2 * n, 1, CV_64F);
  for (int i = 0; i < n; ++i) {
    A.at<double>(2 * i, 0) = src[i].x; A.at<double>(2 * i, 1) = src[i].y; A.at<double>(2 * i, 2) = 1;
    A.at<double>(2 * i + 1, 3) = src[i].x; A.at<double>(2 * i + 1, 4) = src[i].y; A.at<double>(2 * i + 1, 5) = 1;
    b.at<double>(2 * i) = dst[i].x;
    b.at<double>(2 * i + 1) = dst[i].y;
  }
  cv::Mat x;
  if (!cv::solve(A, b, x, cv::DECOMP_SVD)) return false;
  out = Affine(x.at<double>(0), x.at<double>(1), x.at<double>(2), x.at<double>(3), x.at<double>(4), x.at<double>(5));
  return true;
}

// Scales 1/3 .. 3 and not a reflection-free collapse; a copy is a similarity or mild affine.
bool plausible(const Affine& m) {
  const cv::Matx22d l(m(0, 0), m(0, 1), m(1, 0), m(1, 1));
  cv::Mat w;
  cv::SVD::compute(cv::Mat(l), w);
  const double s1 = w.at<double>(0), s2 = w.at<double>(1);
  return s2 > 1.0 / 3.0 && s1 < 3.0 && s1 / std::max(s2, 1e-9) < 2.0;
}

double triangleArea(const cv::Point2f& p, const cv::Point2f& q, const cv::Point2f& r) {
  return 0.5 * std::abs((q.x - p.x) * (r.y - p.y) - (r.x - p.x) * (q.y - p.y));
}

// The lattice of the texture inside `region` (detection scale): the two shortest independent vectors at
// which the region's normalised autocorrelation (of its fine detail, through the DFT, normalised by the
// overlap) peaks above 0.6, refined to sub-pixel by a parabola through the peak's neighbours. Returns false
// when the region does not repeat (no such two peaks), as for a photo patch.
bool regionLattice(const cv::Mat& detail, const cv::Mat& region, cv::Point2d& v1, cv::Point2d& v2) {
  cv::Rect box = cv::boundingRect(region);
  if (box.area() < 256) return false;
  const int side = 256;  // enough periods of any texture that SIFT matches, and a bounded cost
  if (box.width > side) box = cv::Rect(box.x + (box.width - side) / 2, box.y, side, box.height);
  if (box.height > side) box = cv::Rect(box.x, box.y + (box.height - side) / 2, box.width, side);
  cv::Mat m, d;
  region(box).convertTo(m, CV_32F, 1.0 / 255.0);
  m = cv::min(m, 1.0);
  d = detail(box).mul(m);
  const double n = cv::sum(m)[0];
  if (n < 256) return false;
  d = d - m * (cv::sum(d)[0] / n);
  const int fh = cv::getOptimalDFTSize(2 * box.height), fw = cv::getOptimalDFTSize(2 * box.width);
  auto autocorr = [&](const cv::Mat& x) {
    cv::Mat padded = cv::Mat::zeros(fh, fw, CV_32F), f, ac;
    x.copyTo(padded(cv::Rect(0, 0, x.cols, x.rows)));
    cv::dft(padded, f, cv::DFT_COMPLEX_OUTPUT);
    cv::mulSpectrums(f, f, f, 0, true);
    cv::idft(f, ac, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
    return ac;
  };
  const cv::Mat ac = autocorr(d), overlap = autocorr(m);
  const double ac0 = ac.at<float>(0, 0);
  if (ac0 <= 0) return false;
  cv::Mat corr(fh, fw, CV_32F, cv::Scalar(0));
  for (int y = 0; y < fh; ++y)
    for (int x = 0; x < fw; ++x) {
      const float o = overlap.at<float>(y, x);
      if (o > 0.25 * n) corr.at<float>(y, x) = float(ac.at<float>(y, x) / ac0 * (n / o));
    }
  struct Peak {
    cv::Point2d v;
    double len;
  };
  std::vector<Peak> peaks;
  for (int y = 0; y < fh; ++y)
    for (int x = 0; x < fw; ++x) {
      const float c = corr.at<float>(y, x);
      if (c < 0.6f) continue;
      const int dy = y > fh / 2 ? y - fh : y, dx = x > fw / 2 ? x - fw : x;
      if (dx * dx + dy * dy < 16 || dy < 0 || (dy == 0 && dx < 0)) continue;  // half plane: +v and -v alike
      auto at = [&](int yy, int xx) { return corr.at<float>((yy + fh) % fh, (xx + fw) % fw); };
      bool isMax = true;
      for (int j = -1; j <= 1 && isMax; ++j)
        for (int i = -1; i <= 1; ++i)
          if ((i || j) && at(y + j, x + i) > c) isMax = false;
      if (!isMax) continue;
      auto offset = [](double l, double c0, double r) {
        const double den = l - 2 * c0 + r;
        return std::abs(den) > 1e-9 ? std::clamp(0.5 * (l - r) / den, -0.5, 0.5) : 0.0;
      };
      const cv::Point2d v(dx + offset(at(y, x - 1), c, at(y, x + 1)), dy + offset(at(y - 1, x), c, at(y + 1, x)));
      peaks.push_back({v, cv::norm(v)});
    }
  if (peaks.size() < 2) return false;
  std::sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) { return a.len < b.len; });
  v1 = peaks[0].v;
  for (std::size_t i = 1; i < peaks.size(); ++i) {
    const double cross = std::abs(v1.x * peaks[i].v.y - v1.y * peaks[i].v.x);
    if (cross > 0.3 * peaks[0].len * peaks[i].len) {
      v2 = peaks[i].v;
      break;
    }
  }
  if (v2 == cv::Point2d()) return false;
  // Refine both vectors by least squares over every peak that sits on their lattice (p = a v1 + b v2 with
  // whole a, b): far peaks pin the vectors down to a small fraction of a pixel, as a long displacement needs.
  std::vector<double> ab, px, py;
  const double det = v1.x * v2.y - v1.y * v2.x;
  for (const auto& p : peaks) {
    const double a = (p.v.x * v2.y - p.v.y * v2.x) / det, b = (v1.x * p.v.y - v1.y * p.v.x) / det;
    const cv::Point2d r = p.v - (std::round(a) * v1 + std::round(b) * v2);
    if (cv::norm(r) > 1.0) continue;
    ab.push_back(std::round(a));
    ab.push_back(std::round(b));
    px.push_back(p.v.x);
    py.push_back(p.v.y);
  }
  if (px.size() >= 3) {
    const cv::Mat A(int(px.size()), 2, CV_64F, ab.data()), bx(int(px.size()), 1, CV_64F, px.data()),
        by(int(py.size()), 1, CV_64F, py.data());
    cv::Mat sx, sy;
    if (cv::solve(A, bx, sx, cv::DECOMP_SVD) && cv::solve(A, by, sy, cv::DECOMP_SVD)) {
      const cv::Point2d r1(sx.at<double>(0), sy.at<double>(0)), r2(sx.at<double>(1), sy.at<double>(1));
      if (cv::norm(r1 - v1) < 1.0 && cv::norm(r2 - v2) < 1.0) v1 = r1, v2 = r2;
    }
  }
  return true;
}

// Whether displacement d is a whole-number combination of the lattice (v1, v2), within a fifth of the
// shorter lattice vector: then the match is the texture repeating, not a copy.
bool onLattice(const cv::Point2d& d, const cv::Point2d& v1, const cv::Point2d& v2) {
  const double det = v1.x * v2.y - v1.y * v2.x;
  if (std::abs(det) < 1e-6) return false;
  const double a = (d.x * v2.y - d.y * v2.x) / det, b = (v1.x * d.y - v1.y * d.x) / det;
  const cv::Point2d r = d - (std::round(a) * v1 + std::round(b) * v2);
  return cv::norm(r) < std::max(1.5, 0.2 * std::min(cv::norm(v1), cv::norm(v2)));
}

// Dense verification (after Pan & Lyu, "Region Duplication Detection Using Image Feature Matching", IEEE
// TIFS 2010): with the cluster's transform A, the source region is where the image and the image sampled
// at A x correlate (zero-mean normalised cross-correlation over a 7x7 window), among the connected regions
// that hold the cluster's source keypoints. The copy is the source mask mapped by A. Detection scale.
// ZNCC (9x9 windows) between the image's fine detail and the detail sampled at m x, with the mask of pixels
// where both are textured and m x lies inside the image. `detail` = the image minus its Gaussian blur.
struct ZnccMap {
  cv::Mat zncc, usable;
};
ZnccMap znccUnder(const cv::Mat& detail, const Affine& a) {
  const cv::Mat m(a);
  cv::Mat warped, valid;
  cv::warpAffine(detail, warped, m, detail.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(cv::Mat(detail.size(), CV_8U, cv::Scalar(1)), valid, m, detail.size(),
                 cv::INTER_NEAREST | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  const cv::Size win(9, 9);
  cv::Mat ma, mb, maa, mbb, mab;
  cv::boxFilter(detail, ma, CV_32F, win);
  cv::boxFilter(warped, mb, CV_32F, win);
  cv::boxFilter(detail.mul(detail), maa, CV_32F, win);
  cv::boxFilter(warped.mul(warped), mbb, CV_32F, win);
  cv::boxFilter(detail.mul(warped), mab, CV_32F, win);
  const cv::Mat va = maa - ma.mul(ma), vb = mbb - mb.mul(mb), cov = mab - ma.mul(mb);
  cv::Mat denom;
  cv::sqrt(cv::max(va.mul(vb), 1e-6), denom);
  return {cov / denom, (va > 1.0) & (vb > 1.0) & (valid > 0)};
}

cv::Mat imageDetail(const cv::Mat& gray) {
  cv::Mat blurred;
  cv::GaussianBlur(gray, blurred, cv::Size(0, 0), 2.0);
  return gray - blurred;
}

// A periodic texture (bricks, tiles, fabric, a braided rope) matches itself at every vector of its lattice;
// a copy is one displacement. So where a cluster's transform A makes the image correlate with itself
// (`region`), a lattice also correlates under A applied twice (x -> A A x, the next period) and backwards
// (x -> A^-1 x, the previous one), while a copied region's neighbours one "period" away are whatever
// surrounded the original and the copy. Returns the smaller of the two fractions of `region` (where the
// maps are usable) that correlate above `threshold`: near 1 for a lattice, near 0 for a copy.
double latticeAgreement(const cv::Mat& detail, const Affine& a, const cv::Mat& region, double threshold) {
  const Affine twice(a(0, 0) * a(0, 0) + a(0, 1) * a(1, 0), a(0, 0) * a(0, 1) + a(0, 1) * a(1, 1),
                     a(0, 0) * a(0, 2) + a(0, 1) * a(1, 2) + a(0, 2),
                     a(1, 0) * a(0, 0) + a(1, 1) * a(1, 0), a(1, 0) * a(0, 1) + a(1, 1) * a(1, 1),
                     a(1, 0) * a(0, 2) + a(1, 1) * a(1, 2) + a(1, 2));
  cv::Mat inv;
  cv::invertAffineTransform(cv::Mat(a), inv);
  double worst = 1.0;
  for (const Affine& m : {twice, Affine(inv)}) {
    const ZnccMap z = znccUnder(detail, m);
    const cv::Mat considered = region & z.usable;
    const int n = cv::countNonZero(considered);
    if (n < 16) return 0.0;  // the next period falls outside the image: no evidence of a lattice
    worst = std::min(worst, double(cv::countNonZero(considered & (z.zncc > threshold))) / n);
  }
  return worst;
}

// Dense verification (after Pan & Lyu, "Region Duplication Detection Using Image Feature Matching", IEEE
// TIFS 2010): with the cluster's transform A, the source region is where the image and the image sampled
// at A x correlate (zero-mean normalised cross-correlation over a 9x9 window), among the connected regions
// that hold the cluster's source keypoints. The copy is the source mask mapped by A. Detection scale.
// ZNCC runs on the image minus a blur of it: the low frequencies (smooth gradients, sky) correlate under
// any small shift and would grow the region far beyond the copy.
cv::Mat verifiedSourceMask(const cv::Mat& detail, const Affine& a, const std::vector<cv::Point2f>& sourcePoints,
                           double minDist, double minCorrelation) {
  const ZnccMap z = znccUnder(detail, a);
  const cv::Mat& zncc = z.zncc;
  cv::Mat mask = (zncc > minCorrelation) & z.usable;
  // Not the region mapped onto itself (near the transform's fixed point).
  for (int y = 0; y < mask.rows; ++y) {
    auto* row = mask.ptr<std::uint8_t>(y);
    for (int x = 0; x < mask.cols; ++x)
      if (row[x] && cv::norm(apply(a, cv::Point2f(float(x), float(y))) - cv::Point2f(float(x), float(y))) < minDist)
        row[x] = 0;
  }
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(7, 7));
  cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, kernel);
  cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
  cv::Mat labels;
  const int n = cv::connectedComponents(mask, labels, 8, CV_32S);
  std::vector<bool> keep(std::size_t(std::max(n, 1)), false);
  for (const auto& p : sourcePoints)
    for (int dy = -2; dy <= 2; ++dy)
      for (int dx = -2; dx <= 2; ++dx) {
        const int x = int(std::lround(p.x)) + dx, y = int(std::lround(p.y)) + dy;
        if (x < 0 || y < 0 || x >= labels.cols || y >= labels.rows) continue;
        const int l = labels.at<int>(y, x);
        if (l > 0) keep[std::size_t(l)] = true;
      }
  cv::Mat out(mask.size(), CV_8U, cv::Scalar(0));
  for (int y = 0; y < labels.rows; ++y)
    for (int x = 0; x < labels.cols; ++x)
      if (keep[std::size_t(labels.at<int>(y, x))] && labels.at<int>(y, x) > 0) out.at<std::uint8_t>(y, x) = 1;
  cv::morphologyEx(out, out, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(15, 15)));
  return out;
}

}  // namespace

Result<CopyMoveResult> detectCopyMove(const Image& image, const CopyMoveOptions& o, const CancelToken& cancel,
                                      Progress progress) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  if (!(o.ratio > 0.0 && o.ratio < 1.0)) return Error{ErrorCode::InvalidArgument, "The g2NN ratio must be in (0, 1)"};
  if (o.minClusterSize < 3) return Error{ErrorCode::InvalidArgument, "The minimum cluster size must be at least 3"};
  CopyMoveResult out;
  out.lines = {image.width(), image.height(), {}};
  out.boxes = {image.width(), image.height(), {}};
  out.mask = {image.width(), image.height(),
              std::vector<std::uint8_t>(static_cast<std::size_t>(image.width()) * image.height(), 0)};

  progress.report(0.0, "Preparing");
  cv::Mat gray = grayFloat(image);
  const int longer = std::max(gray.cols, gray.rows);
  double s = 1.0;
  if (o.maxSide > 0 && longer > o.maxSide) {
    s = double(o.maxSide) / longer;
    cv::Mat small;
    cv::resize(gray, small, cv::Size(std::max(1, int(std::lround(gray.cols * s))),
                                     std::max(1, int(std::lround(gray.rows * s)))), 0, 0, cv::INTER_AREA);
    s = double(small.cols) / gray.cols;
    gray = small;
  }
  out.detectionScale = s;
  cv::Mat gray8;
  gray.convertTo(gray8, CV_8U);
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.05, "Detecting keypoints");
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  if (o.detector == KeypointDetector::Sift)
    cv::SIFT::create(o.maxKeypoints)->detectAndCompute(gray8, cv::noArray(), keypoints, descriptors);
  else
    cv::ORB::create(o.maxKeypoints)->detectAndCompute(gray8, cv::noArray(), keypoints, descriptors);
  out.keypoints = int(keypoints.size());
  if (cancel.isCancelled()) return Error::cancelled();
  if (keypoints.size() < 3) {
    progress.report(1.0, "Done: too few keypoints for matching");
    return out;
  }

  progress.report(0.5, "Matching keypoints (g2NN)");
  const int k = std::min<int>(10, int(keypoints.size()));
  std::vector<std::vector<cv::DMatch>> knn;
  if (o.detector == KeypointDetector::Sift) {
    cv::FlannBasedMatcher matcher(cv::makePtr<cv::flann::KDTreeIndexParams>(4), cv::makePtr<cv::flann::SearchParams>(64));
    matcher.knnMatch(descriptors, descriptors, knn, k);
  } else {
    cv::BFMatcher(cv::NORM_HAMMING).knnMatch(descriptors, descriptors, knn, k);
  }
  if (cancel.isCancelled()) return Error::cancelled();
  const double minDist = o.minDistance * s;
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < knn.size(); ++i) {
    auto& row = knn[i];
    // Drop the keypoint itself (and exact duplicates at the same position, e.g. two orientations).
    row.erase(std::remove_if(row.begin(), row.end(),
                             [&](const cv::DMatch& m) {
                               return cv::norm(keypoints[std::size_t(m.trainIdx)].pt - keypoints[i].pt) < 0.5;
                             }),
              row.end());
    for (std::size_t j = 0; j + 1 < row.size(); ++j) {
      if (!(row[j].distance < o.ratio * row[j + 1].distance)) break;
      const auto& p = keypoints[i];
      const auto& q = keypoints[std::size_t(row[j].trainIdx)];
      if (cv::norm(p.pt - q.pt) < minDist) continue;
      pairs.push_back({p.pt, q.pt, p.size, q.size});
    }
  }
  // i -> j and j -> i are usually both found: keep each unordered pair once.
  for (auto& p : pairs)
    if (std::tie(p.a.x, p.a.y) > std::tie(p.b.x, p.b.y)) std::swap(p.a, p.b), std::swap(p.sizeA, p.sizeB);
  auto key = [](const Pair& p) { return std::make_tuple(p.a.x, p.a.y, p.b.x, p.b.y); };
  std::sort(pairs.begin(), pairs.end(), [&](const Pair& x, const Pair& y) { return key(x) < key(y); });
  pairs.erase(std::unique(pairs.begin(), pairs.end(), [&](const Pair& x, const Pair& y) { return key(x) == key(y); }),
              pairs.end());
  out.matchedPairs = int(pairs.size());
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.7, "Clustering matches (RANSAC affine)");
  const cv::Mat detail = imageDetail(gray);
  std::mt19937 rng(o.seed);
  std::vector<bool> used(pairs.size(), false);
  const double thr2 = o.ransacThreshold * o.ransacThreshold;
  auto residual2 = [&](const Affine& m, const Pair& p, bool& forward) {
    const cv::Point2f f = apply(m, p.a) - p.b, r = apply(m, p.b) - p.a;
    const double ef = f.dot(f), er = r.dot(r);
    forward = ef <= er;
    return std::min(ef, er);
  };
  while (true) {
    std::vector<int> free;
    for (std::size_t i = 0; i < pairs.size(); ++i)
      if (!used[i]) free.push_back(int(i));
    if (int(free.size()) < o.minClusterSize) break;
    if (cancel.isCancelled()) return Error::cancelled();
    std::uniform_int_distribution<int> pick(0, int(free.size()) - 1);
    std::bernoulli_distribution flip(0.5);
    int bestCount = 0;
    Affine best;
    for (int it = 0; it < o.ransacIterations; ++it) {
      const int i0 = free[std::size_t(pick(rng))], i1 = free[std::size_t(pick(rng))], i2 = free[std::size_t(pick(rng))];
      if (i0 == i1 || i1 == i2 || i0 == i2) continue;
      cv::Point2f src[3], dst[3];
      const int idx[3] = {i0, i1, i2};
      for (int t = 0; t < 3; ++t) {
        const Pair& p = pairs[std::size_t(idx[t])];
        const bool f = t == 0 || flip(rng);
        src[t] = f ? p.a : p.b;
        dst[t] = f ? p.b : p.a;
      }
      if (triangleArea(src[0], src[1], src[2]) < 4.0 || triangleArea(dst[0], dst[1], dst[2]) < 4.0) continue;
      const Affine m = cv::getAffineTransform(src, dst);
      if (!plausible(m)) continue;
      int count = 0;
      for (int i : free) {
        bool fwd;
        if (residual2(m, pairs[std::size_t(i)], fwd) < thr2) ++count;
      }
      if (count > bestCount) bestCount = count, best = m;
    }
    if (bestCount < o.minClusterSize) break;
    // Refit on the consensus set with each pair's orientation, then take the final inliers.
    std::vector<cv::Point2f> src, dst;
    for (int i : free) {
      bool fwd;
      const Pair& p = pairs[std::size_t(i)];
      if (residual2(best, p, fwd) < thr2) src.push_back(fwd ? p.a : p.b), dst.push_back(fwd ? p.b : p.a);
    }
    Affine refined;
    if (fitAffine(src, dst, refined) && plausible(refined)) best = refined;
    std::vector<int> members;
    for (int i : free) {
      bool fwd;
      if (residual2(best, pairs[std::size_t(i)], fwd) < thr2) members.push_back(i);
    }
    for (int i : members) used[std::size_t(i)] = true;
    if (int(members.size()) < o.minClusterSize) continue;
    // A displacement of at least minDistance on average: not a repeated texture next to itself.
    double shift = 0;
    for (int i : members) shift += cv::norm(pairs[std::size_t(i)].a - pairs[std::size_t(i)].b);
    if (shift / members.size() < minDist) continue;

    // Dense verification: a real copy correlates over a region, chance matches only at their keypoints.
    std::vector<cv::Point2f> sourcePoints;
    for (int i : members) {
      bool fwd;
      const Pair& p = pairs[std::size_t(i)];
      residual2(best, p, fwd);
      sourcePoints.push_back(fwd ? p.a : p.b);
    }
    // Hysteresis: a core of near-identical pixels (ZNCC > acceptCorrelation) decides whether the cluster is
    // a copy -- a copy is pixel-identical up to resampling, self-similar texture (wood grain, a braided rope
    // one braid further on) only alike; the mask is the larger region above minCorrelation.
    const double minArea = std::max(64.0, o.minRegionFraction * gray.total());
    if (o.minRegionFraction > 0 || o.maxLatticeAgreement < 1.0) {
      const cv::Mat core = verifiedSourceMask(detail, best, sourcePoints, minDist, o.acceptCorrelation);
      if (o.minRegionFraction > 0 && cv::countNonZero(core) < minArea) continue;
      if (o.maxLatticeAgreement < 1.0 && cv::countNonZero(core) > 0) {
        double lattice = latticeAgreement(detail, best, core, o.minCorrelation);
        // A translation whose displacement lies on the lattice of the matched texture itself.
        const bool translation = std::abs(best(0, 0) - 1) < 0.02 && std::abs(best(1, 1) - 1) < 0.02 &&
                                 std::abs(best(0, 1)) < 0.02 && std::abs(best(1, 0)) < 0.02;
        cv::Point2d v1, v2;
        if (translation && regionLattice(detail, core, v1, v2) && onLattice({best(0, 2), best(1, 2)}, v1, v2)) lattice = 1.0;
        if (lattice > o.maxLatticeAgreement) {
          ++out.latticeRejected;
          continue;
        }
      }
    }
    const cv::Mat srcMask = verifiedSourceMask(detail, best, sourcePoints, minDist, o.minCorrelation);

    CopyMoveCluster cluster;
    const int id = int(out.clusters.size()) + 1;
    auto toInput = [&](const cv::Point2f& p) { return Point2{float((p.x + 0.5) / s), float((p.y + 0.5) / s)}; };
    std::vector<cv::Point> hullSrc, hullDst;
    std::vector<std::pair<cv::Point2f, float>> discs;
    for (int i : members) {
      bool fwd;
      const Pair& p = pairs[std::size_t(i)];
      residual2(best, p, fwd);
      const cv::Point2f a = fwd ? p.a : p.b, b = fwd ? p.b : p.a;
      const float sa = fwd ? p.sizeA : p.sizeB, sb = fwd ? p.sizeB : p.sizeA;
      cluster.pairs.push_back({toInput(a), toInput(b)});
      const Point2 ia = toInput(a), ib = toInput(b);
      hullSrc.emplace_back(int(std::lround(ia.x)), int(std::lround(ia.y)));
      hullDst.emplace_back(int(std::lround(ib.x)), int(std::lround(ib.y)));
      discs.push_back({{ia.x, ia.y}, float(sa / s / 2)});
      discs.push_back({{ib.x, ib.y}, float(sb / s / 2)});
      out.lines.lines.push_back({{ia, ib}, "match " + std::to_string(id)});
    }
    // Affine in input coordinates: x_in = (x_det + 0.5) / s, so conjugate by that scaling.
    {
      const double a = best(0, 0), b = best(0, 1), c = best(1, 0), d = best(1, 1);
      const double tx = (best(0, 2) + 0.5 * (a + b - 1)) / s, ty = (best(1, 2) + 0.5 * (c + d - 1)) / s;
      cluster.affine = {a, b, tx, c, d, ty};
    }
    auto bbox = [&](const std::vector<std::array<Point2, 2>>& ps, int side, const std::string& label) {
      float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
      for (const auto& pr : ps) {
        x0 = std::min(x0, pr[std::size_t(side)].x); y0 = std::min(y0, pr[std::size_t(side)].y);
        x1 = std::max(x1, pr[std::size_t(side)].x); y1 = std::max(y1, pr[std::size_t(side)].y);
      }
      const float pad = float(8.0 / s);
      x0 = std::max(0.f, x0 - pad); y0 = std::max(0.f, y0 - pad);
      x1 = std::min(float(image.width()), x1 + pad); y1 = std::min(float(image.height()), y1 + pad);
      Box box{x0, y0, x1 - x0, y1 - y0, label, double(ps.size())};
      return box;
    };
    cluster.source = bbox(cluster.pairs, 0, "source " + std::to_string(id));
    cluster.copy = bbox(cluster.pairs, 1, "copy " + std::to_string(id));

    cv::Mat mask(image.height(), image.width(), CV_8U, out.mask.values.data());
    if (cv::countNonZero(srcMask) > 0) {
      cv::Mat copyMask, both, full;
      cv::warpAffine(srcMask, copyMask, cv::Mat(best), srcMask.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
      both = srcMask | copyMask;
      cv::resize(both, full, mask.size(), 0, 0, cv::INTER_NEAREST);
      mask |= full;
      auto rectBox = [&](const cv::Mat& m, const std::string& label) {
        const cv::Rect r = cv::boundingRect(m);
        return Box{float(r.x / s), float(r.y / s), float(r.width / s), float(r.height / s), label,
                   double(cluster.pairs.size())};
      };
      cluster.source = rectBox(srcMask, cluster.source.label);
      if (cv::countNonZero(copyMask) > 0) cluster.copy = rectBox(copyMask, cluster.copy.label);
    } else {
      // Nothing correlates densely (flat or heavily processed copy): the keypoints' hulls.
      for (const auto* hull : {&hullSrc, &hullDst}) {
        std::vector<cv::Point> h;
        cv::convexHull(*hull, h);
        if (h.size() >= 3) cv::fillConvexPoly(mask, h, cv::Scalar(1));
      }
      for (const auto& [c, r] : discs)
        cv::circle(mask, cv::Point(int(std::lround(c.x)), int(std::lround(c.y))), std::max(2, int(std::lround(r))),
                   cv::Scalar(1), cv::FILLED);
    }
    out.boxes.boxes.push_back(cluster.source);
    out.boxes.boxes.push_back(cluster.copy);
    out.clusters.push_back(std::move(cluster));
  }
  progress.report(1.0, "Done");
  return out;
}

}  // namespace loupe::forensics
