#pragma once
// Noise residuals (the "noise analysis" of Forensically and Sherloq): what is left after removing the
// image content. A region pasted from another camera, resampled, blurred or denoised carries a noise
// level that differs from its surroundings; the local-noise map makes that difference visible.
//
//  - median residual: |I - median_k(I)|, k = 3 or 5 (a content-adaptive low-pass, Forensically's choice);
//  - SRM high-pass residual (Fridrich & Kodovsky, "Rich Models for Steganalysis", 2012):
//      third_order: the 3rd-order linear residuals r_h = -I(x-1) + 3 I(x) - 3 I(x+1) + I(x+2) and the same
//                   vertically (the pair Splicebuster uses); the map is (|r_h| + |r_v|) / 2. They vanish on
//                   every polynomial of degree <= 2 and give +-6 a on a x^3.
//      kv5x5:       the SRM "SQUARE 5x5" kernel (KV) / 12.
//  - local noise: the standard deviation of the SRM residual in a window x window neighbourhood.
// All maps are in grey levels of an 8-bit luma (16-bit input is scaled by 1/257), at the input's size.

#include <string>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::forensics {

enum class SrmKernel { ThirdOrder, KV5x5 };

struct NoiseOptions {
  int medianKernel = 3;  // 3 or 5
  SrmKernel srm = SrmKernel::ThirdOrder;
  int window = 32;       // local-noise window, pixels (>= 3)
  Colormap colormap = Colormap::Magma;
};

struct NoiseStats {
  double sigmaEstimate = 0.0;  // robust noise sigma from the SRM residual: 1.4826 MAD / ||kernel||
  double localP5 = 0.0, localP50 = 0.0, localP95 = 0.0;  // of the local-noise map
  double medianResidualMean = 0.0;
};

struct NoiseMaps {
  Heatmap medianResidual;  // |I - median|, range 0 .. p99
  Heatmap srmResidual;     // |high-pass residual|, range 0 .. p99
  Heatmap localNoise;      // local std of the high-pass residual, range p1 .. p99
  NoiseStats stats;
};

// Images smaller than the local window (or 5x5 pixels) are refused with InvalidArgument.
Result<NoiseMaps> noiseResidual(const Image& image, const NoiseOptions& options = {}, const CancelToken& cancel = {},
                                Progress progress = {});

const char* srmKernelName(SrmKernel kernel);
Result<SrmKernel> srmKernelFromName(const std::string& name);

}  // namespace loupe::forensics
