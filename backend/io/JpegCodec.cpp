// JPEG re-compression with libjpeg directly, scanline by scanline, so that a cancel takes effect within a
// few milliseconds even on very large images (cv::imencode/imdecode are single uninterruptible calls).
// Settings match what OpenCV's encoder uses (jpeg_set_defaults + jpeg_set_quality(q, TRUE): 4:2:0 chroma
// for colour, baseline, islow DCT) so results are bit-identical to cv::imencode + cv::imdecode; the test
// checks that.

#include <csetjmp>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "ImageWriter.h"
#include "JpegErrors.h"

namespace loupe::io {
namespace {

constexpr int kRowsBetweenChecks = 64;


// A destination manager writing into a std::vector (libjpeg's jpeg_mem_dest leaves a dangling pointer
// behind when compression is aborted after it grew its buffer).
struct VectorDestination {
  jpeg_destination_mgr pub;
  std::vector<std::uint8_t>* bytes;
};

constexpr std::size_t kChunk = 1 << 16;

void initDestination(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->bytes->resize(kChunk);
  d->pub.next_output_byte = d->bytes->data();
  d->pub.free_in_buffer = kChunk;
}

boolean emptyBuffer(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t used = d->bytes->size();  // libjpeg hands back a full buffer here
  d->bytes->resize(used * 2);
  d->pub.next_output_byte = d->bytes->data() + used;
  d->pub.free_in_buffer = d->bytes->size() - used;
  return TRUE;
}

void termDestination(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->bytes->resize(d->bytes->size() - d->pub.free_in_buffer);
}

// Encodes into `out`. Returns false when cancelled; sets `error` on failure.
bool encode(const Image& image, int quality, const CancelToken& cancel, std::vector<std::uint8_t>& out,
            std::string& error) {
  jpeg_compress_struct cinfo{};
  jpeg::ErrorManager err{};
  cinfo.err = jpeg::install(err);
  if (setjmp(err.jump)) {
    error = std::string("JPEG encoder failed: ") + err.message;
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  VectorDestination dest{};
  dest.bytes = &out;
  dest.pub.init_destination = initDestination;
  dest.pub.empty_output_buffer = emptyBuffer;
  dest.pub.term_destination = termDestination;
  cinfo.dest = &dest.pub;
  cinfo.image_width = static_cast<JDIMENSION>(image.width());
  cinfo.image_height = static_cast<JDIMENSION>(image.height());
  const bool gray = image.order() == ColorOrder::Gray;
  cinfo.input_components = gray ? 1 : 3;
  cinfo.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    if (cinfo.next_scanline % kRowsBetweenChecks == 0 && cancel.isCancelled()) {
      jpeg_abort_compress(&cinfo);
      jpeg_destroy_compress(&cinfo);
      return false;
    }
    JSAMPROW row = const_cast<JSAMPROW>(image.row<std::uint8_t>(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

bool decode(const std::vector<std::uint8_t>& in, Image& out, const CancelToken& cancel, std::string& error) {
  jpeg_decompress_struct cinfo{};
  jpeg::ErrorManager err{};
  cinfo.err = jpeg::install(err);
  if (setjmp(err.jump)) {
    error = std::string("JPEG decoder failed on freshly encoded data: ") + err.message;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, in.data(), static_cast<unsigned long>(in.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = out.order() == ColorOrder::Gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (static_cast<int>(cinfo.output_width) != out.width() || static_cast<int>(cinfo.output_height) != out.height() ||
      static_cast<int>(cinfo.output_components) != out.channels()) {
    error = "JPEG decoder returned an image of another size";
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    if (cinfo.output_scanline % kRowsBetweenChecks == 0 && cancel.isCancelled()) {
      jpeg_abort_decompress(&cinfo);
      jpeg_destroy_decompress(&cinfo);
      return false;
    }
    JSAMPROW row = out.row<std::uint8_t>(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Result<Image> recompressJpeg(const Image& image, int quality, const CancelToken& cancel) {
  if (quality < 1 || quality > 100)
    return Error{ErrorCode::InvalidArgument, "JPEG quality must be 1-100, got " + std::to_string(quality)};
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "Cannot re-compress an empty image"};
  if (image.depth() != PixelDepth::U8 || (image.order() != ColorOrder::RGB && image.order() != ColorOrder::Gray))
    return Error{ErrorCode::InvalidArgument, std::string("JPEG re-compression needs an 8-bit gray or RGB image, got ") +
                                                 colorOrderName(image.order()) + " " + pixelDepthName(image.depth())};
  if (image.width() > 65500 || image.height() > 65500)
    return Error{ErrorCode::InvalidArgument, "JPEG cannot hold an image of " + std::to_string(image.width()) + " x " +
                                                 std::to_string(image.height()) + " pixels (at most 65500 per side)"};
  std::vector<std::uint8_t> encoded;
  std::string error;
  if (!encode(image, quality, cancel, encoded, error)) {
    if (!error.empty()) return Error{ErrorCode::Internal, error};
    return Error::cancelled();
  }
  Image out(image.width(), image.height(), image.order());
  if (!decode(encoded, out, cancel, error)) {
    if (!error.empty()) return Error{ErrorCode::Internal, error};
    return Error::cancelled();
  }
  return out;
}

}  // namespace loupe::io
