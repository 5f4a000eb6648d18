#pragma once
// Lesion candidates from a lesion likelihood volume, the way PI-CAI defines a detection map
// (report_guided_annotation's extract_lesion_candidates): non-overlapping connected candidates
// (26-connectivity), each holding one constant likelihood, plus what a reader wants to know about each:
// volume in mL, largest diameter in mm (world space), centroid.

#include <cstdint>
#include <vector>

#include "core/CancelToken.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::analysis {

// Labels the 26-connected components of `mask` (size x*y*z, x fastest) in raster order of their first
// voxel (z slowest), as scipy.ndimage.label with a 3x3x3 structure does. Returns the component count;
// `labels` gets 0 for background and 1..count.
int labelComponents26(const std::vector<std::uint8_t>& mask, const std::array<std::int64_t, 3>& size,
                      std::vector<std::int32_t>& labels);

enum class ThresholdMode {
  Dynamic,      // PI-CAI "dynamic" (v2 semantics): candidates one at a time, each grown down to max / factor
  DynamicFast,  // PI-CAI "dynamic-fast": one threshold at max(volume) / factor
  Static,       // a fixed threshold
};

struct CandidateOptions {
  ThresholdMode mode = ThresholdMode::Dynamic;
  double staticThreshold = 0.10;          // Static
  int minVoxels = 10;                     // candidates of <= this many voxels are dropped (as PI-CAI does)
  int maxCandidates = 5;                  // Dynamic: num_lesions_to_extract
  double dynamicFactor = 2.5;             // threshold = max / factor
  bool removeAdjacent = true;             // Dynamic: skip candidates touching an earlier one
  double stopBelow = 0.01;                // Dynamic: stop when the remaining max is below this
};

struct LesionCandidate {
  int id = 0;                   // its value in DetectionMap::labels
  double likelihood = 0.0;      // the constant value of the candidate in the detection map
  std::int64_t voxels = 0;
  double volumeMl = 0.0;        // voxels * voxel volume (mm^3) / 1000
  double maxDiameterMm = 0.0;   // largest distance between two of its voxel centres, in world space
  Vec3 centroidWorld{0, 0, 0};  // LPS mm
  Vec3 centroidIndex{0, 0, 0};  // continuous voxel index
  std::array<std::int64_t, 3> peakIndex{0, 0, 0};  // voxel of the highest likelihood
};

struct DetectionMap {
  Volume map;     // float: each candidate's likelihood inside it, 0 elsewhere (the likelihood's grid)
  Volume labels;  // int32: candidate id inside it, 0 elsewhere
  std::vector<LesionCandidate> candidates;  // sorted by likelihood, highest first
};

// From a likelihood volume (values >= 0, e.g. a softmax): candidates as PI-CAI extracts them.
Result<DetectionMap> extractLesionCandidates(const Volume& likelihood, const CandidateOptions& options = {},
                                             const CancelToken& cancel = {});

// Statistics of the voxels labelled `id` in `labels` (geometry from `labels`), likelihood from `map`.
LesionCandidate describeCandidate(const Volume& labels, const Volume& map, int id);

// Reads an existing detection map the way picai_eval does (parse_detection_map): 26-connected components
// of map > 0, each candidate's confidence = its maximum. `indexed` gets 1..n.
std::vector<double> parseDetectionMap(const Volume& map, std::vector<std::int32_t>& indexed);

}  // namespace loupe::analysis
