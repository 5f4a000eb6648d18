#include "Metadata.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <exiv2/exiv2.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "Convert.h"
#include "io/ExifOrientation.h"
#include "io/ImageReader.h"

namespace loupe::forensics {
using namespace detail;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string shorten(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 32 && c != '\n' && c != '\t') c = ' ';
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  if (s.size() > 256) s = s.substr(0, 253) + "...";
  return s;
}

template <class Datum>
std::string valueText(const Datum& d, const Exiv2::ExifData* exif) {
  const auto type = d.typeId();
  if ((type == Exiv2::undefined || type == Exiv2::unsignedByte || type == Exiv2::signedByte) && d.size() > 64)
    return "(" + std::to_string(d.size()) + " bytes)";
  try {
    return shorten(exif ? d.print(exif) : d.toString());
  } catch (const std::exception& e) {
    return std::string("(unreadable: ") + e.what() + ")";
  }
}

const char* const kEditors[] = {"photoshop", "gimp", "lightroom", "affinity", "paint.net", "pixelmator",
                                "snapseed", "picsart", "canva", "photoscape", "acdsee", "capture one",
                                "darktable", "rawtherapee", "luminar", "facetune", "meitu", "fotor",
                                "paintshop", "corel", "krita", "imagemagick", "graphicsmagick", "photopea"};

const MetadataEntry* find(const std::vector<MetadataEntry>& entries, const std::string& key) {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

// "2021:03:04 10:11:12" and ISO "2021-03-04T10:11:12(+01:00)" compared on date and time only.
std::string normaliseDate(std::string s) {
  std::string out;
  for (char c : s)
    if (std::isdigit(static_cast<unsigned char>(c))) out += c;
  return out.substr(0, 14);
}


void consistencyNotes(MetadataReport& r, const Image& image) {
  const auto& e = r.entries;
  for (const char* key : {"Exif.Image.Software", "Xmp.xmp.CreatorTool", "Iptc.Application2.Program",
                          "Exif.Image.ProcessingSoftware"}) {
    const MetadataEntry* s = find(e, key);
    if (!s) continue;
    const std::string v = lower(s->value);
    for (const char* editor : kEditors)
      if (v.find(editor) != std::string::npos) {
        r.notes.push_back(std::string(key) + " names an image editor (\"" + s->value +
                          "\"): the file was saved by editing software after capture.");
        break;
      }
  }
  const MetadataEntry* original = find(e, "Exif.Photo.DateTimeOriginal");
  const MetadataEntry* modified = find(e, "Exif.Image.DateTime");
  if (original && modified && normaliseDate(original->value) != normaliseDate(modified->value))
    r.notes.push_back("DateTimeOriginal (" + original->value + ") differs from ModifyDate (" + modified->value +
                      "): the file was re-saved after capture.");
  const MetadataEntry* xmpModify = find(e, "Xmp.xmp.ModifyDate");
  const MetadataEntry* xmpCreate = find(e, "Xmp.xmp.CreateDate");
  if (xmpModify && xmpCreate && normaliseDate(xmpModify->value) != normaliseDate(xmpCreate->value))
    r.notes.push_back("XMP CreateDate (" + xmpCreate->value + ") differs from ModifyDate (" + xmpModify->value + ").");
  int history = 0;
  for (const auto& x : e)
    if (x.key.rfind("Xmp.xmpMM.History", 0) == 0 && x.key.find("/stEvt:action") != std::string::npos) ++history;
  if (history > 0) r.notes.push_back("XMP edit history lists " + std::to_string(history) + " action(s).");
  const MetadataEntry* px = find(e, "Exif.Photo.PixelXDimension");
  const MetadataEntry* py = find(e, "Exif.Photo.PixelYDimension");
  if (px && py && !image.empty()) {
    try {
      const long w = std::stol(px->value), h = std::stol(py->value);
      const bool same = (w == image.width() && h == image.height()) || (w == image.height() && h == image.width());
      if (!same && w > 0 && h > 0)
        r.notes.push_back("EXIF states " + std::to_string(w) + "x" + std::to_string(h) + " pixels but the image is " +
                          sizeText(image.width(), image.height()) + ": resized or cropped after the EXIF was written.");
    } catch (const std::exception&) {
    }
  }
  bool anyExif = false;
  for (const auto& x : e) anyExif = anyExif || x.family == "Exif";
  if (!anyExif && r.hasExifSegment)
    r.problems.push_back("The file has an EXIF segment (APP1 \"Exif\") but no readable entry: the EXIF is damaged.");
  else if (!anyExif)
    r.notes.push_back("No EXIF data: stripped or never written (typical of social networks, messengers and "
                      "'export for web'); the capture history cannot be checked.");
  else if (!find(e, "Exif.Image.Make") && !find(e, "Exif.Image.Model"))
    r.notes.push_back("EXIF without camera make and model.");
}

void compareThumbnail(MetadataReport& r, const Exiv2::ExifData& exif, const Image& image) {
  Exiv2::ExifThumbC thumb(exif);
  Exiv2::DataBuf buf = thumb.copy();
  if (buf.size_ <= 0 || buf.pData_ == nullptr) {
    if (exif.findKey(Exiv2::ExifKey("Exif.Thumbnail.JPEGInterchangeFormat")) != exif.end())
      r.problems.push_back("EXIF declares a thumbnail (JPEGInterchangeFormat) but its data cannot be read: the "
                           "offset or length points outside the EXIF segment.");
    return;
  }
  ThumbnailComparison t;
  t.mimeType = thumb.mimeType();
  t.bytes.assign(buf.pData_, buf.pData_ + buf.size_);
  cv::Mat decoded = cv::imdecode(t.bytes, cv::IMREAD_GRAYSCALE);
  if (decoded.empty()) {
    r.problems.push_back("The embedded thumbnail (" + std::to_string(buf.size_) + " bytes, " + t.mimeType +
                         ") cannot be decoded.");
    return;
  }
  io::applyExifOrientation(decoded, image.source.exifOrientation);
  t.width = decoded.cols;
  t.height = decoded.rows;
  t.thumbnailAspect = double(t.width) / t.height;
  if (!image.empty()) {
    t.imageAspect = double(image.width()) / image.height();
    cv::Mat thumbF, small, diff;
    decoded.convertTo(thumbF, CV_32F);
    cv::resize(grayFloat(image), small, decoded.size(), 0, 0, cv::INTER_AREA);
    cv::absdiff(thumbF, small, diff);
    t.meanAbsDifference = cv::mean(diff)[0];
    t.p95AbsDifference = percentile(diff, 95.0);
    cv::Mat full;
    cv::resize(diff, full, cv::Size(image.width(), image.height()), 0, 0, cv::INTER_LINEAR);
    t.difference = toHeatmap(full, 0.f, std::max(percentile(diff, 99.0), 16.f), Colormap::Magma,
                             "|thumbnail - image| (grey levels)");
    const double ratio = t.thumbnailAspect / t.imageAspect;
    if (std::abs(ratio - 1.0) > 0.03)
      r.notes.push_back("The EXIF thumbnail's aspect ratio (" + fixed(t.thumbnailAspect, 3) + ") differs from the "
                        "image's (" + fixed(t.imageAspect, 3) + "): cropped after capture, or a letterboxed "
                        "thumbnail (the difference map is then not meaningful).");
    else if (t.meanAbsDifference > 12.0)
      r.notes.push_back("The EXIF thumbnail differs from the image (mean " + fixed(t.meanAbsDifference, 1) +
                        " grey levels): the image was edited after the thumbnail was made; see the difference map.");
  }
  r.thumbnail = std::move(t);
}

}  // namespace

MetadataReport analyseMetadata(const std::vector<std::uint8_t>& bytes, const Image& image, const CancelToken& cancel) {
  io::initExiv2();
  MetadataReport r;
  // An APP1 segment holding "Exif\0\0" among the JPEG's header segments.
  for (std::size_t i = 2; i + 10 < bytes.size() && i < (1u << 20); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xE1 && std::memcmp(&bytes[i + 4], "Exif\0\0", 6) == 0) {
      r.hasExifSegment = true;
      break;
    }
  Exiv2::ExifData exif;
  try {
    auto file = Exiv2::ImageFactory::open(bytes.data(), static_cast<long>(bytes.size()));
    if (file.get() == nullptr) {
      r.problems.push_back("Exiv2 does not recognise this file format; no metadata read.");
      return r;
    }
    file->readMetadata();
    exif = file->exifData();
    for (const auto& d : exif) r.entries.push_back({"Exif", d.groupName(), d.key(), valueText(d, &exif)});
    for (const auto& d : file->xmpData())
      r.entries.push_back({"Xmp", d.groupName(), d.key(), valueText(d, static_cast<const Exiv2::ExifData*>(nullptr))});
    for (const auto& d : file->iptcData())
      r.entries.push_back({"Iptc", d.groupName(), d.key(), valueText(d, static_cast<const Exiv2::ExifData*>(nullptr))});
  } catch (const std::exception& e) {
    r.problems.push_back(std::string("The metadata is damaged and could not be read completely: ") + e.what());
  }
  if (cancel.isCancelled()) return r;
  consistencyNotes(r, image);
  try {
    if (!exif.empty()) compareThumbnail(r, exif, image);
  } catch (const std::exception& e) {
    r.problems.push_back(std::string("The EXIF thumbnail could not be read: ") + e.what());
  }
  return r;
}

}  // namespace loupe::forensics
