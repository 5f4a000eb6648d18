#pragma once
// Forgery localisation by clustering per-position features per image, FOCAL's way (Wu et al.): the
// largest cluster is pristine, the others forged (forgeryLabelsFromClusters), and a soft map that says
// how close each position is to the forged side, resampled to the original resolution.
//
// Soft probability of a position x: d_p = distance to the pristine cluster's centre, d_f = distance to
// the nearest forged cluster's centre (squared Euclidean, or 1 - cosine in cosine mode);
// p(x) = d_p / (d_p + d_f): 0 at the pristine centre, 1 at a forged centre, 0.5 on the boundary between
// them, so thresholding at 0.5 reproduces the k-means (k = 2) assignment.
// Image-level score: the Fisher ratio J of the two groups (pristine cluster vs. all forged clusters),
// J = |mu_P - mu_F|^2 / (s_P + s_F) with s = mean squared distance of a group's rows to its mean, mapped to
// [0, 1) as J / (1 + J). Well-separated groups score near 1, a split of one homogeneous texture near 0;
// an image with no second cluster scores 0.

#include <torch/types.h>

#include <string>
#include <vector>

#include "KMeans.h"
#include "NoiseCooccurrence.h"
#include "core/CancelToken.h"
#include "core/Layer.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

enum class ClusterMethod { KMeans, Hdbscan };

struct ClusterMapOptions {
  ClusterMethod method = ClusterMethod::KMeans;
  ClusterMetric metric = ClusterMetric::Euclidean;
  int k = 2;                // k-means
  int nInit = 3;            // k-means restarts
  std::uint64_t seed = 0;
  int minClusterSize = 0;   // HDBSCAN; 0 = automatic: N / 25 clamped to [5, 200] (FOCAL's paper: 200)
};

struct ClusterMap {
  torch::Tensor probability;  // float32 [N] in [0, 1], features' device
  torch::Tensor forged;       // bool [N]
  bool forgeryFound = false;
  double imageScore = 0.0;
  int clusterCount = 0;
  std::vector<std::int64_t> clusterSizes;  // by label; HDBSCAN's noise not included
  std::int64_t noise = 0;                  // HDBSCAN's unclustered positions
};

// Clusters the rows of `features` ([N, D], N >= 2) and applies FOCAL's rule.
Result<ClusterMap> clusterForgeryMap(const torch::Tensor& features, const ClusterMapOptions& options,
                                     const CancelToken& cancel = {}, Progress progress = {});

// Bilinear resampling of a grid of values whose cell (gy, gx) sits at pixel coordinate
// (originX + gx * stepX, originY + gy * stepY) to a width x height map (pixel centres at integers);
// outside the grid's centres the nearest edge value is kept. `grid` is [Gy, Gx] on any device; the
// result is float32 [height, width] on the same device.
torch::Tensor resampleGrid(const torch::Tensor& grid, double originX, double originY, double stepX, double stepY,
                           int width, int height);

struct LocalizeOptions {
  NoiseFeatureOptions features;
  ClusterMapOptions clustering;
  float threshold = 0.5f;  // operating point of the mask on the probability map
};

struct Localization {
  Heatmap heatmap;  // forgery probability in [0, 1] at the original resolution
  Mask mask;        // heatmap >= threshold (empty when no forgery was found)
  double imageScore = 0.0;
  bool forgeryFound = false;
  ClusterMap clusters;
  NoiseFeatures features;  // geometry and notes (features tensor kept)
  std::vector<std::string> notes;
  double featureSeconds = 0.0, clusterSeconds = 0.0, mapSeconds = 0.0;
};

// The training-free localisation: noise co-occurrence features of every block, clustered per image.
// `gray` is the luminance ([H, W] float, 8-bit grey levels, any device; see luminance()).
Result<Localization> localizeNoiseCooccurrence(const torch::Tensor& gray, const LocalizeOptions& options,
                                               const CancelToken& cancel = {}, Progress progress = {});

// Builds heatmap and mask at width x height from per-position probabilities on a grid ([Gy * Gx]).
void fillLocalizationMaps(Localization& out, const torch::Tensor& gridProbability, int gridWidth, int gridHeight,
                          double originX, double originY, double stepX, double stepY, int width, int height,
                          float threshold);

}  // namespace loupe::analysis
