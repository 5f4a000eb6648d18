#include "Image.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace loupe {

std::size_t bytesPerSample(PixelDepth depth) {
  switch (depth) {
    case PixelDepth::U8: return 1;
    case PixelDepth::U16: return 2;
    case PixelDepth::F32: return 4;
  }
  return 1;
}

int channelCount(ColorOrder order) {
  switch (order) {
    case ColorOrder::Gray: return 1;
    case ColorOrder::GrayAlpha: return 2;
    case ColorOrder::RGB:
    case ColorOrder::BGR: return 3;
    case ColorOrder::RGBA:
    case ColorOrder::BGRA: return 4;
  }
  return 3;
}

const char* colorOrderName(ColorOrder order) {
  switch (order) {
    case ColorOrder::Gray: return "gray";
    case ColorOrder::GrayAlpha: return "gray+alpha";
    case ColorOrder::RGB: return "rgb";
    case ColorOrder::RGBA: return "rgba";
    case ColorOrder::BGR: return "bgr";
    case ColorOrder::BGRA: return "bgra";
  }
  return "?";
}

const char* pixelDepthName(PixelDepth depth) {
  switch (depth) {
    case PixelDepth::U8: return "8-bit";
    case PixelDepth::U16: return "16-bit";
    case PixelDepth::F32: return "32-bit float";
  }
  return "?";
}

Image::Image(int width, int height, ColorOrder order, PixelDepth depth)
    : width_(width), height_(height), order_(order), depth_(depth) {
  if (width < 0 || height < 0) throw std::invalid_argument("Image: negative size");
  data_ = std::make_shared<std::vector<std::uint8_t>>(byteSize(), 0);
}

float Image::sample(int x, int y, int c) const {
  const std::size_t i = static_cast<std::size_t>(x) * channels() + c;
  switch (depth_) {
    case PixelDepth::U8: return row<std::uint8_t>(y)[i];
    case PixelDepth::U16: return row<std::uint16_t>(y)[i];
    case PixelDepth::F32: return row<float>(y)[i];
  }
  return 0.f;
}

Image Image::clone() const {
  Image out(width_, height_, order_, depth_);
  if (byteSize()) std::memcpy(out.data(), data(), byteSize());
  out.source = source;
  return out;
}

Image Image::toU8() const {
  if (depth_ == PixelDepth::U8) return *this;
  Image out(width_, height_, order_, PixelDepth::U8);
  out.source = source;
  const std::size_t n = static_cast<std::size_t>(width_) * height_ * channels();
  std::uint8_t* dst = out.data();
  if (depth_ == PixelDepth::U16) {
    const auto* src = reinterpret_cast<const std::uint16_t*>(data());
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>((src[i] + 128u) / 257u);
  } else {
    const auto* src = reinterpret_cast<const float*>(data());
    for (std::size_t i = 0; i < n; ++i)  // NaN has no brightness: 0 (lround(NaN) is unspecified)
      dst[i] = std::isnan(src[i]) ? 0 : static_cast<std::uint8_t>(std::lround(std::clamp(src[i], 0.f, 1.f) * 255.f));
  }
  return out;
}

namespace {
template <class T>
void toRgbRows(const Image& in, Image& out) {
  const int ch = in.channels();
  const bool swap = in.order() == ColorOrder::BGR || in.order() == ColorOrder::BGRA;
  for (int y = 0; y < in.height(); ++y) {
    const T* s = in.row<T>(y);
    T* d = out.row<T>(y);
    for (int x = 0; x < in.width(); ++x, s += ch, d += 3) {
      if (ch <= 2) {
        d[0] = d[1] = d[2] = s[0];
      } else if (swap) {
        d[0] = s[2]; d[1] = s[1]; d[2] = s[0];
      } else {
        d[0] = s[0]; d[1] = s[1]; d[2] = s[2];
      }
    }
  }
}
}  // namespace

Image Image::toRGB() const {
  if (order_ == ColorOrder::RGB) return *this;
  Image out(width_, height_, ColorOrder::RGB, depth_);
  out.source = source;
  switch (depth_) {
    case PixelDepth::U8: toRgbRows<std::uint8_t>(*this, out); break;
    case PixelDepth::U16: toRgbRows<std::uint16_t>(*this, out); break;
    case PixelDepth::F32: toRgbRows<float>(*this, out); break;
  }
  return out;
}

}  // namespace loupe
