#include "NoiseCooccurrence.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <ATen/Parallel.h>

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

// Code (0..80) of every 4-tuple of quantised third-order residuals along `dim` (0: down the columns,
// 1: along the rows), uint8, cropped to the common domain [H - 6, W - 6]: tuples along a row start at
// columns 0..W-7 and are taken on rows 3..H-4 (and the other way round for columns), so the domain position
// (i, j) is centred on pixel (i + 3, j + 3).
torch::Tensor tupleCodes(const torch::Tensor& g, int64_t dim) {
  const int64_t n = g.size(dim);
  // r = I[0] - 3 I[1] + 3 I[2] - I[3], with one temporary.
  torch::Tensor r = g.narrow(dim, 0, n - 3) - g.narrow(dim, 3, n - 3);
  r.add_(g.narrow(dim, 2, n - 3) - g.narrow(dim, 1, n - 3), 3);
  // clamp(round(r / 2), -1, 1) + 1 without rounding: round half to even makes |r / 2| <= 0.5 zero, so the
  // quantised value is +1 exactly when r > 1 and -1 exactly when r < -1 (the half-way r = +-1 rounds to 0).
  static_assert(kQuantStep == 2.0, "the comparison below is round(r / 2) truncated at 1");
  const torch::Tensor q = (r > 1.0).to(torch::kUInt8) + 1 - (r < -1.0).to(torch::kUInt8);
  const int64_t m = n - 6;
  const torch::Tensor code = 27 * q.narrow(dim, 0, m) + 9 * q.narrow(dim, 1, m) + 3 * q.narrow(dim, 2, m) +
                             q.narrow(dim, 3, m);
  const int64_t other = 1 - dim;
  return code.narrow(other, kResidualMargin, g.size(other) - 2 * kResidualMargin);
}

// CPU path: the same counts in one pass over the pixels per band of cells, with no full-size temporaries
// (the tensor path below makes a dozen passes over full-size tensors). Bands of `stride` domain rows run in
// parallel; each writes only its own cells. Counts per cell: 25 row classes, then 25 column classes.
torch::Tensor cellClassCountsCpu(const torch::Tensor& g, int stride, int64_t cy, int64_t cx, const CancelToken& cancel) {
  const int64_t w = g.size(1);
  const float* img = g.data_ptr<float>();
  std::array<std::uint8_t, 81> cls{};
  for (int c = 0; c < 81; ++c) cls[c] = static_cast<std::uint8_t>(cooccurrenceClassOfCode()[c]);
  torch::Tensor counts = torch::zeros({cy * cx, kCooccurrenceBins}, torch::kInt32);
  std::int32_t* out = counts.data_ptr<std::int32_t>();
  const auto quant = [](float r) -> std::uint8_t { return static_cast<std::uint8_t>(1 + (r > 1.f) - (r < -1.f)); };
  const int64_t width = cx * stride;  // domain columns used
  at::parallel_for(0, cy, 1, [&](int64_t begin, int64_t end) {
    std::vector<std::uint8_t> qh(static_cast<std::size_t>(w));
    std::vector<std::uint8_t> qv(static_cast<std::size_t>(4 * w));  // ring of 4 column-residual rows
    for (int64_t band = begin; band < end; ++band) {
      if (cancel.isCancelled()) return;
      const int64_t i0 = band * stride;
      // Column residual at pixel row r (rows r..r+3), for every column.
      const auto columnResidualRow = [&](int64_t r, std::uint8_t* dst) {
        const float* a = img + r * w;
        const float* b = a + w;
        const float* c = b + w;
        const float* d = c + w;
        for (int64_t x = 0; x < w; ++x) dst[x] = quant((a[x] - d[x]) + 3.f * (c[x] - b[x]));
      };
      for (int k = 0; k < 3; ++k) columnResidualRow(i0 + k, qv.data() + ((i0 + k) % 4) * w);
      for (int64_t i = i0; i < i0 + stride; ++i) {
        columnResidualRow(i + 3, qv.data() + ((i + 3) % 4) * w);
        const std::uint8_t* v0 = qv.data() + (i % 4) * w + kResidualMargin;
        const std::uint8_t* v1 = qv.data() + ((i + 1) % 4) * w + kResidualMargin;
        const std::uint8_t* v2 = qv.data() + ((i + 2) % 4) * w + kResidualMargin;
        const std::uint8_t* v3 = qv.data() + ((i + 3) % 4) * w + kResidualMargin;
        const float* row = img + (i + kResidualMargin) * w;
        for (int64_t x = 0; x + 3 < w; ++x) qh[x] = quant((row[x] - row[x + 3]) + 3.f * (row[x + 2] - row[x + 1]));
        std::int32_t* cellRow = out + band * cx * kCooccurrenceBins;
        for (int64_t j = 0; j < width; ++j) {
          std::int32_t* cell = cellRow + (j / stride) * kCooccurrenceBins;
          ++cell[cls[27 * qh[j] + 9 * qh[j + 1] + 3 * qh[j + 2] + qh[j + 3]]];
          ++cell[kCooccurrenceClasses + cls[27 * v0[j] + 9 * v1[j] + 3 * v2[j] + v3[j]]];
        }
      }
    }
  });
  return counts;
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
                                                  const CancelToken& cancel, HistogramPath path) {
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
  const int64_t cy = (h - 2 * kResidualMargin) / stride, cx = (w - 2 * kResidualMargin) / stride;
  torch::Tensor cells;
  if (g.device().is_cpu() && path == HistogramPath::Auto) {
    cells = cellClassCountsCpu(g, stride, cy, cx, cancel).view({cy, cx, kCooccurrenceBins}).to(torch::kLong);
    if (cancel.isCancelled()) return Error::cancelled();
  } else {
    const torch::Tensor rowCodes = tupleCodes(g, 1);  // [H-6, W-6]
    if (cancel.isCancelled()) return Error::cancelled();
    const torch::Tensor colCodes = tupleCodes(g, 0);  // [H-6, W-6]
    if (cancel.isCancelled()) return Error::cancelled();
    // Raw code counts per stride x stride cell (81 row codes, then 81 column codes) by bincount over int32
    // indices; the 81 -> 25 class merge is then a product with a 0/1 matrix on the small cell table.
    const auto intOpts = torch::TensorOptions().dtype(torch::kInt32).device(g.device());
    const torch::Tensor base = (torch::arange(cy * cx, intOpts) * 162).view({cy, 1, cx, 1});
    const auto cellIndex = [&](const torch::Tensor& codes, int offset) {
      const torch::Tensor c = codes.narrow(0, 0, cy * stride).narrow(1, 0, cx * stride).reshape({cy, stride, cx, stride});
      return (c.to(torch::kInt32) + (base + offset)).reshape({-1});
    };
    const int64_t bins = cy * cx * 162;
    const torch::Tensor raw = (torch::bincount(cellIndex(rowCodes, 0), {}, bins).to(torch::kFloat64) +
                               torch::bincount(cellIndex(colCodes, 81), {}, bins).to(torch::kFloat64))
                                  .view({cy * cx, 162});
    if (cancel.isCancelled()) return Error::cancelled();
    torch::Tensor merge = torch::zeros({162, kCooccurrenceBins}, torch::kFloat64);
    const auto& table = cooccurrenceClassOfCode();
    for (int code = 0; code < 81; ++code) {
      merge[code][table[code]] = 1.0;
      merge[81 + code][kCooccurrenceClasses + table[code]] = 1.0;
    }
    // Exact: integer counts far below 2^53.
    cells = raw.mm(merge.to(g.device())).round().to(torch::kLong).view({cy, cx, kCooccurrenceBins});
  }

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
