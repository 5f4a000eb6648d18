#pragma once
// An in-memory raster: 8- or 16-bit (or float) samples, 1-4 interleaved channels, explicit colour order.
// Loaders (backend/io) apply EXIF orientation, so (0,0) is always the top-left pixel as a viewer shows it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loupe {

enum class PixelDepth { U8, U16, F32 };
enum class ColorOrder { Gray, GrayAlpha, RGB, RGBA, BGR, BGRA };

std::size_t bytesPerSample(PixelDepth depth);
int channelCount(ColorOrder order);
const char* colorOrderName(ColorOrder order);
const char* pixelDepthName(PixelDepth depth);

// Where an image came from; empty for images made in memory.
struct ImageSource {
  std::string path;
  std::string sha256;       // of the file's bytes, hex
  std::string format;       // "jpeg", "png", "tiff", "bmp", "webp"
  int exifOrientation = 1;  // as stored in the file (1 = upright); already applied to the pixels
  std::vector<std::string> warnings;  // e.g. truncated data, CMYK converted without a profile
};

class Image {
 public:
  Image() = default;
  Image(int width, int height, ColorOrder order, PixelDepth depth = PixelDepth::U8);

  bool empty() const { return width_ == 0 || height_ == 0; }
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channelCount(order_); }
  ColorOrder order() const { return order_; }
  PixelDepth depth() const { return depth_; }
  std::size_t rowBytes() const { return static_cast<std::size_t>(width_) * channels() * bytesPerSample(depth_); }
  std::size_t byteSize() const { return rowBytes() * static_cast<std::size_t>(height_); }

  std::uint8_t* data() { return data_ ? data_->data() : nullptr; }
  const std::uint8_t* data() const { return data_ ? data_->data() : nullptr; }
  template <class T> T* row(int y) { return reinterpret_cast<T*>(data() + rowBytes() * static_cast<std::size_t>(y)); }
  template <class T> const T* row(int y) const {
    return reinterpret_cast<const T*>(data() + rowBytes() * static_cast<std::size_t>(y));
  }
  // Sample as float in the image's own units (0..255 for U8, 0..65535 for U16).
  float sample(int x, int y, int c) const;

  // Deep copy (images share pixels on copy-construction, like cv::Mat).
  Image clone() const;
  // 8-bit copy: U16 is divided by 257 (rounded), F32 is taken as 0..1 and scaled.
  Image toU8() const;
  // Same depth, converted to RGB (drops alpha; gray is replicated; BGR swapped).
  Image toRGB() const;

  ImageSource source;

 private:
  int width_ = 0;
  int height_ = 0;
  ColorOrder order_ = ColorOrder::RGB;
  PixelDepth depth_ = PixelDepth::U8;
  std::shared_ptr<std::vector<std::uint8_t>> data_;
};

}  // namespace loupe
