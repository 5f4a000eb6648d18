#pragma once
// A training-free baseline for prostate MRI, so the detection path works without any model package:
// what radiologists look for in PI-RADS' DWI score - low ADC together with high signal on high-b DWI -
// inside a region (an estimate of the gland's neighbourhood: the body near the centre of the field of view,
// where prostate protocols centre the gland). It is a heuristic, NOT a validated detector; results are
// labelled as such everywhere they are shown.

#include "core/CancelToken.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::analysis {

struct BaselineOptions {
  // Region: an ellipsoid around the centre of the T2W field of view (semi-axes in mm along the grid's
  // x, y, z axes), intersected with the body (T2W above bodyFraction of its 99th percentile).
  Vec3 regionSemiAxesMm{35, 30, 30};
  double bodyFraction = 0.15;
  // Robust z-scores (median, 1.4826 * MAD inside the region): likelihood =
  //   sigmoid(steepness * (-zADC - zOffset)) * sigmoid(steepness * (zDWI - zOffset))
  double zOffset = 1.0;
  double steepness = 2.0;
};

// t2w, adc and dwi must share one grid (resample ADC and DWI into the T2W's first). Returns a float
// likelihood in [0, 1] on that grid, 0 outside the region.
Result<Volume> baselineLikelihood(const Volume& t2w, const Volume& adc, const Volume& dwi,
                                  const BaselineOptions& options = {}, const CancelToken& cancel = {});

}  // namespace loupe::analysis
