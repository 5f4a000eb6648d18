#pragma once
// IDX files (LeCun's MNIST format, also Fashion-MNIST's): a big-endian header (magic 0x0000 <type> <rank>,
// then one uint32 size per dimension) followed by the values. Plain or gzip'd (read through zlib when this
// build has it). Errors name the file and say what is wrong: a missing file, a bad magic number, a header
// that promises more bytes than the file holds, a truncated gzip stream.

#include <torch/types.h>

#include <string>

#include "core/CancelToken.h"
#include "core/Result.h"

namespace loupe::train {

// The whole file as a uint8 tensor of the header's shape (only unsigned-byte IDX, type 0x08, is read;
// that is what MNIST-style images and labels use).
Result<torch::Tensor> readIdxUint8(const std::string& path);

// A labelled image set: images uint8 [N, 1, H, W], labels int64 [N].
struct ImageSet {
  torch::Tensor images;
  torch::Tensor labels;
  std::vector<std::string> classNames;
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

// Fashion-MNIST (Xiao et al. 2017) from `folder` (default: Debian's dataset-fashion-mnist,
// /usr/share/datasets/fashion-mnist): train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz], or the
// t10k-* pair for the test split. Checks that the images are 28 x 28 and that the label count matches.
enum class Split { Train, Test };
Result<ImageSet> loadFashionMnist(Split split, const std::string& folder = {});
std::string defaultFashionMnistFolder();
const std::vector<std::string>& fashionMnistClassNames();

}  // namespace loupe::train
