#pragma once
// Training-free forensic features in the manner of Splicebuster (D. Cozzolino, G. Poggi, L. Verdoliva,
// "Splicebuster: a new blind image splicing detector", IEEE WIFS 2015): the camera's noise residual has
// local statistics that a spliced region from another camera (or another processing chain) does not
// share, and a co-occurrence histogram of the quantised residual captures them.
//
// Per image (luminance in 8-bit grey levels, float):
//   1. third-order high-pass residuals along rows and along columns, kernel [1, -3, 3, -1];
//   2. quantised with step q = 2 and truncated at T = 1: r -> clamp(round(r / 2), -1, 1) in {-1, 0, 1}
//      (round half to even, as torch/numpy round);
//   3. co-occurrence of 4 consecutive residual samples along the same direction (the row residual along
//      the row, the column residual down the column): 3^4 = 81 codes;
//   4. the 81 codes are merged under the two symmetries Splicebuster uses — sign (the residual of a
//      negated image is the negated residual, so +/- patterns are equally likely) and order (a mirrored
//      image reverses each 4-tuple) — which leaves 25 classes per direction (Burnside: (81 + 1 + 9 + 9)
//      / 4 = 25), 50 bins in all;
//   5. histograms over square blocks (block size and stride in pixels, stride divides the block),
//      computed once per stride x stride cell and summed over cells with an integral image;
//   6. each direction's histogram is normalised to sum 1 and square-rooted (Hellinger embedding; every
//      block's 50-d vector then has L2 norm sqrt(2));
//   7. PCA (eigendecomposition of the 50 x 50 covariance) to a few dozen dimensions.
// All work is tensor operations on the input's device (CPU or CUDA).
//
// The block at grid position (gy, gx) covers pixels [3 + gx*stride, 3 + gx*stride + block) horizontally
// (3 pixels are lost at each border to the filters), so its centre is at pixel coordinate
// originX + gx * stride with originX = 3 + (block - 1) / 2 (pixel centres at integer coordinates).

#include <torch/types.h>

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Result.h"

namespace loupe::analysis {

constexpr int kCooccurrenceClasses = 25;          // per direction after the symmetries
constexpr int kCooccurrenceBins = 2 * kCooccurrenceClasses;
constexpr int kResidualMargin = 3;                // pixels lost at each border
constexpr int kMinBlockSize = 16;

// Class (0..24) of each of the 81 codes, code = 27 a + 9 b + 3 c + d with a..d = residual + 1.
const std::vector<std::int64_t>& cooccurrenceClassOfCode();
// The class of the all-zero 4-tuple (a flat, noiseless neighbourhood).
std::int64_t cooccurrenceFlatClass();

// Luminance 0.299 R + 0.587 G + 0.114 B in 8-bit grey levels (16-bit divided by 257, float images taken
// as 0..1 and scaled by 255), as float32 [H, W] on the CPU. Alpha is ignored; gray is taken as is.
torch::Tensor luminance(const Image& image);

// Raw co-occurrence counts per block: int64 [Gy, Gx, 50] (25 row-direction classes, then 25 column ones),
// each half summing to block * block. `gray` is [H, W] floating point on any device; H and W must be at
// least block + 6, and block must be a multiple of stride.
// CPU tensors take a fused single-pass loop (Auto); Tensor forces the tensor-operation path every device
// uses otherwise (tests check both against the definition).
enum class HistogramPath { Auto, Tensor };
Result<torch::Tensor> cooccurrenceBlockHistograms(const torch::Tensor& gray, int block, int stride,
                                                  const CancelToken& cancel = {}, HistogramPath path = HistogramPath::Auto);

struct NoiseFeatureOptions {
  int blockSize = 0;   // 0 = automatic: 64 up to 4 MP, 128 above (Splicebuster's size for large photos)
  int stride = 0;      // 0 = automatic: block / 8, doubled while there would be more than maxBlocks blocks
  int pcaDims = 24;    // kept principal components (at most 50 and at most the number of blocks - 1)
  int maxBlocks = 16384;
  // A block where at least this fraction of the 4-tuples in both directions is all-zero has no usable
  // noise (flat colour, saturation): it is left out of the clustering and judged pristine.
  double flatFraction = 0.98;
};

struct NoiseFeatures {
  torch::Tensor features;     // float32 [N, d]: PCA projection of the textured blocks, input's device
  torch::Tensor textured;     // bool [Gy * Gx]: which grid positions are in `features`, in row-major order
  int gridWidth = 0, gridHeight = 0;
  int blockSize = 0, stride = 0;
  double originX = 0.0, originY = 0.0;  // centre of block (0, 0) in pixel coordinates
  double explainedVariance = 0.0;       // fraction of the total variance the kept components hold
  std::vector<std::string> notes;       // for the user: block size reduced, flat blocks, ...
};

// Features of every block of `gray` ([H, W], 8-bit grey levels, any device). Errors when the image is
// smaller than the smallest block (16 pixels + the 6-pixel filter margin); a block larger than the
// image is reduced to fit, with a note.
Result<NoiseFeatures> noiseCooccurrenceFeatures(const torch::Tensor& gray, const NoiseFeatureOptions& options = {},
                                                const CancelToken& cancel = {});

}  // namespace loupe::analysis
