#include "ImageModel.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/TensorConvert.h"

namespace loupe::runtime {
namespace {
namespace F = torch::nn::functional;

TensorSpec tensorSpecFor(const InputSpec& in, torch::Device device) {
  TensorSpec spec;
  spec.scale = static_cast<float>(in.scale);
  spec.mean.assign(in.mean.begin(), in.mean.end());
  spec.std.assign(in.std.begin(), in.std.end());
  spec.bgr = in.colorOrder == "bgr";
  spec.device = device;
  return spec;
}

// The image in the channel layout the model expects (gray <-> colour, alpha dropped).
Image matchChannels(const Image& image, const InputSpec& in) {
  if (in.channels == 1) {
    if (image.channels() == 1) return image;
    const Image rgb = image.toRGB();
    Image gray(rgb.width(), rgb.height(), ColorOrder::Gray, rgb.depth());
    for (int y = 0; y < rgb.height(); ++y)
      for (int x = 0; x < rgb.width(); ++x) {
        // ITU-R BT.601 luma, as most grayscale training pipelines (PIL "L", OpenCV) compute it.
        const float v = 0.299f * rgb.sample(x, y, 0) + 0.587f * rgb.sample(x, y, 1) + 0.114f * rgb.sample(x, y, 2);
        if (rgb.depth() == PixelDepth::U8) gray.row<std::uint8_t>(y)[x] = static_cast<std::uint8_t>(std::lround(v));
        else if (rgb.depth() == PixelDepth::U16) gray.row<std::uint16_t>(y)[x] = static_cast<std::uint16_t>(std::lround(v));
        else gray.row<float>(y)[x] = v;
      }
    return gray;
  }
  return image.toRGB();
}
}  // namespace

Result<ImageModel> ImageModel::open(const std::string& packageFolder, const std::string& taskId,
                                    const ImageModelOptions& options) {
  auto package = openModelPackage(packageFolder);
  if (!package) return package.error();
  if (auto ok = checkPackageTask(*package, taskId); !ok) return ok.error();
  return fromPackage(*package, options);
}

Result<ImageModel> ImageModel::fromPackage(const ModelPackage& package, const ImageModelOptions& options) {
  if (package.input.layout != "NCHW")
    return Error{ErrorCode::ModelError, package.id + " takes " + package.input.layout + " input, not images"};
  auto device = resolveDevice(options.device);
  if (!device) return device.error();
  torch::ScalarType precision = torch::kFloat32;
  if (device->is_cuda() && options.allowHalf) {
    const auto& p = package.precisions;
    if (std::find(p.begin(), p.end(), "float16") != p.end()) precision = torch::kHalf;
    else if (std::find(p.begin(), p.end(), "bfloat16") != p.end()) precision = torch::kBFloat16;
  }
  auto model = TorchScriptModel::load(package, *device);
  if (!model) return model.error();
  ImageModel m(std::move(*model), precision);
  // Warm-up on a small input that satisfies the size policy, so the first real run is not the slow one.
  const auto& size = package.input.size;
  std::int64_t h = 64, w = 64;
  if (size.kind == SizePolicy::Kind::Fixed || size.kind == SizePolicy::Kind::SlidingWindow) {
    h = size.height;
    w = size.width;
  } else if (size.kind == SizePolicy::Kind::MultipleOf) {
    h = w = ((63 / size.multiple) + 1) * size.multiple;
  }
  for (int i = 0; i < options.warmupRuns; ++i) {
    auto out = m.forwardOnce(torch::zeros({1, package.input.channels, h, w}, torch::kFloat32).to(*device));
    if (!out) return out.error().withContext("warm-up");
  }
  if (device->is_cuda()) torch::cuda::synchronize();
  return m;
}

Result<torch::Tensor> ImageModel::forwardOnce(const torch::Tensor& x) {
  auto out = model_.forward(precision_ == torch::kFloat32 ? x : x.to(precision_));
  if (!out) return out.error();
  if (out->size() != 1 && model_.package().input.size.kind == SizePolicy::Kind::SlidingWindow)
    return Error{ErrorCode::ModelError, "sliding-window models must have exactly one output"};
  return (*out)[0].to(torch::kFloat32);
}

Result<std::vector<torch::Tensor>> ImageModel::run(const Image& image, const CancelToken& cancel, Progress progress) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "empty image"};
  const ModelPackage& pkg = model_.package();
  const InputSpec& in = pkg.input;
  progress.report(0.0, "Preparing the input");
  auto x = imageToTensor(matchChannels(image, in), tensorSpecFor(in, model_.device()));
  if (!x) return x.error();
  torch::Tensor input = *x;
  const auto H = input.size(2), W = input.size(3);
  if (cancel.isCancelled()) return Error::cancelled();

  switch (in.size.kind) {
    case SizePolicy::Kind::Any: break;
    case SizePolicy::Kind::Fixed:
      if (H != in.size.height || W != in.size.width)
        input = F::interpolate(input, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{in.size.height, in.size.width})
                                          .mode(torch::kBilinear)
                                          .align_corners(false));
      break;
    case SizePolicy::Kind::MultipleOf: {
      const auto m = in.size.multiple;
      const auto ph = (m - H % m) % m, pw = (m - W % m) % m;
      if (ph || pw) input = F::pad(input, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReplicate));
      break;
    }
    case SizePolicy::Kind::SlidingWindow: {
      SlidingWindowOptions o;
      o.window = {in.size.height, in.size.width};
      o.overlap = in.size.overlap;
      auto fn = [this](const torch::Tensor& t) { return forwardOnce(t); };
      auto out = slidingWindowInference(input, fn, o, cancel, progress.slice(0.05, 1.0));
      if (!out) return out.error();
      return std::vector<torch::Tensor>{*out};
    }
  }
  progress.report(0.1, "Running " + pkg.id);
  auto out = model_.forward(precision_ == torch::kFloat32 ? input : input.to(precision_));
  if (!out) return out.error();
  std::vector<torch::Tensor> result;
  for (auto& t : *out) {
    t = t.to(torch::kFloat32);
    // Undo the multiple_of padding on spatial outputs that kept the input's resolution.
    if (in.size.kind == SizePolicy::Kind::MultipleOf && t.dim() == 4 && t.size(2) == input.size(2) && t.size(3) == input.size(3))
      t = t.narrow(2, 0, H).narrow(3, 0, W);
    result.push_back(t);
  }
  progress.report(1.0, "Done");
  return result;
}

Result<void> ImageModel::checkKind(std::size_t index, std::initializer_list<const char*> kinds) const {
  const auto& outs = model_.package().outputs;
  if (index >= outs.size()) return Error{ErrorCode::InvalidArgument, "no output #" + std::to_string(index)};
  for (const char* k : kinds)
    if (outs[index].kind == k) return {};
  return Error{ErrorCode::ModelError, "output '" + outs[index].name + "' is " + outs[index].kind + ", not " + *kinds.begin()};
}

Result<Heatmap> ImageModel::heatmap(const torch::Tensor& output, std::size_t index, int width, int height) const {
  if (auto ok = checkKind(index, {"heatmap", "probabilities"}); !ok) return ok.error();
  if (output.dim() != 4 || output.size(0) != 1 || output.size(1) != 1)
    return Error{ErrorCode::ModelError, "a heatmap output must be [1, 1, h, w]"};
  auto t = F::interpolate(output.to(torch::kFloat32),
                          F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width}).mode(torch::kBilinear).align_corners(false));
  t = t.reshape({height, width}).contiguous().cpu();
  Heatmap h;
  h.width = width;
  h.height = height;
  h.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  h.rangeMin = 0.f;
  h.rangeMax = 1.f;
  h.unit = model_.package().outputs[index].name;
  return h;
}

Result<std::vector<ClassScore>> ImageModel::classScores(const torch::Tensor& output, std::size_t index) const {
  if (auto ok = checkKind(index, {"logits", "probabilities"}); !ok) return ok.error();
  if (output.dim() != 2 || output.size(0) != 1) return Error{ErrorCode::ModelError, "class scores must be [1, K]"};
  const bool logits = model_.package().outputs[index].kind == std::string("logits");
  const auto p = (logits ? torch::softmax(output.to(torch::kFloat32), 1) : output.to(torch::kFloat32)).squeeze(0).cpu();
  const auto& labels = model_.package().labels;
  std::vector<ClassScore> scores;
  for (std::int64_t k = 0; k < p.size(0); ++k)
    scores.push_back({k < static_cast<std::int64_t>(labels.size()) ? labels[static_cast<std::size_t>(k)] : std::to_string(k),
                      p[k].item<float>()});
  std::stable_sort(scores.begin(), scores.end(), [](const ClassScore& a, const ClassScore& b) { return a.probability > b.probability; });
  return scores;
}

Result<torch::Tensor> ImageModel::embedding(const torch::Tensor& output, std::size_t index) const {
  if (auto ok = checkKind(index, {"embedding"}); !ok) return ok.error();
  if (output.dim() != 2) return Error{ErrorCode::ModelError, "an embedding output must be [N, D]"};
  return F::normalize(output.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1)).cpu();
}

Result<torch::Tensor> ImageModel::pixelFeatures(const torch::Tensor& output, std::size_t index) const {
  if (auto ok = checkKind(index, {"per_pixel_features"}); !ok) return ok.error();
  if (output.dim() != 4 || output.size(0) != 1) return Error{ErrorCode::ModelError, "per-pixel features must be [1, C, h, w]"};
  const auto rows = output.to(torch::kFloat32).squeeze(0).flatten(1).t().contiguous();
  return F::normalize(rows, F::NormalizeFuncOptions().dim(1));
}

}  // namespace loupe::runtime
