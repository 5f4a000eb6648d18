#include "JpegForensics.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <cstdlib>

#include <jpeglib.h>

#include "Convert.h"
#include "io/JpegErrors.h"

namespace loupe::forensics {
using namespace detail;

namespace {

// Plain C data only between setjmp and longjmp. Returns 0 on success, 1 on a libjpeg error.
int readHeaders(const std::uint8_t* data, unsigned long size, JpegInfo* out, char* message) {
  jpeg_decompress_struct cinfo;
  io::jpeg::ErrorManager err;
  cinfo.err = io::jpeg::install(err);
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    std::strncpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  out->width = static_cast<int>(cinfo.image_width);
  out->height = static_cast<int>(cinfo.image_height);
  out->progressive = cinfo.progressive_mode;
  out->arithmetic = cinfo.arith_code;
  for (int c = 0; c < cinfo.num_components; ++c) {
    const jpeg_component_info& ci = cinfo.comp_info[c];
    out->components.push_back({ci.component_id, ci.h_samp_factor, ci.v_samp_factor, ci.quant_tbl_no});
  }
  for (int slot = 0; slot < NUM_QUANT_TBLS; ++slot) {
    const JQUANT_TBL* t = cinfo.quant_tbl_ptrs[slot];
    if (t == nullptr) continue;
    QuantTable q;
    q.slot = slot;
    for (int k = 0; k < 64; ++k) q.values[static_cast<std::size_t>(k)] = t->quantval[k];  // natural order
    out->tables.push_back(q);
  }
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

constexpr std::array<std::uint16_t, 64> kLuminance = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,  14, 13, 16, 24,  40,  57,
    69, 56, 14, 17, 22,  29,  51,  87,  80, 62, 18, 22, 37,  56,  68,  109, 103, 77, 24, 35, 55, 64,
    81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr std::array<std::uint16_t, 64> kChrominance = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

const QuantTable* tableForSlot(const JpegInfo& info, int slot) {
  for (const auto& t : info.tables)
    if (t.slot == slot) return &t;
  return nullptr;
}

}  // namespace

Result<JpegInfo> readJpegInfo(const std::vector<std::uint8_t>& bytes) {
  if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8)
    return Error{ErrorCode::UnsupportedFormat, "Not a JPEG file (no FF D8 start-of-image marker)"};
  JpegInfo info;
  char message[JMSG_LENGTH_MAX] = {0};
  if (readHeaders(bytes.data(), static_cast<unsigned long>(bytes.size()), &info, message) != 0)
    return Error{ErrorCode::CorruptData, std::string("The JPEG headers are damaged: ") + message};
  if (info.tables.empty())
    return Error{ErrorCode::CorruptData, "The JPEG has no quantisation table (DQT) before its first scan"};
  return info;
}

std::array<std::uint16_t, 64> ijgTable(int quality, bool chroma) {
  quality = std::clamp(quality, 1, 100);
  const long scale = quality < 50 ? 5000 / quality : 200 - quality * 2;  // jpeg_quality_scaling
  const auto& base = chroma ? kChrominance : kLuminance;
  std::array<std::uint16_t, 64> out{};
  for (std::size_t k = 0; k < 64; ++k) {
    long t = (static_cast<long>(base[k]) * scale + 50) / 100;  // jpeg_add_quant_table
    out[k] = static_cast<std::uint16_t>(std::clamp(t, 1L, 255L));
  }
  return out;
}

QualityEstimate estimateIjgQuality(const JpegInfo& info) {
  QualityEstimate best;
  best.meanAbsError = 1e300;
  if (info.components.empty()) return best;
  const QuantTable* luma = tableForSlot(info, info.components[0].quantSlot);
  const QuantTable* chroma = info.components.size() >= 3 ? tableForSlot(info, info.components[1].quantSlot) : nullptr;
  if (luma == nullptr) return best;
  for (int q = 1; q <= 100; ++q) {
    double sum = 0, mx = 0;
    int n = 0;
    const auto l = ijgTable(q, false);
    for (std::size_t k = 0; k < 64; ++k, ++n) {
      const double d = std::abs(double(luma->values[k]) - l[k]);
      sum += d;
      mx = std::max(mx, d);
    }
    if (chroma) {
      const auto c = ijgTable(q, true);
      for (std::size_t k = 0; k < 64; ++k, ++n) {
        const double d = std::abs(double(chroma->values[k]) - c[k]);
        sum += d;
        mx = std::max(mx, d);
      }
    }
    const double mean = sum / n;
    if (mean < best.meanAbsError) best = {q, mean, mx, mx == 0.0};
  }
  return best;
}

Result<GhostResult> jpegGhost(const Image& image, const GhostOptions& o, int fileQuality, const CancelToken& cancel,
                              Progress progress) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  if (o.qualityMin < 1 || o.qualityMax > 100 || o.qualityMin > o.qualityMax || o.qualityStep < 1)
    return Error{ErrorCode::InvalidArgument, "The ghost qualities must satisfy 1 <= min <= max <= 100, step >= 1"};
  if (o.block < 8 || o.block % 8 != 0)
    return Error{ErrorCode::InvalidArgument, "The ghost block must be a multiple of 8 pixels"};
  if (image.width() < 2 * o.block || image.height() < 2 * o.block)
    return Error{ErrorCode::InvalidArgument, "The image is " + sizeText(image.width(), image.height()) +
                                                 " pixels: JPEG ghosts need at least two " + std::to_string(o.block) +
                                                 "-pixel blocks on each side"};
  std::vector<int> qualities;
  for (int q = o.qualityMin; q <= o.qualityMax; q += o.qualityStep) qualities.push_back(q);
  if (o.showQuality != 0 && std::find(qualities.begin(), qualities.end(), o.showQuality) == qualities.end())
    qualities.push_back(o.showQuality), std::sort(qualities.begin(), qualities.end());

  const cv::Mat gray8 = grayU8(image);
  cv::Mat gray;
  gray8.convertTo(gray, CV_32F);
  // Cells of 8x8 pixels (the JPEG grid), then a sliding block of block/8 cells.
  const int cellsX = image.width() / 8, cellsY = image.height() / 8;
  const cv::Rect crop(0, 0, cellsX * 8, cellsY * 8);
  const int k = o.block / 8;

  GhostResult out;
  std::vector<cv::Mat> blockMaps;
  for (std::size_t i = 0; i < qualities.size(); ++i) {
    if (cancel.isCancelled()) return Error::cancelled();
    progress.report(0.9 * double(i) / qualities.size(), "Re-saving at JPEG quality " + std::to_string(qualities[i]));
    std::vector<std::uint8_t> encoded;
    if (!cv::imencode(".jpg", gray8, encoded, {cv::IMWRITE_JPEG_QUALITY, qualities[i]}))
      return Error{ErrorCode::Internal, "JPEG encoding failed at quality " + std::to_string(qualities[i])};
    const cv::Mat decoded = cv::imdecode(encoded, cv::IMREAD_GRAYSCALE);
    if (decoded.empty() || decoded.size() != gray8.size())
      return Error{ErrorCode::Internal, "JPEG decoding of the re-saved image failed"};
    cv::Mat d;
    decoded.convertTo(d, CV_32F);
    d -= gray;
    d = d.mul(d);
    cv::Mat cells, blocks;
    cv::resize(d(crop), cells, cv::Size(cellsX, cellsY), 0, 0, cv::INTER_AREA);  // exact 8x8 means
    cv::boxFilter(cells, blocks, CV_32F, cv::Size(k, k), cv::Point(-1, -1), true, cv::BORDER_REPLICATE);
    out.curve.push_back({qualities[i], cv::mean(d)[0], 0.0});
    blockMaps.push_back(blocks);
  }

  // Dip score: each block's difference relative to its own mean over all qualities (which removes the
  // dependence on texture that dominates the raw difference), then how far the lowest 1% of blocks fall
  // below the median block at that quality. A region already compressed at q stands out at q.
  progress.report(0.92, "Choosing the quality to show");
  cv::Mat meanOverQ = cv::Mat::zeros(blockMaps[0].size(), CV_32F);
  for (const auto& b : blockMaps) meanOverQ += b;
  meanOverQ /= double(blockMaps.size());
  // Blocks that re-compress without error at every quality (flat, saturated) say nothing: left out.
  std::vector<std::size_t> informative;
  {
    const cv::Mat m = meanOverQ.isContinuous() ? meanOverQ : meanOverQ.clone();
    for (std::size_t j = 0; j < m.total(); ++j)
      if (m.ptr<float>()[j] > 0.5f) informative.push_back(j);
  }
  int bestIndex = 0;
  for (std::size_t i = 0; i < blockMaps.size() && informative.size() >= 8; ++i) {
    cv::Mat r;
    cv::divide(blockMaps[i], meanOverQ + 1e-6, r);
    const cv::Mat rc = r.isContinuous() ? r : r.clone();
    cv::Mat values(int(informative.size()), 1, CV_32F);
    for (std::size_t j = 0; j < informative.size(); ++j) values.at<float>(int(j)) = rc.ptr<float>()[informative[j]];
    const double p50 = percentile(values, 50.0), p1 = percentile(values, 1.0);
    out.curve[i].dipScore = (p50 - p1) / std::max(p50, 1e-9);
    if (out.curve[i].dipScore > out.curve[static_cast<std::size_t>(bestIndex)].dipScore) bestIndex = int(i);
  }
  if (o.showQuality != 0)
    bestIndex = int(std::find(qualities.begin(), qualities.end(), o.showQuality) - qualities.begin());
  out.shownQuality = qualities[static_cast<std::size_t>(bestIndex)];

  // Secondary minimum of the whole-image curve below the file's quality.
  for (std::size_t i = 1; i + 1 < out.curve.size(); ++i) {
    const auto& c = out.curve;
    if (fileQuality > 0 && c[i].quality >= fileQuality - 2) break;
    if (c[i].meanDifference < c[i - 1].meanDifference && c[i].meanDifference < c[i + 1].meanDifference) {
      out.secondaryMinimum = c[i].quality;
      break;
    }
  }

  // Farid's per-quality normalisation to [0, 1], shown at the input's size.
  cv::Mat shown = blockMaps[static_cast<std::size_t>(bestIndex)];
  double mn = 0, mx = 0;
  cv::minMaxLoc(shown, &mn, &mx);
  cv::Mat normalised = (shown - mn) / std::max(mx - mn, 1e-9);
  cv::Mat full;
  cv::resize(normalised, full, cv::Size(cellsX * 8, cellsY * 8), 0, 0, cv::INTER_LINEAR);
  if (full.size() != gray.size())
    cv::copyMakeBorder(full, full, 0, gray.rows - full.rows, 0, gray.cols - full.cols, cv::BORDER_REPLICATE);
  out.map = toHeatmap(full, 0.f, 1.f, o.colormap,
                      "normalised re-save difference at q=" + std::to_string(out.shownQuality) + " (low: ghost)");
  progress.report(1.0, "Done");
  return out;
}

}  // namespace loupe::forensics
