#include "SpliceSynth.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

namespace loupe::train {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMinMaskPixels = 16;

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double uniform(std::mt19937_64& rng, double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }

const torch::TensorOptions kF32 = torch::TensorOptions().dtype(torch::kFloat32);

// Pixel-centre coordinate grids [S, S]: x varies along columns, y along rows.
std::pair<torch::Tensor, torch::Tensor> grid(int size) {
  const torch::Tensor r = torch::arange(size, kF32);
  auto g = torch::meshgrid({r, r}, "ij");
  return {g[1], g[0]};
}

// Separable Gaussian blur of float [N, C, H, W] with reflected borders.
torch::Tensor gaussianBlur(const torch::Tensor& x, double sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  torch::Tensor k = torch::arange(-r, r + 1, kF32);
  k = torch::exp(-(k * k) / (2.0 * sigma * sigma));
  k = k / k.sum();
  const int64_t c = x.size(1);
  const torch::Tensor kx = k.view({1, 1, 1, 2 * r + 1}).repeat({c, 1, 1, 1});
  const torch::Tensor ky = k.view({1, 1, 2 * r + 1, 1}).repeat({c, 1, 1, 1});
  torch::Tensor y = torch::reflection_pad2d(x, {r, r, 0, 0});
  y = torch::conv2d(y, kx, torch::Tensor(), torch::IntArrayRef{1, 1}, torch::IntArrayRef{0, 0}, torch::IntArrayRef{1, 1}, c);
  y = torch::reflection_pad2d(y, {0, 0, r, r});
  return torch::conv2d(y, ky, torch::Tensor(), torch::IntArrayRef{1, 1}, torch::IntArrayRef{0, 0}, torch::IntArrayRef{1, 1}, c);
}

torch::Tensor toU8(const torch::Tensor& x) { return x.round().clamp(0, 255).to(torch::kUInt8); }

}  // namespace

const char* spliceShapeName(SpliceShape shape) {
  switch (shape) {
    case SpliceShape::Ellipse: return "ellipse";
    case SpliceShape::Polygon: return "polygon";
    case SpliceShape::Blob: return "blob";
    case SpliceShape::Object: return "object";
  }
  return "?";
}

std::string SpliceSample::describe() const {
  std::ostringstream s;
  s << spliceShapeName(shape) << " from photo " << donor << " into photo " << host;
  if (scale != 1.0 || angleDeg != 0.0) s << ", resampled x" << scale << " rotated " << angleDeg << " deg";
  if (donorJpegQuality) s << ", donor JPEG q" << donorJpegQuality;
  if (blurSigma > 0) s << ", blur sigma " << blurSigma;
  if (noiseSigma > 0) s << ", noise sigma " << noiseSigma;
  if (jpegQuality) s << ", JPEG q" << jpegQuality;
  return s.str();
}

Result<torch::Tensor> rgbTensor(const Image& image) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "empty image"};
  const Image rgb = image.toU8().toRGB();
  torch::Tensor t = torch::empty({rgb.height(), rgb.width(), 3}, torch::kUInt8);
  for (int y = 0; y < rgb.height(); ++y)
    std::memcpy(t.data_ptr<uint8_t>() + std::size_t(y) * rgb.width() * 3, rgb.row<uint8_t>(y), std::size_t(rgb.width()) * 3);
  return t.permute({2, 0, 1}).contiguous();
}

Image rgbImage(const torch::Tensor& rgb) {
  const torch::Tensor t = rgb.to(torch::kCPU, torch::kUInt8).permute({1, 2, 0}).contiguous();
  Image out(int(t.size(1)), int(t.size(0)), ColorOrder::RGB);
  for (int y = 0; y < out.height(); ++y)
    std::memcpy(out.row<uint8_t>(y), t.data_ptr<uint8_t>() + std::size_t(y) * out.width() * 3, std::size_t(out.width()) * 3);
  return out;
}

torch::Tensor spliceMask(SpliceShape shape, int size, double area, uint64_t seed) {
  std::mt19937_64 rng(splitmix(seed));
  const double s = size;
  const double target = std::clamp(area, 0.001, 0.95) * s * s;  // pixels
  auto [xx, yy] = grid(size);
  // Draws shared by the shapes, always made in the same order.
  const double cx = uniform(rng, 0.25 * s, 0.75 * s), cy = uniform(rng, 0.25 * s, 0.75 * s);
  const double phi = uniform(rng, 0.0, kPi);
  torch::Tensor mask;
  switch (shape) {
    case SpliceShape::Ellipse: {
      const double aspect = uniform(rng, 0.35, 1.0);
      const double r = std::sqrt(target / kPi);
      const double a = r / std::sqrt(aspect), b = r * std::sqrt(aspect);
      const torch::Tensor dx = xx - cx, dy = yy - cy;
      const torch::Tensor u = (dx * std::cos(phi) + dy * std::sin(phi)) / a;
      const torch::Tensor v = (-dx * std::sin(phi) + dy * std::cos(phi)) / b;
      mask = (u * u + v * v).le(1.0);
      break;
    }
    case SpliceShape::Polygon: {
      const int n = std::uniform_int_distribution<int>(3, 9)(rng);
      std::vector<double> angles(n), radii(n);
      for (auto& t : angles) t = uniform(rng, 0.0, 2.0 * kPi);
      for (auto& r : radii) r = uniform(rng, 0.55, 1.0);
      std::sort(angles.begin(), angles.end());
      double shoelace = 0.0;  // area of the unit polygon
      for (int i = 0; i < n; ++i) {
        const int j = (i + 1) % n;
        shoelace += radii[i] * radii[j] * std::sin(angles[j] - angles[i]);
      }
      shoelace = std::abs(shoelace) / 2.0;
      if (shoelace < 1e-3) shoelace = 1e-3;
      const double k = std::sqrt(target / shoelace);
      std::vector<double> px(n), py(n);
      for (int i = 0; i < n; ++i) {
        px[i] = cx + k * radii[i] * std::cos(angles[i]);
        py[i] = cy + k * radii[i] * std::sin(angles[i]);
      }
      // Even-odd rule, all pixels at once per edge.
      torch::Tensor inside = torch::zeros({size, size}, torch::kBool);
      for (int i = 0; i < n; ++i) {
        const int j = (i + 1) % n;
        if (py[i] == py[j]) continue;
        const torch::Tensor crosses = (yy > py[i]).ne(yy > py[j]);
        const torch::Tensor xCross = (px[j] - px[i]) * (yy - py[i]) / (py[j] - py[i]) + px[i];
        inside = inside.logical_xor(crosses.logical_and(xx < xCross));
      }
      mask = inside;
      break;
    }
    case SpliceShape::Object: {
      double a[6], ph[6];
      for (int k = 1; k <= 5; ++k) {
        a[k] = uniform(rng, 0.0, 0.28) / k;
        ph[k] = uniform(rng, 0.0, 2.0 * kPi);
      }
      auto radius = [&](double t) {
        double r = 1.0;
        for (int k = 1; k <= 5; ++k) r += a[k] * std::cos(k * t + ph[k]);
        return std::max(r, 0.15);
      };
      double unitArea = 0.0;  // 1/2 integral of r^2 over the angle
      for (int i = 0; i < 720; ++i) unitArea += 0.5 * std::pow(radius(2.0 * kPi * i / 720), 2) * (2.0 * kPi / 720);
      const double scale = std::sqrt(target / unitArea);
      const torch::Tensor t = torch::atan2(yy - cy, xx - cx);
      torch::Tensor r = torch::ones_like(t);
      for (int k = 1; k <= 5; ++k) r = r + a[k] * torch::cos(k * t + ph[k]);
      r = r.clamp_min(0.15) * scale;
      mask = ((xx - cx).pow(2) + (yy - cy).pow(2)).sqrt().le(r);
      break;
    }
    case SpliceShape::Blob: {
      auto gen = at::detail::createCPUGenerator(splitmix(seed ^ 0xB10Bull));
      const int cells = std::max(3, size / 24);
      torch::Tensor noise = torch::rand({1, 1, cells, cells}, gen, kF32);
      noise = torch::upsample_bilinear2d(noise, {size, size}, false).view({size, size});
      const int64_t keep = std::clamp<int64_t>(static_cast<int64_t>(target), 1, int64_t(size) * size - 1);
      const double thr = std::get<0>(noise.flatten().kthvalue(int64_t(size) * size - keep)).item<double>();
      mask = noise.gt(thr);
      break;
    }
  }
  if (mask.sum().item<int64_t>() < kMinMaskPixels) {  // a shape that fell outside: a centred disc instead
    const double r = std::max(3.0, std::sqrt(target / kPi));
    mask = ((xx - s / 2).pow(2) + (yy - s / 2).pow(2)).le(r * r);
  }
  return mask.to(torch::kFloat32);
}

Result<SpliceSynth> SpliceSynth::create(std::vector<torch::Tensor> photos, SpliceSynthOptions o) {
  auto bad = [](const std::string& what) { return Error{ErrorCode::InvalidArgument, "Splice synthesis: " + what}; };
  if (photos.size() < 2) return bad("needs at least two pristine photos (a host and a donor), got " + std::to_string(photos.size()));
  if (o.size < 32 || o.size > 4096) return bad("the crop size must be in 32..4096");
  if (!(o.minArea > 0 && o.minArea <= o.maxArea && o.maxArea < 1)) return bad("need 0 < min area <= max area < 1");
  if (!(o.minScale > 0 && o.minScale <= o.maxScale)) return bad("need 0 < min scale <= max scale");
  if (!(o.minBlurSigma > 0 && o.minBlurSigma <= o.maxBlurSigma)) return bad("need 0 < min blur sigma <= max blur sigma");
  if (!(o.minNoiseSigma >= 0 && o.minNoiseSigma <= o.maxNoiseSigma)) return bad("need 0 <= min noise <= max noise");
  if (o.minQuality < 1 || o.maxQuality > 100 || o.minQuality > o.maxQuality) return bad("JPEG qualities must be 1 <= min <= max <= 100");
  std::vector<torch::Tensor> fl;
  fl.reserve(photos.size());
  for (std::size_t i = 0; i < photos.size(); ++i) {
    const auto& p = photos[i];
    if (!p.defined() || p.dim() != 3 || p.size(0) != 3 || p.scalar_type() != torch::kUInt8)
      return bad("photo " + std::to_string(i) + " is not uint8 RGB [3, H, W]");
    if (p.size(1) < 32 || p.size(2) < 32)
      return bad("photo " + std::to_string(i) + " is " + std::to_string(p.size(2)) + "x" + std::to_string(p.size(1)) +
                 ", smaller than 32 px");
    fl.push_back(p.to(torch::kCPU).contiguous());
  }
  return SpliceSynth(std::move(fl), std::move(o));
}

Result<SpliceSample> SpliceSynth::sample(uint64_t index) const {
  const SpliceSynthOptions& o = options_;
  const int S = o.size;
  std::mt19937_64 rng(splitmix(splitmix(o.seed) ^ (index * 0xD1B54A32D192ED03ull)));
  const int n = static_cast<int>(photos_.size());
  SpliceSample out;
  out.host = std::uniform_int_distribution<int>(0, n - 1)(rng);
  out.donor = (out.host + 1 + std::uniform_int_distribution<int>(0, n - 2)(rng)) % n;
  const double hostU = uniform(rng, 0, 1), hostV = uniform(rng, 0, 1);
  out.shape = static_cast<SpliceShape>(std::uniform_int_distribution<int>(0, 3)(rng));
  const double area = uniform(rng, o.minArea, o.maxArea);
  const uint64_t maskSeed = rng();
  const bool doResample = uniform(rng, 0, 1) < o.resampleProb;
  const double logScale = uniform(rng, std::log(o.minScale), std::log(o.maxScale));
  const double angle = uniform(rng, -o.maxRotationDeg, o.maxRotationDeg);
  const double donorU = uniform(rng, 0, 1), donorV = uniform(rng, 0, 1);
  const bool doDonorJpeg = uniform(rng, 0, 1) < o.donorJpegProb;
  const int donorQuality = std::uniform_int_distribution<int>(o.minQuality, o.maxQuality)(rng);
  const bool doBlur = uniform(rng, 0, 1) < o.blurProb;
  const double sigma = uniform(rng, o.minBlurSigma, o.maxBlurSigma);
  const bool doNoise = uniform(rng, 0, 1) < o.noiseProb;
  const double noiseSigma = uniform(rng, o.minNoiseSigma, o.maxNoiseSigma);
  const uint64_t noiseSeed = rng();
  const bool doJpeg = uniform(rng, 0, 1) < o.jpegProb;
  const int quality = std::uniform_int_distribution<int>(o.minQuality, o.maxQuality)(rng);

  // Host crop (upscaled first when the photo is smaller than the crop).
  torch::Tensor host = photos_[out.host];
  const int64_t hh = host.size(1), hw = host.size(2);
  if (std::min(hh, hw) < S) {
    host = host.to(torch::kFloat32);
    out.hostScale = static_cast<double>(S) / std::min(hh, hw);
    const int64_t nh = std::max<int64_t>(S, std::llround(std::ceil(hh * out.hostScale)));
    const int64_t nw = std::max<int64_t>(S, std::llround(std::ceil(hw * out.hostScale)));
    host = torch::upsample_bilinear2d(host.unsqueeze(0), {nh, nw}, false).squeeze(0).round().clamp(0, 255);
  }
  out.hostX = std::min<int>(static_cast<int>(hostU * (host.size(2) - S + 1)), static_cast<int>(host.size(2)) - S);
  out.hostY = std::min<int>(static_cast<int>(hostV * (host.size(1) - S + 1)), static_cast<int>(host.size(1)) - S);
  const torch::Tensor crop = host.narrow(1, out.hostY, S).narrow(2, out.hostX, S).to(torch::kFloat32);

  // Mask and the donor transform anchored at the mask's bounding-box centre.
  torch::Tensor mask = spliceMask(out.shape, S, area, maskSeed);
  const torch::Tensor rows = mask.amax(1).nonzero().flatten(), cols = mask.amax(0).nonzero().flatten();
  const double y0 = rows.min().item<double>(), y1 = rows.max().item<double>();
  const double x0 = cols.min().item<double>(), x1 = cols.max().item<double>();
  out.anchorX = (x0 + x1) / 2;
  out.anchorY = (y0 + y1) / 2;
  const torch::Tensor& donor = photos_[out.donor];
  const double dw = donor.size(2), dh = donor.size(1);
  double scale = doResample ? std::exp(logScale) : 1.0;
  const double theta = doResample ? angle * kPi / 180.0 : 0.0;
  const double c = std::cos(theta), s = std::sin(theta);
  // Half extent of the mask's box in donor pixels; the donor is enlarged further when it cannot hold it.
  const double hx = (x1 - x0) / 2 + 1, hy = (y1 - y0) / 2 + 1;
  double ex = (std::abs(c) * hx + std::abs(s) * hy) / scale, ey = (std::abs(s) * hx + std::abs(c) * hy) / scale;
  const double need = std::max(2 * ex / (dw - 1), 2 * ey / (dh - 1));
  if (need > 1.0) {
    scale *= need * 1.01;
    ex /= need * 1.01;
    ey /= need * 1.01;
  }
  const bool resampled = doResample || need > 1.0;
  out.scale = scale;
  out.angleDeg = resampled ? theta * 180.0 / kPi : 0.0;
  out.donorCenterX = ex + donorU * std::max(0.0, dw - 1 - 2 * ex);
  out.donorCenterY = ey + donorV * std::max(0.0, dh - 1 - 2 * ey);
  if (!resampled) {  // a pure translation by whole pixels: the pasted pixels are the donor's own
    out.donorCenterX = std::floor(out.donorCenterX) + (out.anchorX - std::floor(out.anchorX));
    out.donorCenterY = std::floor(out.donorCenterY) + (out.anchorY - std::floor(out.anchorY));
  }
  auto [xx, yy] = grid(S);
  const torch::Tensor px = xx - out.anchorX, py = yy - out.anchorY;
  const torch::Tensor qx = (px * c + py * s) / scale + out.donorCenterX;
  const torch::Tensor qy = (-px * s + py * c) / scale + out.donorCenterY;
  const torch::Tensor valid = qx.ge(-1e-4).logical_and(qx.le(dw - 1 + 1e-4)).logical_and(qy.ge(-1e-4)).logical_and(qy.le(dh - 1 + 1e-4));
  mask = mask * valid.to(torch::kFloat32);
  if (mask.sum().item<int64_t>() < kMinMaskPixels)
    return Error{ErrorCode::Internal, "Splice synthesis: sample " + std::to_string(index) + " left no pasted pixels"};
  // Only the part of the donor the mask reaches is converted to float and sampled (photos stay uint8).
  const torch::Tensor qxIn = qx.masked_select(mask.gt(0)), qyIn = qy.masked_select(mask.gt(0));
  const int64_t bx0 = std::max<int64_t>(0, int64_t(std::floor(qxIn.min().item<double>())) - 1);
  const int64_t by0 = std::max<int64_t>(0, int64_t(std::floor(qyIn.min().item<double>())) - 1);
  const int64_t bx1 = std::min<int64_t>(int64_t(dw) - 1, int64_t(std::ceil(qxIn.max().item<double>())) + 1);
  const int64_t by1 = std::min<int64_t>(int64_t(dh) - 1, int64_t(std::ceil(qyIn.max().item<double>())) + 1);
  const torch::Tensor part = donor.narrow(1, by0, by1 - by0 + 1).narrow(2, bx0, bx1 - bx0 + 1).to(torch::kFloat32).unsqueeze(0);
  const double pw = std::max<double>(1.0, double(bx1 - bx0)), ph = std::max<double>(1.0, double(by1 - by0));
  const torch::Tensor g = torch::stack({(qx - double(bx0)) / pw * 2 - 1, (qy - double(by0)) / ph * 2 - 1}, 2).unsqueeze(0);
  torch::Tensor region = torch::grid_sampler(part, g, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners*/ true).squeeze(0);
  region = region.round().clamp(0, 255);

  if (doDonorJpeg && o.recompress) {
    auto r = o.recompress(toU8(region), donorQuality);
    if (!r) return r.error().withContext("JPEG compression of the donor region");
    region = r->to(torch::kFloat32);
    out.donorJpegQuality = donorQuality;
  }
  if (doBlur) {
    region = gaussianBlur(region.unsqueeze(0), sigma).squeeze(0).round().clamp(0, 255);
    out.blurSigma = sigma;
  }
  auto gen = at::detail::createCPUGenerator(splitmix(noiseSeed));
  const torch::Tensor noise = torch::randn({3, S, S}, gen, kF32) * noiseSigma;
  if (doNoise && noiseSigma > 0) {
    region = (region + noise).round().clamp(0, 255);
    out.noiseSigma = noiseSigma;
  }
  torch::Tensor composite = crop * (1 - mask) + region * mask;
  torch::Tensor image = toU8(composite);
  if (doJpeg && o.recompress) {
    auto r = o.recompress(image, quality);
    if (!r) return r.error().withContext("JPEG re-compression of the composite");
    image = r->to(torch::kUInt8);
    out.jpegQuality = quality;
  }
  out.image = image.contiguous();
  out.mask = mask.to(torch::kUInt8).contiguous();
  return out;
}

Result<std::pair<torch::Tensor, torch::Tensor>> SpliceSynth::batch(uint64_t first, int count, const CancelToken& cancel) const {
  std::vector<torch::Tensor> images, masks;
  for (int i = 0; i < count; ++i) {
    if (cancel.isCancelled()) return Error::cancelled();
    auto s = sample(first + static_cast<uint64_t>(i));
    if (!s) return s.error();
    images.push_back(s->image);
    masks.push_back(s->mask.to(torch::kLong));
  }
  return std::make_pair(torch::stack(images), torch::stack(masks));
}

}  // namespace loupe::train
