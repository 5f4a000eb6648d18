#pragma once
// Writing images and layers. Every write goes to a temporary file first and is renamed into place,
// so a crash never leaves a half-written result behind.

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Result.h"

namespace loupe::io {

// Format from the extension: .png (8/16-bit), .tif/.tiff (also float), .jpg (8-bit).
Result<void> writeImage(const Image& image, const std::string& path);

// JPEG encode then decode at `quality` (1-100), as a camera or editor would save it (libjpeg with
// OpenCV's settings: 4:2:0 chroma, baseline). 8-bit gray or RGB input; the result has the same size and
// order. Checks `cancel` every few dozen rows: Error::cancelled() within milliseconds on any size.
Result<Image> recompressJpeg(const Image& image, int quality, const CancelToken& cancel = {});

// Writes one layer into `dir`, returning the files written:
//   heatmap -> <id>.png (colour-mapped) and <id>.tiff (float values)
//   mask    -> <id>.png (0 / 255)
//   table   -> <id>.json
Result<std::vector<std::string>> exportLayer(const Layer& layer, const std::string& dir);

}  // namespace loupe::io
