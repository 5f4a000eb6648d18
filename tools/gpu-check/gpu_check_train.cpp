// GPU check of backend/train and the TF.js face models (no Qt): every registered contrastive loss on the
// device (float32) against the CPU in float64 (value and gradients), the training-step throughput of the
// Fashion-MNIST embedding CNN with SupCon, and BlazeFace + faceres (age/gender/features) on the device
// against the CPU, each timed on both. Prints a Markdown table (appended to --out).
// Usage: gpu_check_train [--device cuda|cpu] [--out FILE.md] [--fmnist DIR] [--faces FILE.bin]
//                        [--blazeface PACKAGE] [--faceres PACKAGE]
// FILE.bin (tools/gpu-check/stage-data.sh writes it): int32 count, then per image int32 width, height,
// int32 true age, and width*height*3 RGB bytes.

#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "GpuCheck.h"
#include "analysis/Knn.h"
#include "analysis/Tsne.h"
#include "analysis/Umap.h"
#include "core/Device.h"
#include "core/Image.h"
#include "runtime/NativeModels.h"
#include "runtime/tfjs/FaceModels.h"
#include "train/data/Idx.h"
#include "train/losses/Loss.h"
#include "train/losses/MoCo.h"

using namespace loupe;
using namespace loupe::gpucheck;

namespace {

struct LossCase {
  train::LossInput input;
  std::vector<torch::Tensor> leaves;  // tensors whose gradients are compared
};

// The same random inputs in `dtype` on `device`; `pixel` builds FOCAL's per-pixel input.
LossCase makeCase(const std::string& loss, bool views, torch::Dtype dtype, const torch::Device& device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const std::int64_t B = 32, V = 2, D = 64, C = 10;
  LossCase c;
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  if (loss == "focal_pixel") {
    auto f = torch::randn({2, 16, 8, 8}, gen, torch::kFloat64).to(device, dtype).requires_grad_(true);
    c.input.features = f;
    c.input.mask = torch::randint(0, 2, {2, 8, 8}, gen, torch::kInt64).to(device);
    c.leaves = {f};
    return c;
  }
  auto f = (views ? torch::randn({B, V, D}, gen, torch::kFloat64) : torch::randn({B, D}, gen, torch::kFloat64))
               .to(device, dtype)
               .requires_grad_(true);
  auto logits = torch::randn({B, C}, gen, torch::kFloat64).to(device, dtype).requires_grad_(true);
  c.input.features = f;
  c.input.logits = logits;
  c.input.labels = (loss == "decoupled_conditional" ? torch::randint(-1, 2, {B}, gen, torch::kInt64)
                                                    : torch::randint(0, 5, {B}, gen, torch::kInt64))
                       .to(device);
  c.input.confidence = torch::rand({B}, gen, torch::kFloat64).to(device, dtype);
  c.input.keys = torch::randn({B, D}, gen, torch::kFloat64).to(device, dtype);
  c.input.keyLogits = torch::randn({B, C}, gen, torch::kFloat64).to(device, dtype);
  c.leaves = {f, logits};
  (void)opts;
  return c;
}

Result<std::unique_ptr<train::Loss>> makeLossFor(const std::string& name, torch::Dtype dtype, const torch::Device& d) {
  auto loss = train::makeLoss(name);
  if (!loss) return loss.error();
  if (auto* moco = dynamic_cast<train::MocoLoss*>(loss->get())) {  // the same queue on both devices
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    moco->setQueue(torch::randn({256, 64}, gen, torch::kFloat64).to(d, dtype));
  }
  return loss;
}

struct Faces {
  std::vector<Image> images;
  std::vector<int> ages;
};

Faces readFaces(const std::string& path) {
  Faces f;
  std::ifstream in(path, std::ios::binary);
  std::int32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), 4)) return f;
  for (std::int32_t i = 0; i < n; ++i) {
    std::int32_t hdr[3];
    if (!in.read(reinterpret_cast<char*>(hdr), sizeof hdr)) break;
    Image img(hdr[0], hdr[1], ColorOrder::RGB);
    for (int y = 0; y < hdr[1]; ++y) in.read(reinterpret_cast<char*>(img.row<std::uint8_t>(y)), hdr[0] * 3);
    if (!in) break;
    f.images.push_back(std::move(img));
    f.ages.push_back(hdr[2]);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::string deviceText = "auto", outPath, fmnist, facesPath, blazePath, faceresPath;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&](std::string& v) { if (i + 1 < argc) v = argv[++i]; };
    if (a == "--device") next(deviceText);
    else if (a == "--out") next(outPath);
    else if (a == "--fmnist") next(fmnist);
    else if (a == "--faces") next(facesPath);
    else if (a == "--blazeface") next(blazePath);
    else if (a == "--faceres") next(faceresPath);
  }
  configureThreads(0);
  auto request = DeviceRequest::parse(deviceText);
  if (!request) { std::fprintf(stderr, "%s\n", request.error().message.c_str()); return 2; }
  auto resolved = resolveDevice(*request);
  if (!resolved) { std::fprintf(stderr, "%s\n", resolved.error().message.c_str()); return 5; }
  const torch::Device dev = *resolved;
  const torch::Device cpu(torch::kCPU);

  // 1. Every registered loss: float32 on the device against float64 on the CPU, value and gradients.
  for (const auto& [name, summary] : train::registeredLosses()) {
    (void)summary;
    bool done = false;
    for (bool views : {true, false}) {
      auto ref = makeCase(name, views, torch::kFloat64, cpu);
      auto refLoss = makeLossFor(name, torch::kFloat64, cpu);
      if (!refLoss) { check("loss " + name, false, refLoss.error().message); done = true; break; }
      auto refValue = (*refLoss)->compute(ref.input);
      if (!refValue) continue;  // this input form is not the loss's: try the other
      refValue->backward();
      auto got = makeCase(name, views, torch::kFloat32, dev);
      auto gotLoss = makeLossFor(name, torch::kFloat32, dev);
      auto gotValue = (*gotLoss)->compute(got.input);
      if (!gotValue) { check("loss " + name + " on " + dev.str(), false, gotValue.error().message); done = true; break; }
      gotValue->backward();
      const double v = refValue->item<double>(), w = gotValue->item<double>();
      double gradRel = 0.0;
      for (std::size_t k = 0; k < ref.leaves.size(); ++k) {
        const auto& gr = ref.leaves[k].grad();
        const auto& gg = got.leaves[k].grad();
        if (!gr.defined() && !gg.defined()) continue;
        if (!gr.defined() || !gg.defined()) { gradRel = 1e9; break; }
        gradRel = std::max(gradRel, ((gg.to(cpu, torch::kFloat64) - gr).norm() / (gr.norm() + 1e-30)).item<double>());
      }
      const double valRel = std::abs(v - w) / std::max(1e-12, std::abs(v));
      check("loss " + name + " fp32 on " + dev.str() + " == cpu fp64", valRel < 1e-4 && gradRel < 1e-3,
            "value " + fmt(v, "") + ", rel. diff " + fmt(valRel, "") + "; gradients rel. L2 diff " + fmt(gradRel, ""));
      done = true;
      break;
    }
    if (!done) note("loss " + name, "skipped", "neither [B,V,D] nor [B,D] input accepted on the cpu");
  }

  // 2. Training-step throughput of the embedding CNN (SupCon on two augmented views) on Fashion-MNIST.
  if (!fmnist.empty()) {
    auto data = train::loadFashionMnist(train::Split::Test, fmnist);
    if (!data) {
      check("Fashion-MNIST from " + fmnist, false, data.error().message);
    } else {
      std::vector<torch::Device> devices{dev};
      if (dev.is_cuda()) devices.push_back(cpu);
      for (const auto& d : devices) {
        torch::manual_seed(0);
        runtime::EmbeddingCnnConfig cfg;
        runtime::EmbeddingCnn model(cfg);
        model->to(d);
        model->train();
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
        auto loss = train::makeLoss("supcon");
        const auto images = data->images.to(d);
        const auto labels = data->labels.to(d);
        const std::int64_t B = 256, steps = d.is_cuda() ? 39 : 8;  // one pass over 10,000 images on the GPU
        std::vector<double> losses;
        auto step = [&](std::int64_t s) {
          const auto idx = torch::arange(s * B, (s + 1) * B, torch::TensorOptions().dtype(torch::kInt64).device(d)) % images.size(0);
          auto x = images.index_select(0, idx).to(torch::kFloat32).div(255.0).sub(0.286).div(0.353);
          auto x2 = x.flip({3});  // a second view: the horizontal flip (device-side augmentation)
          auto out = model->forward(torch::cat({x, x2}, 0));
          auto p = out.projection.defined() ? out.projection : out.embedding;
          auto views = torch::stack({p.narrow(0, 0, B), p.narrow(0, B, B)}, 1);
          train::LossInput in;
          in.features = views;
          in.labels = labels.index_select(0, idx);
          auto l = (*loss)->compute(in);
          if (!l) throw std::runtime_error(l.error().message);
          opt.zero_grad();
          l->backward();
          opt.step();
          losses.push_back(l->item<double>());
        };
        try {
          step(0);
          sync(d);
          const auto t0 = std::chrono::steady_clock::now();
          for (std::int64_t s = 1; s <= steps; ++s) step(s);
          sync(d);
          const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          note("train step: embedding CNN + SupCon, batch 256 x 2 views", fmt(double(steps * B) / sec, "images/s"),
               d.str() + ", loss " + fmt(losses.front(), "") + " -> " + fmt(losses.back(), ""));
          if (d.is_cuda())
            check("training on " + d.str() + " lowers the loss", losses.back() < losses.front(),
                  "first " + fmt(losses.front(), "") + ", last " + fmt(losses.back(), ""));
        } catch (const std::exception& e) {
          check("train step on " + d.str(), false, e.what());
        }
      }
    }
  }

  // 2b. t-SNE and UMAP of Fashion-MNIST's 10,000 test images (pixels / 255, 784-d): exact k-NN, layout
  // time and the 10-NN label accuracy of the 2-D layout on each device. The CPU run stops after 20 s of
  // optimisation (the table then says how many iterations it did).
  if (!fmnist.empty()) {
    auto data = train::loadFashionMnist(train::Split::Test, fmnist);
    std::vector<torch::Device> devices{dev};
    if (dev.is_cuda()) devices.push_back(cpu);
    for (const auto& d : devices) {
      if (!data) break;
      c10::InferenceMode guard;
      const auto x = data->images.reshape({data->images.size(0), -1}).to(d).to(torch::kFloat32).div(255.0);
      const auto labels = data->labels.to(torch::kInt64);
      auto t0 = std::chrono::steady_clock::now();
      auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
      analysis::KnnOptions ko;
      ko.k = 90;
      auto graph = analysis::exactKnn(x, ko);
      sync(d);
      if (!graph) { check("exact k-NN on " + d.str(), false, graph.error().message); continue; }
      note("time: exact 90-NN graph, 10000 x 784", fmt(1000 * seconds(), "ms"), d.str());
      const double budget = d.is_cuda() ? 600.0 : 20.0;
      t0 = std::chrono::steady_clock::now();
      analysis::TsneOptions to;
      auto ts = analysis::tsne(x, to, &*graph, [&](const torch::Tensor&, int) { return seconds() < budget; });
      sync(d);
      const double tsTime = seconds();
      if (ts) {
        auto acc = analysis::knnLabelAccuracy(ts->layout.to(cpu), labels, 10);
        note("t-SNE 10000 points (" + std::string(analysis::tsneRepulsionName(ts->repulsion)) + ")",
             fmt(tsTime, "s") + " for " + std::to_string(ts->iterations) + " iterations",
             d.str() + ", 10-NN accuracy " + fmt(acc ? 100 * *acc : -1.0, "%") + ", KL " + fmt(ts->kl, ""));
        if (d.is_cuda()) check("t-SNE on " + d.str() + " separates the classes", acc && *acc > 0.7, "10-NN accuracy " + fmt(acc ? 100 * *acc : -1.0, "%"));
      } else {
        check("t-SNE on " + d.str(), false, ts.error().message);
      }
      t0 = std::chrono::steady_clock::now();
      analysis::UmapOptions uo;
      auto um = analysis::umap(x, uo, &*graph, [&](const torch::Tensor&, int) { return seconds() < budget; });
      sync(d);
      const double umTime = seconds();
      if (um) {
        auto acc = analysis::knnLabelAccuracy(um->layout.to(cpu), labels, 10);
        note("UMAP 10000 points", fmt(umTime, "s") + " for " + std::to_string(um->epochs) + " epochs",
             d.str() + ", 10-NN accuracy " + fmt(acc ? 100 * *acc : -1.0, "%"));
        if (d.is_cuda()) check("UMAP on " + d.str() + " separates the classes", acc && *acc > 0.7, "10-NN accuracy " + fmt(acc ? 100 * *acc : -1.0, "%"));
      } else {
        check("UMAP on " + d.str(), false, um.error().message);
      }
    }
  }

  // 3. TF.js face models: detection and age/gender/features on the device against the CPU.
  if (!facesPath.empty() && !blazePath.empty() && !faceresPath.empty()) {
    c10::InferenceMode guard;
    const auto faces = readFaces(facesPath);
    auto bc = runtime::tfjs::BlazeFace::open(blazePath, cpu);
    auto bd = runtime::tfjs::BlazeFace::open(blazePath, dev);
    auto fc = runtime::tfjs::FaceRes::open(faceresPath, cpu);
    auto fd = runtime::tfjs::FaceRes::open(faceresPath, dev);
    if (faces.images.empty() || !bc || !bd || !fc || !fd) {
      check("face models open on " + dev.str(), false,
            faces.images.empty() ? "no faces read from " + facesPath
                                 : (!bc ? bc.error() : !bd ? bd.error() : !fc ? fc.error() : fd.error()).message);
    } else {
      double worstAge = 0.0, worstFeat = 0.0, worstBox = 0.0, absErr = 0.0;
      int found = 0, compared = 0;
      for (std::size_t i = 0; i < faces.images.size(); ++i) {
        auto dc = bc->detect(faces.images[i]);
        auto dd = bd->detect(faces.images[i]);
        if (!dc || !dd || dc->empty() || dd->empty()) continue;
        ++found;
        worstBox = std::max({worstBox, double(std::abs((*dc)[0].x0 - (*dd)[0].x0)), double(std::abs((*dc)[0].y1 - (*dd)[0].y1))});
        auto ac = fc->predictFaces(faces.images[i], {(*dc)[0]});
        auto ad = fd->predictFaces(faces.images[i], {(*dc)[0]});
        if (!ac || !ad || ac->empty() || ad->empty()) continue;
        ++compared;
        worstAge = std::max(worstAge, std::abs((*ac)[0].age - (*ad)[0].age));
        const auto a = torch::tensor((*ac)[0].features), b = torch::tensor((*ad)[0].features);
        worstFeat = std::max(worstFeat, ((a - b).norm() / (a.norm() + 1e-12)).item<double>());
        absErr += std::abs((*ad)[0].age - faces.ages[i]);
      }
      check("BlazeFace + faceres on " + dev.str() + " == cpu (" + std::to_string(faces.images.size()) + " UTKFace crops)",
            compared > 0 && worstAge < 0.1 && worstFeat < 1e-3 && worstBox < 1.0,
            std::to_string(found) + " with a face; worst |age diff| " + fmt(worstAge, "years") + ", features rel. diff " +
                fmt(worstFeat, "") + ", box corner diff " + fmt(worstBox, "px") + "; MAE on " + dev.str() + " " +
                fmt(compared ? absErr / compared : 0.0, "years"));
      const auto& img = faces.images[0];
      std::vector<torch::Device> devices{dev};
      if (dev.is_cuda()) devices.push_back(cpu);
      for (const auto& d : devices) {
        const auto& b = d.is_cuda() ? *bd : *bc;
        const auto& f = d.is_cuda() ? *fd : *fc;
        note("time: detect + age/gender, one image (" + std::to_string(img.width()) + "x" + std::to_string(img.height()) + ")",
             fmt(timeMs(d, 2, 10, [&] {
                   auto det = b.detect(img);
                   if (det && !det->empty()) (void)f.predictFaces(img, {(*det)[0]});
                 }),
                 "ms"),
             d.str());
        std::vector<Image> batch(faces.images.begin(), faces.images.begin() + std::min<std::size_t>(32, faces.images.size()));
        const double ms = timeMs(d, 1, 5, [&] { (void)f.predictCrops(batch); });
        note("time: age/gender per face, batch of " + std::to_string(batch.size()) + " crops", fmt(ms / batch.size(), "ms"), d.str());
      }
    }
  }

  return finish("Training and face models on " + dev.str(),
                "device: " + describeDevice(dev) + ", LibTorch " TORCH_VERSION + std::string(", cpu threads ") +
                    std::to_string(at::get_num_threads()),
                outPath);
}
