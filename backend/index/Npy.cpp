#include "Npy.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

namespace loupe::index {

namespace {

Error bad(const std::string& path, const std::string& what) { return Error(ErrorCode::CorruptData, path + ": " + what); }

// The value text after 'key': in the header dict, or empty.
std::string dictValue(const std::string& header, const std::string& key) {
  for (const char q : {'\'', '"'}) {
    const std::string k = std::string(1, q) + key + q;
    auto p = header.find(k);
    if (p == std::string::npos) continue;
    p = header.find(':', p + k.size());
    if (p == std::string::npos) return {};
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    if (p < header.size() && (header[p] == '\'' || header[p] == '"')) {
      const char quote = header[p];
      const auto e = header.find(quote, p + 1);
      return e == std::string::npos ? std::string() : header.substr(p, e - p + 1);
    }
    if (p < header.size() && header[p] == '(') {
      const auto e = header.find(')', p);
      return e == std::string::npos ? std::string() : header.substr(p, e - p + 1);
    }
    auto e = p;
    while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
    std::string v = header.substr(p, e - p);
    while (!v.empty() && v.back() == ' ') v.pop_back();
    return v;
  }
  return {};
}

bool littleEndianHost() {
  const std::uint16_t x = 1;
  std::uint8_t b;
  std::memcpy(&b, &x, 1);
  return b == 1;
}

}  // namespace

Result<torch::Tensor> readNpyMatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NotFound, "cannot open " + path);
  in.seekg(0, std::ios::end);
  const std::uint64_t fileSize = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    return Error(ErrorCode::UnsupportedFormat, path + ": not a NumPy .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint64_t headerLen = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    headerLen = b[0] | (std::uint64_t(b[1]) << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    headerLen = b[0] | (std::uint64_t(b[1]) << 8) | (std::uint64_t(b[2]) << 16) | (std::uint64_t(b[3]) << 24);
  } else {
    return Error(ErrorCode::UnsupportedFormat, path + ": .npy format version " + std::to_string(major) +
                                                   " is not supported (1.0, 2.0 and 3.0 are)");
  }
  if (!in) return bad(path, "truncated .npy header");
  const std::uint64_t dataStart = (major == 1 ? 10 : 12) + headerLen;
  if (headerLen > 1 << 20 || dataStart > fileSize) return bad(path, "the .npy header length runs past the end of the file");
  std::string header(headerLen, '\0');
  in.read(header.data(), static_cast<std::streamsize>(headerLen));
  if (!in) return bad(path, "truncated .npy header");

  std::string descr = dictValue(header, "descr");
  const std::string fortran = dictValue(header, "fortran_order");
  const std::string shapeText = dictValue(header, "shape");
  if (descr.size() < 2 || fortran.empty() || shapeText.empty())
    return bad(path, "the .npy header lacks 'descr', 'fortran_order' or 'shape': " + header);
  descr = descr.substr(1, descr.size() - 2);
  if (fortran == "True")
    return Error(ErrorCode::UnsupportedFormat,
                 path + ": the array is stored in Fortran (column-major) order; save it in C order, e.g. "
                        "np.save(f, np.ascontiguousarray(x))");
  if (fortran != "False") return bad(path, "fortran_order is '" + fortran + "', expected True or False");
  std::vector<std::int64_t> shape;
  {
    std::string s = shapeText.substr(1, shapeText.size() - 2);
    std::size_t p = 0;
    while (p < s.size()) {
      while (p < s.size() && (s[p] == ' ' || s[p] == ',')) ++p;
      if (p >= s.size()) break;
      std::size_t e = p;
      while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
      if (e == p) return bad(path, "cannot read the shape " + shapeText);
      shape.push_back(std::stoll(s.substr(p, e - p)));
      p = e;
    }
  }
  if (shape.size() != 2)
    return Error(ErrorCode::UnsupportedFormat, path + ": the array has shape " + shapeText +
                                                   "; embeddings must be a 2-D matrix (rows x dimensions), e.g. "
                                                   "x.reshape(len(x), -1)");
  const bool isF4 = descr == "<f4" || descr == ">f4";
  const bool isF8 = descr == "<f8" || descr == ">f8";
  if (!isF4 && !isF8)
    return Error(ErrorCode::UnsupportedFormat, path + ": dtype '" + descr +
                                                   "' is not supported; embeddings must be float32 or float64, e.g. "
                                                   "np.save(f, x.astype(np.float32))");
  const std::int64_t rows = shape[0], cols = shape[1];
  if (rows < 1 || cols < 1) return Error(ErrorCode::CorruptData, path + ": the matrix " + shapeText + " is empty");
  const std::uint64_t item = isF4 ? 4 : 8;
  const std::uint64_t bytes = std::uint64_t(rows) * std::uint64_t(cols) * item;
  if (fileSize - dataStart < bytes)
    return bad(path, "truncated: shape " + shapeText + " needs " + std::to_string(bytes) + " bytes of data, the file holds " +
                         std::to_string(fileSize - dataStart));
  auto t = torch::empty({rows, cols}, isF4 ? torch::kFloat32 : torch::kFloat64);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(bytes));
  if (!in) return Error(ErrorCode::Io, "cannot read " + path);
  const bool fileLittle = descr[0] == '<';
  if (fileLittle != littleEndianHost()) {
    auto* p = static_cast<unsigned char*>(t.data_ptr());
    for (std::uint64_t i = 0; i < bytes; i += item)
      for (std::uint64_t a = 0, b = item - 1; a < b; ++a, --b) std::swap(p[i + a], p[i + b]);
  }
  if (isF8) t = t.to(torch::kFloat32);
  return t;
}

Result<void> writeNpyMatrix(const std::string& path, const torch::Tensor& matrix) {
  if (matrix.dim() != 2) return Error(ErrorCode::InvalidArgument, "writeNpyMatrix: expected a 2-D matrix");
  auto m = matrix.to(torch::kCPU, torch::kFloat32).contiguous();
  std::string header = "{'descr': '" + std::string(littleEndianHost() ? "<" : ">") +
                       "f4', 'fortran_order': False, 'shape': (" + std::to_string(m.size(0)) + ", " +
                       std::to_string(m.size(1)) + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) return Error(ErrorCode::Io, "cannot write " + path);
  out.write("\x93NUMPY\x01\x00", 8);
  const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff), static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(len), 2);
  out << header;
  out.write(static_cast<const char*>(m.data_ptr()), static_cast<std::streamsize>(m.numel() * 4));
  if (!out) return Error(ErrorCode::Io, "cannot write " + path);
  return {};
}

}  // namespace loupe::index
