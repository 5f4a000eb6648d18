#pragma once
// Helpers shared by the forensics tests: cv::Mat <-> loupe::Image, Debian sample photos, JPEG bytes.

#include <QFile>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <vector>

#include "core/Image.h"

namespace loupe::test {

inline const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data/";

// A python3-skimage sample photo as 8-bit RGB (cv::Mat in RGB order), empty when absent.
inline cv::Mat skimagePhotoRgb(const char* name) {
  const std::string path = std::string(kSkimageData) + name;
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) return bgr;
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

// CV_8UC1 / CV_8UC3 (RGB) / CV_8UC4 (RGBA) / CV_16UC3 (RGB) -> Image (deep copy).
inline Image toImage(const cv::Mat& m) {
  ColorOrder order = m.channels() == 1 ? ColorOrder::Gray : m.channels() == 4 ? ColorOrder::RGBA : ColorOrder::RGB;
  PixelDepth depth = m.depth() == CV_16U ? PixelDepth::U16 : PixelDepth::U8;
  Image img(m.cols, m.rows, order, depth);
  for (int y = 0; y < m.rows; ++y) std::memcpy(img.row<std::uint8_t>(y), m.ptr(y), img.rowBytes());
  return img;
}

// RGB cv::Mat encoded as a JPEG at `quality` and decoded again (RGB).
inline cv::Mat jpegRoundTrip(const cv::Mat& rgb, int quality, std::vector<std::uint8_t>* bytes = nullptr) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<std::uint8_t> buf;
  cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  if (bytes) *bytes = buf;
  cv::Mat out = cv::imdecode(buf, cv::IMREAD_COLOR);
  cv::cvtColor(out, out, cv::COLOR_BGR2RGB);
  return out;
}

inline bool writeBytes(const QString& path, const std::vector<std::uint8_t>& bytes) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return false;
  return f.write(reinterpret_cast<const char*>(bytes.data()), qint64(bytes.size())) == qint64(bytes.size());
}

// Mean of a heatmap-like row-major float buffer inside / outside a rectangle.
template <class Map>
std::pair<double, double> meanInOut(const Map& map, const cv::Rect& r) {
  double in = 0, out = 0;
  long nIn = 0, nOut = 0;
  for (int y = 0; y < map.height; ++y)
    for (int x = 0; x < map.width; ++x) {
      const double v = map.values[std::size_t(y) * map.width + x];
      if (r.contains({x, y})) in += v, ++nIn;
      else out += v, ++nOut;
    }
  return {nIn ? in / nIn : 0.0, nOut ? out / nOut : 0.0};
}

}  // namespace loupe::test

#define SKIP_WITHOUT_PHOTO(mat, name) \
  if ((mat).empty()) QSKIP("python3-skimage sample photo " name " not installed")
