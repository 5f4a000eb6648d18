#include "Convert.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace loupe::forensics::detail {

cv::Mat grayFloat(const Image& image) {
  cv::Mat out(image.height(), image.width(), CV_32F);
  const int ch = image.channels();
  const bool bgr = image.order() == ColorOrder::BGR || image.order() == ColorOrder::BGRA;
  const float scale = image.depth() == PixelDepth::U16 ? 1.f / 257.f : image.depth() == PixelDepth::F32 ? 255.f : 1.f;
  if (image.depth() == PixelDepth::U8) {  // the common case, without per-sample dispatch
    const int r = bgr ? 2 : 0, b = bgr ? 0 : 2;
    for (int y = 0; y < image.height(); ++y) {
      const std::uint8_t* s = image.row<std::uint8_t>(y);
      float* d = out.ptr<float>(y);
      for (int x = 0; x < image.width(); ++x, s += ch)
        d[x] = ch <= 2 ? float(s[0]) : 0.299f * s[r] + 0.587f * s[1] + 0.114f * s[b];
    }
    return out;
  }
  for (int y = 0; y < image.height(); ++y) {
    float* d = out.ptr<float>(y);
    for (int x = 0; x < image.width(); ++x) {
      float v;
      if (ch <= 2) {
        v = image.sample(x, y, 0);
      } else {
        const float r = image.sample(x, y, bgr ? 2 : 0), g = image.sample(x, y, 1), b = image.sample(x, y, bgr ? 0 : 2);
        v = 0.299f * r + 0.587f * g + 0.114f * b;
      }
      d[x] = v * scale;
    }
  }
  return out;
}

cv::Mat rgbU8(const Image& image) {
  const Image rgb = image.toU8().toRGB();
  cv::Mat wrapped(rgb.height(), rgb.width(), CV_8UC3, const_cast<std::uint8_t*>(rgb.data()), rgb.rowBytes());
  return wrapped.clone();
}

cv::Mat grayU8(const Image& image) {
  cv::Mat out;
  grayFloat(image).convertTo(out, CV_8U);  // saturating, rounds to nearest
  return out;
}

Heatmap toHeatmap(const cv::Mat& values, float rangeMin, float rangeMax, Colormap colormap, std::string unit) {
  CV_Assert(values.type() == CV_32F);
  Heatmap h;
  h.width = values.cols;
  h.height = values.rows;
  h.values.resize(static_cast<std::size_t>(h.width) * h.height);
  for (int y = 0; y < values.rows; ++y)
    std::copy(values.ptr<float>(y), values.ptr<float>(y) + values.cols, h.values.begin() + std::size_t(y) * h.width);
  h.rangeMin = rangeMin;
  h.rangeMax = rangeMax > rangeMin ? rangeMax : rangeMin + 1e-6f;
  h.colormap = colormap;
  h.unit = std::move(unit);
  return h;
}

float percentile(const cv::Mat& values, double p) {
  CV_Assert(values.type() == CV_32F);
  const std::size_t n = values.total();
  if (n == 0) return 0.f;
  const std::size_t stride = std::max<std::size_t>(1, n / 1'000'000);
  std::vector<float> sample;
  sample.reserve(n / stride + 1);
  const cv::Mat c = values.isContinuous() ? values : values.clone();
  const float* v = c.ptr<float>();
  for (std::size_t i = 0; i < n; i += stride) sample.push_back(v[i]);
  std::size_t k = static_cast<std::size_t>(std::ceil(p / 100.0 * sample.size()));
  k = std::clamp<std::size_t>(k, 1, sample.size()) - 1;
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(k), sample.end());
  return sample[k];
}

std::string sizeText(int width, int height) { return std::to_string(width) + "x" + std::to_string(height); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace loupe::forensics::detail
