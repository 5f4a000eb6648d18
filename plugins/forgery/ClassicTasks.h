#pragma once
// The classic forensic tools of the forgery plugin, one task each (backend: backend/forensics).

#include "sdk/Task.h"

namespace loupe::forgery {

// forgery.noise: median-filter and SRM high-pass residuals, local noise level, statistics.
class NoiseTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

// forgery.jpeg: quantisation tables, estimated IJG quality, double-compression hints, JPEG ghosts.
class JpegTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

// forgery.metadata: EXIF/XMP/IPTC, consistency notes, the EXIF thumbnail against the image.
class MetadataTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

// forgery.hashes: SHA-256 of the file and of the pixels, aHash/dHash/pHash, optional comparison.
class HashesTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

// forgery.copymove: keypoint copy-move detection as lines, boxes and a mask.
class CopyMoveTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

}  // namespace loupe::forgery
