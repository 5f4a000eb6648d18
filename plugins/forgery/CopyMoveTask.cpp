#include <cstdio>

#include "ClassicTasks.h"
#include "forensics/CopyMove.h"

namespace loupe::forgery {

Result<std::vector<Layer>> CopyMoveTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                             sdk::TaskContext& context) {
  forensics::CopyMoveOptions o;
  const std::string detector = sdk::paramString(params, "detector");
  if (detector == "orb") o.detector = forensics::KeypointDetector::Orb;
  else if (detector != "sift")
    return Error{ErrorCode::InvalidArgument, "Unknown detector '" + detector + "' (use sift or orb)"};
  o.ratio = sdk::paramFloat(params, "ratio");
  o.minClusterSize = static_cast<int>(sdk::paramInt(params, "min_cluster_size"));
  o.minDistance = sdk::paramFloat(params, "min_distance");
  o.maxSide = static_cast<int>(sdk::paramInt(params, "max_side"));
  o.maxKeypoints = static_cast<int>(sdk::paramInt(params, "max_keypoints"));
  auto r = forensics::detectCopyMove(input.image, o, context.cancel, context.progress);
  if (!r) return r.error();

  Table table;
  table.columns = {"cluster", "pairs", "source_box", "copy_box", "affine"};
  auto boxText = [](const Box& b) {
    return std::to_string(int(b.x)) + "," + std::to_string(int(b.y)) + " " + std::to_string(int(b.w)) + "x" +
           std::to_string(int(b.h));
  };
  for (std::size_t i = 0; i < r->clusters.size(); ++i) {
    const auto& c = r->clusters[i];
    char affine[160];
    std::snprintf(affine, sizeof affine, "[%.3f %.3f %.1f; %.3f %.3f %.1f]", c.affine[0], c.affine[1], c.affine[2],
                  c.affine[3], c.affine[4], c.affine[5]);
    table.rows.push_back({std::to_string(i + 1), std::to_string(c.pairs.size()), boxText(c.source), boxText(c.copy),
                          affine});
  }
  table.rows.push_back({"summary", std::to_string(r->matchedPairs) + " matched pairs of " +
                                       std::to_string(r->keypoints) + " keypoints",
                        "lattice_rejected " + std::to_string(r->latticeRejected), "",
                        r->clusters.empty() ? "no copied region found" :
                                              std::to_string(r->clusters.size()) + " copied region(s)"});
  std::vector<Layer> layers;
  layers.push_back({"copymove_mask", "Copy-move: matched regions", std::move(r->mask)});
  layers.push_back({"copymove_regions", "Copy-move: source and copy", std::move(r->boxes)});
  layers.push_back({"copymove_matches", "Copy-move: matched keypoints", std::move(r->lines)});
  layers.push_back({"copymove_clusters", "Copy-move: clusters", std::move(table)});
  return layers;
}

}  // namespace loupe::forgery
