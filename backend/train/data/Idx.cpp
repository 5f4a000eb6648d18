#include "Idx.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#ifdef LOUPE_HAVE_ZLIB
#include <zlib.h>
#endif

namespace loupe::train {
namespace fs = std::filesystem;

namespace {

Error corrupt(const std::string& path, const std::string& what) {
  return {ErrorCode::CorruptData, fs::path(path).filename().string() + ": " + what};
}

// The whole (decompressed) content of a file.
Result<std::vector<unsigned char>> readAll(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Error{ErrorCode::NotFound, "No such file: " + path};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::Io, "Cannot open " + path};
  std::vector<unsigned char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool gzip = raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
  if (!gzip) return raw;
#ifdef LOUPE_HAVE_ZLIB
  z_stream s{};
  if (inflateInit2(&s, 15 + 32) != Z_OK) return Error{ErrorCode::Internal, "zlib initialisation failed"};
  std::vector<unsigned char> out;
  out.reserve(raw.size() * 4);
  s.next_in = raw.data();
  s.avail_in = static_cast<uInt>(raw.size());
  unsigned char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    s.next_out = buf;
    s.avail_out = sizeof(buf);
    rc = inflate(&s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&s);
      return corrupt(path, rc == Z_BUF_ERROR ? "the gzip stream is truncated" : "the gzip stream is damaged");
    }
    out.insert(out.end(), buf, buf + (sizeof(buf) - s.avail_out));
    if (rc != Z_STREAM_END && s.avail_in == 0 && s.avail_out != 0) {
      inflateEnd(&s);
      return corrupt(path, "the gzip stream is truncated");
    }
  }
  inflateEnd(&s);
  return out;
#else
  return Error{ErrorCode::UnsupportedFormat, path + " is gzip-compressed and this build has no zlib: gunzip it first"};
#endif
}

uint32_t be32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

std::string firstExisting(const std::string& folder, const std::string& base) {
  for (const std::string& name : {base, base + ".gz"}) {
    const fs::path p = fs::path(folder) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return (fs::path(folder) / (base + ".gz")).string();
}

}  // namespace

Result<torch::Tensor> readIdxUint8(const std::string& path) {
  auto bytes = readAll(path);
  if (!bytes) return bytes.error();
  const auto& b = *bytes;
  if (b.size() < 4) return corrupt(path, "too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0) return corrupt(path, "not an IDX file (the magic number must start with two zero bytes)");
  if (b[2] != 0x08)
    return Error{ErrorCode::UnsupportedFormat, fs::path(path).filename().string() + ": IDX value type 0x" +
                                                   std::to_string(int(b[2])) + " is not unsigned bytes (0x08)"};
  const int rank = b[3];
  if (rank < 1 || rank > 4) return corrupt(path, "IDX rank " + std::to_string(rank) + " is not 1..4");
  if (b.size() < 4 + 4 * std::size_t(rank)) return corrupt(path, "the header is truncated");
  std::vector<int64_t> shape;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = be32(b.data() + 4 + 4 * i);
    if (d == 0) return corrupt(path, "dimension " + std::to_string(i) + " is 0");
    shape.push_back(d);
    count *= d;
    if (count > (uint64_t(1) << 34)) return Error{ErrorCode::TooLarge, path + ": the IDX header claims over 16 GB"};
  }
  const std::size_t offset = 4 + 4 * std::size_t(rank);
  if (b.size() - offset < count)
    return corrupt(path, "truncated: the header promises " + std::to_string(count) + " values, the file holds " +
                             std::to_string(b.size() - offset));
  if (b.size() - offset > count)
    return corrupt(path, std::to_string(b.size() - offset - count) + " bytes beyond what the header describes");
  torch::Tensor t = torch::empty(shape, torch::kUInt8);
  std::copy(b.begin() + offset, b.end(), t.data_ptr<uint8_t>());
  return t;
}

std::string defaultFashionMnistFolder() {
  if (const char* env = std::getenv("LOUPE_FASHION_MNIST")) return env;
  return "/usr/share/datasets/fashion-mnist";
}

const std::vector<std::string>& fashionMnistClassNames() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

Result<ImageSet> loadFashionMnist(Split split, const std::string& folderIn) {
  const std::string folder = folderIn.empty() ? defaultFashionMnistFolder() : folderIn;
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    return Error{ErrorCode::NotFound, "No Fashion-MNIST folder at " + folder +
                                          " (install Debian's dataset-fashion-mnist or give the folder)"};
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string imagesPath = firstExisting(folder, prefix + "-images-idx3-ubyte");
  const std::string labelsPath = firstExisting(folder, prefix + "-labels-idx1-ubyte");
  auto images = readIdxUint8(imagesPath);
  if (!images) return images.error();
  auto labels = readIdxUint8(labelsPath);
  if (!labels) return labels.error();
  if (images->dim() != 3 || images->size(1) != 28 || images->size(2) != 28)
    return corrupt(imagesPath, "expected images of 28 x 28 pixels (an [N, 28, 28] IDX), got shape " +
                                   std::string(c10::str(images->sizes())));
  if (labels->dim() != 1) return corrupt(labelsPath, "expected a one-dimensional label IDX");
  if (labels->size(0) != images->size(0))
    return corrupt(labelsPath, "holds " + std::to_string(labels->size(0)) + " labels for " +
                                   std::to_string(images->size(0)) + " images in " + fs::path(imagesPath).filename().string());
  if (labels->numel() > 0 && labels->max().item<int>() > 9)
    return corrupt(labelsPath, "label " + std::to_string(labels->max().item<int>()) + " is outside 0..9");
  ImageSet set;
  set.images = images->unsqueeze(1);
  set.labels = labels->to(torch::kLong);
  set.classNames = fashionMnistClassNames();
  return set;
}

}  // namespace loupe::train
