#include "EmbeddingMetrics.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace loupe::train {
namespace {

torch::Tensor unitRows(const torch::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); }

Result<void> checkSet(const char* what, const torch::Tensor& x, const torch::Tensor& y) {
  if (!x.defined() || x.dim() != 2 || !x.is_floating_point())
    return Error{ErrorCode::InvalidArgument, std::string(what) + ": embeddings must be a floating [N, D] tensor"};
  if (!y.defined() || y.dim() != 1 || y.size(0) != x.size(0))
    return Error{ErrorCode::InvalidArgument, std::string(what) + ": " + std::to_string(x.size(0)) + " embeddings but " +
                                                 (y.defined() ? std::to_string(y.numel()) : std::string("no")) + " labels"};
  if (x.numel() > 0 && !torch::isfinite(x).all().item<bool>())
    return Error{ErrorCode::InvalidArgument, std::string(what) + ": embeddings contain NaN or infinite values"};
  if (y.numel() > 0 && y.min().item<int64_t>() < 0)
    return Error{ErrorCode::InvalidArgument, std::string(what) + ": labels must not be negative"};
  return {};
}

}  // namespace

Result<KnnResult> knnClassify(const torch::Tensor& bank, const torch::Tensor& bankLabels, const torch::Tensor& queries,
                              const torch::Tensor& queryLabels, const KnnOptions& o, const CancelToken& cancel) {
  if (auto ok = checkSet("kNN bank", bank, bankLabels); !ok) return ok.error();
  if (auto ok = checkSet("kNN queries", queries, queryLabels); !ok) return ok.error();
  if (bank.size(1) != queries.size(1))
    return Error{ErrorCode::InvalidArgument, "kNN: bank and queries differ in dimension (" + std::to_string(bank.size(1)) +
                                                 " vs " + std::to_string(queries.size(1)) + ")"};
  if (bank.size(0) == 0) return Error{ErrorCode::InvalidArgument, "kNN: the bank is empty"};
  if (o.k < 1 || o.temperature <= 0) return Error{ErrorCode::InvalidArgument, "kNN: k must be >= 1 and the temperature > 0"};
  torch::NoGradGuard noGrad;
  const torch::Tensor b = unitRows(bank.to(torch::kFloat));
  const torch::Tensor by = bankLabels.to(b.device(), torch::kLong);
  const int64_t classes = std::max(by.max().item<int64_t>(), queryLabels.numel() ? queryLabels.max().item<int64_t>() : 0) + 1;
  const int64_t k = std::min<int64_t>(o.k, b.size(0));
  std::vector<torch::Tensor> preds;
  for (int64_t i = 0; i < queries.size(0); i += o.chunk) {
    if (cancel.isCancelled()) return Error::cancelled();
    const int64_t n = std::min(o.chunk, queries.size(0) - i);
    const torch::Tensor q = unitRows(queries.narrow(0, i, n).to(b.device(), torch::kFloat));
    const auto [sim, idx] = torch::matmul(q, b.t()).topk(k, 1);
    const torch::Tensor votes = torch::zeros({n, classes}, sim.options());
    votes.scatter_add_(1, by.index({idx}), (sim / o.temperature).exp());
    preds.push_back(votes.argmax(1));
  }
  KnnResult r;
  r.predictions = preds.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(preds).to(torch::kCPU);
  r.accuracy = queries.size(0) ? r.predictions.eq(queryLabels.to(torch::kCPU, torch::kLong)).to(torch::kDouble).mean().item<double>() : 0.0;
  return r;
}

Result<LinearProbeResult> linearProbe(const torch::Tensor& train, const torch::Tensor& trainLabels, const torch::Tensor& test,
                                      const torch::Tensor& testLabels, const LinearProbeOptions& o, Progress progress,
                                      const CancelToken& cancel) {
  if (auto ok = checkSet("linear probe train", train, trainLabels); !ok) return ok.error();
  if (auto ok = checkSet("linear probe test", test, testLabels); !ok) return ok.error();
  if (train.size(1) != test.size(1)) return Error{ErrorCode::InvalidArgument, "linear probe: train and test differ in dimension"};
  if (train.size(0) == 0) return Error{ErrorCode::InvalidArgument, "linear probe: no training rows"};
  // Standardise with the training split's statistics (a zero-variance feature stays 0).
  const torch::Tensor x = train.to(torch::kFloat).detach();
  const torch::Tensor mean = x.mean(0, true), stdv = x.std(0, false, true).clamp_min(1e-6);
  const torch::Tensor xs = (x - mean) / stdv, ts = (test.to(x.device(), torch::kFloat) - mean) / stdv;
  const torch::Tensor y = trainLabels.to(x.device(), torch::kLong), ty = testLabels.to(x.device(), torch::kLong);
  const int64_t classes = std::max(y.max().item<int64_t>(), ty.numel() ? ty.max().item<int64_t>() : 0) + 1;
  torch::manual_seed(o.seed);
  torch::nn::Linear head(x.size(1), classes);
  head->to(x.device());
  torch::optim::Adam opt(head->parameters(), torch::optim::AdamOptions(o.learningRate).weight_decay(o.weightDecay));
  const int64_t n = xs.size(0);
  const int64_t steps = o.epochs * ((n + o.batchSize - 1) / o.batchSize);
  int64_t step = 0;
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  for (int e = 0; e < o.epochs; ++e) {
    const torch::Tensor order = torch::randperm(n, gen, torch::kLong).to(x.device());
    for (int64_t i = 0; i < n; i += o.batchSize) {
      if (cancel.isCancelled()) return Error::cancelled();
      // Cosine decay of the learning rate over all steps.
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(g.options()).lr(o.learningRate * 0.5 * (1 + std::cos(M_PI * double(step) / double(steps))));
      const torch::Tensor idx = order.narrow(0, i, std::min(o.batchSize, n - i));
      opt.zero_grad();
      const torch::Tensor loss = torch::nn::functional::cross_entropy(head(xs.index_select(0, idx)), y.index_select(0, idx));
      loss.backward();
      opt.step();
      ++step;
    }
    progress.report(double(e + 1) / o.epochs, "linear probe");
  }
  torch::NoGradGuard noGrad;
  LinearProbeResult r;
  r.trainAccuracy = head(xs).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
  r.testAccuracy = ts.size(0) ? head(ts).argmax(1).eq(ty).to(torch::kDouble).mean().item<double>() : 0.0;
  return r;
}

Result<std::map<int, double>> recallAtK(const torch::Tensor& embeddings, const torch::Tensor& labels, const std::vector<int>& ks,
                                        int64_t chunk, const CancelToken& cancel) {
  if (auto ok = checkSet("Recall@K", embeddings, labels); !ok) return ok.error();
  if (ks.empty()) return Error{ErrorCode::InvalidArgument, "Recall@K: no K given"};
  const int kMax = *std::max_element(ks.begin(), ks.end());
  if (*std::min_element(ks.begin(), ks.end()) < 1 || kMax >= embeddings.size(0))
    return Error{ErrorCode::InvalidArgument, "Recall@K: every K must be in 1.." + std::to_string(embeddings.size(0) - 1)};
  torch::NoGradGuard noGrad;
  const torch::Tensor z = unitRows(embeddings.to(torch::kFloat));
  const torch::Tensor y = labels.to(z.device(), torch::kLong);
  std::map<int, double> hits;
  for (int k : ks) hits[k] = 0.0;
  for (int64_t i = 0; i < z.size(0); i += chunk) {
    if (cancel.isCancelled()) return Error::cancelled();
    const int64_t n = std::min(chunk, z.size(0) - i);
    torch::Tensor sim = torch::matmul(z.narrow(0, i, n), z.t());
    const torch::Tensor self = torch::arange(i, i + n, torch::TensorOptions().dtype(torch::kLong).device(z.device()));
    sim.scatter_(1, self.unsqueeze(1), -INFINITY);  // an item is not its own neighbour
    const torch::Tensor idx = std::get<1>(sim.topk(kMax, 1));
    const torch::Tensor same = y.index({idx}).eq(y.narrow(0, i, n).unsqueeze(1));  // [n, kMax], nearest first
    const torch::Tensor firstHit = same.cumsum(1).gt(0);
    for (int k : ks) hits[k] += firstHit.select(1, k - 1).sum().item<double>();
  }
  for (auto& [k, h] : hits) h /= double(z.size(0));
  return hits;
}

}  // namespace loupe::train
