#include "NoiseResidual.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "Convert.h"

namespace loupe::forensics {
using namespace detail;

const char* srmKernelName(SrmKernel kernel) { return kernel == SrmKernel::KV5x5 ? "kv5x5" : "third_order"; }

Result<SrmKernel> srmKernelFromName(const std::string& name) {
  if (name == "third_order") return SrmKernel::ThirdOrder;
  if (name == "kv5x5") return SrmKernel::KV5x5;
  return Error{ErrorCode::InvalidArgument, "Unknown SRM kernel '" + name + "' (use third_order or kv5x5)"};
}

Result<NoiseMaps> noiseResidual(const Image& image, const NoiseOptions& options, const CancelToken& cancel,
                                Progress progress) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  if (options.medianKernel != 3 && options.medianKernel != 5)
    return Error{ErrorCode::InvalidArgument, "The median kernel must be 3 or 5 pixels"};
  if (options.window < 3) return Error{ErrorCode::InvalidArgument, "The local-noise window must be at least 3 pixels"};
  const int minSide = std::max(5, options.window);
  if (image.width() < minSide || image.height() < minSide)
    return Error{ErrorCode::InvalidArgument, "The image is " + sizeText(image.width(), image.height()) +
                                                 " pixels, smaller than one " + std::to_string(minSide) + "x" +
                                                 std::to_string(minSide) + " noise window"};

  progress.report(0.0, "Computing luma");
  const cv::Mat gray = grayFloat(image);
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.15, "Median residual");
  cv::Mat median, medianRes;
  cv::medianBlur(gray, median, options.medianKernel);
  cv::absdiff(gray, median, medianRes);
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.4, "High-pass (SRM) residual");
  cv::Mat residual;  // signed, for the local statistics
  double kernelNorm = 0.0;
  cv::Mat srmAbs;
  if (options.srm == SrmKernel::ThirdOrder) {
    // Anchor at tap 1: r(x) = -I(x-1) + 3 I(x) - 3 I(x+1) + I(x+2). Borders are mirrored (BORDER_REFLECT_101).
    const cv::Mat kh = (cv::Mat_<float>(1, 4) << -1.f, 3.f, -3.f, 1.f);
    const cv::Mat kv = kh.t();
    cv::Mat rh, rv;
    cv::filter2D(gray, rh, CV_32F, kh, cv::Point(1, 0), 0, cv::BORDER_REFLECT_101);
    cv::filter2D(gray, rv, CV_32F, kv, cv::Point(0, 1), 0, cv::BORDER_REFLECT_101);
    srmAbs = (cv::abs(rh) + cv::abs(rv)) * 0.5;
    residual = rh;  // the horizontal residual carries the local statistics (the vertical one is alike)
    kernelNorm = std::sqrt(20.0);
  } else {
    const float kv[25] = {-1, 2, -2, 2, -1, 2, -6, 8, -6, 2, -2, 8, -12, 8, -2, 2, -6, 8, -6, 2, -1, 2, -2, 2, -1};
    cv::Mat k(5, 5, CV_32F, const_cast<float*>(kv));
    cv::filter2D(gray, residual, CV_32F, k / 12.0, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    srmAbs = cv::abs(residual);
    double s = 0;
    for (float v : kv) s += double(v) * v;
    kernelNorm = std::sqrt(s) / 12.0;
  }
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.65, "Local noise level");
  cv::Mat mean, meanSq, sq;
  const cv::Size win(options.window, options.window);
  cv::boxFilter(residual, mean, CV_32F, win, cv::Point(-1, -1), true, cv::BORDER_REFLECT_101);
  cv::multiply(residual, residual, sq);
  cv::boxFilter(sq, meanSq, CV_32F, win, cv::Point(-1, -1), true, cv::BORDER_REFLECT_101);
  cv::Mat var = meanSq - mean.mul(mean);
  cv::max(var, 0.0, var);
  cv::Mat local;
  cv::sqrt(var, local);
  if (cancel.isCancelled()) return Error::cancelled();

  progress.report(0.85, "Statistics");
  NoiseMaps out;
  const float medP99 = percentile(medianRes, 99.0), srmP99 = percentile(srmAbs, 99.0);
  NoiseStats& st = out.stats;
  st.sigmaEstimate = 1.4826 * percentile(cv::Mat(cv::abs(residual)), 50.0) / kernelNorm;
  st.localP5 = percentile(local, 5.0);
  st.localP50 = percentile(local, 50.0);
  st.localP95 = percentile(local, 95.0);
  st.medianResidualMean = cv::mean(medianRes)[0];
  const float lo = percentile(local, 1.0), hi = percentile(local, 99.0);
  // A flat image has no residual at all: keep a visible, honest range of 0 .. 1 grey level.
  out.medianResidual = toHeatmap(medianRes, 0.f, std::max(medP99, 1.f), options.colormap, "|I - median| (grey levels)");
  out.srmResidual = toHeatmap(srmAbs, 0.f, std::max(srmP99, 1.f), options.colormap, "|high-pass residual| (grey levels)");
  out.localNoise = toHeatmap(local, lo, hi > lo + 0.5f ? hi : lo + 0.5f, options.colormap,
                             "local residual std (grey levels)");
  progress.report(1.0, "Done");
  return out;
}

}  // namespace loupe::forensics
