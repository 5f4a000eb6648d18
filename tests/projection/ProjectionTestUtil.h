#pragma once
// Shared by the projection tests: seeded Gaussian blobs, the Fashion-MNIST subset the reference fixture was
// made from (tests/projection/make_reference.py), and that fixture.

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

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

}  // namespace projection_test
