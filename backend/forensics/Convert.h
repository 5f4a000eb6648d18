#pragma once
// Internal to loupe_forensics: loupe::Image <-> cv::Mat and the small helpers every tool shares.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "core/Image.h"
#include "core/Layer.h"

namespace loupe::forensics::detail {

// Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B, as JPEG's Y) as CV_32F in 0..255 grey levels,
// computed in float from any depth (16-bit is divided by 257, float is taken as 0..1). Alpha is ignored.
cv::Mat grayFloat(const Image& image);
// 8-bit RGB (alpha dropped, 16-bit rounded to 8) as CV_8UC3 in RGB order; shares no memory with `image`.
cv::Mat rgbU8(const Image& image);
// Luma rounded to 8 bits (CV_8U), what a grey JPEG encoder would see.
cv::Mat grayU8(const Image& image);

// A CV_32F matrix as a heatmap.
Heatmap toHeatmap(const cv::Mat& values, float rangeMin, float rangeMax, Colormap colormap, std::string unit);
// Nearest-rank percentile (0..100) of a CV_32F matrix's values (a strided sample of at most ~1M values).
float percentile(const cv::Mat& values, double p);

// "1234x567".
std::string sizeText(int width, int height);
// printf-style "%.<digits>f".
std::string fixed(double v, int digits = 2);

}  // namespace loupe::forensics::detail
