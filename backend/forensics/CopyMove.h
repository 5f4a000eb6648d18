#pragma once
// Copy-move detection with keypoints (Amerini et al., "A SIFT-Based Forensic Method for Copy-Move Attack
// Detection and Transformation Recovery", IEEE TIFS 2011):
//  1. SIFT keypoints (ORB as a faster, rougher alternative) on the luma, downscaled so that its longer
//     side is at most maxSide pixels;
//  2. every keypoint matched against all others of the same image with the generalised 2NN test (g2NN):
//     with the sorted distances d1 <= d2 <= ... to the other keypoints, the j-th neighbour is a match
//     while d_j / d_(j+1) < ratio; pairs closer than minDistance pixels are dropped (the same structure);
//  3. the pairs are clustered geometrically: repeated RANSAC of an affine transform (either pair
//     orientation may be source -> copy), each consensus set of at least minClusterSize pairs with a
//     plausible transform (scales 1/3 .. 3, a real displacement) is one copied region, removed, repeat.
// Output in the input's pixel coordinates: the matched pairs as 2-point lines, a source and a copy box per
// cluster, and a mask of the matched regions: densely verified after Pan & Lyu (2010) -- where the image's
// fine detail correlates with itself under the cluster's transform (ZNCC > 0.7, 9x9), in the connected
// regions holding the cluster's keypoints, plus that region mapped by the transform. A cluster counts only
// if a core of it is near-identical (ZNCC > 0.9): self-similar texture is alike, a copy is the same pixels;
// and only if that core does not also repeat one step further and one step back under the same transform
// (a periodic texture -- bricks, tiles, fabric -- is near-identical to itself at every lattice vector).

#include <array>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::forensics {

enum class KeypointDetector { Sift, Orb };

struct CopyMoveOptions {
  KeypointDetector detector = KeypointDetector::Sift;
  double ratio = 0.5;        // g2NN threshold (Amerini et al. use 0.5)
  int minClusterSize = 4;    // matched pairs needed for a copied region
  double minDistance = 20;   // input pixels between a keypoint and its match
  int maxSide = 1600;        // detection scale: longer side in pixels (0: full resolution)
  int maxKeypoints = 10000;  // strongest keypoints kept
  double ransacThreshold = 4.0;  // inlier distance at detection scale, pixels
  int ransacIterations = 2000;
  unsigned seed = 12345;     // RANSAC sampling: the same input gives the same result
  // A cluster counts only if its densely verified source region covers at least this fraction of the
  // image (chance matches that happen to fit a transform correlate only at their keypoints). 0: keep all,
  // falling back to the keypoints' hulls for the mask.
  double minRegionFraction = 0.0005;
  // ZNCC (9x9, on the image minus its Gaussian blur, sigma 2) between the image and itself under the
  // cluster's transform: the cluster is kept when at least minRegionFraction of the image has a ZNCC above
  // acceptCorrelation; the mask is the region above minCorrelation.
  double acceptCorrelation = 0.9;
  double minCorrelation = 0.7;
  // Periodic texture: a cluster is dropped when its transform A is explained by a repetition of the image
  // itself -- more than this fraction of its near-identical core also correlates (> minCorrelation) one
  // step further (x -> A A x) and one step back (x -> A^-1 x), as a lattice does and a single copy does not.
  // 1: no lattice test.
  double maxLatticeAgreement = 0.5;
};

struct CopyMoveCluster {
  std::vector<std::array<Point2, 2>> pairs;  // source, copy (input coordinates)
  std::array<double, 6> affine{};            // copy = A * source + t, row-major [a b tx; c d ty], input coords
  Box source, copy;
};

struct CopyMoveResult {
  int keypoints = 0;
  int matchedPairs = 0;      // after g2NN and the distance check, before clustering
  int latticeRejected = 0;   // clusters dropped as a periodic texture's own repetition
  double detectionScale = 1; // detection pixels per input pixel
  std::vector<CopyMoveCluster> clusters;
  Polylines lines;
  Boxes boxes;
  Mask mask;
};

Result<CopyMoveResult> detectCopyMove(const Image& image, const CopyMoveOptions& options = {},
                                      const CancelToken& cancel = {}, Progress progress = {});

}  // namespace loupe::forensics
