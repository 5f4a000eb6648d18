#include "AgeHead.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/Sha256.h"
#include "runtime/NativeModels.h"

namespace loupe::train {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The ordinal term's scale: the thresholds' binary cross-entropy summed over K and averaged over the batch is
// about K times a per-threshold loss; 0.1 brings it to the contrastive term's order of magnitude.
constexpr double kOrdinalScale = 0.1;
}  // namespace

AgeHeadImpl::AgeHeadImpl(const AgeHeadConfig& c) : config_(c) {
  mean_ = register_buffer("feature_mean", torch::zeros({c.inputDim}));
  std_ = register_buffer("feature_std", torch::ones({c.inputDim}));
  drop1_ = register_module("drop1", torch::nn::Dropout(c.dropout));
  fc1_ = register_module("fc1", torch::nn::Linear(c.inputDim, c.hidden));
  drop2_ = register_module("drop2", torch::nn::Dropout(c.dropout));
  fc2_ = register_module("fc2", torch::nn::Linear(c.hidden, c.embeddingDim));
  ordinal_ = register_module("ordinal", torch::nn::Linear(torch::nn::LinearOptions(c.embeddingDim, 1).bias(false)));
  thresholdBias_ = register_parameter("threshold_bias", torch::zeros({c.thresholds}));
}

void AgeHeadImpl::setNormalisation(const torch::Tensor& mean, const torch::Tensor& std) {
  torch::NoGradGuard noGrad;
  mean_.copy_(mean.to(mean_.device(), mean_.scalar_type()));
  std_.copy_(std.clamp_min(1e-6).to(std_.device(), std_.scalar_type()));
}

AgeHeadOutput AgeHeadImpl::forward(const torch::Tensor& features) {
  AgeHeadOutput out;
  const torch::Tensor x = (features.to(mean_.device(), mean_.scalar_type()) - mean_) / std_;
  out.embedding = fc2_(drop2_(torch::relu(fc1_(drop1_(x)))));
  out.logits = ordinal_(torch::relu(out.embedding)) + thresholdBias_;
  out.age = torch::sigmoid(out.logits).sum(1);
  return out;
}

Result<AgeTrainResult> trainAgeHead(const torch::Tensor& features, const torch::Tensor& ages,
                                    const AgeTrainOptions& o, Progress progress, const CancelToken& cancel) {
  auto bad = [](const std::string& m) { return Error{ErrorCode::InvalidArgument, "Age head: " + m}; };
  if (!features.defined() || features.dim() != 2) return bad("features must be [faces, dims]");
  if (features.size(1) != o.model.inputDim)
    return bad("the features have " + std::to_string(features.size(1)) + " dimensions, the head takes " +
               std::to_string(o.model.inputDim));
  if (!ages.defined() || ages.dim() != 1 || ages.size(0) != features.size(0))
    return bad("needs one age per face (" + std::to_string(features.size(0)) + ")");
  const int64_t n = features.size(0);
  if (n < 8) return bad("needs at least 8 labelled faces to train, got " + std::to_string(n));
  if (!torch::isfinite(features).all().item<bool>()) return bad("the features hold NaN or infinite values");
  if (ages.lt(0).any().item<bool>() || ages.gt(o.model.thresholds).any().item<bool>())
    return bad("ages must lie in 0 .. " + std::to_string(o.model.thresholds) + " years");
  if (o.epochs < 1 || o.batchSize < 2) return bad("needs epochs >= 1 and a batch of at least 2");
  std::unique_ptr<Loss> contrastive;
  if (o.contrastiveWeight > 0) {
    auto l = makeLoss(o.contrastiveLoss, o.lossParams);
    if (!l) return l.error();
    contrastive = std::move(*l);
  }

  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(o.seed);
  const torch::Device device = features.device();
  const torch::Tensor x = features.to(torch::kFloat32);
  const torch::Tensor y = ages.to(device, torch::kFloat32);
  AgeTrainResult result;
  AgeHead head(o.model);
  head->to(device);
  head->setNormalisation(x.mean(0), x.std(0));
  const torch::Tensor thresholds = torch::arange(o.model.thresholds, x.options()) + 0.5;
  {
    // Start the threshold biases at the training ages' survival function, logit P(age > k + 0.5), so that
    // the first epochs learn the faces, not the age distribution.
    torch::NoGradGuard noGrad;
    const torch::Tensor survival =
        y.unsqueeze(1).gt(thresholds.unsqueeze(0)).to(torch::kFloat32).mean(0).clamp(0.5 / n, 1.0 - 0.5 / n);
    head->named_parameters()["threshold_bias"].copy_(torch::log(survival / (1 - survival)));
  }
  torch::optim::AdamW opt(head->parameters(), torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
  auto gen = at::detail::createCPUGenerator(o.seed);
  const int64_t batch = std::min<int64_t>(o.batchSize, n);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    head->train();
    const torch::Tensor order = torch::randperm(n, gen).to(device);
    double total = 0;
    int steps = 0;
    for (int64_t b = 0; b + 1 < n; b += batch) {  // a last batch of one face has no pair: skipped
      if (cancel.isCancelled()) return Error::cancelled();
      const torch::Tensor idx = order.narrow(0, b, std::min(batch, n - b));
      if (idx.size(0) < 2) break;
      const torch::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
      const AgeHeadOutput out = head->forward(xb);
      const torch::Tensor target = yb.unsqueeze(1).gt(thresholds.unsqueeze(0)).to(torch::kFloat32);
      torch::Tensor loss = kOrdinalScale * torch::binary_cross_entropy_with_logits(out.logits, target, {}, {},
                                                                                  at::Reduction::Sum) /
                           double(idx.size(0));
      if (contrastive) {
        LossInput in;
        in.features = out.embedding;
        in.labels = yb;
        auto c = contrastive->compute(in);
        if (!c) return c.error().withContext("Age head training");
        loss = loss + o.contrastiveWeight * *c;
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item<double>();
      ++steps;
    }
    result.epochLoss.push_back(steps ? total / steps : 0.0);
    if (!std::isfinite(result.epochLoss.back()))
      return Error{ErrorCode::Internal, "Age head training diverged (loss not finite at epoch " +
                                            std::to_string(epoch + 1) + "); try a lower learning rate"};
    progress.report(double(epoch + 1) / o.epochs, "Epoch " + std::to_string(epoch + 1) + " / " + std::to_string(o.epochs));
  }
  head->eval();
  result.model = head;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Result<AgeHeadOutput> predictAges(AgeHead& head, const torch::Tensor& features, int64_t batchSize) {
  if (!features.defined() || features.dim() != 2 || features.size(1) != head->config().inputDim)
    return Error{ErrorCode::InvalidArgument, "The age head takes features [N, " + std::to_string(head->config().inputDim) + "]"};
  torch::NoGradGuard noGrad;
  head->eval();
  std::vector<torch::Tensor> ages, embeddings;
  for (int64_t i = 0; i < features.size(0); i += batchSize) {
    const auto out = head->forward(features.narrow(0, i, std::min(batchSize, features.size(0) - i)));
    ages.push_back(out.age.to(torch::kCPU, torch::kFloat32));
    embeddings.push_back(out.embedding.to(torch::kCPU, torch::kFloat32));
  }
  AgeHeadOutput r;
  if (ages.empty()) {
    r.age = torch::zeros({0});
    r.embedding = torch::zeros({0, head->config().embeddingDim});
    return r;
  }
  r.age = torch::cat(ages);
  r.embedding = torch::cat(embeddings);
  return r;
}

std::string ageHeadArchitectureJson(const AgeHeadConfig& c) {
  json j = {{"architecture", kAgeHeadArchitecture}, {"input_dim", c.inputDim}, {"hidden", c.hidden},
            {"embedding_dim", c.embeddingDim}, {"thresholds", c.thresholds}, {"dropout", c.dropout}};
  return j.dump(2) + "\n";
}

namespace {
Result<AgeHeadConfig> parseArchitecture(const json& j) {
  auto bad = [](const std::string& what) { return Error{ErrorCode::ModelError, std::string("architecture.json: ") + what}; };
  if (!j.is_object()) return bad("must be a JSON object");
  static const std::vector<std::string> known = {"architecture", "input_dim", "hidden", "embedding_dim", "thresholds",
                                                 "dropout", "feature_model", "feature_model_sha256", "feature_settings"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) return bad("unknown key '" + it.key() + "'");
  if (!j.contains("architecture") || !j["architecture"].is_string()) return bad("architecture: missing");
  if (j["architecture"] != kAgeHeadArchitecture)
    return bad("architecture '" + j["architecture"].get<std::string>() + "' is not an age head (expected " +
               kAgeHeadArchitecture + ")");
  AgeHeadConfig c;
  for (auto [key, target] : {std::pair{"input_dim", &c.inputDim}, {"hidden", &c.hidden},
                             {"embedding_dim", &c.embeddingDim}, {"thresholds", &c.thresholds}}) {
    if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<long long>() < 1 || j[key].get<long long>() > 65536)
      return bad(std::string(key) + ": must be an integer in 1 .. 65536");
    *target = j[key].get<int>();
  }
  if (j.contains("dropout")) {
    if (!j["dropout"].is_number() || j["dropout"].get<double>() < 0 || j["dropout"].get<double>() >= 1)
      return bad("dropout: must be a number in [0, 1)");
    c.dropout = j["dropout"].get<double>();
  }
  return c;
}

}  // namespace

Result<AgeHeadConfig> parseAgeHeadArchitecture(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::ModelError, std::string("architecture.json: not valid JSON: ") + e.what()};
  }
  return parseArchitecture(j);
}

Result<void> saveAgeHeadPackage(AgeHead& head, const AgeHeadPackageInfo& info, const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::Io, "Cannot create the package folder " + folder};
  const fs::path dir(folder);
  const AgeHeadConfig& c = head->config();
  // Saved from the CPU so that a package trained on CUDA loads anywhere.
  AgeHead cpu(c);
  {
    torch::NoGradGuard noGrad;
    auto src = head->named_parameters(), dst = cpu->named_parameters();
    for (auto& p : src) dst[p.key()].copy_(p.value().to(torch::kCPU));
    auto srcB = head->named_buffers(), dstB = cpu->named_buffers();
    for (auto& b : srcB) dstB[b.key()].copy_(b.value().to(torch::kCPU));
  }
  auto weights = runtime::saveModuleAtomically(cpu, (dir / "model.pt").string());
  if (!weights) return weights.error();
  json arch = json::parse(ageHeadArchitectureJson(c));
  arch["feature_model"] = info.featureModel;
  if (!info.featureModelSha256.empty()) arch["feature_model_sha256"] = info.featureModelSha256;
  if (!info.featureSettings.empty()) arch["feature_settings"] = info.featureSettings;
  const std::string archText = arch.dump(2) + "\n";
  if (auto ok = runtime::writeTextFileAtomically((dir / "architecture.json").string(), archText); !ok)
    return ok.error();
  json files = json::object();
  for (const char* name : {"model.pt", "architecture.json"}) {
    auto sha = Sha256::ofFile((dir / name).string());
    if (!sha) return sha.error();
    files[name] = *sha;
  }
  json manifest = {{"schema", runtime::kModelSchemaVersion},
                   {"id", info.id},
                   {"name", info.name.empty() ? info.id : info.name},
                   {"version", info.version},
                   {"task", kAgeHeadTask},
                   {"format", "native"},
                   {"entry", "model.pt"},
                   {"files", files},
                   {"input", {{"kind", "vectors"}, {"dims", {c.inputDim}}, {"dtype", "float32"}}},
                   {"outputs", json::array({{{"name", "embedding"}, {"kind", "embedding"}, {"shape", {-1, c.embeddingDim}}},
                                            {{"name", "age_logits"}, {"kind", "logits"}, {"shape", {-1, c.thresholds}}}})},
                   {"licence", info.licence},
                   {"provenance", info.provenance}};
  if (!info.citation.empty()) manifest["citation"] = info.citation;
  if (!info.description.empty()) manifest["description"] = info.description;
  const std::string text = manifest.dump(2) + "\n";
  return runtime::writeTextFileAtomically((dir / runtime::kModelManifestName).string(), text);
}

Result<LoadedAgeHead> loadAgeHeadPackage(const std::string& folder, const torch::Device& device) {
  auto package = runtime::openModelPackage(folder);
  if (!package) return package.error();
  if (package->format != runtime::ModelFormat::Native || package->task != kAgeHeadTask)
    return Error{ErrorCode::ModelError, package->id + " is not an age head (format " + runtime::modelFormatName(package->format) +
                                            ", task " + package->task + "; expected native, " + kAgeHeadTask + ")"};
  const bool listed = std::any_of(package->files.begin(), package->files.end(),
                                  [](const runtime::PackageFile& f) { return f.path == "architecture.json"; });
  if (!listed) return Error{ErrorCode::ModelError, package->id + ": an age head package must list architecture.json"};
  std::ifstream in(fs::path(package->folder) / "architecture.json");
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::ModelError, package->id + ": architecture.json is not valid JSON (" + e.what() + ")"};
  }
  auto config = parseArchitecture(j);
  if (!config) return config.error().withContext(package->id);
  LoadedAgeHead r;
  r.package = *package;
  r.featureModel = j.value("feature_model", std::string("faceres"));
  r.featureSettings = j.value("feature_settings", std::string());
  r.model = AgeHead(*config);
  try {
    torch::load(r.model, package->entryPath());
  } catch (const c10::Error& err) {
    const std::string what = err.what_without_backtrace();
    return Error{ErrorCode::ModelError, package->id + ": " + package->entry + " does not hold the weights of a " +
                                            kAgeHeadArchitecture + " with this architecture.json (" +
                                            what.substr(0, what.find('\n')) + ")"};
  }
  r.model->to(device);
  r.model->eval();
  return r;
}

}  // namespace loupe::train
