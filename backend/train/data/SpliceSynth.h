#pragma once
// Synthetic splices from pristine photos, for training forgery feature extractors (FOCAL's pixel InfoNCE
// needs (image, mask) pairs; the user has pristine photos, not forgeries). A sample is a square crop of a
// host photo into which a region of another photo (the donor) is pasted through a random mask:
//   - mask shapes: ellipse, polygon, blob (thresholded smoothed noise) and object-like silhouettes
//     (star-shaped outline r(theta) = R (1 + sum_k a_k cos(k theta + phi_k)), k = 1..5);
//   - the donor region is resampled (scale, rotation; bilinear), optionally JPEG-compressed on its own
//     (a compression history unlike the host's), blurred and given Gaussian noise before pasting;
//   - the composite is optionally re-compressed as JPEG at a random quality.
// Pasted pixels come from the donor exactly (no feathering): mask 1 <=> the pixel is the processed donor.
// Everything runs on LibTorch CPU tensors (no OpenCV: this is a compute part); JPEG goes through a
// callback (the caller passes libjpeg from backend/io) and is skipped when none is given.
// Deterministic: sample(i) depends only on (photos, options, seed, i). Every random draw is made whether or
// not its step is enabled, so two option sets with the same seed give the same geometry and differ only in
// the steps that differ (tests rely on that).

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Result.h"

namespace loupe::train {

// uint8 RGB [3, H, W] -> the same re-compressed as JPEG at `quality` (1..100), decoded back.
using JpegRecompress = std::function<Result<torch::Tensor>(const torch::Tensor& rgb, int quality)>;

enum class SpliceShape { Ellipse, Polygon, Blob, Object };
const char* spliceShapeName(SpliceShape shape);

struct SpliceSynthOptions {
  int size = 256;                        // square crop side
  double minArea = 0.03, maxArea = 0.30;  // mask area as a fraction of the crop
  // Resampling of the donor region (probability, scale range, largest rotation in degrees).
  double resampleProb = 0.6, minScale = 0.6, maxScale = 1.6, maxRotationDeg = 30.0;
  double blurProb = 0.25, minBlurSigma = 0.4, maxBlurSigma = 1.5;  // Gaussian blur of the donor region
  double noiseProb = 0.25, minNoiseSigma = 1.0, maxNoiseSigma = 6.0;  // Gaussian noise (grey levels)
  double donorJpegProb = 0.35;  // the donor region JPEG-compressed before pasting
  double jpegProb = 0.7;        // the composite re-compressed
  int minQuality = 60, maxQuality = 95;
  uint64_t seed = 0;
  JpegRecompress recompress;  // empty: JPEG steps are not applied
};

struct SpliceSample {
  torch::Tensor image;  // uint8 [3, size, size]
  torch::Tensor mask;   // uint8 [size, size], 1 = pasted from the donor
  int host = -1, donor = -1;  // photo indices
  SpliceShape shape = SpliceShape::Ellipse;
  int hostX = 0, hostY = 0;   // crop origin in the host (after any upscaling, see hostScale)
  double hostScale = 1.0;     // > 1 when the host was smaller than the crop and upscaled
  // Donor transform: crop pixel p maps to donor pixel q = R(-angle) (p - anchor) / scale + donorCenter
  // (pixel-centre coordinates, bilinear; angle in degrees, counter-clockwise in image coordinates).
  double scale = 1.0, angleDeg = 0.0, anchorX = 0, anchorY = 0, donorCenterX = 0, donorCenterY = 0;
  double blurSigma = 0.0, noiseSigma = 0.0;  // 0: not applied
  int donorJpegQuality = 0, jpegQuality = 0;  // 0: not applied
  std::string describe() const;
};

class SpliceSynth {
 public:
  // `photos`: uint8 RGB [3, H, W], at least two (host and donor differ), each at least 32 px on both sides.
  static Result<SpliceSynth> create(std::vector<torch::Tensor> photos, SpliceSynthOptions options);

  Result<SpliceSample> sample(uint64_t index) const;
  // Samples first .. first + count - 1 stacked: images uint8 [B, 3, S, S], masks int64 [B, S, S].
  Result<std::pair<torch::Tensor, torch::Tensor>> batch(uint64_t first, int count, const CancelToken& cancel = {}) const;

  const SpliceSynthOptions& options() const { return options_; }
  std::size_t photoCount() const { return photos_.size(); }

 private:
  SpliceSynth(std::vector<torch::Tensor> photos, SpliceSynthOptions options)
      : photos_(std::move(photos)), options_(std::move(options)) {}
  std::vector<torch::Tensor> photos_;  // uint8 [3, H, W]
  SpliceSynthOptions options_;
};

// uint8 RGB [3, H, W] from an 8-bit image of any colour order (alpha dropped, grey replicated), and back.
Result<torch::Tensor> rgbTensor(const Image& image);
Image rgbImage(const torch::Tensor& rgb);

// A random mask of `shape` on a size x size grid covering about `area` of it (float 0/1 [size, size]),
// from the random source `seed`. Exposed for tests.
torch::Tensor spliceMask(SpliceShape shape, int size, double area, uint64_t seed);

}  // namespace loupe::train
