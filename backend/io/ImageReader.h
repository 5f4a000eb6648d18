#pragma once
// Reading images from files or memory: JPEG, PNG, TIFF, BMP, WebP, 8 or 16 bit, gray/colour/alpha.
// Headers are checked before decoding, so a bad file fails fast with a message that says what is wrong.

#include <cstdint>
#include <string>
#include <vector>

#include "core/Image.h"
#include "core/Result.h"

namespace loupe::io {

struct ImageLoadOptions {
  std::uint64_t maxPixels = 500'000'000;  // refuse larger images before allocating anything
  bool applyOrientation = true;           // rotate/flip by the EXIF orientation tag
};

struct ImageHeader {
  std::string format;  // jpeg, png, tiff, bmp, webp
  std::int64_t width = 0;   // 0 when the header does not say (TIFF, WebP: checked after decoding)
  std::int64_t height = 0;
  int components = 0;  // JPEG: 1 gray, 3 YCbCr, 4 CMYK/YCCK
};

// Identifies the format from the magic bytes and reads the size where the format puts it up front.
Result<ImageHeader> probeImage(const std::uint8_t* data, std::size_t size);

Result<Image> decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                          const ImageLoadOptions& options = {});
Result<Image> loadImage(const std::string& path, const ImageLoadOptions& options = {});

// Prepares Exiv2 once per process, before any parsing: mutes its stderr logging and initialises the XMP
// toolkit with a lock (Exiv2 would otherwise initialise it lazily from whichever thread first meets XMP,
// which its documentation says is not thread-safe). Everything in Loupe that uses Exiv2 calls this first.
void initExiv2();

Result<std::vector<std::uint8_t>> readFileBytes(const std::string& path, std::uint64_t maxBytes = 4ull << 30);

}  // namespace loupe::io
