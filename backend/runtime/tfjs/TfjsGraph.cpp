#include "TfjsGraph.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace loupe::runtime::tfjs {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using nlohmann::json;

namespace {

enum class Op {
  Placeholder, Const, Identity, Conv2D, DepthwiseConv2dNative, FusedConv2D, FusedDepthwiseConv2dNative, MatMul,
  FusedMatMul, BiasAdd, Add, AddV2, Sub, Mul, RealDiv, Minimum, Maximum, Relu, Relu6, Sigmoid, Tanh, Softmax,
  MaxPool, AvgPool, Mean, Max, Reshape, StridedSlice, ExpandDims, Pad, PadV2, ResizeBilinear,
};

const std::map<std::string, Op>& opTable() {
  static const std::map<std::string, Op> t = {
      {"Placeholder", Op::Placeholder}, {"Const", Op::Const}, {"Identity", Op::Identity},
      {"Conv2D", Op::Conv2D}, {"DepthwiseConv2dNative", Op::DepthwiseConv2dNative},
      {"_FusedConv2D", Op::FusedConv2D}, {"FusedDepthwiseConv2dNative", Op::FusedDepthwiseConv2dNative},
      {"MatMul", Op::MatMul}, {"_FusedMatMul", Op::FusedMatMul}, {"BiasAdd", Op::BiasAdd}, {"Add", Op::Add},
      {"AddV2", Op::AddV2}, {"Sub", Op::Sub}, {"Mul", Op::Mul}, {"RealDiv", Op::RealDiv},
      {"Minimum", Op::Minimum}, {"Maximum", Op::Maximum}, {"Relu", Op::Relu}, {"Relu6", Op::Relu6},
      {"Sigmoid", Op::Sigmoid}, {"Tanh", Op::Tanh}, {"Softmax", Op::Softmax}, {"MaxPool", Op::MaxPool},
      {"AvgPool", Op::AvgPool}, {"Mean", Op::Mean}, {"Max", Op::Max}, {"Reshape", Op::Reshape},
      {"StridedSlice", Op::StridedSlice}, {"ExpandDims", Op::ExpandDims}, {"Pad", Op::Pad},
      {"PadV2", Op::PadV2}, {"ResizeBilinear", Op::ResizeBilinear}};
  return t;
}

enum class Activation { None, Relu, Relu6, Sigmoid, Tanh };

struct Attrs {
  std::vector<std::int64_t> strides, dilations, ksize, explicitPaddings;
  std::string padding, dataFormat = "NHWC";
  bool keepDims = false, transposeA = false, transposeB = false, alignCorners = false, halfPixelCenters = false;
  std::int64_t beginMask = 0, endMask = 0, ellipsisMask = 0, newAxisMask = 0, shrinkAxisMask = 0;
  bool biasAdd = false;
  Activation activation = Activation::None;
  std::vector<std::int64_t> placeholderShape;  // -1 = any; empty = unknown rank
  bool placeholderHasShape = false;
};

struct Node {
  std::string name, opName;
  Op op = Op::Identity;
  std::vector<int> inputs;  // node indices (output 0 of each)
  Attrs attrs;
};

std::string b64decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    const auto pos = chars.find(static_cast<char>(c));
    if (pos == std::string::npos) break;  // '=' padding ends the data
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::int64_t jsonInt(const json& v) {
  if (v.is_string()) return std::stoll(v.get<std::string>());
  return v.get<std::int64_t>();
}

Result<Attrs> parseAttrs(const json& node, Op op, const std::string& where) {
  Attrs a;
  if (!node.contains("attr")) return a;
  const json& attr = node["attr"];
  try {
    auto ints = [&](const char* key, std::vector<std::int64_t>& out) {
      if (attr.contains(key) && attr[key].contains("list") && attr[key]["list"].contains("i"))
        for (const auto& v : attr[key]["list"]["i"]) out.push_back(jsonInt(v));
    };
    auto str = [&](const char* key, std::string& out) {
      if (attr.contains(key) && attr[key].contains("s")) out = b64decode(attr[key]["s"].get<std::string>());
    };
    auto flag = [&](const char* key, bool& out) {
      if (attr.contains(key) && attr[key].contains("b")) out = attr[key]["b"].get<bool>();
    };
    auto integer = [&](const char* key, std::int64_t& out) {
      if (attr.contains(key) && attr[key].contains("i")) out = jsonInt(attr[key]["i"]);
    };
    ints("strides", a.strides);
    ints("dilations", a.dilations);
    ints("ksize", a.ksize);
    ints("explicit_paddings", a.explicitPaddings);
    str("padding", a.padding);
    str("data_format", a.dataFormat);
    flag("keep_dims", a.keepDims);
    flag("transpose_a", a.transposeA);
    flag("transpose_b", a.transposeB);
    flag("align_corners", a.alignCorners);
    flag("half_pixel_centers", a.halfPixelCenters);
    integer("begin_mask", a.beginMask);
    integer("end_mask", a.endMask);
    integer("ellipsis_mask", a.ellipsisMask);
    integer("new_axis_mask", a.newAxisMask);
    integer("shrink_axis_mask", a.shrinkAxisMask);
    if (attr.contains("fused_ops")) {
      std::vector<std::string> fused;
      if (attr["fused_ops"].contains("list") && attr["fused_ops"]["list"].contains("s"))
        for (const auto& s : attr["fused_ops"]["list"]["s"]) fused.push_back(b64decode(s.get<std::string>()));
      for (std::size_t i = 0; i < fused.size(); ++i) {
        const std::string& f = fused[i];
        if (i == 0 && f == "BiasAdd") a.biasAdd = true;
        else if (i == fused.size() - 1 && f == "Relu") a.activation = Activation::Relu;
        else if (i == fused.size() - 1 && f == "Relu6") a.activation = Activation::Relu6;
        else if (i == fused.size() - 1 && f == "Sigmoid") a.activation = Activation::Sigmoid;
        else if (i == fused.size() - 1 && f == "Tanh") a.activation = Activation::Tanh;
        else {
          std::string list;
          for (const auto& g : fused) list += (list.empty() ? "" : ", ") + g;
          return Error{ErrorCode::UnsupportedFormat,
                       where + ": fused ops [" + list + "] are not supported (supported: BiasAdd followed by "
                               "at most one of Relu, Relu6, Sigmoid, Tanh)"};
        }
      }
    }
    if (op == Op::Placeholder && attr.contains("shape") && attr["shape"].contains("shape")) {
      const json& s = attr["shape"]["shape"];
      if (s.contains("dim")) {
        a.placeholderHasShape = true;
        for (const auto& d : s["dim"]) a.placeholderShape.push_back(d.contains("size") ? jsonInt(d["size"]) : -1);
      } else if (s.contains("unknownRank") && s["unknownRank"].get<bool>()) {
        a.placeholderHasShape = false;
      } else {
        a.placeholderHasShape = true;  // a scalar
      }
    }
  } catch (const std::exception& e) {
    return Error{ErrorCode::CorruptData, where + ": malformed attributes (" + e.what() + ")"};
  }
  if (!a.padding.empty() && a.padding != "SAME" && a.padding != "VALID" && a.padding != "EXPLICIT")
    return Error{ErrorCode::UnsupportedFormat, where + ": padding '" + a.padding + "' is not supported"};
  if (a.dataFormat != "NHWC")
    return Error{ErrorCode::UnsupportedFormat, where + ": data_format " + a.dataFormat +
                                                   " is not supported (TF.js graphs are NHWC)"};
  for (const auto* v : {&a.strides, &a.dilations, &a.ksize})
    if (!v->empty() && v->size() != 4)
      return Error{ErrorCode::CorruptData, where + ": strides/dilations/ksize must have 4 entries"};
  return a;
}

// Bytes per stored element and how to turn them into float32 (or int64 for integer tensors).
struct WeightSpec {
  std::string name, dtype, quantDtype;
  std::vector<std::int64_t> shape;
  double min = 0.0, scale = 1.0;
};

std::size_t storedBytes(const WeightSpec& w) {
  const std::string& d = w.quantDtype.empty() ? w.dtype : w.quantDtype;
  if (d == "float32" || d == "int32") return 4;
  if (d == "float16" || d == "uint16") return 2;
  if (d == "uint8" || d == "bool") return 1;
  return 0;
}

float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant + 1024), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

torch::Tensor decodeWeight(const WeightSpec& w, const unsigned char* p, std::int64_t count) {
  const std::string& q = w.quantDtype;
  if (w.dtype == "int32" && q.empty()) {
    auto t = torch::empty({count}, torch::kInt32);
    std::memcpy(t.data_ptr<std::int32_t>(), p, static_cast<std::size_t>(count) * 4);
    return t.to(torch::kInt64).reshape(w.shape);
  }
  if (w.dtype == "bool") {
    auto t = torch::empty({count}, torch::kBool);
    for (std::int64_t i = 0; i < count; ++i) t.data_ptr<bool>()[i] = p[i] != 0;
    return t.reshape(w.shape);
  }
  auto t = torch::empty({count}, torch::kFloat32);
  float* out = t.data_ptr<float>();
  if (q.empty()) {
    std::memcpy(out, p, static_cast<std::size_t>(count) * 4);
  } else if (q == "float16") {
    for (std::int64_t i = 0; i < count; ++i) {
      std::uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = halfToFloat(h);
    }
  } else if (q == "uint8") {
    for (std::int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(w.min + w.scale * p[i]);
  } else {  // uint16
    for (std::int64_t i = 0; i < count; ++i) {
      std::uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      out[i] = static_cast<float>(w.min + w.scale * v);
    }
  }
  if (w.dtype == "int32") return t.round().to(torch::kInt64).reshape(w.shape);
  return t.reshape(w.shape);
}

// ---- helpers for the ops ----

std::vector<std::int64_t> intValues(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kInt64).contiguous().reshape({-1});
  return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
}

// TensorFlow's padding for one spatial dimension: SAME puts the extra pixel after (bottom/right).
std::pair<std::int64_t, std::int64_t> samePadding(std::int64_t in, std::int64_t k, std::int64_t stride,
                                                  std::int64_t dilation) {
  const std::int64_t effective = (k - 1) * dilation + 1;
  const std::int64_t out = (in + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + effective - in, 0);
  return {total / 2, total - total / 2};
}

// Pads an NHWC tensor for a window op per the node's padding attribute. Padding in NHWC keeps the
// channels-last strides that LibTorch's fast CPU convolution kernels take after the NCHW permute.
torch::Tensor padNhwc(const torch::Tensor& x, const Attrs& a, std::int64_t kh, std::int64_t kw, double value) {
  const std::int64_t sh = a.strides.empty() ? 1 : a.strides[1], sw = a.strides.empty() ? 1 : a.strides[2];
  const std::int64_t dh = a.dilations.empty() ? 1 : a.dilations[1], dw = a.dilations.empty() ? 1 : a.dilations[2];
  std::int64_t top = 0, bottom = 0, left = 0, right = 0;
  if (a.padding == "SAME") {
    std::tie(top, bottom) = samePadding(x.size(1), kh, sh, dh);
    std::tie(left, right) = samePadding(x.size(2), kw, sw, dw);
  } else if (a.padding == "EXPLICIT" && a.explicitPaddings.size() == 8) {
    top = a.explicitPaddings[2];
    bottom = a.explicitPaddings[3];
    left = a.explicitPaddings[4];
    right = a.explicitPaddings[5];
  }
  if (top == 0 && bottom == 0 && left == 0 && right == 0) return x;
  return F::pad(x, F::PadFuncOptions({0, 0, left, right, top, bottom}).value(value));
}

torch::Tensor activate(torch::Tensor x, Activation act) {
  switch (act) {
    case Activation::None: return x;
    case Activation::Relu: return torch::relu(x);
    case Activation::Relu6: return torch::clamp(x, 0.0, 6.0);
    case Activation::Sigmoid: return torch::sigmoid(x);
    case Activation::Tanh: return torch::tanh(x);
  }
  return x;
}

torch::Tensor conv2d(const torch::Tensor& x, const torch::Tensor& filter, const Attrs& a, bool depthwise) {
  if (x.dim() != 4) throw std::runtime_error("input must be 4-D NHWC, got " + std::to_string(x.dim()) + "-D");
  if (filter.dim() != 4) throw std::runtime_error("filter must be 4-D");
  const std::int64_t kh = filter.size(0), kw = filter.size(1), cin = filter.size(2);
  if (x.size(3) != cin)
    throw std::runtime_error("input has " + std::to_string(x.size(3)) + " channels, the filter expects " +
                             std::to_string(cin));
  const std::int64_t sh = a.strides.empty() ? 1 : a.strides[1], sw = a.strides.empty() ? 1 : a.strides[2];
  const std::int64_t dh = a.dilations.empty() ? 1 : a.dilations[1], dw = a.dilations.empty() ? 1 : a.dilations[2];
  if (!depthwise && kh == 1 && kw == 1 && a.padding != "EXPLICIT") {
    // Pointwise: a matrix product over the channels of the NHWC tensor. SAME and VALID agree for a 1x1
    // kernel (no padding, ceil(in / stride) outputs), which the strided slice gives.
    const auto xs = (sh == 1 && sw == 1) ? x : x.slice(1, 0, x.size(1), sh).slice(2, 0, x.size(2), sw);
    return torch::matmul(xs, filter.reshape({cin, filter.size(3)}));
  }
  torch::Tensor weight;
  std::int64_t groups = 1;
  if (depthwise) {  // [kh, kw, C, M] -> [C*M, 1, kh, kw]; output channel c*M + m as in TensorFlow
    weight = filter.permute({2, 3, 0, 1}).reshape({cin * filter.size(3), 1, kh, kw});
    groups = cin;
  } else {  // HWIO -> OIHW
    weight = filter.permute({3, 2, 0, 1});
  }
  const auto nchw = padNhwc(x, a, kh, kw, 0.0).permute({0, 3, 1, 2});
  const std::vector<int64_t> stride = {sh, sw}, zero = {0, 0}, dilation = {dh, dw};
  auto y = torch::conv2d(nchw, weight.contiguous(), torch::Tensor(), stride, zero, dilation, groups);
  return y.permute({0, 2, 3, 1});
}

torch::Tensor pool(const torch::Tensor& x, const Attrs& a, bool maxPool) {
  if (x.dim() != 4) throw std::runtime_error("input must be 4-D NHWC");
  if (a.ksize.size() != 4) throw std::runtime_error("ksize must have 4 entries");
  const std::int64_t kh = a.ksize[1], kw = a.ksize[2];
  const std::int64_t sh = a.strides.empty() ? 1 : a.strides[1], sw = a.strides.empty() ? 1 : a.strides[2];
  if (maxPool) {
    const auto padded = padNhwc(x, a, kh, kw, -std::numeric_limits<double>::infinity()).permute({0, 3, 1, 2});
    return torch::max_pool2d(padded, {kh, kw}, {sh, sw}).permute({0, 2, 3, 1});
  }
  // TensorFlow averages over the valid pixels only: sum of values / count of real pixels per window.
  const auto padded = padNhwc(x, a, kh, kw, 0.0).permute({0, 3, 1, 2});
  const auto ones = padNhwc(torch::ones({1, x.size(1), x.size(2), 1}, x.options()), a, kh, kw, 0.0).permute({0, 3, 1, 2});
  const auto sums = torch::avg_pool2d(padded, {kh, kw}, {sh, sw}) * static_cast<double>(kh * kw);
  const auto counts = torch::avg_pool2d(ones, {kh, kw}, {sh, sw}) * static_cast<double>(kh * kw);
  return (sums / counts).permute({0, 2, 3, 1});
}

std::vector<std::int64_t> reductionAxes(const torch::Tensor& axesT, std::int64_t rank) {
  std::vector<std::int64_t> axes;
  for (auto v : intValues(axesT)) {
    if (v < -rank || v >= rank) throw std::runtime_error("reduction axis " + std::to_string(v) + " out of range");
    axes.push_back(v < 0 ? v + rank : v);
  }
  return axes;
}

torch::Tensor stridedSlice(const torch::Tensor& x, const std::vector<std::int64_t>& begin,
                           const std::vector<std::int64_t>& end, const std::vector<std::int64_t>& strides,
                           const Attrs& a) {
  const std::size_t sparse = begin.size();
  if (end.size() != sparse || strides.size() != sparse)
    throw std::runtime_error("begin, end and strides must have the same length");
  const std::int64_t rank = x.dim();
  // Expand the sparse spec to one entry per input dimension (plus new axes), as TensorFlow does.
  struct Dim { bool newAxis = false; std::int64_t b = 0, e = 0, s = 1; bool bm = false, em = false, shrink = false; };
  std::vector<Dim> dense;
  bool sawEllipsis = false;
  std::int64_t consumed = 0;  // input dims covered
  for (std::size_t i = 0; i < sparse; ++i) {
    const std::int64_t bit = std::int64_t(1) << i;
    if (a.ellipsisMask & bit) {
      if (sawEllipsis) throw std::runtime_error("more than one ellipsis");
      sawEllipsis = true;
      std::int64_t after = 0;  // input dims named after the ellipsis
      for (std::size_t j = i + 1; j < sparse; ++j)
        if (!(a.newAxisMask & (std::int64_t(1) << j))) ++after;
      const std::int64_t fill = rank - consumed - after;
      for (std::int64_t k = 0; k < fill; ++k) dense.push_back({false, 0, 0, 1, true, true, false});
      consumed += std::max<std::int64_t>(fill, 0);
    } else if (a.newAxisMask & bit) {
      dense.push_back({true});
    } else {
      dense.push_back({false, begin[i], end[i], strides[i], bool(a.beginMask & bit), bool(a.endMask & bit),
                       bool(a.shrinkAxisMask & bit)});
      ++consumed;
    }
  }
  if (consumed > rank) throw std::runtime_error("slice names more dimensions than the input has");
  while (consumed < rank) {  // implicit trailing ellipsis
    dense.push_back({false, 0, 0, 1, true, true, false});
    ++consumed;
  }
  torch::Tensor y = x;
  std::vector<std::int64_t> finalShape;
  std::int64_t d = 0;
  for (const Dim& s : dense) {
    if (s.newAxis) {
      finalShape.push_back(1);
      continue;
    }
    const std::int64_t size = x.size(d);
    if (s.s == 0) throw std::runtime_error("stride 0");
    if (s.shrink) {
      std::int64_t idx = s.b < 0 ? s.b + size : s.b;
      if (idx < 0 || idx >= size) throw std::runtime_error("shrink index " + std::to_string(s.b) + " out of range");
      y = y.narrow(d, idx, 1);
    } else {
      std::int64_t b, e;
      if (s.s > 0) {
        b = s.bm ? 0 : std::clamp<std::int64_t>(s.b < 0 ? s.b + size : s.b, 0, size);
        e = s.em ? size : std::clamp<std::int64_t>(s.e < 0 ? s.e + size : s.e, 0, size);
      } else {
        b = s.bm ? size - 1 : std::clamp<std::int64_t>(s.b < 0 ? s.b + size : s.b, -1, size - 1);
        e = s.em ? -1 : std::clamp<std::int64_t>(s.e < 0 ? s.e + size : s.e, -1, size - 1);
      }
      std::int64_t len = s.s > 0 ? (e - b + s.s - 1) / s.s : (b - e + (-s.s) - 1) / (-s.s);
      len = std::max<std::int64_t>(len, 0);
      if (s.s == 1) {
        y = y.narrow(d, b, len);
      } else {
        auto index = torch::arange(0, len, torch::TensorOptions().dtype(torch::kLong).device(x.device())) * s.s + b;
        y = y.index_select(d, index);
      }
      finalShape.push_back(len);
    }
    ++d;
  }
  return y.reshape(finalShape);
}

// TensorFlow's ResizeBilinear on NHWC: source coordinate per output pixel as the attributes say.
torch::Tensor resizeBilinear(const torch::Tensor& x, std::int64_t outH, std::int64_t outW, const Attrs& a) {
  if (x.dim() != 4) throw std::runtime_error("input must be 4-D NHWC");
  auto axis = [&](std::int64_t in, std::int64_t out) {
    const double scale = (a.alignCorners && out > 1) ? double(in - 1) / double(out - 1) : double(in) / double(out);
    auto idx = torch::arange(out, torch::TensorOptions().dtype(torch::kFloat64));
    auto src = a.halfPixelCenters ? (idx + 0.5) * scale - 0.5 : idx * scale;
    auto fl = torch::floor(src);
    auto lower = torch::clamp(fl, 0, static_cast<double>(in - 1)).to(torch::kLong);
    auto upper = torch::clamp(torch::ceil(src), 0, static_cast<double>(in - 1)).to(torch::kLong);
    auto lerp = (src - fl).to(torch::kFloat32);
    return std::make_tuple(lower.to(x.device()), upper.to(x.device()), lerp.to(x.device()));
  };
  auto [y0, y1, ly] = axis(x.size(1), outH);
  auto [x0, x1, lx] = axis(x.size(2), outW);
  auto xf = x.to(torch::kFloat32);
  auto top = xf.index_select(1, y0), bottom = xf.index_select(1, y1);
  ly = ly.view({1, -1, 1, 1});
  lx = lx.view({1, 1, -1, 1});
  auto tl = top.index_select(2, x0), tr = top.index_select(2, x1);
  auto bl = bottom.index_select(2, x0), br = bottom.index_select(2, x1);
  auto topRow = tl + (tr - tl) * lx;
  auto bottomRow = bl + (br - bl) * lx;
  return topRow + (bottomRow - topRow) * ly;
}

std::string shapeText(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace

struct GraphImpl {
  std::vector<Node> nodes;
  std::unordered_map<std::string, int> index;
  std::vector<int> order;  // topological
  std::unordered_map<int, torch::Tensor> constants;
  std::vector<std::string> inputs, outputs;
  torch::Device device = torch::kCPU;
  std::string file;
};

Result<GraphModel> GraphModel::load(const std::string& modelJsonPath, const torch::Device& device) {
  const fs::path path(modelJsonPath);
  const std::string fname = path.filename().string();
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::NotFound, "Cannot open TF.js model " + modelJsonPath};
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::CorruptData, fname + " is not valid JSON: " + e.what()};
  }
  if (!doc.is_object() || !doc.contains("modelTopology") || !doc.contains("weightsManifest"))
    return Error{ErrorCode::UnsupportedFormat,
                 fname + " is not a TF.js graph model (needs modelTopology and weightsManifest)"};
  if (doc.contains("format") && doc["format"].is_string() && doc["format"] != "graph-model")
    return Error{ErrorCode::UnsupportedFormat, fname + " is a TF.js '" + doc["format"].get<std::string>() +
                                                   "', only graph models are supported"};
  const json& topo = doc["modelTopology"];
  if (!topo.is_object() || !topo.contains("node") || !topo["node"].is_array())
    return Error{ErrorCode::CorruptData, fname + ": modelTopology has no node list"};

  auto impl = std::make_shared<GraphImpl>();
  impl->device = device;
  impl->file = fname;
  std::vector<std::vector<std::string>> inputNames;
  std::map<std::string, std::vector<std::string>> unknown;
  for (const auto& jn : topo["node"]) {
    if (!jn.is_object() || !jn.contains("name") || !jn.contains("op") || !jn["name"].is_string() ||
        !jn["op"].is_string())
      return Error{ErrorCode::CorruptData, fname + ": a node without name or op"};
    Node n;
    n.name = jn["name"].get<std::string>();
    n.opName = jn["op"].get<std::string>();
    const auto it = opTable().find(n.opName);
    if (it == opTable().end()) {
      unknown[n.opName].push_back(n.name);
    } else {
      n.op = it->second;
      auto attrs = parseAttrs(jn, n.op, fname + ": node " + n.name + " (" + n.opName + ")");
      if (!attrs) return attrs.error();
      n.attrs = std::move(*attrs);
    }
    std::vector<std::string> ins;
    if (jn.contains("input"))
      for (const auto& i : jn["input"])
        if (i.is_string() && !i.get<std::string>().empty() && i.get<std::string>()[0] != '^')
          ins.push_back(i.get<std::string>());
    if (!impl->index.emplace(n.name, static_cast<int>(impl->nodes.size())).second)
      return Error{ErrorCode::CorruptData, fname + ": two nodes are named " + n.name};
    impl->nodes.push_back(std::move(n));
    inputNames.push_back(std::move(ins));
  }
  if (!unknown.empty()) {
    std::string msg;
    for (const auto& [op, names] : unknown) {
      msg += (msg.empty() ? "" : "; ") + op + " (node" + (names.size() > 1 ? "s " : " ");
      for (std::size_t i = 0; i < names.size() && i < 3; ++i) msg += (i ? ", " : "") + names[i];
      if (names.size() > 3) msg += ", and " + std::to_string(names.size() - 3) + " more";
      msg += ")";
    }
    return Error{ErrorCode::UnsupportedFormat, fname + " uses ops this runtime does not implement: " + msg};
  }
  // Resolve inputs ("node", "node:0"); every op here has one output.
  for (std::size_t i = 0; i < impl->nodes.size(); ++i) {
    for (const auto& ref : inputNames[i]) {
      std::string name = ref;
      const auto colon = ref.rfind(':');
      if (colon != std::string::npos && ref.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        if (ref.substr(colon + 1) != "0")
          return Error{ErrorCode::UnsupportedFormat, fname + ": node " + impl->nodes[i].name + " reads output " +
                                                         ref + ", but only single-output ops are supported"};
        name = ref.substr(0, colon);
      }
      const auto it = impl->index.find(name);
      if (it == impl->index.end())
        return Error{ErrorCode::CorruptData,
                     fname + ": node " + impl->nodes[i].name + " reads " + ref + ", which is not in the graph"};
      impl->nodes[i].inputs.push_back(it->second);
    }
  }
  // Arity checks with a clear message instead of a crash at run time.
  for (const auto& n : impl->nodes) {
    std::size_t need = 0;
    switch (n.op) {
      case Op::Placeholder: case Op::Const: need = 0; break;
      case Op::Identity: case Op::Relu: case Op::Relu6: case Op::Sigmoid: case Op::Tanh: case Op::Softmax:
      case Op::MaxPool: case Op::AvgPool: need = 1; break;
      case Op::StridedSlice: need = 4; break;
      case Op::PadV2: need = 3; break;
      case Op::FusedConv2D: case Op::FusedDepthwiseConv2dNative: case Op::FusedMatMul:
        need = n.attrs.biasAdd ? 3 : 2;
        break;
      default: need = 2; break;
    }
    if (n.inputs.size() < need)
      return Error{ErrorCode::CorruptData, fname + ": node " + n.name + " (" + n.opName + ") has " +
                                               std::to_string(n.inputs.size()) + " inputs, needs " +
                                               std::to_string(need)};
  }
  // Topological order (Kahn); a cycle is an error.
  {
    std::vector<int> indegree(impl->nodes.size(), 0);
    std::vector<std::vector<int>> users(impl->nodes.size());
    for (std::size_t i = 0; i < impl->nodes.size(); ++i)
      for (int j : impl->nodes[i].inputs) {
        ++indegree[i];
        users[j].push_back(static_cast<int>(i));
      }
    std::vector<int> ready;
    for (std::size_t i = 0; i < impl->nodes.size(); ++i)
      if (indegree[i] == 0) ready.push_back(static_cast<int>(i));
    for (std::size_t k = 0; k < ready.size(); ++k)
      for (int u : users[ready[k]])
        if (--indegree[u] == 0) ready.push_back(u);
    if (ready.size() != impl->nodes.size())
      return Error{ErrorCode::CorruptData, fname + ": the graph has a cycle"};
    impl->order = std::move(ready);
    std::vector<bool> used(impl->nodes.size(), false);
    for (const auto& n : impl->nodes)
      for (int j : n.inputs) used[j] = true;
    for (std::size_t i = 0; i < impl->nodes.size(); ++i) {
      if (impl->nodes[i].op == Op::Placeholder) impl->inputs.push_back(impl->nodes[i].name);
      if (!used[i] && impl->nodes[i].op != Op::Const && impl->nodes[i].op != Op::Placeholder)
        impl->outputs.push_back(impl->nodes[i].name);
    }
  }
  // The signature's outputs, when the converter recorded them.
  const json* signature = nullptr;
  if (doc.contains("signature")) signature = &doc["signature"];
  else if (doc.contains("userDefinedMetadata") && doc["userDefinedMetadata"].contains("signature"))
    signature = &doc["userDefinedMetadata"]["signature"];
  if (signature && signature->contains("outputs") && (*signature)["outputs"].is_object()) {
    std::vector<std::string> outs;
    for (auto it = (*signature)["outputs"].begin(); it != (*signature)["outputs"].end(); ++it) {
      std::string name = it.value().contains("name") ? it.value()["name"].get<std::string>() : it.key();
      if (name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) name.resize(name.size() - 2);
      if (impl->index.count(name)) outs.push_back(name);
    }
    if (!outs.empty()) {
      std::sort(outs.begin(), outs.end());
      impl->outputs = outs;
    }
  }

  // Weights: each group's shards are one byte stream holding its weights in order.
  const json& manifest = doc["weightsManifest"];
  if (!manifest.is_array()) return Error{ErrorCode::CorruptData, fname + ": weightsManifest must be an array"};
  try {
    for (const auto& group : manifest) {
      std::string bytes;
      std::vector<std::pair<std::string, std::size_t>> shardSizes;
      for (const auto& p : group.at("paths")) {
        const std::string rel = p.get<std::string>();
        const fs::path shard = path.parent_path() / rel;
        std::ifstream s(shard, std::ios::binary);
        if (!s) return Error{ErrorCode::NotFound, fname + ": weight shard " + rel + " is missing (looked for " +
                                                      shard.string() + ")"};
        std::stringstream buf;
        buf << s.rdbuf();
        shardSizes.push_back({rel, buf.str().size()});
        bytes += buf.str();
      }
      std::size_t offset = 0;
      std::vector<std::pair<WeightSpec, std::size_t>> specs;
      for (const auto& w : group.at("weights")) {
        WeightSpec spec;
        spec.name = w.at("name").get<std::string>();
        spec.dtype = w.at("dtype").get<std::string>();
        for (const auto& d : w.at("shape")) spec.shape.push_back(d.get<std::int64_t>());
        if (w.contains("quantization")) {
          const json& q = w["quantization"];
          spec.quantDtype = q.at("dtype").get<std::string>();
          if (spec.quantDtype != "float16" && spec.quantDtype != "uint8" && spec.quantDtype != "uint16")
            return Error{ErrorCode::UnsupportedFormat, fname + ": weight " + spec.name + " is quantised to " +
                                                           spec.quantDtype + " (supported: float16, uint8, uint16)"};
          if (spec.quantDtype != "float16") {
            if (!q.contains("min") || !q.contains("scale"))
              return Error{ErrorCode::CorruptData, fname + ": weight " + spec.name + " is quantised to " +
                                                       spec.quantDtype + " without min and scale"};
            spec.min = q["min"].get<double>();
            spec.scale = q["scale"].get<double>();
          }
        }
        if (spec.dtype != "float32" && spec.dtype != "int32" && spec.dtype != "bool")
          return Error{ErrorCode::UnsupportedFormat,
                       fname + ": weight " + spec.name + " has dtype " + spec.dtype + " (supported: float32, int32, bool)"};
        std::int64_t count = 1;
        for (auto d : spec.shape) {
          if (d < 0) return Error{ErrorCode::CorruptData, fname + ": weight " + spec.name + " has a negative dimension"};
          count *= d;
        }
        const std::size_t size = static_cast<std::size_t>(count) * storedBytes(spec);
        specs.push_back({spec, offset});
        offset += size;
      }
      std::string shardList;
      for (const auto& [rel, sz] : shardSizes) shardList += (shardList.empty() ? "" : ", ") + rel + " (" + std::to_string(sz) + " bytes)";
      if (offset > bytes.size())
        return Error{ErrorCode::CorruptData, fname + ": weight shards are truncated: the manifest needs " +
                                                 std::to_string(offset) + " bytes, " + shardList + " hold " +
                                                 std::to_string(bytes.size()) + " (re-install or re-download the model)"};
      if (offset < bytes.size())
        return Error{ErrorCode::CorruptData, fname + ": weight shards have the wrong size: the manifest needs " +
                                                 std::to_string(offset) + " bytes, " + shardList + " hold " +
                                                 std::to_string(bytes.size())};
      for (const auto& [spec, off] : specs) {
        const auto it = impl->index.find(spec.name);
        if (it == impl->index.end()) continue;  // weights for nodes pruned from the graph
        std::int64_t count = 1;
        for (auto d : spec.shape) count *= d;
        auto t = decodeWeight(spec, reinterpret_cast<const unsigned char*>(bytes.data()) + off, count);
        if (t.is_floating_point()) t = t.to(device);
        impl->constants[it->second] = t;
      }
    }
  } catch (const json::exception& e) {
    return Error{ErrorCode::CorruptData, fname + ": malformed weightsManifest (" + e.what() + ")"};
  }
  for (std::size_t i = 0; i < impl->nodes.size(); ++i)
    if (impl->nodes[i].op == Op::Const && !impl->constants.count(static_cast<int>(i)))
      return Error{ErrorCode::CorruptData, fname + ": constant " + impl->nodes[i].name + " has no weights in the manifest"};

  GraphModel m;
  m.impl_ = impl;
  return m;
}

Result<std::vector<torch::Tensor>> GraphModel::execute(const std::vector<std::pair<std::string, torch::Tensor>>& feeds,
                                                       const std::vector<std::string>& outputs,
                                                       const CancelToken& cancel) const {
  const GraphImpl& g = *impl_;
  std::vector<torch::Tensor> values(g.nodes.size());
  for (const auto& [name, t] : feeds) {
    const auto it = g.index.find(name);
    if (it == g.index.end() || g.nodes[it->second].op != Op::Placeholder) {
      std::string list;
      for (const auto& i : g.inputs) list += (list.empty() ? "" : ", ") + i;
      return Error{ErrorCode::InvalidArgument, g.file + ": no input named " + name + " (inputs: " + list + ")"};
    }
    const Attrs& a = g.nodes[it->second].attrs;
    bool fits = !a.placeholderHasShape || static_cast<std::int64_t>(a.placeholderShape.size()) == t.dim();
    for (std::size_t d = 0; fits && d < a.placeholderShape.size(); ++d)
      fits = a.placeholderShape[d] < 0 || a.placeholderShape[d] == t.size(static_cast<std::int64_t>(d));
    if (!fits) {
      std::string want = "[";
      for (std::size_t d = 0; d < a.placeholderShape.size(); ++d)
        want += (d ? ", " : "") + (a.placeholderShape[d] < 0 ? std::string("?") : std::to_string(a.placeholderShape[d]));
      return Error{ErrorCode::InvalidArgument,
                   g.file + ": input " + name + " must have shape " + want + "], got " + shapeText(t)};
    }
    values[it->second] = t.to(g.device, torch::kFloat32);
  }
  std::vector<int> wanted;
  for (const auto& o : outputs) {
    std::string name = o;
    if (name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) name.resize(name.size() - 2);
    const auto it = g.index.find(name);
    if (it == g.index.end()) return Error{ErrorCode::InvalidArgument, g.file + ": no node named " + o};
    wanted.push_back(it->second);
  }
  // Only what the outputs need.
  std::vector<bool> needed(g.nodes.size(), false);
  std::vector<int> stack(wanted.begin(), wanted.end());
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    if (needed[i]) continue;
    needed[i] = true;
    for (int j : g.nodes[i].inputs) stack.push_back(j);
  }
  torch::NoGradGuard noGrad;
  static const bool profile = std::getenv("LOUPE_TFJS_PROFILE") != nullptr;  // per-op timings on stderr
  std::map<std::string, double> opSeconds;
  for (int i : g.order) {
    if (!needed[i]) continue;
    const auto started = std::chrono::steady_clock::now();
    if (cancel.isCancelled()) return Error::cancelled();
    const Node& n = g.nodes[i];
    auto in = [&](std::size_t k) -> const torch::Tensor& { return values[n.inputs[k]]; };
    try {
      torch::Tensor y;
      switch (n.op) {
        case Op::Placeholder:
          if (!values[i].defined()) return Error{ErrorCode::InvalidArgument, g.file + ": input " + n.name + " was not fed"};
          continue;
        case Op::Const: y = g.constants.at(i); break;
        case Op::Identity: y = in(0); break;
        case Op::Conv2D: y = conv2d(in(0), in(1), n.attrs, false); break;
        case Op::DepthwiseConv2dNative: y = conv2d(in(0), in(1), n.attrs, true); break;
        case Op::FusedConv2D:
        case Op::FusedDepthwiseConv2dNative:
          y = conv2d(in(0), in(1), n.attrs, n.op == Op::FusedDepthwiseConv2dNative);
          if (n.attrs.biasAdd) y = y + in(2);
          y = activate(y, n.attrs.activation);
          break;
        case Op::MatMul:
        case Op::FusedMatMul: {
          auto a = n.attrs.transposeA ? in(0).t() : in(0);
          auto b = n.attrs.transposeB ? in(1).t() : in(1);
          y = torch::matmul(a, b);
          if (n.op == Op::FusedMatMul) {
            if (n.attrs.biasAdd) y = y + in(2);
            y = activate(y, n.attrs.activation);
          }
          break;
        }
        case Op::BiasAdd: case Op::Add: case Op::AddV2: y = in(0) + in(1); break;
        case Op::Sub: y = in(0) - in(1); break;
        case Op::Mul: y = in(0) * in(1); break;
        case Op::RealDiv: y = in(0) / in(1); break;
        case Op::Minimum: y = torch::minimum(in(0), in(1).to(in(0).dtype())); break;
        case Op::Maximum: y = torch::maximum(in(0), in(1).to(in(0).dtype())); break;
        case Op::Relu: y = torch::relu(in(0)); break;
        case Op::Relu6: y = torch::clamp(in(0), 0.0, 6.0); break;
        case Op::Sigmoid: y = torch::sigmoid(in(0)); break;
        case Op::Tanh: y = torch::tanh(in(0)); break;
        case Op::Softmax: y = torch::softmax(in(0), -1); break;
        case Op::MaxPool: y = pool(in(0), n.attrs, true); break;
        case Op::AvgPool: y = pool(in(0), n.attrs, false); break;
        case Op::Mean:
        case Op::Max: {
          const auto axes = reductionAxes(in(1), in(0).dim());
          if (axes.empty()) {
            y = in(0);
          } else if (n.op == Op::Mean) {
            y = in(0).mean(axes, n.attrs.keepDims);
          } else {
            y = in(0).amax(axes, n.attrs.keepDims);
          }
          break;
        }
        case Op::Reshape: y = in(0).reshape(intValues(in(1))); break;
        case Op::StridedSlice:
          y = stridedSlice(in(0), intValues(in(1)), intValues(in(2)), intValues(in(3)), n.attrs);
          break;
        case Op::ExpandDims: {
          auto axis = intValues(in(1));
          if (axis.size() != 1) throw std::runtime_error("axis must be a single value");
          const std::int64_t r = in(0).dim();
          std::int64_t ax = axis[0] < 0 ? axis[0] + r + 1 : axis[0];
          if (ax < 0 || ax > r) throw std::runtime_error("axis " + std::to_string(axis[0]) + " out of range");
          y = in(0).unsqueeze(ax);
          break;
        }
        case Op::Pad:
        case Op::PadV2: {
          const auto p = intValues(in(1));
          const std::int64_t r = in(0).dim();
          if (static_cast<std::int64_t>(p.size()) != 2 * r) throw std::runtime_error("paddings must be [rank, 2]");
          std::vector<std::int64_t> torchPad;  // last dimension first
          for (std::int64_t d = r - 1; d >= 0; --d) {
            if (p[2 * d] < 0 || p[2 * d + 1] < 0) throw std::runtime_error("negative paddings");
            torchPad.push_back(p[2 * d]);
            torchPad.push_back(p[2 * d + 1]);
          }
          const double value = n.op == Op::PadV2 ? in(2).to(torch::kCPU).item<double>() : 0.0;
          y = F::pad(in(0), F::PadFuncOptions(torchPad).value(value));
          break;
        }
        case Op::ResizeBilinear: {
          const auto size = intValues(in(1));
          if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) throw std::runtime_error("size must be 2 positive values");
          y = resizeBilinear(in(0), size[0], size[1], n.attrs);
          break;
        }
      }
      values[i] = y;
      if (profile) opSeconds[g.nodes[i].opName] += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } catch (const std::exception& e) {
      std::string shapes;
      for (int j : n.inputs)
        if (values[j].defined()) shapes += (shapes.empty() ? "" : ", ") + shapeText(values[j]);
      std::string what = e.what();
      if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      return Error{ErrorCode::ModelError, g.file + ": node " + n.name + " (" + n.opName + ") failed on inputs " +
                                              shapes + ": " + what};
    }
  }
  if (profile)
    for (const auto& [op, sec] : opSeconds) std::fprintf(stderr, "tfjs %s: %-24s %8.2f ms\n", g.file.c_str(), op.c_str(), 1000 * sec);
  std::vector<torch::Tensor> out;
  for (int i : wanted) out.push_back(values[i]);
  return out;
}

const std::vector<std::string>& GraphModel::inputNames() const { return impl_->inputs; }
const std::vector<std::string>& GraphModel::outputNames() const { return impl_->outputs; }
std::size_t GraphModel::nodeCount() const { return impl_->nodes.size(); }
torch::Device GraphModel::device() const { return impl_->device; }

std::vector<std::string> GraphModel::opsUsed() const {
  std::set<std::string> ops;
  for (const auto& n : impl_->nodes) ops.insert(n.opName);
  return {ops.begin(), ops.end()};
}

const std::vector<std::string>& GraphModel::supportedOps() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> v;
    for (const auto& [name, op] : opTable()) v.push_back(name);
    return v;
  }();
  return ops;
}

}  // namespace loupe::runtime::tfjs
