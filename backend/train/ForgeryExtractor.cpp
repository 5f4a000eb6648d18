#include "ForgeryExtractor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/Sha256.h"
#include "runtime/Model.h"
#include "runtime/NativeModels.h"

namespace loupe::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void addConvBnRelu(torch::nn::Sequential& seq, int in, int out, int stride, int dilation) {
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(dilation).dilation(dilation).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
}

// SRM high-pass kernels (Fridrich & Kodovsky 2012, as used by RGB-N, Zhou et al. 2018), 5x5 each.
torch::Tensor srmKernels() {
  const float square[25] = {0, 0, 0, 0, 0, 0, -1, 2, -1, 0, 0, 2, -4, 2, 0, 0, -1, 2, -1, 0, 0, 0, 0, 0, 0};
  const float kv[25] = {-1, 2, -2, 2, -1, 2, -6, 8, -6, 2, -2, 8, -12, 8, -2, 2, -6, 8, -6, 2, -1, 2, -2, 2, -1};
  const float line[25] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  torch::Tensor k = torch::empty({3, 1, 5, 5});
  auto a = k.accessor<float, 4>();
  for (int i = 0; i < 25; ++i) {
    a[0][0][i / 5][i % 5] = square[i] / 4.0f;
    a[1][0][i / 5][i % 5] = kv[i] / 12.0f;
    a[2][0][i / 5][i % 5] = line[i] / 2.0f;
  }
  return k;
}


class ForgeryFcnModel final : public runtime::Model {
 public:
  ForgeryFcnModel(runtime::ModelPackage p, ForgeryFcn net, torch::Device d)
      : package_(std::move(p)), net_(std::move(net)), device_(d) {}
  Result<std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& inputs) override {
    if (inputs.size() != 1 || inputs[0].dim() != 4 || inputs[0].size(1) != 3)
      return Error{ErrorCode::InvalidArgument, package_.id + " takes one RGB batch [N, 3, H, W]"};
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> out;
    try {
      out.push_back(net_->forward(inputs[0].to(device_, torch::kFloat32)));
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      return Error{ErrorCode::ModelError, package_.id + ": " + what.substr(0, what.find('\n'))};
    }
    if (auto ok = runtime::checkOutputs(package_, out, inputs[0].size(0)); !ok) return ok.error();
    return out;
  }
  const runtime::ModelPackage& package() const override { return package_; }
  torch::Device device() const override { return device_; }

 private:
  runtime::ModelPackage package_;
  ForgeryFcn net_;
  torch::Device device_;
};

}  // namespace

ForgeryFcnImpl::ForgeryFcnImpl(const ForgeryFcnConfig& c) : config_(c) {
  highPass_ = register_buffer("high_pass", srmKernels());
  const int w = c.width;
  torch::nn::Sequential seq;
  addConvBnRelu(seq, 6, w, 2, 1);
  addConvBnRelu(seq, w, w, 1, 1);
  addConvBnRelu(seq, w, 2 * w, 2, 1);
  addConvBnRelu(seq, 2 * w, 2 * w, 1, 2);
  addConvBnRelu(seq, 2 * w, 2 * w, 1, 4);
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * w, c.featureDim, 1)));
  body_ = register_module("body", seq);
}

torch::Tensor ForgeryFcnImpl::forward(const torch::Tensor& x) {
  const torch::Tensor luma = x.mean(1, true);
  const torch::Tensor residual = torch::conv2d(torch::replication_pad2d(luma, {2, 2, 2, 2}), highPass_) * kHighPassGain;
  return body_->forward(torch::cat({x, residual}, 1));
}

std::string forgeryFcnArchitectureJson(const ForgeryFcnConfig& c) {
  json j = {{"architecture", kForgeryFcnArchitecture}, {"width", c.width}, {"feature_dim", c.featureDim}};
  return j.dump(2) + "\n";
}

Result<ForgeryFcnConfig> parseForgeryFcnArchitecture(const std::string& text) {
  auto bad = [](const std::string& what) {
    return Error{ErrorCode::ModelError, std::string(runtime::kNativeArchitectureFile) + ": " + what};
  };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return bad(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("architecture") || !j["architecture"].is_string()) return bad("architecture: missing");
  if (j["architecture"] != kForgeryFcnArchitecture)
    return bad("architecture '" + j["architecture"].get<std::string>() + "' is not " + kForgeryFcnArchitecture);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "architecture" && it.key() != "width" && it.key() != "feature_dim") return bad("unknown key '" + it.key() + "'");
  ForgeryFcnConfig c;
  for (auto [key, target] : {std::pair{"width", &c.width}, {"feature_dim", &c.featureDim}}) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<long long>() < 1 || j[key].get<long long>() > 1024)
      return bad(std::string(key) + ": must be an integer in 1..1024");
    *target = j[key].get<int>();
  }
  return c;
}

Result<void> saveForgeryFcnPackage(ForgeryFcn& model, const ForgeryPackageInfo& info, const std::string& folder) {
  if (info.licence.empty() || info.provenance.empty())
    return Error{ErrorCode::InvalidArgument, "A forgery extractor package needs a licence and a provenance"};
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::Io, "Cannot create the package folder " + folder};
  const fs::path dir(folder);
  auto weights = runtime::saveModuleAtomically(model, (dir / "model.pt").string());
  if (!weights) return weights.error();
  const std::string arch = forgeryFcnArchitectureJson(model->config());
  if (auto ok = runtime::writeTextFileAtomically((dir / runtime::kNativeArchitectureFile).string(), arch); !ok)
    return ok.error();
  std::vector<std::string> names = {"model.pt", runtime::kNativeArchitectureFile};
  for (const auto& [name, content] : info.extraFiles) {
    if (name.empty() || name.find('/') != std::string::npos || name == "model.pt" || name == runtime::kModelManifestName ||
        name == runtime::kNativeArchitectureFile)
      return Error{ErrorCode::InvalidArgument, "Package file name '" + name + "' is not allowed"};
    if (auto ok = runtime::writeTextFileAtomically((dir / name).string(), content); !ok) return ok.error();
    names.push_back(name);
  }
  json files = json::object();
  for (const auto& name : names) {
    auto sha = Sha256::ofFile((dir / name).string());
    if (!sha) return sha.error();
    files[name] = *sha;
  }
  json manifest = {
      {"schema", runtime::kModelSchemaVersion}, {"id", info.id}, {"name", info.name.empty() ? info.id : info.name},
      {"version", info.version}, {"task", "forgery.localize"}, {"format", "native"}, {"entry", "model.pt"},
      {"files", files},
      {"input", {{"layout", "NCHW"}, {"channels", 3}, {"color_order", "rgb"}, {"dtype", "float32"},
                 {"size", {{"policy", "any"}}}, {"scale", 1.0 / 255.0}, {"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}}},
      {"outputs", json::array({{{"name", "features"}, {"kind", "per_pixel_features"}, {"shape", {-1, model->config().featureDim, -1, -1}}}})},
      {"licence", info.licence}, {"provenance", info.provenance}};
  if (!info.citation.empty()) manifest["citation"] = info.citation;
  if (!info.description.empty()) manifest["description"] = info.description;
  const std::string text = manifest.dump(2) + "\n";
  return runtime::writeTextFileAtomically((dir / runtime::kModelManifestName).string(), text);
}

Result<ForgeryFcn> loadForgeryFcnPackage(const runtime::ModelPackage& package, const torch::Device& device) {
  const bool listed = std::any_of(package.files.begin(), package.files.end(),
                                  [](const runtime::PackageFile& f) { return f.path == runtime::kNativeArchitectureFile; });
  if (!listed) return Error{ErrorCode::ModelError, package.id + ": a native package must list " + runtime::kNativeArchitectureFile};
  std::ifstream in(fs::path(package.folder) / runtime::kNativeArchitectureFile);
  std::stringstream text;
  text << in.rdbuf();
  auto config = parseForgeryFcnArchitecture(text.str());
  if (!config) return config.error().withContext(package.id);
  ForgeryFcn net(*config);
  try {
    torch::load(net, package.entryPath());
  } catch (const c10::Error& err) {
    const std::string what = err.what_without_backtrace();
    return Error{ErrorCode::ModelError, package.id + ": " + package.entry + " does not hold the weights of a " +
                                            kForgeryFcnArchitecture + " with this architecture.json (" +
                                            what.substr(0, what.find('\n')) + ")"};
  }
  net->to(device);
  net->eval();
  return net;
}

void registerForgeryExtractorLoader() {
  static std::once_flag once;
  std::call_once(once, [] {
    runtime::registerModelLoader(
        runtime::ModelFormat::Native,
        [](const runtime::ModelPackage& p, const torch::Device& d) -> Result<std::unique_ptr<runtime::Model>> {
          auto net = loadForgeryFcnPackage(p, d);
          if (!net) return net.error();
          return std::unique_ptr<runtime::Model>(new ForgeryFcnModel(p, *net, d));
        });
  });
}

}  // namespace loupe::train
