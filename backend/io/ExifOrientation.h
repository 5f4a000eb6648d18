#pragma once
// EXIF orientation on OpenCV images, for Loupe's OpenCV-based readers.

#include <opencv2/core.hpp>

namespace loupe::io {

// Rotates/flips so that the image appears as the camera's orientation tag says (EXIF 2.3, tag 0x0112);
// values outside 2..8 leave it unchanged.
inline void applyExifOrientation(cv::Mat& m, int orientation) {
  switch (orientation) {
    case 2: cv::flip(m, m, 1); break;
    case 3: cv::rotate(m, m, cv::ROTATE_180); break;
    case 4: cv::flip(m, m, 0); break;
    case 5: cv::transpose(m, m); break;
    case 6: cv::rotate(m, m, cv::ROTATE_90_CLOCKWISE); break;
    case 7: cv::transpose(m, m); cv::flip(m, m, -1); break;
    case 8: cv::rotate(m, m, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: break;
  }
}

}  // namespace loupe::io
