#include <cstdio>

#include "ClassicTasks.h"
#include "TextFormat.h"
#include "forensics/NoiseResidual.h"

namespace loupe::forgery {

Result<std::vector<Layer>> NoiseTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                          sdk::TaskContext& context) {
  forensics::NoiseOptions options;
  options.medianKernel = static_cast<int>(sdk::paramInt(params, "median_kernel"));
  options.window = static_cast<int>(sdk::paramInt(params, "window"));
  auto kernel = forensics::srmKernelFromName(sdk::paramString(params, "srm_kernel"));
  if (!kernel) return kernel.error();
  options.srm = *kernel;
  auto colormap = colormapFromName(sdk::paramString(params, "colormap"));
  if (!colormap) return colormap.error();
  options.colormap = *colormap;

  auto maps = forensics::noiseResidual(input.image, options, context.cancel, context.progress);
  if (!maps) return maps.error();
  const auto& st = maps->stats;
  Table table;
  table.columns = {"measure", "value"};
  table.rows = {{"noise_sigma_estimate", fixed(st.sigmaEstimate, 3)},
                {"local_noise_p5", fixed(st.localP5, 3)},
                {"local_noise_median", fixed(st.localP50, 3)},
                {"local_noise_p95", fixed(st.localP95, 3)},
                {"local_noise_p95_over_p5", fixed(st.localP95 / std::max(st.localP5, 1e-6), 3)},
                {"median_residual_mean", fixed(st.medianResidualMean, 3)},
                {"srm_kernel", forensics::srmKernelName(options.srm)},
                {"median_kernel", std::to_string(options.medianKernel)},
                {"window", std::to_string(options.window)}};
  if (input.image.order() == ColorOrder::RGBA || input.image.order() == ColorOrder::BGRA ||
      input.image.order() == ColorOrder::GrayAlpha)
    table.rows.push_back({"note", "The alpha channel is ignored; the residuals are of the luma."});
  if (st.localP95 < 1e-3)
    table.rows.push_back({"note", "No noise at all: the image is flat or synthetic, so noise cannot show edits."});

  std::vector<Layer> layers;
  layers.push_back({"noise_local", "Local noise level", std::move(maps->localNoise)});
  layers.push_back({"noise_srm", "High-pass (SRM) residual", std::move(maps->srmResidual)});
  layers.push_back({"noise_median", "Median-filter residual", std::move(maps->medianResidual)});
  layers.push_back({"noise_stats", "Noise statistics", std::move(table)});
  return layers;
}

}  // namespace loupe::forgery
