#include "NativeModels.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/Sha256.h"

namespace loupe::runtime {
namespace fs = std::filesystem;
using nlohmann::json;

EmbeddingCnnImpl::EmbeddingCnnImpl(const EmbeddingCnnConfig& config) : config_(config) {
  torch::nn::Sequential seq;
  int in = config.inChannels;
  for (std::size_t s = 0; s < config.widths.size(); ++s) {
    const int out = config.widths[s];
    const int convs = config.convsPerStage;
    for (int c = 0; c < convs; ++c) {
      seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
      seq->push_back(torch::nn::BatchNorm2d(out));
      seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
      in = out;
    }
    if (s + 1 < config.widths.size()) seq->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  }
  seq->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  seq->push_back(torch::nn::Flatten());
  features_ = register_module("features", seq);
  toEmbedding_ = register_module("embedding", torch::nn::Linear(in, config.embeddingDim));
  if (config.classes > 0) classifier_ = register_module("classifier", torch::nn::Linear(config.embeddingDim, config.classes));
  if (config.projectionDim > 0) {
    projection_ = register_module(
        "projection", torch::nn::Sequential(torch::nn::Linear(config.embeddingDim, config.embeddingDim),
                                            torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                                            torch::nn::Linear(config.embeddingDim, config.projectionDim)));
  }
}

torch::Tensor EmbeddingCnnImpl::embed(const torch::Tensor& x) { return toEmbedding_(features_->forward(x)); }

EmbeddingCnnOutput EmbeddingCnnImpl::forward(const torch::Tensor& x) {
  EmbeddingCnnOutput out;
  out.embedding = embed(x);
  if (classifier_) out.logits = classifier_(out.embedding);
  if (projection_) out.projection = projection_->forward(out.embedding);
  return out;
}

std::string embeddingCnnArchitectureJson(const EmbeddingCnnConfig& c) {
  json j = {{"architecture", kEmbeddingCnnArchitecture}, {"in_channels", c.inChannels}, {"widths", c.widths},
            {"convs_per_stage", c.convsPerStage},
            {"embedding_dim", c.embeddingDim}, {"classes", c.classes}, {"projection_dim", c.projectionDim}};
  return j.dump(2) + "\n";
}

Result<EmbeddingCnnConfig> parseEmbeddingCnnArchitecture(const std::string& text) {
  auto bad = [](const std::string& what) {
    return Error{ErrorCode::ModelError, std::string(kNativeArchitectureFile) + ": " + what};
  };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return bad(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return bad("must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::vector<std::string> known = {"architecture", "in_channels", "widths", "convs_per_stage",
                                                   "embedding_dim", "classes", "projection_dim"};
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) return bad("unknown key '" + it.key() + "'");
  }
  if (!j.contains("architecture") || !j["architecture"].is_string()) return bad("architecture: missing");
  if (j["architecture"] != kEmbeddingCnnArchitecture)
    return bad("architecture '" + j["architecture"].get<std::string>() + "' is not known to this Loupe (known: " +
               kEmbeddingCnnArchitecture + ")");
  EmbeddingCnnConfig c;
  auto intField = [&](const char* key, int& target, int min) -> Result<void> {
    if (!j.contains(key)) return bad(std::string(key) + ": missing");
    if (!j[key].is_number_integer() || j[key].get<long long>() < min || j[key].get<long long>() > 65536)
      return bad(std::string(key) + ": must be an integer >= " + std::to_string(min));
    target = j[key].get<int>();
    return {};
  };
  for (auto [key, target, min] : {std::tuple{"in_channels", &c.inChannels, 1}, {"embedding_dim", &c.embeddingDim, 1},
                                  {"classes", &c.classes, 0}, {"projection_dim", &c.projectionDim, 0},
                                  {"convs_per_stage", &c.convsPerStage, 1}}) {
    if (auto ok = intField(key, *target, min); !ok) return ok.error();
  }
  if (!j.contains("widths") || !j["widths"].is_array() || j["widths"].empty() || j["widths"].size() > 8)
    return bad("widths: must be an array of 1 to 8 channel counts");
  c.widths.clear();
  for (const auto& w : j["widths"]) {
    if (!w.is_number_integer() || w.get<long long>() < 1 || w.get<long long>() > 4096)
      return bad("widths: entries must be integers in 1..4096");
    c.widths.push_back(w.get<int>());
  }
  return c;
}

namespace {


json inputJson(const InputSpec& in) {
  json size = {{"policy", "any"}};
  if (in.size.kind == SizePolicy::Kind::Fixed) size = {{"policy", "fixed"}, {"width", in.size.width}, {"height", in.size.height}};
  json j = {{"layout", in.layout}, {"channels", in.channels}, {"color_order", in.colorOrder}, {"dtype", in.dtype},
            {"size", size}, {"scale", in.scale}};
  if (!in.mean.empty()) j["mean"] = in.mean;
  if (!in.std.empty()) j["std"] = in.std;
  return j;
}

}  // namespace

Result<void> writeFileAtomically(const std::string& target, const std::function<bool(const std::string&)>& write) {
  const std::string tmp = target + ".partial";
  if (!write(tmp)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return Error{ErrorCode::Io, "Cannot write " + target};
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot rename " + tmp + " to " + fs::path(target).filename().string() + ": " + ec.message()};
  return {};
}

Result<void> writeTextFileAtomically(const std::string& target, const std::string& text) {
  return writeFileAtomically(target, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    return bool(out);
  });
}

Result<void> saveEmbeddingCnnPackage(EmbeddingCnn& model, const NativePackageInfo& info, const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::Io, "Cannot create the package folder " + folder};
  const fs::path dir(folder);
  auto weights = saveModuleAtomically(model, (dir / "model.pt").string());
  if (!weights) return weights.error();
  const std::string arch = embeddingCnnArchitectureJson(model->config());
  if (auto ok = writeTextFileAtomically((dir / kNativeArchitectureFile).string(), arch); !ok)
    return ok.error();
  json files = json::object();
  for (const char* name : {"model.pt", kNativeArchitectureFile}) {
    auto sha = Sha256::ofFile((dir / name).string());
    if (!sha) return sha.error();
    files[name] = *sha;
  }
  const auto& c = model->config();
  json manifest = {{"schema", kModelSchemaVersion}, {"id", info.id}, {"name", info.name.empty() ? info.id : info.name},
                   {"version", info.version}, {"task", info.task}, {"format", "native"}, {"entry", "model.pt"},
                   {"files", files}, {"input", inputJson(info.input)},
                   {"outputs", json::array({{{"name", "embedding"}, {"kind", "embedding"}, {"shape", {-1, c.embeddingDim}}}})},
                   {"labels", info.labels}, {"licence", info.licence}, {"provenance", info.provenance}};
  if (!info.citation.empty()) manifest["citation"] = info.citation;
  if (!info.description.empty()) manifest["description"] = info.description;
  const std::string text = manifest.dump(2) + "\n";
  return writeTextFileAtomically((dir / kModelManifestName).string(), text);
}

torch::Tensor NativeEmbedder::preprocess(const torch::Tensor& images) const {
  torch::Tensor x = images.to(device, torch::kFloat);
  if (images.scalar_type() == torch::kUInt8) x = x * package.input.scale;
  const int64_t c = x.size(1);
  if (!package.input.mean.empty() && int64_t(package.input.mean.size()) == c) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
    const torch::Tensor mean = torch::tensor(std::vector<float>(package.input.mean.begin(), package.input.mean.end()), opts).view({1, c, 1, 1});
    const torch::Tensor stdv = torch::tensor(std::vector<float>(package.input.std.begin(), package.input.std.end()), opts).view({1, c, 1, 1});
    x = (x - mean) / stdv;
  }
  return x;
}

Result<torch::Tensor> NativeEmbedder::embed(const torch::Tensor& images, int batchSize) const {
  if (!images.defined() || images.dim() != 4)
    return Error{ErrorCode::InvalidArgument, "Embedding needs images [N, C, H, W]"};
  if (images.size(1) != model->config().inChannels)
    return Error{ErrorCode::InvalidArgument, "Model " + package.id + " takes " + std::to_string(model->config().inChannels) +
                                                 " channel(s), the images have " + std::to_string(images.size(1))};
  torch::NoGradGuard noGrad;
  EmbeddingCnn net = model;  // shares the module; the holder copy is not const
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < images.size(0); i += batchSize) {
    const int64_t n = std::min<int64_t>(batchSize, images.size(0) - i);
    parts.push_back(net->embed(preprocess(images.narrow(0, i, n))).to(torch::kCPU));
  }
  if (parts.empty()) return torch::zeros({0, model->config().embeddingDim});
  return torch::cat(parts);
}

Result<NativeEmbedder> loadNativeEmbedder(const std::string& folder, const torch::Device& device) {
  auto package = openModelPackage(folder);
  if (!package) return package.error();
  if (package->format != ModelFormat::Native)
    return Error{ErrorCode::ModelError, package->id + " is a " + modelFormatName(package->format) +
                                            " package, not a native one"};
  const fs::path archPath = fs::path(package->folder) / kNativeArchitectureFile;
  const bool listed = std::any_of(package->files.begin(), package->files.end(),
                                  [](const PackageFile& f) { return f.path == kNativeArchitectureFile; });
  if (!listed) return Error{ErrorCode::ModelError, package->id + ": a native package must list " + kNativeArchitectureFile};
  std::ifstream in(archPath);
  std::stringstream text;
  text << in.rdbuf();
  auto config = parseEmbeddingCnnArchitecture(text.str());
  if (!config) return config.error().withContext(package->id);
  NativeEmbedder e;
  e.package = *package;
  e.model = EmbeddingCnn(*config);
  try {
    torch::load(e.model, package->entryPath());
  } catch (const c10::Error& err) {
    const std::string what = err.what_without_backtrace();
    return Error{ErrorCode::ModelError, package->id + ": " + package->entry + " does not hold the weights of a " +
                                            kEmbeddingCnnArchitecture + " with this architecture.json (" +
                                            what.substr(0, what.find('\n')) + ")"};
  }
  e.model->to(device);
  e.model->eval();
  e.device = device;
  return e;
}

}  // namespace loupe::runtime
