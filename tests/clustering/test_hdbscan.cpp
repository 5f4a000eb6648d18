// HDBSCAN: condensed trees and selections derived by hand on 1-D points, blobs with noise, one blob,
// pure noise, the cosine metric, Prim's two implementations against each other, errors and cancellation.
#include <QtTest>

#include <cmath>
#include <set>

#include "ClusteringTestUtil.h"
#include "analysis/Hdbscan.h"

using namespace loupe;
using namespace loupe::analysis;
using namespace clustering_test;

namespace {
torch::Tensor points1d(std::vector<double> x) { return torch::tensor(x, torch::kDouble).unsqueeze(1); }

// The condensed tree as a set of (parent, child, lambda, size), to compare without caring about order.
std::set<std::tuple<std::int64_t, std::int64_t, double, std::int64_t>> rowSet(const std::vector<CondensedRow>& tree) {
  std::set<std::tuple<std::int64_t, std::int64_t, double, std::int64_t>> s;
  for (const CondensedRow& r : tree) s.insert({r.parent, r.child, r.lambda, r.size});
  return s;
}

std::vector<float> floats(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Uniform points in [lo, hi]^2 that keep at least `gap` from each of `avoid` ([K, 2]).
torch::Tensor uniformNoise(std::int64_t count, double lo, double hi, const torch::Tensor& avoid, double gap,
                           std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> kept;
  std::int64_t have = 0;
  while (have < count) {
    const torch::Tensor p = lo + (hi - lo) * torch::rand({1, 2}, torch::kDouble);
    if (avoid.numel() > 0 && torch::cdist(p, avoid).min().item<double>() < gap) continue;
    kept.push_back(p);
    ++have;
  }
  return torch::cat(kept);
}
}  // namespace

class TestHdbscan : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldBuildTheHandDerivedCondensedTree();
  void shouldPreferTheParentWhenItIsMoreStable();
  void shouldFindTwoBlobsAndLabelNoise();
  void shouldFindOneClusterInOneBlobOnlyWhenAllowed();
  void shouldFindNoClusterInUniformNoise();
  void shouldClusterRaysByDirectionWithCosine();
  void shouldAgreeBetweenPrimImplementations();
  void shouldTakeMutualReachabilityOnTheFly();
  void shouldNotDependOnTheDistanceBlockSize();
  void shouldFindTheHandMadeSpanningTree();
  void shouldBeDeterministicAndAcceptFloat32();
  void shouldReportProgress();
  void shouldRejectBadArguments_data();
  void shouldRejectBadArguments();
  void shouldRefuseMatricesOverTheLimit();
  void shouldStopWhenCancelled();
};

void TestHdbscan::shouldBuildTheHandDerivedCondensedTree() {
  // Points (index: x)  0:0  1:1  2:2  3:10  4:11  5:12  6:14  7:30;  min_samples 2, min_cluster_size 3.
  //
  // Core distance = distance to the 2nd nearest point counting the point itself = nearest other point:
  //   1 1 1 1 1 1 2 16.
  // Mutual reachability of neighbours in x: 0-1 1, 1-2 1, 2-3 max(1,1,8) = 8, 3-4 1, 4-5 1,
  //   5-6 max(1,2,2) = 2, 6-7 max(2,16,16) = 16. Any other pair is farther than the chain between them,
  //   so the minimum spanning tree is that chain. Single linkage: {0,1,2} and {3,4,5} at 1, then
  //   {3,4,5,6} at 2, the 7 points at 8, all 8 at 16.
  // Condensed tree (lambda = 1/distance), clusters numbered from N = 8 (the root):
  //   at 16 point 7 (size 1 < 3) leaves the root:                        (8, 7, 1/16, 1)
  //   at 8 both sides have >= 3 points: new clusters 9 = {0,1,2} and 10 = {3,4,5,6}:
  //                                                                      (8, 9, 1/8, 3), (8, 10, 1/8, 4)
  //   cluster 9 at 1: {0,1} | {2}, both < 3: all leave at lambda 1:     (9, 0|1|2, 1, 1)
  //   cluster 10 at 2: {3,4,5} | {6}: point 6 leaves at 1/2, the rest stays 10: (10, 6, 1/2, 1)
  //              at 1: {3,4} | {5}, both < 3: all leave at lambda 1:   (10, 3|4|5, 1, 1)
  // Stability = sum (lambda_out - lambda_birth) * size:
  //   root: 1/16 + 3/8 + 4/8 = 0.9375;  9: 3 (1 - 1/8) = 2.625;  10: (1/2 - 1/8) + 3 (1 - 1/8) = 3.0
  // Excess of mass without the root: 9 and 10 are leaves, both selected -> labels 0 = {0,1,2},
  //   1 = {3,4,5,6}, point 7 is noise. Probability = lambda_out / the cluster's largest lambda (1):
  //   1 1 1 1 1 1 0.5, noise 0. Allowing a single cluster changes nothing: the root's 0.9375 < 5.625.
  const torch::Tensor x = points1d({0, 1, 2, 10, 11, 12, 14, 30});
  for (const bool single : {false, true}) {
    HdbscanOptions options;
    options.minSamples = 2;
    options.minClusterSize = 3;
    options.allowSingleCluster = single;
    const auto r = hdbscan(x, options);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(floats(r->coreDistances), (std::vector<float>{1, 1, 1, 1, 1, 1, 2, 16}));
    std::vector<double> merges;
    for (const LinkageRow& m : r->singleLinkage) merges.push_back(m.distance);
    QCOMPARE(merges, (std::vector<double>{1, 1, 1, 1, 2, 8, 16}));
    QCOMPARE(r->singleLinkage.back().size, std::int64_t(8));
    const decltype(rowSet({})) expected{{8, 7, 1.0 / 16, 1}, {8, 9, 1.0 / 8, 3}, {8, 10, 1.0 / 8, 4}, {9, 0, 1, 1},
                                        {9, 1, 1, 1},        {9, 2, 1, 1},       {10, 6, 0.5, 1},     {10, 3, 1, 1},
                                        {10, 4, 1, 1},       {10, 5, 1, 1}};
    QCOMPARE(rowSet(r->condensedTree), expected);
    QCOMPARE(r->condensedTree.size(), expected.size());
    QCOMPARE(r->clusterCount, 2);
    QCOMPARE(r->selectedClusters, (std::vector<std::int64_t>{9, 10}));
    QCOMPARE(r->stabilities.size(), std::size_t(2));
    QCOMPARE(r->stabilities[0], 2.625);
    QCOMPARE(r->stabilities[1], 3.0);
    QCOMPARE(toVector(r->labels), (std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 1, -1}));
    QCOMPARE(floats(r->probabilities), (std::vector<float>{1, 1, 1, 1, 1, 1, 0.5f, 0}));
  }
  // FOCAL's rule: largest cluster (label 1, 4 points) pristine, cluster 0 forged, the noise point pristine.
  HdbscanOptions options;
  options.minSamples = 2;
  options.minClusterSize = 3;
  const auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  const auto f = forgeryLabelsFromClusters(r->labels);
  QVERIFY(f.ok());
  QVERIFY(f->forgeryFound);
  QCOMPARE(f->pristineCluster, std::int64_t(1));
  QCOMPARE(toVector(f->forged), (std::vector<std::int64_t>{1, 1, 1, 0, 0, 0, 0, 0}));
}

void TestHdbscan::shouldPreferTheParentWhenItIsMoreStable() {
  // Points 0:0 1:1 2:2 3:4 4:5 5:6 6:101; min_samples 1 (core distance 0: mutual reachability = distance),
  // min_cluster_size 3. Chain distances 1 1 2 1 1 95.
  // Condensed: (7, 6, 1/95, 1); at 2 the 6 points split into 8 = {0,1,2} and 9 = {3,4,5}, both born at
  //   lambda 1/2: (7, 8, 1/2, 3), (7, 9, 1/2, 3); each then loses its 3 points at lambda 1.
  // Stability: 8 and 9: 3 (1 - 1/2) = 1.5 each, 3.0 together; root: 1/95 + 3/2 + 3/2 = 3.0105...
  // Without a single cluster the root is out of the running: 8 and 9 are the clusters, 101 is noise.
  // With it, the root (3.0105) beats its children (3.0) and is the one cluster; as in hdbscan only points
  //   still in it at its largest lambda (1/2) are labelled: 0..5 (they leave at 1), not 101 (1/95).
  // (The mean of the points, 17, is an integer: centring keeps every distance exact.)
  //   Probabilities min(1, 1/2) / (1/2) = 1.
  const torch::Tensor x = points1d({0, 1, 2, 4, 5, 6, 101});
  HdbscanOptions options;
  options.minSamples = 1;
  options.minClusterSize = 3;
  auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(floats(r->coreDistances), std::vector<float>(7, 0.f));
  const decltype(rowSet({})) expected{{7, 6, 1.0 / 95, 1}, {7, 8, 0.5, 3}, {7, 9, 0.5, 3}, {8, 0, 1, 1}, {8, 1, 1, 1},
                                      {8, 2, 1, 1},        {9, 3, 1, 1},   {9, 4, 1, 1},   {9, 5, 1, 1}};
  QCOMPARE(rowSet(r->condensedTree), expected);
  QCOMPARE(toVector(r->labels), (std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, -1}));
  QCOMPARE(r->stabilities, (std::vector<double>{1.5, 1.5}));

  options.allowSingleCluster = true;
  r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 1);
  QCOMPARE(r->selectedClusters, (std::vector<std::int64_t>{7}));
  QVERIFY(std::abs(r->stabilities[0] - (1.0 / 95 + 3.0)) < 1e-12);
  QCOMPARE(toVector(r->labels), (std::vector<std::int64_t>{0, 0, 0, 0, 0, 0, -1}));
  QCOMPARE(floats(r->probabilities), (std::vector<float>{1, 1, 1, 1, 1, 1, 0}));
  // One cluster: FOCAL judges the image pristine.
  const auto f = forgeryLabelsFromClusters(r->labels);
  QVERIFY(f.ok());
  QVERIFY(!f->forgeryFound);
  QVERIFY(!f->forged.any().item<bool>());
}

void TestHdbscan::shouldFindTwoBlobsAndLabelNoise() {
  // Two dense blobs (sigma 0.5; 150 and 100 points) 5 apart, and 40 uniform points over [-20, 25]^2 kept
  // at least 6 from both blob centres. The blobs separate at a mutual-reachability distance of about 3
  // (their facing edges); every noise point is farther than that from anything once its core distance
  // (10th neighbour, several units in this sparse noise) counts, so it leaves the root before the split.
  const torch::Tensor centres = torch::tensor({0.0, 0.0, 5.0, 0.0}, torch::kDouble).view({2, 2});
  const auto [blob, truth] = blobs(centres, {150, 100}, 0.5, 17);
  const torch::Tensor noise = uniformNoise(40, -20, 25, centres, 6, 18);
  const torch::Tensor x = torch::cat({blob, noise});
  HdbscanOptions options;
  options.minClusterSize = 20;
  options.minSamples = 10;
  const auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 2);
  const auto labels = toVector(r->labels);
  for (std::size_t i = 250; i < labels.size(); ++i) QCOMPARE(labels[i], std::int64_t(-1));
  // Blob points: each blob in one cluster of its own; at most a few outer points of a blob may be noise.
  const auto t = toVector(truth);
  std::map<std::int64_t, std::int64_t> clusterOf;
  int blobNoise = 0;
  for (std::size_t i = 0; i < 250; ++i) {
    if (labels[i] < 0) {
      ++blobNoise;
      continue;
    }
    const auto it = clusterOf.emplace(t[i], labels[i]).first;
    QCOMPARE(it->second, labels[i]);
  }
  QCOMPARE(clusterOf.size(), std::size_t(2));
  QVERIFY(clusterOf[0] != clusterOf[1]);
  QVERIFY2(blobNoise <= 10, qPrintable(QString("%1 blob points labelled noise").arg(blobNoise)));
  // Probabilities: in [0, 1], 0 for noise, 1 for the densest points of each cluster.
  const auto p = floats(r->probabilities);
  for (std::size_t i = 0; i < p.size(); ++i) {
    QVERIFY(p[i] >= 0 && p[i] <= 1);
    if (labels[i] < 0) QCOMPARE(p[i], 0.f);
  }
  QVERIFY(*std::max_element(p.begin(), p.begin() + 150) == 1.f);
  // FOCAL's rule: the 150-point blob is pristine, the 100-point blob forged, noise pristine.
  const auto f = forgeryLabelsFromClusters(r->labels);
  QVERIFY(f.ok());
  QCOMPARE(f->pristineCluster, clusterOf[0]);
  const auto forged = toVector(f->forged);
  for (std::size_t i = 0; i < forged.size(); ++i)
    QCOMPARE(forged[i], std::int64_t(i >= 150 && i < 250 && labels[i] >= 0 ? 1 : 0));
}

void TestHdbscan::shouldFindOneClusterInOneBlobOnlyWhenAllowed() {
  // One Gaussian blob and some far noise: no split ever leaves two parts of >= 40 points, so the root is
  // the only candidate. Not allowed (the default, as in hdbscan): no cluster; allowed: exactly one.
  const torch::Tensor centre = torch::zeros({1, 2}, torch::kDouble);
  const torch::Tensor blob = blobs(centre, {300}, 1.0, 23).first;
  const torch::Tensor noise = uniformNoise(20, -30, 30, centre, 10, 24);
  const torch::Tensor x = torch::cat({blob, noise});
  HdbscanOptions options;
  options.minClusterSize = 40;
  options.minSamples = 10;
  auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 0);
  QVERIFY((r->labels == -1).all().item<bool>());
  options.allowSingleCluster = true;
  r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 1);
  const auto labels = toVector(r->labels);
  for (std::size_t i = 300; i < labels.size(); ++i) QCOMPARE(labels[i], std::int64_t(-1));  // far noise
  QVERIFY(std::count(labels.begin(), labels.begin() + 300, std::int64_t(0)) > 0);
  // Either way the image is pristine for FOCAL.
  const auto f = forgeryLabelsFromClusters(r->labels);
  QVERIFY(f.ok());
  QVERIFY(!f->forgeryFound);
  QCOMPARE(f->clusterCount, 1);
}

void TestHdbscan::shouldFindNoClusterInUniformNoise() {
  // 500 uniform points in the unit square and min_cluster_size 200: the density has no mode, and no
  // split leaves two parts of 200 points.
  torch::manual_seed(31);
  const torch::Tensor x = torch::rand({500, 2}, torch::kDouble);
  HdbscanOptions options;
  options.minClusterSize = 200;
  options.minSamples = 10;
  const auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 0);
  QVERIFY((r->labels == -1).all().item<bool>());
  QVERIFY((r->probabilities == 0).all().item<bool>());
  const auto f = forgeryLabelsFromClusters(r->labels);
  QVERIFY(f.ok());
  QVERIFY(!f->forgeryFound);
  QCOMPARE(f->pristineCluster, std::int64_t(-1));
}

void TestHdbscan::shouldClusterRaysByDirectionWithCosine() {
  // Two rays from the origin, 60 degrees apart, points at lengths 1..50 with small angular jitter. In
  // cosine distance each ray is one tight group whatever the length; in Euclidean distance the points
  // along a ray are spread out and the near ends of both rays are closer to each other than to their
  // far ends. min_cluster_size 60 of 100 points per ray: a ray cannot split into two clusters. (Smaller
  // sizes may split a ray: cosine distance grows with the square of the angle, so lambda = 1/distance
  // is huge deep inside a ray and small random gaps there weigh a lot in the stability.)
  torch::manual_seed(41);
  std::vector<torch::Tensor> points;
  std::vector<std::int64_t> truth;
  for (int ray = 0; ray < 2; ++ray)
    for (int i = 0; i < 100; ++i) {
      const double a = ray * M_PI / 3 + 0.01 * torch::randn({1}, torch::kDouble).item<double>();
      const double len = 1 + 49 * torch::rand({1}, torch::kDouble).item<double>();
      points.push_back(torch::tensor({len * std::cos(a), len * std::sin(a)}, torch::kDouble));
      truth.push_back(ray);
    }
  const torch::Tensor x = torch::stack(points);
  HdbscanOptions options;
  options.minClusterSize = 60;
  options.minSamples = 5;
  options.metric = ClusterMetric::Cosine;
  const auto r = hdbscan(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->clusterCount, 2);
  const torch::Tensor clustered = (r->labels >= 0).nonzero().flatten();
  QVERIFY(clustered.size(0) >= 180);
  QVERIFY(samePartition(r->labels.index_select(0, clustered), torch::tensor(truth).index_select(0, clustered)));
}

void TestHdbscan::shouldAgreeBetweenPrimImplementations() {
  // The CPU loop and the tensor-operation version (the one CUDA runs) give the same tree on a random
  // symmetric matrix (distinct weights: one minimum spanning tree, same order from vertex 0).
  torch::manual_seed(51);
  for (const auto dtype : {torch::kFloat, torch::kDouble}) {
    torch::Tensor w = torch::rand({200, 200}, dtype);
    w = w + w.t();
    const auto a = primMinimumSpanningTree(w, PrimMethod::HostLoop);
    const auto b = primMinimumSpanningTree(w, PrimMethod::TensorOps);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->size(), std::size_t(199));
    QCOMPARE(b->size(), a->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
      QCOMPARE((*a)[i].from, (*b)[i].from);
      QCOMPARE((*a)[i].to, (*b)[i].to);
      QCOMPARE((*a)[i].weight, (*b)[i].weight);
    }
    // Spanning: every vertex but 0 is reached exactly once.
    std::set<std::int64_t> reached;
    for (const MstEdge& e : *a) reached.insert(e.to);
    QCOMPARE(reached.size(), std::size_t(199));
    QVERIFY(!reached.count(0));
  }
}

void TestHdbscan::shouldTakeMutualReachabilityOnTheFly() {
  // Prim's with core distances equals Prim's on the materialised max(w, core_i, core_j), both ways.
  torch::manual_seed(52);
  torch::Tensor w = torch::rand({150, 150}, torch::kDouble);
  w = w + w.t();
  const torch::Tensor core = 0.8 + torch::rand({150}, torch::kDouble);  // many edges raised to a core
  const torch::Tensor mr = torch::maximum(w, torch::maximum(core.unsqueeze(0), core.unsqueeze(1)));
  const auto reference = primMinimumSpanningTree(mr, PrimMethod::HostLoop);
  QVERIFY(reference.ok());
  double total = 0;
  for (const MstEdge& e : *reference) total += e.weight;
  for (const auto method : {PrimMethod::HostLoop, PrimMethod::TensorOps}) {
    const auto r = primMinimumSpanningTree(w, method, {}, core);
    QVERIFY(r.ok());
    QCOMPARE(r->size(), reference->size());
    double sum = 0;
    for (const MstEdge& e : *r) sum += e.weight;
    // Ties among raised edges may pick different (equally light) edges: compare the total weight.
    QVERIFY2(std::abs(sum - total) < 1e-9, qPrintable(QString("%1 vs %2").arg(sum).arg(total)));
  }
  QVERIFY(!primMinimumSpanningTree(w, PrimMethod::HostLoop, {}, torch::zeros({3}, torch::kDouble)).ok());
}

void TestHdbscan::shouldNotDependOnTheDistanceBlockSize() {
  // The matrix is built in row blocks, each computing its part on and above the diagonal and mirroring
  // the rest: 1, 7, 64 rows per block and one block must give the same clustering of 750 points.
  const torch::Tensor centres =
      torch::tensor({0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0, 1.0}, torch::kDouble).view({3, 3});
  torch::Tensor x = blobs(centres, {300, 250, 150}, 0.8, 53).first;
  x = torch::cat(
      {x, uniformNoise(50, -8, 12, torch::empty({0, 2}, torch::kDouble), 0, 54).repeat({1, 2}).narrow(1, 0, 3)});
  for (const auto metric : {ClusterMetric::Euclidean, ClusterMetric::Cosine})
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
      HdbscanOptions options;
      options.minClusterSize = 40;
      options.minSamples = 8;
      options.metric = metric;
      options.rowsPerBlock = x.size(0);
      const auto whole = hdbscan(x.to(dtype), options);
      QVERIFY(whole.ok());
      for (const std::int64_t rows : {1, 7, 64}) {
        options.rowsPerBlock = rows;
        const auto r = hdbscan(x.to(dtype), options);
        QVERIFY(r.ok());
        // Products of different shapes round differently (last bits only); the clustering is the same.
        const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
        QVERIFY(torch::allclose(r->coreDistances, whole->coreDistances, tol, tol));
        QVERIFY(torch::equal(r->labels, whole->labels));
        QVERIFY(torch::allclose(r->probabilities, whole->probabilities, 1e-4, 1e-4));
      }
    }
}

void TestHdbscan::shouldFindTheHandMadeSpanningTree() {
  // 4 vertices; weights 0-1 5, 0-2 1, 0-3 4, 1-2 2, 1-3 3, 2-3 6. From 0: take 0-2 (1), then 2-1 (2,
  // better than 0-1's 5), then 1-3 (3, better than 0-3's 4): total 6.
  const torch::Tensor w =
      torch::tensor({0., 5., 1., 4., 5., 0., 2., 3., 1., 2., 0., 6., 4., 3., 6., 0.}, torch::kDouble).view({4, 4});
  for (const auto method : {PrimMethod::HostLoop, PrimMethod::TensorOps}) {
    const auto r = primMinimumSpanningTree(w, method);
    QVERIFY(r.ok());
    QCOMPARE(r->size(), std::size_t(3));
    QCOMPARE(((*r)[0].from), std::int64_t(0));
    QCOMPARE(((*r)[0].to), std::int64_t(2));
    QCOMPARE(((*r)[0].weight), 1.0);
    QCOMPARE(((*r)[1].from), std::int64_t(2));
    QCOMPARE(((*r)[1].to), std::int64_t(1));
    QCOMPARE(((*r)[1].weight), 2.0);
    QCOMPARE(((*r)[2].from), std::int64_t(1));
    QCOMPARE(((*r)[2].to), std::int64_t(3));
    QCOMPARE(((*r)[2].weight), 3.0);
  }
  // Ties: vertices 1, 2, 3 all at weight 1 from 0: Prim's picks them in index order.
  const torch::Tensor ties =
      torch::tensor({0., 1., 1., 1., 1., 0., 9., 9., 1., 9., 0., 9., 1., 9., 9., 0.}, torch::kDouble).view({4, 4});
  for (const auto method : {PrimMethod::HostLoop, PrimMethod::TensorOps}) {
    const auto r = primMinimumSpanningTree(ties, method);
    QVERIFY(r.ok());
    QCOMPARE((*r)[0].to, std::int64_t(1));
    QCOMPARE((*r)[1].to, std::int64_t(2));
    QCOMPARE((*r)[2].to, std::int64_t(3));
    for (const MstEdge& e : *r) QCOMPARE(e.from, std::int64_t(0));
  }
  QVERIFY(!primMinimumSpanningTree(torch::zeros({3, 4})).ok());
  QVERIFY(primMinimumSpanningTree(torch::zeros({0, 0}))->empty());
}

void TestHdbscan::shouldBeDeterministicAndAcceptFloat32() {
  const torch::Tensor centres = torch::tensor({0.0, 0.0, 6.0, 6.0}, torch::kDouble).view({2, 2});
  const torch::Tensor x = blobs(centres, {120, 80}, 0.7, 61).first;
  HdbscanOptions options;
  options.minClusterSize = 25;
  const auto a = hdbscan(x, options);
  const auto b = hdbscan(x, options);
  const auto f = hdbscan(x.to(torch::kFloat), options);
  QVERIFY(a.ok() && b.ok() && f.ok());
  QVERIFY(torch::equal(a->labels, b->labels));
  QVERIFY(torch::equal(a->probabilities, b->probabilities));
  QCOMPARE(a->clusterCount, 2);
  QCOMPARE(f->clusterCount, 2);
  QCOMPARE(f->coreDistances.scalar_type(), torch::kFloat);
  QVERIFY(adjustedRandIndex(a->labels, f->labels) > 0.95);
}

void TestHdbscan::shouldReportProgress() {
  std::vector<double> fractions;
  Progress progress([&](double fraction, const std::string&) { fractions.push_back(fraction); });
  torch::manual_seed(71);
  HdbscanOptions options;
  options.minClusterSize = 5;
  QVERIFY(hdbscan(torch::rand({50, 3}), options, {}, progress).ok());
  QVERIFY(fractions.size() >= 3);
  QCOMPARE(fractions.back(), 1.0);
  QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
}

void TestHdbscan::shouldRejectBadArguments_data() {
  QTest::addColumn<int>("which");
  QTest::addColumn<QString>("mentions");
  QTest::newRow("undefined") << 0 << "feature tensor";
  QTest::newRow("3-D") << 1 << "[N, D]";
  QTest::newRow("integers") << 2 << "floating-point";
  QTest::newRow("min_cluster_size 1") << 3 << "min_cluster_size >= 2";
  QTest::newRow("negative min_samples") << 4 << "min_samples >= 1";
  QTest::newRow("fewer points than min_samples") << 5 << "at least that many points";
  QTest::newRow("infinite") << 6 << "infinite";
}

void TestHdbscan::shouldRejectBadArguments() {
  QFETCH(int, which);
  QFETCH(QString, mentions);
  torch::Tensor x = torch::rand({30, 2}, torch::kDouble);
  HdbscanOptions options;
  options.minClusterSize = 5;
  switch (which) {
    case 0: x = torch::Tensor(); break;
    case 1: x = torch::rand({3, 3, 3}); break;
    case 2: x = torch::ones({30, 2}, torch::kInt); break;
    case 3: options.minClusterSize = 1; break;
    case 4: options.minSamples = -1; break;
    case 5: options.minSamples = 31; break;
    case 6: x[4][0] = std::numeric_limits<double>::infinity(); break;
  }
  const auto r = hdbscan(x, options);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY2(QString::fromStdString(r.error().message).contains(mentions), r.error().message.c_str());
}

void TestHdbscan::shouldRefuseMatricesOverTheLimit() {
  HdbscanOptions options;
  options.minClusterSize = 5;
  options.maxMatrixBytes = 1000 * 1000 * 4 - 1;  // one byte short of 1000 x 1000 float32
  const auto r = hdbscan(torch::rand({1000, 2}), options);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::TooLarge);
  QVERIFY(QString::fromStdString(r.error().message).contains("subsample"));
  options.maxMatrixBytes = 1000 * 1000 * 4;
  QVERIFY(hdbscan(torch::rand({1000, 2}), options).ok());
}

void TestHdbscan::shouldStopWhenCancelled() {
  CancelToken cancel;
  cancel.cancel();
  HdbscanOptions options;
  options.minClusterSize = 5;
  const auto r = hdbscan(torch::rand({100, 2}), options, cancel);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::Cancelled);
  const auto p = primMinimumSpanningTree(torch::rand({10, 10}), PrimMethod::HostLoop, cancel);
  QVERIFY(!p.ok());
  QCOMPARE(p.error().code, ErrorCode::Cancelled);
}

QTEST_GUILESS_MAIN(TestHdbscan)
#include "test_hdbscan.moc"
