#pragma once
// Metadata forensics: every EXIF, XMP and IPTC entry (read with libexiv2), consistency notes (editing
// software, capture vs modification dates, stated vs actual size, edit history) and the embedded EXIF
// thumbnail compared with the image: cameras write the thumbnail at capture, and many editors leave it
// untouched, so an edit of the main image shows up as a difference to its own preview.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Result.h"

namespace loupe::forensics {

struct MetadataEntry {
  std::string family;  // Exif, Xmp, Iptc
  std::string group;   // e.g. Image, Photo, GPSInfo, xmp, dc
  std::string key;     // e.g. Exif.Image.Software
  std::string value;   // interpreted, shortened to 256 characters; binary blobs as "(N bytes)"
};

struct ThumbnailComparison {
  int width = 0, height = 0;       // the thumbnail, after the image's EXIF orientation is applied to it
  std::string mimeType;
  std::vector<std::uint8_t> bytes; // as embedded
  double imageAspect = 0.0, thumbnailAspect = 0.0;
  double meanAbsDifference = 0.0;  // grey levels, image downscaled to the thumbnail's size
  double p95AbsDifference = 0.0;
  Heatmap difference;              // |thumbnail - image| upscaled to the image's size
};

struct MetadataReport {
  std::vector<MetadataEntry> entries;
  std::vector<std::string> notes;     // consistency notes, in plain words
  std::vector<std::string> problems;  // what could not be read (damaged EXIF ...); never fatal
  std::optional<ThumbnailComparison> thumbnail;
  bool hasExifSegment = false;  // the file holds an EXIF APP1 segment (whether readable or not)
};

// `bytes`: the file as stored. `image`: its decoded pixels (orientation applied), for the thumbnail
// comparison and the stated-size check; may be empty. Damaged metadata is reported, never thrown.
MetadataReport analyseMetadata(const std::vector<std::uint8_t>& bytes, const Image& image,
                               const CancelToken& cancel = {});

}  // namespace loupe::forensics
