#include "ImageReader.h"
#include "ExifOrientation.h"

#include <exiv2/exiv2.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/Sha256.h"

namespace loupe::io {
namespace fs = std::filesystem;
namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

bool startsWith(const std::uint8_t* d, std::size_t n, const char* magic, std::size_t m) {
  return n >= m && std::equal(d, d + m, reinterpret_cast<const std::uint8_t*>(magic));
}

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::int32_t le32(const std::uint8_t* p) {
  return static_cast<std::int32_t>(p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24));
}

// Text = printable ASCII, whitespace and well-formed UTF-8 in the first 512 bytes (5% slack for stray
// control characters). Bytes >= 0x80 count only inside valid UTF-8 sequences: binary data is not text.
bool looksLikeText(const std::uint8_t* d, std::size_t n) {
  const std::size_t k = std::min<std::size_t>(n, 512);
  if (k == 0) return false;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < k;) {
    const std::uint8_t c = d[i];
    if (c == '\n' || c == '\r' || c == '\t' || (c >= 32 && c < 127)) { ++i; continue; }
    const int extra = (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
    if (extra < 0) { ++bad; ++i; continue; }
    if (i + static_cast<std::size_t>(extra) >= k) {
      if (k < n) break;  // the sequence continues past the bytes we look at
      ++bad;
      break;
    }
    bool valid = true;
    for (int j = 1; j <= extra; ++j) valid = valid && (d[i + static_cast<std::size_t>(j)] & 0xC0) == 0x80;
    if (!valid) { ++bad; ++i; continue; }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return bad * 100 < k * 5;
}

Result<ImageHeader> probeJpeg(const std::uint8_t* d, std::size_t n) {
  ImageHeader h;
  h.format = "jpeg";
  std::size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return Error{ErrorCode::CorruptData, "JPEG marker structure is damaged"};
    std::uint8_t marker = d[i + 1];
    if (marker == 0xFF) { ++i; continue; }  // fill byte
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
    const std::size_t len = be16(d + i + 2);
    if (len < 2) return Error{ErrorCode::CorruptData, "JPEG segment with invalid length"};
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 10 > n) break;
      h.height = be16(d + i + 5);
      h.width = be16(d + i + 7);
      h.components = d[i + 9];
      if (h.width == 0 || h.height == 0)
        return Error{ErrorCode::CorruptData, "JPEG header gives a size of 0 pixels"};
      return h;
    }
    if (marker == 0xDA || marker == 0xD9) return Error{ErrorCode::CorruptData, "JPEG has no frame header (SOF)"};
    i += 2 + len;
  }
  return Error{ErrorCode::CorruptData, "JPEG is truncated inside its header"};
}

Result<ImageHeader> probePng(const std::uint8_t* d, std::size_t n) {
  ImageHeader h;
  h.format = "png";
  if (n < 33 || !startsWith(d + 12, n - 12, "IHDR", 4))
    return Error{ErrorCode::CorruptData, "PNG is truncated or has no IHDR header"};
  h.width = be32(d + 16);
  h.height = be32(d + 20);
  if (h.width == 0 || h.height == 0) return Error{ErrorCode::CorruptData, "PNG header gives a size of 0 pixels"};
  return h;
}


int readOrientation(const std::vector<std::uint8_t>& bytes, std::vector<std::string>& warnings) {
  initExiv2();  // jobs load images on several threads
  try {
    auto image = Exiv2::ImageFactory::open(bytes.data(), static_cast<long>(bytes.size()));
    if (image.get() == nullptr) return 1;
    image->readMetadata();
    const auto& exif = image->exifData();
    auto it = exif.findKey(Exiv2::ExifKey("Exif.Image.Orientation"));
    if (it == exif.end() || it->count() < 1) return 1;
    const long v = it->toLong();
    if (v < 1 || v > 8) {
      warnings.push_back("EXIF orientation tag has invalid value " + std::to_string(v) + "; ignored");
      return 1;
    }
    return static_cast<int>(v);
  } catch (const std::exception& e) {
    warnings.push_back(std::string("Metadata could not be read (") + e.what() + "); orientation not applied");
    return 1;
  }
}

bool hasJpegEnd(const std::vector<std::uint8_t>& b) {
  // Trailing bytes after EOI are common; look for FF D9 near the end.
  const std::size_t from = b.size() > 4096 ? b.size() - 4096 : 0;
  for (std::size_t i = b.size(); i-- > from + 1;)
    if (b[i - 1] == 0xFF && b[i] == 0xD9) return true;
  return false;
}

}  // namespace

Result<ImageHeader> probeImage(const std::uint8_t* d, std::size_t n) {
  if (n == 0) return Error{ErrorCode::CorruptData, "File is empty (0 bytes)"};
  // SOI (FF D8) is enough to call it a JPEG: a file cut right after it is a damaged JPEG, not "unknown".
  if (startsWith(d, n, "\xFF\xD8", 2)) return probeJpeg(d, n);
  if (startsWith(d, n, "\x89PNG\r\n\x1A\n", 8)) return probePng(d, n);
  ImageHeader h;
  if (startsWith(d, n, "II*\0", 4) || startsWith(d, n, "MM\0*", 4)) { h.format = "tiff"; return h; }
  // "BM" alone is too weak (text can start with it): the DIB header size must also be a known one.
  if (startsWith(d, n, "BM", 2) && n >= 26) {
    const std::int32_t dib = le32(d + 14);
    if (dib == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
      h.format = "bmp";
      h.width = le16(d + 18);
      h.height = le16(d + 20);
      return h;
    }
    if (dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
      h.format = "bmp";
      h.width = le32(d + 18);
      const std::int32_t hh = le32(d + 22);
      h.height = hh < 0 ? -static_cast<std::int64_t>(hh) : hh;  // negative = rows stored top-down
      return h;
    }
  }
  if (n >= 12 && startsWith(d, n, "RIFF", 4) && startsWith(d + 8, n - 8, "WEBP", 4)) { h.format = "webp"; return h; }
  if (startsWith(d, n, "GIF8", 4))
    return Error{ErrorCode::UnsupportedFormat, "GIF images are not supported; convert to PNG first"};
  if (startsWith(d, n, "%PDF", 4)) return Error{ErrorCode::UnsupportedFormat, "This is a PDF document, not an image"};
  if (looksLikeText(d, n))
    return Error{ErrorCode::UnsupportedFormat, "This is a text file, not an image (its extension may be wrong)"};
  return Error{ErrorCode::UnsupportedFormat, "Unrecognised image format (supported: JPEG, PNG, TIFF, BMP, WebP)"};
}

Result<std::vector<std::uint8_t>> readFileBytes(const std::string& path, std::uint64_t maxBytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Error{ErrorCode::NotFound, "No such file: " + path};
  if (fs::is_directory(status)) return Error{ErrorCode::InvalidArgument, path + " is a folder, not a file"};
  const auto size = fs::file_size(path, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot read the size of " + path + ": " + ec.message()};
  if (size > maxBytes)
    return Error{ErrorCode::TooLarge, path + " is " + std::to_string(size >> 20) + " MiB, over the limit"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::Io, "Cannot open " + path + " (permission denied?)"};
  std::vector<std::uint8_t> bytes(size);
  if (size) in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size) return Error{ErrorCode::Io, "Read error in " + path};
  return bytes;
}

Result<Image> decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                          const ImageLoadOptions& options) {
  auto header = probeImage(bytes.data(), bytes.size());
  if (!header) return header.error().withContext(name);
  const auto& h = *header;
  const auto pixelLimitError = [&](std::int64_t w, std::int64_t hh) {
    return Error{ErrorCode::TooLarge,
                 name + ": image is " + std::to_string(w) + " x " + std::to_string(hh) + " pixels (" +
                     std::to_string(static_cast<std::uint64_t>(w) * hh / 1'000'000) + " MP), over the limit of " +
                     std::to_string(options.maxPixels / 1'000'000) + " MP"};
  };
  if (h.width > 0 && h.height > 0 && static_cast<std::uint64_t>(h.width) * h.height > options.maxPixels)
    return pixelLimitError(h.width, h.height);

  ImageSource source;
  source.format = h.format;
  source.sha256 = Sha256::hex(bytes.data(), bytes.size());
  if (h.format == "jpeg" && !hasJpegEnd(bytes))
    source.warnings.push_back("JPEG is truncated (no end-of-image marker): the bottom of the image may be missing");
  if (h.format == "jpeg" && h.components == 4)
    source.warnings.push_back("CMYK JPEG converted to RGB without a colour profile: colours are approximate");

  cv::Mat mat;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<std::uint8_t*>(bytes.data()));
    mat = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return Error{ErrorCode::CorruptData, name + ": the " + h.format + " data could not be decoded (" + e.msg + ")"};
  }
  if (mat.empty())
    return Error{ErrorCode::CorruptData, name + ": the " + h.format + " data is damaged or truncated and could not be decoded"};
  if (static_cast<std::uint64_t>(mat.cols) * mat.rows > options.maxPixels) return pixelLimitError(mat.cols, mat.rows);

  PixelDepth depth;
  switch (mat.depth()) {
    case CV_8U: depth = PixelDepth::U8; break;
    case CV_16U: depth = PixelDepth::U16; break;
    case CV_32F: depth = PixelDepth::F32; break;
    default:
      return Error{ErrorCode::UnsupportedFormat,
                   name + ": sample type not supported (only 8/16-bit unsigned and 32-bit float images)"};
  }

  if (options.applyOrientation) {
    source.exifOrientation = readOrientation(bytes, source.warnings);
    applyExifOrientation(mat, source.exifOrientation);
  }

  ColorOrder order;
  int code = -1;
  switch (mat.channels()) {
    case 1: order = ColorOrder::Gray; break;
    case 2: order = ColorOrder::GrayAlpha; break;
    case 3: order = ColorOrder::RGB; code = cv::COLOR_BGR2RGB; break;
    case 4: order = ColorOrder::RGBA; code = cv::COLOR_BGRA2RGBA; break;
    default:
      return Error{ErrorCode::UnsupportedFormat, name + ": " + std::to_string(mat.channels()) + " channels not supported"};
  }
  Image image(mat.cols, mat.rows, order, depth);
  cv::Mat dst(mat.rows, mat.cols, CV_MAKETYPE(mat.depth(), mat.channels()), image.data(), image.rowBytes());
  if (code >= 0) cv::cvtColor(mat, dst, code);
  else mat.copyTo(dst);
  image.source = std::move(source);
  return image;
}

Result<Image> loadImage(const std::string& path, const ImageLoadOptions& options) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  auto image = decodeImage(*bytes, fs::path(path).filename().string(), options);
  if (!image) return image.error();
  image->source.path = fs::absolute(path).lexically_normal().string();
  return image;
}

void initExiv2() {
  static std::once_flag once;
  std::call_once(once, [] {
    Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);
    static std::recursive_mutex xmpMutex;
    Exiv2::XmpParser::initialize(
        [](void* data, bool lock) {
          auto* m = static_cast<std::recursive_mutex*>(data);
          if (lock) m->lock();
          else m->unlock();
        },
        &xmpMutex);
  });
}

}  // namespace loupe::io
