#pragma once
// HDBSCAN (Campello, Moulavi & Sander, "Density-Based Clustering Based on Hierarchical Density
// Estimates", 2013), following the hdbscan and scikit-learn implementations step by step:
//   1. core distance of a point = distance to its min_samples-th nearest neighbour, the point included;
//   2. mutual reachability distance mr(a, b) = max(core(a), core(b), d(a, b));
//   3. minimum spanning tree of the complete mutual-reachability graph (Prim's, dense);
//   4. single-linkage hierarchy from the tree's edges sorted by weight (scipy's linkage format);
//   5. condensed tree: walking down from the root with lambda = 1 / distance, a split where both sides
//      have at least min_cluster_size points makes two new clusters, a side smaller than that "falls out"
//      of its parent point by point at the split's lambda;
//   6. cluster stability (excess of mass) = sum over a cluster's points of (lambda_out - lambda_birth),
//      and the flat clustering that maximises total stability over non-nested clusters;
//   7. labels (-1 = noise) and membership probabilities (lambda_out / the cluster's largest lambda).
//
// The distance matrix is computed in row blocks with matrix products on the input's device and stored
// once (N x N values: 64 MiB in float32 for N = 4096, 1 GiB for N = 16384, bounded by maxMatrixBytes);
// the mutual reachability is taken from it and the core distances on the fly while the tree grows.
// FOCAL (Wu et al.) uses it on per-position features with min_cluster_size 200; turn its labels into a
// forgery map with forgeryLabelsFromClusters() (KMeans.h): largest cluster pristine, other clusters
// forged, noise pristine, no or one cluster -> pristine image.

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "KMeans.h"  // ClusterMetric, forgeryLabelsFromClusters
#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::analysis {

struct HdbscanOptions {
  int minClusterSize = 200;  // FOCAL's paper; at least 2
  int minSamples = 0;        // neighbourhood size for core distances, the point itself included; 0 = minClusterSize
  // Euclidean: straight-line distance. Cosine: 1 - cosine similarity (scikit-learn's cosine distance).
  ClusterMetric metric = ClusterMetric::Euclidean;
  // As in hdbscan/scikit-learn: when false the root (all points) is never a cluster, so data that never
  // splits into two parts of min_cluster_size points gives no cluster at all. When true and the root is
  // selected, only the points still in it at its largest lambda are labelled, the rest are noise.
  bool allowSingleCluster = false;
  std::int64_t maxMatrixBytes = std::int64_t(2) << 30;  // limit for the stored N x N matrix
  std::int64_t rowsPerBlock = 0;  // rows per distance block; 0 = about 8 MiB per block (64..1024 rows)
};

// One merge of the single-linkage hierarchy: nodes 0..N-1 are points, node N + i is the i-th merge.
struct LinkageRow {
  std::int64_t left = 0, right = 0;
  double distance = 0.0;
  std::int64_t size = 0;
};

// One row of the condensed tree: points are 0..N-1, clusters N (the root), N+1, ...
// `child` leaves `parent` at `lambda` (= 1 / mutual-reachability distance); `size` is 1 for a point.
struct CondensedRow {
  std::int64_t parent = 0, child = 0;
  double lambda = 0.0;
  std::int64_t size = 0;
};

struct HdbscanResult {
  torch::Tensor labels;         // int64 [N], -1 noise, 0..clusterCount-1 otherwise; input's device
  torch::Tensor probabilities;  // float32 [N] in [0, 1], 0 for noise; input's device
  torch::Tensor coreDistances;  // [N], input's device
  int clusterCount = 0;
  std::vector<double> stabilities;             // excess of mass of each cluster, indexed by label
  std::vector<std::int64_t> selectedClusters;  // condensed-tree id of each label
  std::vector<LinkageRow> singleLinkage;       // N - 1 rows, by increasing distance
  std::vector<CondensedRow> condensedTree;
};

// `features`: [N, D] floating point, finite, N >= min_samples. float64 input is computed in float64,
// other floating types in float32. Deterministic; cancellation is checked between blocks and steps.
Result<HdbscanResult> hdbscan(const torch::Tensor& features, const HdbscanOptions& options = {},
                              const CancelToken& cancel = {}, Progress progress = {});

struct MstEdge {
  std::int64_t from = 0, to = 0;
  double weight = 0.0;
};
enum class PrimMethod {
  Auto,       // HostLoop; a device matrix is copied to the host first (see below)
  HostLoop,   // a plain loop over the rows (CPU tensors only)
  TensorOps,  // tensor operations on the matrix's device, no host round trip per step
};
// Auto on a device (CUDA) matrix: one copy to the host and the host loop. Measured on an H200 with 4095
// points: TensorOps launches ~8 small kernels per step (N steps), 471-598 ms in all, 4x slower than the
// whole CPU path; the copy of the N x N matrix costs milliseconds.
// Prim's algorithm on a dense symmetric [N, N] weight matrix (diagonal ignored), from vertex 0, as the
// hdbscan implementations do: N - 1 edges in the order they join the tree; ties go to the lower index.
// With `core` ([N]) an edge i-j weighs max(weights[i][j], core[i], core[j]): the mutual-reachability
// tree without storing the mutual-reachability matrix.
Result<std::vector<MstEdge>> primMinimumSpanningTree(const torch::Tensor& weights, PrimMethod method = PrimMethod::Auto,
                                                     const CancelToken& cancel = {}, const torch::Tensor& core = {});

}  // namespace loupe::analysis
