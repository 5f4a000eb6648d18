#pragma once
// Labelled training images from a folder, for `loupe-cli train embeddings --data DIR` and the GUI's training
// panel (one loader for both). Labels come from
//  - the first-level sub-folder names (DIR/<class>/.../image.png; deeper folders count for their first-level
//    class; hidden folders, starting with '.', are passed over), or
//  - a CSV (`labelsCsv`): a path column (`path`, `file`, `filename` or `image`) and a label column (`label`,
//    `class` or `category`), names matched without regard to case; paths relative to DIR (absolute ones as
//    they are); an optional `split` column (train | test, also val/validation/valid for test) chooses the
//    held-out rows.
// Held-out images for the kNN evaluation: DIR/train/<class>/... + DIR/test/<class>/... (or val/) when DIR has
// that layout (sub-folder labels only), the CSV's split column, or else `valFraction` of every class drawn
// with `seed` (stratified; at least one image of every class that has two or more).
// Images are decoded by io::loadImage (EXIF orientation applied, 8/16-bit, CMYK) and converted by
// modelInputU8 (below) to the network's channels and size. Unreadable files are skipped and counted (the first
// few reasons are kept), never fatal; problems with the data set as a whole are errors whose messages name the
// folder or file: fewer than two classes, a class without a readable image, CSV rows naming missing files,
// ragged CSV rows, no label or path column.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::io {

// uint8 [1, C, H, W] of `image` for a network that takes `channels` (1: grey, 3: RGB) at `width` x `height`:
// 16-bit/float samples to 8 bit (Image::toU8), alpha dropped, colour to grey by ITU-R BT.601 luma
// (0.299 R + 0.587 G + 0.114 B), grey replicated to RGB, then bilinear resampling with antialiasing (the
// weights of PyTorch's interpolate(mode="bilinear", align_corners=False, antialias=True); no aspect-ratio
// preservation) and rounding. Plain C++ (no ATen per image), so it can run on many threads at once. `loupe-cli embed` prepares image files for native packages with
// this same function, so a model trained from a folder sees the same pixels when it embeds.
Result<torch::Tensor> modelInputU8(const Image& image, int channels, int width, int height);

// Image file names Loupe reads as training/embedding data (by extension, lower-cased).
bool hasImageExtension(const std::string& path);

struct LabelledFolderOptions {
  std::string labelsCsv;     // empty: labels from the sub-folder names
  int channels = 1;          // 1 or 3
  int width = 28, height = 28;
  double valFraction = 0.1;  // in [0, 0.9]; used when neither train/ + test/ nor a split column says
  std::uint64_t seed = 0;
  int maxReasons = 5;        // unreadable files whose reasons are kept
};

struct LabelledSplit {
  torch::Tensor images;            // uint8 [N, C, H, W]
  torch::Tensor labels;            // int64 [N], indices into classNames
  std::vector<std::string> paths;  // as listed (relative to the folder, or as the CSV gives them)
  std::int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

struct LabelledFolder {
  std::vector<std::string> classNames;  // sorted by name; label i is classNames[i]
  LabelledSplit train, test;            // each in a seeded random order (so a prefix mixes the classes)
  std::vector<double> mean, stdv;       // per channel over the training images, pixel / 255
  std::string heldOut;                  // how the test split was chosen, for messages and provenance
  int listed = 0;                       // image files found or CSV rows
  int skipped = 0;                      // unreadable images among them
  std::vector<std::string> skipReasons; // "path: reason" of the first maxReasons skipped files
  int ignored = 0;                      // files without an image extension, images outside a class folder
};

Result<LabelledFolder> loadLabelledFolder(const std::string& folder, const LabelledFolderOptions& options = {},
                                          const CancelToken& cancel = {}, Progress progress = {});

}  // namespace loupe::io
