#pragma once
// Shared by the projection tests: seeded Gaussian blobs, exact neighbour graphs, the Fashion-MNIST subset the
// reference fixture was made from (tests/projection/make_reference.py) and that fixture, and a run cancelled
// from another thread.

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QString>

#include <torch/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "analysis/Knn.h"
#include "core/CancelToken.h"
#include "train/data/Idx.h"

namespace projection_test {

// `perBlob` points around each of `k` centres at distance `separation` along orthogonal axes of R^dims (k <=
// dims), standard deviation 1. Returns float32 points [k * perBlob, dims] and int64 blob labels.
inline std::pair<torch::Tensor, torch::Tensor> blobs(int k, std::int64_t perBlob, std::int64_t dims, double separation,
                                                     std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> points, labels;
  for (int i = 0; i < k; ++i) {
    torch::Tensor centre = torch::zeros({dims});
    centre[i] = separation;
    points.push_back(centre.unsqueeze(0) + torch::randn({perBlob, dims}));
    labels.push_back(torch::full({perBlob}, std::int64_t(i), torch::kLong));
  }
  return {torch::cat(points), torch::cat(labels)};
}

// The first `n` Fashion-MNIST test images as float32 [n, 784] in [0, 1] and their labels; undefined tensors
// when Debian's dataset-fashion-mnist is not installed.
inline std::pair<torch::Tensor, torch::Tensor> fashionSubset(std::int64_t n) {
  auto set = loupe::train::loadFashionMnist(loupe::train::Split::Test);
  if (!set) return {};
  return {set->images.narrow(0, 0, n).reshape({n, -1}).to(torch::kFloat) / 255.0, set->labels.narrow(0, 0, n)};
}

// tests/projection/fashion_reference.json (written by make_reference.py).
inline QJsonObject fashionReference() {
  QFile f(QStringLiteral(LOUPE_SOURCE_DIR "/tests/projection/fashion_reference.json"));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

// The exact k-nearest-neighbour graph of `x` (Euclidean).
inline loupe::analysis::KnnGraph graphOf(const torch::Tensor& x, int k) {
  loupe::analysis::KnnOptions o;
  o.k = k;
  return *loupe::analysis::exactKnn(x, o);
}

// What happened to a run cancelled from another thread `afterMs` after it started.
struct CancelledRun {
  bool ok = true;                               // the run finished anyway
  loupe::ErrorCode code = loupe::ErrorCode::Internal;  // its error otherwise
  qint64 returnedMsAfterCancel = 0;
};

// Runs `run(cancel)` (returning a Result) while another thread cancels it after `afterMs`.
template <class Run>
CancelledRun cancelDuring(Run run, int afterMs = 1500) {
  loupe::CancelToken cancel;
  std::atomic<qint64> cancelledAt{0};
  QElapsedTimer clock;
  clock.start();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(afterMs));
    cancelledAt = clock.elapsed();
    cancel.cancel();
  });
  auto r = run(cancel);
  const qint64 returnedAt = clock.elapsed();
  canceller.join();
  CancelledRun c;
  c.ok = r.ok();
  if (!r.ok()) c.code = r.error().code;
  c.returnedMsAfterCancel = returnedAt - cancelledAt.load();
  return c;
}

}  // namespace projection_test
