#include "VolumeModel.h"

#include <torch/types.h>

#include <cmath>

#include "Resample.h"
#include "runtime/ModelPackage.h"
#include "runtime/SlidingWindow.h"
#include "runtime/TorchScriptModel.h"

namespace loupe::volume {

Result<std::vector<float>> stackSequences(const Study& study, const VolumeModelOptions& options, Volume& grid,
                                          const CancelToken& cancel) {
  if (options.channels.empty()) return Error{ErrorCode::InvalidArgument, "No input sequences named for the model"};
  for (double s : options.spacing)
    if (!(s > 0)) return Error{ErrorCode::InvalidArgument, "The model spacing must be positive"};
  const Volume* first = study.find(options.channels.front());
  if (!first) return Error{ErrorCode::InvalidArgument, "The study has no " + options.channels.front() + " sequence"};
  grid = gridWithSpacing(*first, options.spacing);
  const std::size_t n = std::size_t(grid.voxelCount());
  if (n * options.channels.size() > (std::size_t(1) << 31))
    return Error{ErrorCode::TooLarge, "The study resampled to the model's spacing is too large"};
  std::vector<float> stacked;
  stacked.reserve(n * options.channels.size());
  for (const auto& name : options.channels) {
    const Volume* v = study.find(name);
    if (!v) {
      std::string have;
      for (const auto& [k, _] : study.sequences) have += (have.empty() ? "" : ", ") + k;
      return Error{ErrorCode::InvalidArgument, "The model needs a " + name + " sequence; the study has: " + have};
    }
    auto r = resampleToGrid(*v, grid, {}, cancel);
    if (!r) return r.error().withContext("Resampling " + name + " to the model grid");
    double sum = 0, sq = 0;
    for (float f : r->floats) {
      sum += f;
      sq += double(f) * f;
    }
    const double mean = sum / double(n), sd = std::sqrt(std::max(sq / double(n) - mean * mean, 0.0));
    const double scale = sd > 1e-8 ? 1.0 / sd : 1.0;
    for (float f : r->floats) stacked.push_back(float((f - mean) * scale));
  }
  return stacked;
}

Result<Volume> runVolumeModel(const runtime::ModelPackage& package, const Study& study,
                              const VolumeModelOptions& options, const CancelToken& cancel, Progress progress) {
  const auto& in = package.input;
  if (in.layout != "NCDHW")
    return Error{ErrorCode::ModelError, "Model " + package.id + " takes " + in.layout + " input; a 3-D model (NCDHW) is needed"};
  if (in.channels != int(options.channels.size()))
    return Error{ErrorCode::ModelError, "Model " + package.id + " takes " + std::to_string(in.channels) +
                                            " channels, the study gives " + std::to_string(options.channels.size())};
  if (in.size.kind != runtime::SizePolicy::Kind::SlidingWindow && in.size.kind != runtime::SizePolicy::Kind::Fixed)
    return Error{ErrorCode::ModelError, "Model " + package.id + " must declare a window size (sliding_window or fixed)"};
  progress.report(0.0, "Resampling sequences to the model grid");
  Volume grid;
  auto stacked = stackSequences(study, options, grid, cancel);
  if (!stacked) return stacked.error();
  torch::Device device(options.device);
  if (package.format != runtime::ModelFormat::TorchScript)
    return Error{ErrorCode::ModelError, "Model " + package.id + " is not TorchScript; 3-D models run as TorchScript packages"};
  auto model = runtime::TorchScriptModel::load(package, device);
  if (!model) return model.error();
  const std::int64_t C = in.channels, D = grid.size[2], H = grid.size[1], W = grid.size[0];
  torch::Tensor input = torch::from_blob(stacked->data(), {1, C, D, H, W}, torch::kFloat32).to(device);
  runtime::SlidingWindowOptions sw;
  sw.window = {in.size.depth, in.size.height, in.size.width};
  sw.overlap = in.size.kind == runtime::SizePolicy::Kind::SlidingWindow ? in.size.overlap : 0.0;
  sw.batchSize = std::max(1, options.batchSize);
  const std::string kind = package.outputs.empty() ? "probabilities" : package.outputs.front().kind;
  runtime::WindowFunction fn = [&](const torch::Tensor& windows) -> Result<torch::Tensor> {
    auto out = model->forward(windows);
    if (!out) return out.error();
    if (out->empty()) return Error{ErrorCode::ModelError, "Model " + package.id + " returned no output"};
    return out->front();
  };
  auto raw = runtime::slidingWindowInference(input, fn, sw, cancel, progress.slice(0.05, 0.95));
  if (!raw) return raw.error();
  torch::Tensor t = *raw;
  if (t.dim() != 5 || t.size(2) != D || t.size(3) != H || t.size(4) != W)
    return Error{ErrorCode::ModelError, "Model " + package.id + " returned a tensor of the wrong shape"};
  if (t.size(1) == 2) {
    t = kind == "logits" ? torch::softmax(t, 1).select(1, 1) : t.select(1, 1);
  } else if (t.size(1) == 1) {
    t = kind == "logits" ? torch::sigmoid(t.select(1, 0)) : t.select(1, 0);
  } else {
    return Error{ErrorCode::ModelError, "Model " + package.id + " returned " + std::to_string(t.size(1)) +
                                            " channels; a lesion likelihood needs 1 (lesion) or 2 (background, lesion)"};
  }
  t = t.clamp(0.0, 1.0).to(torch::kCPU, torch::kFloat32).contiguous();
  Volume onGrid = grid.sameGrid(VoxelType::Float32);
  std::copy(t.data_ptr<float>(), t.data_ptr<float>() + onGrid.voxelCount(), onGrid.floats.begin());
  progress.report(0.97, "Resampling the likelihood to the T2W grid");
  auto back = resampleToGrid(onGrid, *study.find(options.channels.front()), {}, cancel);
  if (!back) return back.error();
  back->description = "lesion likelihood (" + package.id + ")";
  progress.report(1.0);
  return back;
}

}  // namespace loupe::volume
