#include "ImageModel.h"

#include <torch/torch.h>

#include <algorithm>
#include <torch/cuda.h>

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

bool isOom(const Error& e) { return isOutOfMemory(e.message) || e.code == ErrorCode::TooLarge; }

std::string sizeText(std::int64_t h, std::int64_t w) { return std::to_string(w) + "x" + std::to_string(h); }

// Largest power of two <= v (v >= 1).
std::int64_t floorPow2(std::int64_t v) {
  std::int64_t p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
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
  if (package.input.kind != "image")
    return Error{ErrorCode::ModelError, package.id + " takes " + package.input.kind + ", not images (use EncoderModel)"};
  if (package.input.layout != "NCHW")
    return Error{ErrorCode::ModelError, package.id + " takes " + package.input.layout + " input, not images"};
  if (options.batchSize < 1) return Error{ErrorCode::InvalidArgument, "batch size must be at least 1"};
  auto device = resolveDevice(options.device);
  if (!device) return device.error();
  auto loaded = loadModel(package, *device);
  if (!loaded) return loaded.error();
  std::shared_ptr<Model> model(std::move(*loaded));
  torch::ScalarType precision = torch::kFloat32;
  if (device->is_cuda() && options.allowHalf) {
    const auto& p = package.precisions;
    for (auto [name, type] : {std::pair{"float16", torch::kHalf}, std::pair{"bfloat16", torch::kBFloat16}})
      if (precision == torch::kFloat32 && std::find(p.begin(), p.end(), name) != p.end() &&
          model->supportsPrecision(type) && model->setPrecision(type).ok())
        precision = type;
  }
  ImageModel m(std::move(model), precision, options);
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
    auto out = m.model_->forward(torch::zeros({1, package.input.channels, h, w}, torch::kFloat32)
                                     .to(m.model_->device(), precision));
    if (!out) return out.error().withContext("warm-up");
  }
  if (m.device().is_cuda()) torch::cuda::synchronize();
  return m;
}

Result<torch::Tensor> ImageModel::prepare(const Image& image) const {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "empty image"};
  const InputSpec& in = package().input;
  auto x = imageToTensor(matchChannels(image, in), tensorSpecFor(in, device()));
  if (!x) return x.error();
  torch::Tensor input = *x;
  const auto H = input.size(2), W = input.size(3);
  switch (in.size.kind) {
    case SizePolicy::Kind::Any:
    case SizePolicy::Kind::SlidingWindow: break;
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
  }
  return input;
}

Result<std::vector<torch::Tensor>> ImageModel::call(Model& model, const torch::Tensor& x, bool onFallback) {
  if (options_.forwardHook)
    if (auto ok = options_.forwardHook(x, onFallback); !ok) return ok.error();
  const torch::ScalarType type = onFallback ? torch::kFloat32 : precision_;
  auto out = model.forward(x.to(model.device(), type));
  if (!out) return out.error();
  for (auto& t : *out) t = t.to(torch::kFloat32);
  return out;
}

Result<std::vector<torch::Tensor>> ImageModel::forwardChunks(Model& model, const torch::Tensor& x, int chunk,
                                                             bool onFallback, const CancelToken& cancel) {
  const std::int64_t n = x.size(0);
  std::vector<std::vector<torch::Tensor>> parts;
  for (std::int64_t i = 0; i < n; i += chunk) {
    if (cancel.isCancelled()) return Error::cancelled();
    auto out = call(model, x.narrow(0, i, std::min<std::int64_t>(chunk, n - i)), onFallback);
    if (!out) return out.error();
    parts.push_back(std::move(*out));
  }
  if (parts.size() == 1) return parts.front();
  std::vector<torch::Tensor> joined;
  for (std::size_t k = 0; k < parts.front().size(); ++k) {
    std::vector<torch::Tensor> pieces;
    for (auto& p : parts) pieces.push_back(p[k]);
    joined.push_back(torch::cat(pieces, 0));
  }
  return joined;
}

Result<Model*> ImageModel::fallbackModel(std::vector<std::string>& notices, const Error& cause) {
  const bool simulated = static_cast<bool>(options_.forwardHook);
  if (!options_.cpuFallback || (!device().is_cuda() && !simulated)) return cause;
  if (!cpuModel_) {
    auto m = loadModel(package(), torch::kCPU);
    if (!m) return m.error().withContext("loading the CPU fallback after: " + cause.message);
    cpuModel_ = std::move(*m);
  }
  notices.push_back(describeDevice(device()) + " ran out of memory (" + cause.message.substr(0, 160) +
                    "); this run used the CPU instead, which is slower");
  return cpuModel_.get();
}

// Out of memory -> fewer images per forward -> smaller tiles (models without a fixed size, one output of
// the input's size) -> the CPU.
Result<std::vector<torch::Tensor>> ImageModel::forwardAdaptive(const torch::Tensor& x, std::vector<std::string>& notices,
                                                               const CancelToken& cancel, Progress progress) {
  const std::int64_t n = x.size(0);
  int chunk = static_cast<int>(std::min<std::int64_t>(n, options_.batchSize));
  const std::string dev = describeDevice(device());
  Error last;
  for (;;) {
    auto out = forwardChunks(*model_, x, chunk, false, cancel);
    if (out || !isOom(out.error())) return out;
    last = out.error();
    if (chunk == 1) break;
    const int next = chunk / 2;
    notices.push_back("Out of memory on " + dev + " with " + std::to_string(chunk) + " images per forward; retried with " +
                      std::to_string(next));
    chunk = next;
  }
  const auto& size = package().input.size;
  const bool tileable = (size.kind == SizePolicy::Kind::Any || size.kind == SizePolicy::Kind::MultipleOf) &&
                        package().outputs.size() == 1;
  if (tileable) {
    const std::int64_t H = x.size(2), W = x.size(3);
    const std::int64_t m = size.kind == SizePolicy::Kind::MultipleOf ? size.multiple : 1;
    for (std::int64_t tile = floorPow2(std::max<std::int64_t>(1, std::max(H, W) - 1)); tile >= std::max<std::int64_t>(options_.minTile, m);
         tile /= 2) {
      const std::int64_t t = tile / m * m;
      if (t < 1) break;
      SlidingWindowOptions o;
      o.window = {std::min(t, H), std::min(t, W)};
      o.overlap = 0.25;
      o.batchSize = 1;
      notices.push_back("Out of memory on " + dev + " for the whole " + sizeText(H, W) + " input; retried in tiles of " +
                        sizeText(o.window[0], o.window[1]));
      std::vector<torch::Tensor> rows;
      Result<torch::Tensor> r = Error{};
      auto fn = [&](const torch::Tensor& w) -> Result<torch::Tensor> {
        auto out = call(*model_, w, false);
        if (!out) return out.error();
        return (*out)[0];
      };
      for (std::int64_t i = 0; i < n; ++i) {
        r = slidingWindowInference(x.narrow(0, i, 1), fn, o, cancel, progress);
        if (!r) break;
        rows.push_back(*r);
      }
      if (r) return std::vector<torch::Tensor>{torch::cat(rows, 0)};
      if (r.error().code == ErrorCode::Cancelled) return r.error();
      if (!isOom(r.error())) {  // e.g. the model changes the resolution: tiles cannot be blended back
        notices.back() += " (not possible for this model: " + r.error().message.substr(0, 120) + ")";
        break;
      }
      last = r.error();
    }
  }
  auto cpu = fallbackModel(notices, last);
  if (!cpu) return cpu.error();
  return forwardChunks(**cpu, x, static_cast<int>(std::min<std::int64_t>(n, options_.batchSize)), true, cancel);
}

// Sliding-window models: fewer windows per forward -> the CPU (the window size is the model's).
Result<torch::Tensor> ImageModel::slidingAdaptive(const torch::Tensor& x, std::vector<std::string>& notices,
                                                  const CancelToken& cancel, Progress progress) {
  const InputSpec& in = package().input;
  SlidingWindowOptions o;
  o.window = {in.size.height, in.size.width};
  o.overlap = in.size.overlap;
  o.batchSize = options_.batchSize;
  Model* model = model_.get();
  bool onFallback = false;
  for (;;) {
    auto fn = [&](const torch::Tensor& t) -> Result<torch::Tensor> {
      auto out = call(*model, t, onFallback);
      if (!out) return out.error();
      if (out->size() != 1) return Error{ErrorCode::ModelError, "sliding-window models must have exactly one output"};
      return (*out)[0];
    };
    auto out = slidingWindowInference(x, fn, o, cancel, progress);
    if (out || !isOom(out.error()) || onFallback) return out;
    if (o.batchSize > 1) {
      notices.push_back("Out of memory on " + describeDevice(device()) + " with " + std::to_string(o.batchSize) +
                        " windows per forward; retried with " + std::to_string(o.batchSize / 2));
      o.batchSize /= 2;
      continue;
    }
    auto cpu = fallbackModel(notices, out.error());
    if (!cpu) return cpu.error();
    model = *cpu;
    onFallback = true;
    o.batchSize = options_.batchSize;
  }
}

std::vector<torch::Tensor> ImageModel::finish(std::vector<torch::Tensor> outputs, std::int64_t paddedH,
                                              std::int64_t paddedW, std::int64_t h, std::int64_t w) const {
  // Undo the multiple_of padding on spatial outputs that kept the input's resolution.
  if (package().input.size.kind == SizePolicy::Kind::MultipleOf)
    for (auto& t : outputs)
      if (t.dim() == 4 && t.size(2) == paddedH && t.size(3) == paddedW && (paddedH != h || paddedW != w))
        t = t.narrow(2, 0, h).narrow(3, 0, w);
  return outputs;
}

Result<std::vector<torch::Tensor>> ImageModel::run(const Image& image, const CancelToken& cancel, Progress progress) {
  auto r = infer(image, cancel, std::move(progress));
  if (!r) return r.error();
  return std::move(r->outputs);
}

Result<ModelRun> ImageModel::infer(const Image& image, const CancelToken& cancel, Progress progress) {
  auto runs = inferBatch({image}, cancel, std::move(progress));
  if (!runs) return runs.error();
  return std::move(runs->front());
}

Result<std::vector<ModelRun>> ImageModel::inferBatch(const std::vector<Image>& images, const CancelToken& cancel,
                                                     Progress progress) {
  lastNotices_.clear();
  std::vector<ModelRun> runs(images.size());
  if (images.empty()) return runs;
  const InputSpec& in = package().input;
  const double total = static_cast<double>(images.size());
  if (in.size.kind == SizePolicy::Kind::SlidingWindow) {
    for (std::size_t i = 0; i < images.size(); ++i) {
      progress.report(i / total, "Preparing image " + std::to_string(i + 1));
      auto x = prepare(images[i]);
      if (!x) return x.error().withContext(images.size() > 1 ? "image " + std::to_string(i + 1) : std::string());
      if (cancel.isCancelled()) return Error::cancelled();
      auto out = slidingAdaptive(*x, runs[i].notices, cancel, progress.slice(i / total, (i + 1) / total));
      if (!out) return out.error();
      runs[i].outputs = {*out};
    }
  } else {
    // Preprocess in chunks of batchSize images; consecutive images with the same tensor size share a forward.
    const std::size_t B = static_cast<std::size_t>(options_.batchSize);
    for (std::size_t first = 0; first < images.size();) {
      if (cancel.isCancelled()) return Error::cancelled();
      progress.report(first / total, "Preparing image " + std::to_string(first + 1));
      std::vector<torch::Tensor> xs;
      std::size_t last = first;
      while (last < images.size() && xs.size() < B) {
        auto x = prepare(images[last]);
        if (!x) return x.error().withContext(images.size() > 1 ? "image " + std::to_string(last + 1) : std::string());
        if (!xs.empty() && x->sizes() != xs.front().sizes()) break;
        xs.push_back(*x);
        ++last;
      }
      progress.report(first / total, "Running " + package().id);
      std::vector<std::string> notices;
      auto out = forwardAdaptive(xs.size() == 1 ? xs.front() : torch::cat(xs, 0), notices, cancel,
                                 progress.slice(first / total, last / total));
      if (!out) return out.error();
      for (std::size_t i = first; i < last; ++i) {
        std::vector<torch::Tensor> mine;
        for (const auto& t : *out) mine.push_back(t.narrow(0, static_cast<std::int64_t>(i - first), 1));
        runs[i].outputs = finish(std::move(mine), xs.front().size(2), xs.front().size(3), images[i].height(), images[i].width());
        runs[i].notices = notices;
      }
      first = last;
    }
  }
  for (const auto& r : runs)
    for (const auto& n : r.notices)
      if (std::find(lastNotices_.begin(), lastNotices_.end(), n) == lastNotices_.end()) lastNotices_.push_back(n);
  progress.report(1.0, "Done");
  return runs;
}

Result<void> ImageModel::checkKind(std::size_t index, std::initializer_list<const char*> kinds) const {
  const auto& outs = model_->package().outputs;
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
  h.unit = model_->package().outputs[index].name;
  return h;
}

Result<std::vector<ClassScore>> ImageModel::classScores(const torch::Tensor& output, std::size_t index) const {
  if (auto ok = checkKind(index, {"logits", "probabilities"}); !ok) return ok.error();
  if (output.dim() != 2 || output.size(0) != 1) return Error{ErrorCode::ModelError, "class scores must be [1, K]"};
  const bool logits = model_->package().outputs[index].kind == std::string("logits");
  const auto p = (logits ? torch::softmax(output.to(torch::kFloat32), 1) : output.to(torch::kFloat32)).squeeze(0).cpu();
  const auto& labels = model_->package().labels;
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
