#pragma once
// Perceptual hashes: 64-bit fingerprints that survive re-compression and resizing, for finding the
// original of a suspect image or near-duplicates. Definitions (the same as Python's imagehash package,
// so values can be compared with other tools):
//   luma: 0.299 R + 0.587 G + 0.114 B in float (alpha ignored), resized with area averaging (cv::INTER_AREA);
//   aHash: 8x8, bit = pixel > mean;
//   dHash: 9 wide x 8 high, bit = pixel[x+1] > pixel[x] along each row;
//   pHash: 32x32, 2-D DCT-II (unnormalised, as scipy.fftpack.dct), the 8x8 lowest frequencies (DC
//          included), bit = coefficient > their median.
// Bits are read row by row, the first bit the most significant; hex strings are 16 digits.

#include <cstdint>
#include <string>

#include "core/Image.h"
#include "core/Result.h"

namespace loupe::forensics {

struct PerceptualHashes {
  std::uint64_t aHash = 0, dHash = 0, pHash = 0;
};

// Needs at least 1x1 pixels; a one-colour image gives all-zero aHash/dHash (nothing is above the mean).
Result<PerceptualHashes> perceptualHashes(const Image& image);
std::string hashHex(std::uint64_t hash);
int hammingDistance(std::uint64_t a, std::uint64_t b);

}  // namespace loupe::forensics
