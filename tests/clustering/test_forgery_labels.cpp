// FOCAL's rule from clusters to a forgery map: largest cluster pristine, others forged, noise pristine,
// fewer than two clusters -> pristine image; and the whole chain on FOCAL-shaped features.
#include <QtTest>

#include "ClusteringTestUtil.h"
#include "analysis/Hdbscan.h"
#include "analysis/KMeans.h"

using namespace loupe;
using namespace loupe::analysis;
using namespace clustering_test;

namespace {
torch::Tensor labelsOf(std::vector<std::int64_t> values) { return torch::tensor(values, torch::kLong); }

// FOCAL-shaped features: a 64 x 64 grid of 288-d unit vectors; the positions inside `box` (a forged
// region, 10 % of the image) come from another direction than the rest, both with noise.
std::pair<torch::Tensor, torch::Tensor> focalLikeFeatures(std::int64_t side, double noise, std::uint64_t seed) {
  torch::manual_seed(seed);
  const std::int64_t n = side * side, d = 288;
  const torch::Tensor pristine = torch::randn({d}, torch::kDouble);
  const torch::Tensor forgedDir = torch::randn({d}, torch::kDouble);
  torch::Tensor forged = torch::zeros({side, side}, torch::kBool);
  // A rectangle of ~10 % of the positions: side x 0.4 wide, side x 0.25 high.
  forged.narrow(0, side / 8, side / 4).narrow(1, side / 3, (side * 2) / 5).fill_(true);
  forged = forged.flatten();
  torch::Tensor x = torch::where(forged.unsqueeze(1), forgedDir.unsqueeze(0), pristine.unsqueeze(0)) +
                    noise * torch::randn({n, d}, torch::kDouble);
  x = unitRows(x);
  return {x.to(torch::kFloat), forged};
}
}  // namespace

class TestForgeryLabels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldCallTheLargestClusterPristine_data();
  void shouldCallTheLargestClusterPristine();
  void shouldJudgeFewerThanTwoClustersPristine_data();
  void shouldJudgeFewerThanTwoClustersPristine();
  void shouldRejectBadLabels_data();
  void shouldRejectBadLabels();
  void shouldLocateTheForgedRegionWithCosineKMeans();
  void shouldLocateTheForgedRegionWithHdbscan();
};

void TestForgeryLabels::shouldCallTheLargestClusterPristine_data() {
  QTest::addColumn<std::vector<std::int64_t>>("labels");
  QTest::addColumn<std::int64_t>("pristine");
  QTest::addColumn<std::vector<std::int64_t>>("forged");
  QTest::addColumn<int>("clusters");
  QTest::newRow("majority 0") << std::vector<std::int64_t>{0, 0, 0, 1} << std::int64_t(0)
                              << std::vector<std::int64_t>{0, 0, 0, 1} << 2;
  QTest::newRow("majority 1 (FOCAL flips)") << std::vector<std::int64_t>{0, 1, 1, 1, 0, 1} << std::int64_t(1)
                                            << std::vector<std::int64_t>{1, 0, 0, 0, 1, 0} << 2;
  QTest::newRow("tie: lower label pristine")
      << std::vector<std::int64_t>{1, 0, 1, 0} << std::int64_t(0) << std::vector<std::int64_t>{1, 0, 1, 0} << 2;
  QTest::newRow("three clusters") << std::vector<std::int64_t>{2, 0, 2, 1, 2, 0} << std::int64_t(2)
                                  << std::vector<std::int64_t>{0, 1, 0, 1, 0, 1} << 3;
  QTest::newRow("noise is pristine") << std::vector<std::int64_t>{-1, 0, 0, 1, -1, 0} << std::int64_t(0)
                                     << std::vector<std::int64_t>{0, 0, 0, 1, 0, 0} << 2;
  QTest::newRow("noise outnumbers clusters") << std::vector<std::int64_t>{-1, -1, -1, -1, 1, 0, 1} << std::int64_t(1)
                                             << std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 0} << 2;
  QTest::newRow("gap in label ids") << std::vector<std::int64_t>{5, 5, 3} << std::int64_t(5)
                                    << std::vector<std::int64_t>{0, 0, 1} << 2;
}

void TestForgeryLabels::shouldCallTheLargestClusterPristine() {
  QFETCH(std::vector<std::int64_t>, labels);
  QFETCH(std::int64_t, pristine);
  QFETCH(std::vector<std::int64_t>, forged);
  QFETCH(int, clusters);
  for (const auto dtype : {torch::kLong, torch::kInt}) {
    const auto r = forgeryLabelsFromClusters(labelsOf(labels).to(dtype));
    QVERIFY(r.ok());
    QCOMPARE(r->forged.scalar_type(), torch::kBool);
    QVERIFY(r->forgeryFound);
    QCOMPARE(r->pristineCluster, pristine);
    QCOMPARE(r->clusterCount, clusters);
    QCOMPARE(toVector(r->forged), forged);
  }
}

void TestForgeryLabels::shouldJudgeFewerThanTwoClustersPristine_data() {
  QTest::addColumn<std::vector<std::int64_t>>("labels");
  QTest::addColumn<std::int64_t>("pristine");
  QTest::addColumn<int>("clusters");
  QTest::newRow("one cluster") << std::vector<std::int64_t>{0, 0, 0} << std::int64_t(0) << 1;
  QTest::newRow("one cluster and noise") << std::vector<std::int64_t>{-1, 3, 3, -1} << std::int64_t(3) << 1;
  QTest::newRow("all noise") << std::vector<std::int64_t>{-1, -1} << std::int64_t(-1) << 0;
  QTest::newRow("empty") << std::vector<std::int64_t>{} << std::int64_t(-1) << 0;
}

void TestForgeryLabels::shouldJudgeFewerThanTwoClustersPristine() {
  QFETCH(std::vector<std::int64_t>, labels);
  QFETCH(std::int64_t, pristine);
  QFETCH(int, clusters);
  const auto r = forgeryLabelsFromClusters(labelsOf(labels));
  QVERIFY(r.ok());
  QVERIFY(!r->forgeryFound);
  QCOMPARE(r->pristineCluster, pristine);
  QCOMPARE(r->clusterCount, clusters);
  QCOMPARE(r->forged.size(0), std::int64_t(labels.size()));
  QVERIFY(!r->forged.any().item<bool>());
}

void TestForgeryLabels::shouldRejectBadLabels_data() {
  QTest::addColumn<int>("which");
  QTest::newRow("undefined") << 0;
  QTest::newRow("2-D") << 1;
  QTest::newRow("floating point") << 2;
  QTest::newRow("bool") << 3;
  QTest::newRow("label -2") << 4;
}

void TestForgeryLabels::shouldRejectBadLabels() {
  QFETCH(int, which);
  torch::Tensor labels;
  switch (which) {
    case 1: labels = torch::zeros({2, 2}, torch::kLong); break;
    case 2: labels = torch::zeros({4}); break;
    case 3: labels = torch::zeros({4}, torch::kBool); break;
    case 4: labels = labelsOf({0, 1, -2}); break;
  }
  const auto r = forgeryLabelsFromClusters(labels);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
}

void TestForgeryLabels::shouldLocateTheForgedRegionWithCosineKMeans() {
  // What FOCAL does per image: cosine k-means with k = 2 on the 64 x 64 x 288 features, then the rule.
  const auto [x, truth] = focalLikeFeatures(64, 0.08, 81);
  QCOMPARE(x.size(0), std::int64_t(4096));
  const double share = truth.to(torch::kDouble).mean().item<double>();
  QVERIFY(share > 0.08 && share < 0.12);
  const auto clusters = kmeans(x);  // defaults: cosine, k = 2
  QVERIFY(clusters.ok());
  const auto r = forgeryLabelsFromClusters(clusters->labels);
  QVERIFY(r.ok());
  QVERIFY(r->forgeryFound);
  QVERIFY(torch::equal(r->forged, truth));
}

void TestForgeryLabels::shouldLocateTheForgedRegionWithHdbscan() {
  // The same with HDBSCAN on a 32 x 32 grid (min_cluster_size 50 for 1024 positions, as 200 for 4096).
  const auto [x, truth] = focalLikeFeatures(32, 0.08, 82);
  HdbscanOptions options;
  options.minClusterSize = 50;
  options.metric = ClusterMetric::Cosine;
  const auto clusters = hdbscan(x, options);
  QVERIFY(clusters.ok());
  QCOMPARE(clusters->clusterCount, 2);
  const auto r = forgeryLabelsFromClusters(clusters->labels);
  QVERIFY(r.ok());
  QVERIFY(r->forgeryFound);
  // Forged positions are a subset of the truth (noise counts as pristine), and nearly all of it.
  QVERIFY(!(r->forged & ~truth).any().item<bool>());
  QVERIFY(r->forged.sum().item<std::int64_t>() >= truth.sum().item<std::int64_t>() * 95 / 100);
}

QTEST_GUILESS_MAIN(TestForgeryLabels)
#include "test_forgery_labels.moc"
