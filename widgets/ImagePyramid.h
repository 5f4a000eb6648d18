#pragma once
// A mip pyramid of a QImage for drawing large images at any zoom: level 0 is the image, level k is
// ceil(w / 2^k) x ceil(h / 2^k) and each of its pixels is the rounded mean of the (up to) 2 x 2 pixels
// below it (a box filter, so reduced views do not alias). Plain functions: ImageView runs them off the
// GUI thread. Also the magnifier's local contrast stretch.

#include <QImage>

#include <functional>
#include <vector>

namespace loupe::widgets {

// Levels stop once the longer side is at most this many pixels.
constexpr int kPyramidSmallestSide = 256;

// One level down, in the source's format for RGB32/ARGB32/ARGB32_Premultiplied; other formats are put
// in display format first.
QImage halfSize(const QImage& source, const std::function<bool()>& cancelled = {});

// The format QPainter draws fastest (its SIMD scaling paths): RGB32, or ARGB32_Premultiplied with alpha.
// Drawing RGB888 scaled is 4-9x slower. Returns `image` itself (shared) when already in that format.
QImage toDisplayFormat(const QImage& image);

// All levels, level 0 first: `base` in display format (a converted copy unless it already is), then the
// halved levels. Empty when cancelled.
std::vector<QImage> buildImagePyramid(const QImage& base, const std::function<bool()>& cancelled = {});

// Number of levels buildImagePyramid gives for an image of this size.
int pyramidLevelCount(int width, int height);

// Stretches the patch linearly so its darkest sample becomes 0 and its brightest 255, with one
// min/max over all colour channels (hues stay). A flat patch is returned unchanged. RGB32 result;
// `low`/`high` receive the patch's min and max.
QImage contrastStretch(const QImage& patch, int* low = nullptr, int* high = nullptr);

}  // namespace loupe::widgets
