#include "NoiseCooccurrence.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace loupe::analysis {
namespace {

constexpr double kQuantStep = 2.0;

int codeOf(const std::array<int, 4>& v) { return 27 * (v[0] + 1) + 9 * (v[1] + 1) + 3 * (v[2] + 1) + (v[3] + 1); }

std::vector<std::int64_t> makeClassTable() {
  // Orbits of the 81 tuples under {identity, negation, reversal, negated reversal}; classes numbered in
  // the order of their smallest code.
  std::vector<int> canonical(81);
  for (int code = 0; code < 81; ++code) {
    const std::array<int, 4> v = {code / 27 - 1, code / 9 % 3 - 1, code / 3 % 3 - 1, code % 3 - 1};
    const std::array<int, 4> neg = {-v[0], -v[1], -v[2], -v[3]};
    const std::array<int, 4> rev = {v[3], v[2], v[1], v[0]};
    const std::array<int, 4> negRev = {-v[3], -v[2], -v[1], -v[0]};
    canonical[code] = std::min({codeOf(v), codeOf(neg), codeOf(rev), codeOf(negRev)});
  }
  std::map<int, std::int64_t> ids;
  for (int code = 0; code < 81; ++code)
    if (canonical[code] == code) ids.emplace(code, static_cast<std::int64_t>(ids.size()));
  std::vector<std::int64_t> table(81);
  for (int code = 0; code < 81; ++code) table[code] = ids.at(canonical[code]);
  return table;
}

// Quantised third-order residual along dim 1 of [H, W]: values 0, 1, 2 (= -1, 0, 1), int64 [H, W - 3].
torch::Tensor quantisedResidual(const torch::Tensor& g) {
  const int64_t w = g.size(1);
  const torch::Tensor r = g.narrow(1, 0, w - 3) - 3 * g.narrow(1, 1, w - 3) + 3 * g.narrow(1, 2, w - 3) -
                          g.narrow(1, 3, w - 3);
  return torch::clamp(torch::round(r / kQuantStep), -1, 1).to(torch::kLong) + 1;
}

// Class of each 4-tuple along dim 1, cropped to the common domain [H - 6, W - 6] (rows 3..H-4).
torch::Tensor tupleClasses(const torch::Tensor& g, const torch::Tensor& classTable) {
  const torch::Tensor q = quantisedResidual(g);  // [H, W - 3]
  const int64_t w = q.size(1) - 3;               // W - 6
  const torch::Tensor code = 27 * q.narrow(1, 0, w) + 9 * q.narrow(1, 1, w) + 3 * q.narrow(1, 2, w) + q.narrow(1, 3, w);
  const torch::Tensor rows = code.narrow(0, kResidualMargin, g.size(0) - 2 * kResidualMargin);
  return classTable.index({rows});
}

}  // namespace

const std::vector<std::int64_t>& cooccurrenceClassOfCode() {
  static const std::vector<std::int64_t> table = makeClassTable();
  return table;
}

std::int64_t cooccurrenceFlatClass() { return cooccurrenceClassOfCode()[codeOf({0, 0, 0, 0})]; }

torch::Tensor luminance(const Image& image) {
  const int w = image.width(), h = image.height();
  torch::Tensor out = torch::empty({h, w}, torch::kFloat32);
  if (image.empty()) return out;
  float* dst = out.data_ptr<float>();
  const int ch = image.channels();
  const ColorOrder order = image.order();
  const bool gray = order == ColorOrder::Gray || order == ColorOrder::GrayAlpha;
  const bool bgr = order == ColorOrder::BGR || order == ColorOrder::BGRA;
  const float unit = image.depth() == PixelDepth::U8 ? 1.f : image.depth() == PixelDepth::U16 ? 1.f / 257.f : 255.f;
  const int ir = bgr ? 2 : 0, ib = bgr ? 0 : 2;
  auto convert = [&](auto sampleType) {
    using T = decltype(sampleType);
    for (int y = 0; y < h; ++y) {
      const T* row = image.row<T>(y);
      float* o = dst + static_cast<std::size_t>(y) * w;
      if (gray) {
        for (int x = 0; x < w; ++x) o[x] = static_cast<float>(row[x * ch]) * unit;
      } else {
        for (int x = 0; x < w; ++x) {
          const T* p = row + x * ch;
          o[x] = (0.299f * static_cast<float>(p[ir]) + 0.587f * static_cast<float>(p[1]) +
                  0.114f * static_cast<float>(p[ib])) * unit;
        }
      }
    }
  };
  switch (image.depth()) {
    case PixelDepth::U8: convert(std::uint8_t{}); break;
    case PixelDepth::U16: convert(std::uint16_t{}); break;
    case PixelDepth::F32: convert(float{}); break;
  }
  return out;
}

Result<torch::Tensor> cooccurrenceBlockHistograms(const torch::Tensor& grayIn, int block, int stride,
                                                  const CancelToken& cancel) {
  if (!grayIn.defined() || grayIn.dim() != 2 || !grayIn.is_floating_point())
    return Error{ErrorCode::InvalidArgument, "Co-occurrence features need a 2-D floating-point luminance map"};
  if (stride < 1 || block < stride || block % stride != 0)
    return Error{ErrorCode::InvalidArgument, "Block size " + std::to_string(block) +
                                                 " must be a positive multiple of the stride " + std::to_string(stride)};
  const int64_t h = grayIn.size(0), w = grayIn.size(1);
  if (h < block + 2 * kResidualMargin || w < block + 2 * kResidualMargin)
    return Error{ErrorCode::InvalidArgument, "The image (" + std::to_string(w) + "x" + std::to_string(h) +
                                                 ") is smaller than one block of " + std::to_string(block) +
                                                 " pixels plus the 6-pixel filter margin"};
  const torch::Tensor g = grayIn.to(torch::kFloat32).contiguous();
  const torch::Tensor table = torch::tensor(cooccurrenceClassOfCode(), torch::kLong).to(g.device());

  const torch::Tensor rowClasses = tupleClasses(g, table);                      // [H-6, W-6]
  if (cancel.isCancelled()) return Error::cancelled();
  const torch::Tensor colClasses = tupleClasses(g.t().contiguous(), table).t();  // [H-6, W-6]
  if (cancel.isCancelled()) return Error::cancelled();

  const int64_t cy = (h - 2 * kResidualMargin) / stride, cx = (w - 2 * kResidualMargin) / stride;
  const auto cellIndex = [&](const torch::Tensor& classes, int64_t offset) {
    const torch::Tensor c = classes.narrow(0, 0, cy * stride).narrow(1, 0, cx * stride).reshape({cy, stride, cx, stride});
    const torch::Tensor base = (torch::arange(cy * cx, classes.options()) * kCooccurrenceBins + offset).view({cy, 1, cx, 1});
    return (c + base).reshape({-1});
  };
  const torch::Tensor index = torch::cat({cellIndex(rowClasses, 0), cellIndex(colClasses, kCooccurrenceClasses)});
  const torch::Tensor cells = torch::bincount(index, {}, cy * cx * kCooccurrenceBins).view({cy, cx, kCooccurrenceBins});
  if (cancel.isCancelled()) return Error::cancelled();

  // Integral image over cells (exact in int64), then sums over nb x nb cells.
  const int64_t nb = block / stride;
  torch::Tensor integral = torch::zeros({cy + 1, cx + 1, kCooccurrenceBins}, cells.options());
  integral.narrow(0, 1, cy).narrow(1, 1, cx).copy_(cells.cumsum(0).cumsum(1));
  const int64_t gy = cy - nb + 1, gx = cx - nb + 1;
  const auto part = [&](int64_t y0, int64_t x0) { return integral.narrow(0, y0, gy).narrow(1, x0, gx); };
  return part(nb, nb) - part(0, nb) - part(nb, 0) + part(0, 0);
}

Result<NoiseFeatures> noiseCooccurrenceFeatures(const torch::Tensor& gray, const NoiseFeatureOptions& options,
                                                const CancelToken& cancel) {
  if (!gray.defined() || gray.dim() != 2 || !gray.is_floating_point())
    return Error{ErrorCode::InvalidArgument, "Co-occurrence features need a 2-D floating-point luminance map"};
  const int64_t h = gray.size(0), w = gray.size(1);
  const int64_t usable = std::min(h, w) - 2 * kResidualMargin;
  if (usable < kMinBlockSize)
    return Error{ErrorCode::InvalidArgument,
                 "The image (" + std::to_string(w) + "x" + std::to_string(h) + ") is too small for noise analysis: " +
                     "it needs at least " + std::to_string(kMinBlockSize + 2 * kResidualMargin) +
                     " pixels in each direction"};
  if (options.blockSize < 0 || options.stride < 0 || options.maxBlocks < 1)
    return Error{ErrorCode::InvalidArgument, "Block size, stride and block limit must be positive (0 = automatic)"};
  if (options.blockSize > 0 && options.blockSize < kMinBlockSize)
    return Error{ErrorCode::InvalidArgument, "Block size must be at least " + std::to_string(kMinBlockSize) +
                                                 " pixels (a histogram of 50 bins needs samples)"};

  NoiseFeatures out;
  int block = options.blockSize > 0 ? options.blockSize : (h * w <= 4'000'000 ? 64 : 128);
  if (block > usable) {
    const int reduced = static_cast<int>(usable / 8 * 8);
    out.notes.push_back("The block size was reduced from " + std::to_string(block) + " to " + std::to_string(reduced) +
                        " pixels to fit the image (" + std::to_string(w) + "x" + std::to_string(h) + ")");
    block = reduced;
  }
  int stride = options.stride;
  if (stride > 0) {
    if (stride > block || block % stride != 0)
      return Error{ErrorCode::InvalidArgument, "The stride (" + std::to_string(stride) +
                                                   ") must divide the block size (" + std::to_string(block) + ")"};
  } else {
    stride = std::max(1, block / 8);
    while (block % stride != 0) --stride;
    const auto blocks = [&](int s) {
      return ((h - 2 * kResidualMargin - block) / s + 1) * ((w - 2 * kResidualMargin - block) / s + 1);
    };
    while (blocks(stride) > options.maxBlocks && stride < block) {
      int next = stride * 2;
      while (next < block && block % next != 0) ++next;
      stride = std::min(next, block);
    }
  }

  auto hist = cooccurrenceBlockHistograms(gray, block, stride, cancel);
  if (!hist) return hist.error();
  out.blockSize = block;
  out.stride = stride;
  out.gridHeight = static_cast<int>(hist->size(0));
  out.gridWidth = static_cast<int>(hist->size(1));
  out.originX = out.originY = kResidualMargin + (block - 1) / 2.0;

  const torch::Tensor counts = hist->reshape({-1, kCooccurrenceBins}).to(torch::kFloat64);
  const double perDirection = static_cast<double>(block) * block;
  const torch::Tensor freq = counts / perDirection;  // each half sums to 1
  const int64_t flat = cooccurrenceFlatClass();
  const torch::Tensor flatShare =
      torch::minimum(freq.select(1, flat), freq.select(1, kCooccurrenceClasses + flat));
  out.textured = flatShare < options.flatFraction;
  const int64_t total = freq.size(0);
  const int64_t textured = out.textured.sum().item<int64_t>();
  if (textured < total)
    out.notes.push_back(std::to_string(total - textured) + " of " + std::to_string(total) +
                        " blocks are flat (no noise to analyse: uniform colour or saturation) and were judged pristine");

  const torch::Tensor x = freq.index({out.textured}).sqrt();  // Hellinger embedding, [N, 50]
  const int64_t n = x.size(0);
  if (n < 2) {
    out.features = torch::zeros({n, 0}, gray.options().dtype(torch::kFloat32));
    return out;
  }
  if (cancel.isCancelled()) return Error::cancelled();

  // PCA in float64: 50 x 50 covariance, eigenvectors by decreasing eigenvalue.
  const torch::Tensor centred = x - x.mean(0, true);
  const torch::Tensor cov = centred.t().mm(centred) / static_cast<double>(n - 1);
  const auto [evals, evecs] = at::linalg_eigh(cov);
  const int64_t d = std::max<int64_t>(1, std::min<int64_t>({options.pcaDims, kCooccurrenceBins, n - 1}));
  const torch::Tensor basis = evecs.narrow(1, kCooccurrenceBins - d, d).flip({1});
  const double totalVariance = evals.clamp_min(0).sum().item<double>();
  out.explainedVariance = totalVariance > 0 ? evals.narrow(0, kCooccurrenceBins - d, d).clamp_min(0).sum().item<double>() /
                                                  totalVariance
                                            : 0.0;
  out.features = centred.mm(basis).to(torch::kFloat32);
  return out;
}

}  // namespace loupe::analysis
