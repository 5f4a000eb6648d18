#pragma once
// JPEG compression history:
//  - the quantisation tables as stored in the file (read with libjpeg) and the IJG quality they match
//    best: the IJG tables (ITU-T T.81 Annex K, scaled as libjpeg's jpeg_quality_scaling does) for each
//    quality 1..100, compared entry by entry;
//  - JPEG ghosts (Farid, "Exposing Digital Forgeries from JPEG Ghosts", IEEE TIFS 2009): the image is
//    re-saved at qualities q1..q2; the squared difference, averaged over b x b blocks and normalised per
//    quality to [0, 1], is low where a region was already compressed at that quality. A local minimum of
//    the whole-image difference below the file's own quality hints at an earlier, coarser compression.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::forensics {

struct QuantTable {
  int slot = 0;                         // DQT table number 0..3
  std::array<std::uint16_t, 64> values{};  // natural (row-major 8x8) order
};

struct JpegComponent {
  int id = 0;
  int hSampling = 1, vSampling = 1;
  int quantSlot = 0;
};

struct JpegInfo {
  int width = 0, height = 0;
  bool progressive = false;
  bool arithmetic = false;
  std::vector<JpegComponent> components;
  std::vector<QuantTable> tables;  // in slot order
};

// Reads the headers only (no decoding). A file that is not a JPEG or whose headers are damaged gives an
// Error (UnsupportedFormat / CorruptData) naming the problem; never a crash.
Result<JpegInfo> readJpegInfo(const std::vector<std::uint8_t>& bytes);

// IJG table for a quality 1..100 (baseline: entries clamped to 1..255), natural order.
std::array<std::uint16_t, 64> ijgTable(int quality, bool chroma);

struct QualityEstimate {
  int quality = 0;            // the best-matching IJG quality
  double meanAbsError = 0.0;  // mean |file - IJG| over the compared entries (0: exactly IJG)
  double maxAbsError = 0.0;
  bool exact = false;
};
// Compares the luminance table (that of the first component) and, when present, the chrominance table
// (that of the second component) with IJG's at every quality.
QualityEstimate estimateIjgQuality(const JpegInfo& info);

struct GhostOptions {
  int qualityMin = 50;
  int qualityMax = 95;
  int qualityStep = 5;
  int block = 16;      // averaging block b (pixels), Farid uses 16
  int showQuality = 0; // 0: choose the quality whose map shows the strongest local dip
  Colormap colormap = Colormap::Magma;
};

struct GhostQuality {
  int quality = 0;
  double meanDifference = 0.0;  // mean squared luma difference over the image (grey levels^2)
  double dipScore = 0.0;        // how far the lowest blocks fall below the rest at this quality (see .cpp)
};

struct GhostResult {
  std::vector<GhostQuality> curve;
  int shownQuality = 0;
  Heatmap map;  // normalised difference at shownQuality, 0 (ghost) .. 1
  // Quality of a local minimum of meanDifference strictly inside the range, below `belowQuality`
  // (0 when none): a hint of an earlier compression at about that quality.
  int secondaryMinimum = 0;
};

// Re-saves the luma at each quality. Images smaller than 2 blocks on a side are refused (InvalidArgument).
// `fileQuality`: the file's estimated quality (0 when unknown), used for the secondary-minimum hint.
Result<GhostResult> jpegGhost(const Image& image, const GhostOptions& options, int fileQuality = 0,
                              const CancelToken& cancel = {}, Progress progress = {});

}  // namespace loupe::forensics
