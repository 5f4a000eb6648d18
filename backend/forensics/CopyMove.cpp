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

// Dense verification (after Pan & Lyu, "Region Duplication Detection Using Image Feature Matching", IEEE
// TIFS 2010): with the cluster's transform A, the source region is where the image and the image sampled
// at A x correlate (zero-mean normalised cross-correlation over a 7x7 window), among the connected regions
// that hold the cluster's source keypoints. The copy is the source mask mapped by A. Detection scale.
cv::Mat verifiedSourceMask(const cv::Mat& gray, const Affine& a, const std::vector<cv::Point2f>& sourcePoints,
                           double minDist, double minCorrelation) {
  const cv::Mat m(a);
  // ZNCC on the image minus a blur of it: the low frequencies (smooth gradients, sky) correlate under any
  // small shift and would grow the region far beyond the copy.
  cv::Mat blurred, detail;
  cv::GaussianBlur(gray, blurred, cv::Size(0, 0), 2.0);
  detail = gray - blurred;
  cv::Mat warped, valid;
  cv::warpAffine(detail, warped, m, gray.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(cv::Mat(gray.size(), CV_8U, cv::Scalar(1)), valid, m, gray.size(),
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
  const cv::Mat zncc = cov / denom;
  cv::Mat mask = (zncc > minCorrelation) & (va > 1.0) & (vb > 1.0) & (valid > 0);
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
    if (o.minRegionFraction > 0 &&
        cv::countNonZero(verifiedSourceMask(gray, best, sourcePoints, minDist, o.acceptCorrelation)) < minArea)
      continue;
    const cv::Mat srcMask = verifiedSourceMask(gray, best, sourcePoints, minDist, o.minCorrelation);

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
