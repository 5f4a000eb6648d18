// k-means: exact recovery of separated blobs, hand-computed objectives in both metrics, determinism,
// a case built so cosine and Euclidean must disagree, scikit-learn as a run-time reference, errors.
#include <QtTest>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <limits>
#include <set>

#include "ClusteringTestUtil.h"
#include "analysis/KMeans.h"

using namespace loupe;
using namespace loupe::analysis;
using namespace clustering_test;

Q_DECLARE_METATYPE(loupe::analysis::ClusterMetric)

namespace {
torch::Tensor rows(std::initializer_list<std::initializer_list<double>> values) {
  std::vector<torch::Tensor> r;
  for (const auto& row : values) r.push_back(torch::tensor(std::vector<double>(row), torch::kDouble));
  return torch::stack(r);
}

torch::Tensor labelsOf(std::initializer_list<std::int64_t> values) {
  return torch::tensor(std::vector<std::int64_t>(values), torch::kLong);
}

// Runs /usr/bin/python3 -c `script` `args`; empty when Python, NumPy or scikit-learn is missing or fails.
QString python(const QString& script, const QStringList& args = {}) {
  if (!QFile::exists("/usr/bin/python3")) return {};
  QProcess p;
  p.start("/usr/bin/python3", QStringList{"-c", script} + args);
  if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    qWarning() << "python:" << p.readAllStandardError();
    return {};
  }
  return QString::fromUtf8(p.readAllStandardOutput());
}

bool haveScikitLearn() { return python("import numpy, sklearn.cluster; print('ok')").trimmed() == "ok"; }

// scikit-learn's KMeans (Lloyd, k-means++, n_init 10) on the float64 rows of `x`:
// (inertia, labels), or an undefined tensor when the reference could not run.
std::pair<double, torch::Tensor> scikitLearnKMeans(const torch::Tensor& x, int k) {
  QTemporaryDir dir;
  const QString path = dir.filePath("x.f64");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return {0, {}};
  const torch::Tensor c = x.to(torch::kDouble).contiguous();
  f.write(reinterpret_cast<const char*>(c.data_ptr<double>()), qint64(c.numel() * sizeof(double)));
  f.close();
  const QString script =
      "import sys, numpy as np\n"
      "from sklearn.cluster import KMeans\n"
      "n, d, k = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n"
      "x = np.fromfile(sys.argv[4], dtype='<f8').reshape(n, d)\n"
      "km = KMeans(n_clusters=k, n_init=10, max_iter=300, tol=1e-4, algorithm='lloyd', random_state=0).fit(x)\n"
      "print(repr(float(km.inertia_)))\n"
      "print(' '.join(str(int(v)) for v in km.labels_))\n";
  const QString out =
      python(script, {QString::number(x.size(0)), QString::number(x.size(1)), QString::number(k), path});
  const QStringList lines = out.split('\n', Qt::SkipEmptyParts);
  if (lines.size() != 2) return {0, {}};
  std::vector<std::int64_t> labels;
  for (const QString& v : lines[1].split(' ', Qt::SkipEmptyParts)) labels.push_back(v.toLongLong());
  if (std::int64_t(labels.size()) != x.size(0)) return {0, {}};
  return {lines[0].toDouble(), torch::tensor(labels, torch::kLong)};
}

// Three overlapping 5-D blobs: enough overlap for several local optima, so restarts matter.
torch::Tensor overlappingBlobs() {
  const torch::Tensor centres = rows({{0, 0, 0, 0, 0}, {3, 1, 0, 0, 1}, {0, 3, 2, 1, 0}});
  return blobs(centres, {200, 150, 250}, 1.2, 11).first;
}
}  // namespace

class TestKMeans : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldRecoverSeparatedBlobsExactly_data();
  void shouldRecoverSeparatedBlobsExactly();
  void shouldReachHandComputedEuclideanObjective();
  void shouldReachHandComputedCosineObjective();
  void shouldGiveIdenticalResultsForTheSameSeed();
  void shouldKeepTheBestOfSeveralRestarts();
  void shouldGroupByAngleInCosineAndByPositionInEuclidean();
  void shouldMatchScikitLearnEuclidean();
  void shouldMatchScikitLearnOnNormalisedFeatures();
  void shouldSurviveDuplicatePointsAndEmptyClusters();
  void shouldComputeFloat32InFloat32();
  void shouldRejectBadArguments_data();
  void shouldRejectBadArguments();
  void shouldStopWhenCancelled();
};

void TestKMeans::shouldRecoverSeparatedBlobsExactly_data() {
  QTest::addColumn<ClusterMetric>("metric");
  QTest::addColumn<int>("k");
  QTest::addColumn<int>("dims");
  for (const auto metric : {ClusterMetric::Euclidean, ClusterMetric::Cosine})
    for (const int k : {2, 3, 5})
      for (const int dims : {2, 16, 288})
        QTest::addRow("%s k=%d d=%d", clusterMetricName(metric), k, dims) << metric << k << dims;
}

void TestKMeans::shouldRecoverSeparatedBlobsExactly() {
  QFETCH(ClusterMetric, metric);
  QFETCH(int, k);
  QFETCH(int, dims);
  // Centres at distance 10 from the origin: in 2-D on a circle (at least 72 degrees apart), otherwise on
  // orthogonal axes. Per-coordinate sigma keeps each point within ~1 of its centre while centres are
  // >= 11.7 apart, so in either metric every point is far nearer its own centre than any other.
  torch::Tensor centres = torch::zeros({k, dims}, torch::kDouble);
  for (int i = 0; i < k; ++i) {
    if (dims == 2) {
      centres[i][0] = 10 * std::cos(2 * M_PI * i / k);
      centres[i][1] = 10 * std::sin(2 * M_PI * i / k);
    } else {
      centres[i][i] = 10;
    }
  }
  const std::vector<std::int64_t> counts{50, 80, 30, 60, 40};
  const double sigma = 0.3 * std::sqrt(2.0 / dims);
  const auto [x, truth] = blobs(centres, std::vector<std::int64_t>(counts.begin(), counts.begin() + k), sigma, 7);
  KMeansOptions options;
  options.k = k;
  options.metric = metric;
  options.nInit = 3;
  const auto r = kmeans(x, options);
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(r->labels.scalar_type(), torch::kLong);
  QCOMPARE(r->labels.size(0), x.size(0));
  QVERIFY(samePartition(r->labels, truth));
  QVERIFY(r->converged);
  QCOMPARE(r->centres.sizes(), (std::vector<std::int64_t>{k, dims}));
  if (metric == ClusterMetric::Cosine)  // centres are unit vectors
    QVERIFY(torch::allclose(r->centres.norm(2, 1), torch::ones({k}, torch::kDouble), 1e-9, 1e-9));
  // The objective is the one of the returned partition and centres.
  const torch::Tensor assigned = r->centres.index_select(0, r->labels);
  const torch::Tensor perRow =
      metric == ClusterMetric::Euclidean ? (x - assigned).pow(2).sum(1) : 1 - (unitRows(x) * assigned).sum(1);
  const double expected = perRow.sum().item<double>();
  QVERIFY(std::abs(r->objective - expected) <= 1e-9 * std::max(1.0, expected));
}

void TestKMeans::shouldReachHandComputedEuclideanObjective() {
  // A = (0,0), (2,0), (1,3): mean (1,1); squared distances 2, 2, 4 -> 8.
  // B = (10,10), (12,10): mean (11,10); squared distances 1, 1 -> 2.        Objective 10.
  // Any other split puts a point of one group with the far group: >= 100 from that alone.
  const torch::Tensor x = rows({{0, 0}, {2, 0}, {1, 3}, {10, 10}, {12, 10}});
  KMeansOptions options;
  options.metric = ClusterMetric::Euclidean;
  options.nInit = 4;
  const auto r = kmeans(x, options);
  QVERIFY(r.ok());
  QCOMPARE(r->objective, 10.0);
  QVERIFY(samePartition(r->labels, labelsOf({0, 0, 0, 1, 1})));
  const std::int64_t a = r->labels[0].item<std::int64_t>();
  QVERIFY(torch::allclose(r->centres[a], torch::tensor({1.0, 1.0}, torch::kDouble)));
  QVERIFY(torch::allclose(r->centres[1 - a], torch::tensor({11.0, 10.0}, torch::kDouble)));
}

void TestKMeans::shouldReachHandComputedCosineObjective() {
  // Directions 0 and 45 degrees (lengths 3 and 2*sqrt 2): normalised mean at 22.5 degrees, each 22.5 away.
  // Directions 180 and 270 degrees (lengths 1 and 5): normalised mean at 225 degrees, each 45 away.
  // Objective = 2 (1 - cos 22.5) + 2 (1 - cos 45) = 0.7380271... Lengths must not matter.
  // The other splits cost more: {0,45,270}|{180} 1.27, {0,270}|{45,180} 1.82, {0,45,180}|{270} 2.0.
  const torch::Tensor x = rows({{3, 0}, {2, 2}, {-1, 0}, {0, -5}});
  KMeansOptions options;
  options.metric = ClusterMetric::Cosine;
  options.nInit = 4;
  const auto r = kmeans(x, options);
  QVERIFY(r.ok());
  const double expected = 2 * (1 - std::cos(M_PI / 8)) + 2 * (1 - std::cos(M_PI / 4));
  QVERIFY2(std::abs(r->objective - expected) < 1e-12, qPrintable(QString::number(r->objective, 'g', 17)));
  QVERIFY(samePartition(r->labels, labelsOf({0, 0, 1, 1})));
  const std::int64_t a = r->labels[0].item<std::int64_t>();
  QVERIFY(torch::allclose(r->centres[a], torch::tensor({std::cos(M_PI / 8), std::sin(M_PI / 8)}, torch::kDouble)));
  QVERIFY(torch::allclose(r->centres[1 - a], torch::tensor({-std::sqrt(0.5), -std::sqrt(0.5)}, torch::kDouble)));
}

void TestKMeans::shouldGiveIdenticalResultsForTheSameSeed() {
  const torch::Tensor x = overlappingBlobs();
  for (const auto metric : {ClusterMetric::Euclidean, ClusterMetric::Cosine}) {
    KMeansOptions options;
    options.k = 3;
    options.metric = metric;
    options.seed = 1234;
    const auto a = kmeans(x, options);
    const auto b = kmeans(x, options);
    QVERIFY(a.ok() && b.ok());
    QVERIFY(torch::equal(a->labels, b->labels));
    QVERIFY(torch::equal(a->centres, b->centres));
    QCOMPARE(a->objective, b->objective);
    QCOMPARE(a->iterations, b->iterations);
  }
  // The seed is used: over a handful of seeds the first assignments are not all alike.
  std::set<std::vector<std::int64_t>> starts;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    KMeansOptions options;
    options.k = 3;
    options.metric = ClusterMetric::Euclidean;
    options.seed = seed;
    options.maxIterations = 1;  // the first assignment shows the seeding
    const auto r = kmeans(x, options);
    QVERIFY(r.ok());
    starts.insert(toVector(r->labels));
  }
  QVERIFY(starts.size() > 1);
}

void TestKMeans::shouldKeepTheBestOfSeveralRestarts() {
  // Nine blobs on a 3 x 3 grid with k = 9: single starts often end in a local optimum (two centres
  // sharing a blob while another centre spans two blobs).
  torch::Tensor centres = torch::zeros({9, 2}, torch::kDouble);
  for (int i = 0; i < 9; ++i) {
    centres[i][0] = 4.0 * (i % 3);
    centres[i][1] = 4.0 * (i / 3);
  }
  const torch::Tensor x = blobs(centres, std::vector<std::int64_t>(9, 40), 0.9, 21).first;
  KMeansOptions options;
  options.k = 9;
  options.metric = ClusterMetric::Euclidean;
  // Single starts over a few seeds: not all equal, else this data would not test restarts.
  double worst = 0, best = std::numeric_limits<double>::infinity();
  std::uint64_t worstSeed = 0;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    options.seed = seed;
    const auto r = kmeans(x, options);
    QVERIFY(r.ok());
    if (r->objective > worst) {
      worst = r->objective;
      worstSeed = seed;
    }
    best = std::min(best, r->objective);
  }
  QVERIFY2(worst > best * 1.01, qPrintable(QString("worst %1, best %2").arg(worst).arg(best)));
  // Restarts draw from one generator in turn, so the first m runs of nInit = n are the runs of
  // nInit = m: keeping the best makes the objective non-increasing in nInit, and from the worst seed it
  // must improve.
  options.seed = worstSeed;
  double previous = std::numeric_limits<double>::infinity();
  for (int n = 1; n <= 8; ++n) {
    options.nInit = n;
    const auto r = kmeans(x, options);
    QVERIFY(r.ok());
    if (n == 1) QCOMPARE(r->objective, worst);
    QVERIFY2(r->objective <= previous, qPrintable(QString("nInit %1: %2 > %3").arg(n).arg(r->objective).arg(previous)));
    previous = r->objective;
  }
  QVERIFY(previous < worst);
}

void TestKMeans::shouldGroupByAngleInCosineAndByPositionInEuclidean() {
  // Two directions 30 degrees apart, each with points at length 1 and length 20 (20 points per group,
  // a little jitter). By direction: cosine objective ~0, Euclidean ~361 per group of 4 lengths.
  // By length: Euclidean ~54 per 20 points (the far points are 10.4 apart), cosine 4 (1 - cos 15) > 0.
  // So cosine must split by direction and Euclidean by length.
  torch::manual_seed(3);
  std::vector<torch::Tensor> points;
  std::vector<std::int64_t> direction, length;
  for (int dir = 0; dir < 2; ++dir)
    for (int far = 0; far < 2; ++far) {
      const double a = dir * M_PI / 6, r = far ? 20 : 1;
      const torch::Tensor p = torch::tensor({r * std::cos(a), r * std::sin(a)}, torch::kDouble).unsqueeze(0) +
                              0.01 * r * torch::randn({20, 2}, torch::kDouble);
      points.push_back(p);
      for (int i = 0; i < 20; ++i) {
        direction.push_back(dir);
        length.push_back(far);
      }
    }
  const torch::Tensor x = torch::cat(points);
  KMeansOptions options;
  options.nInit = 5;
  options.metric = ClusterMetric::Cosine;
  const auto cosine = kmeans(x, options);
  options.metric = ClusterMetric::Euclidean;
  const auto euclidean = kmeans(x, options);
  QVERIFY(cosine.ok() && euclidean.ok());
  QVERIFY(samePartition(cosine->labels, torch::tensor(direction)));
  QVERIFY(samePartition(euclidean->labels, torch::tensor(length)));
  QVERIFY(!samePartition(cosine->labels, euclidean->labels));
}

void TestKMeans::shouldMatchScikitLearnEuclidean() {
  if (!haveScikitLearn())
    QSKIP("/usr/bin/python3 with scikit-learn is not installed (apt-get install python3-sklearn)");
  const torch::Tensor x = overlappingBlobs();
  const auto [inertia, labels] = scikitLearnKMeans(x, 3);
  QVERIFY2(labels.defined(), "the scikit-learn reference did not run");
  KMeansOptions options;
  options.k = 3;
  options.metric = ClusterMetric::Euclidean;
  options.nInit = 10;
  const auto r = kmeans(x, options);
  QVERIFY(r.ok());
  // Both keep the best of ten k-means++ starts: the same optimum, up to rounding and tie handling.
  QVERIFY2(std::abs(r->objective - inertia) <= 1e-6 * inertia,
           qPrintable(QString("ours %1, scikit-learn %2").arg(r->objective, 0, 'g', 12).arg(inertia, 0, 'g', 12)));
  const double ari = adjustedRandIndex(r->labels, labels);
  QVERIFY2(ari > 0.999, qPrintable(QString("ARI %1").arg(ari)));
}

void TestKMeans::shouldMatchScikitLearnOnNormalisedFeatures() {
  if (!haveScikitLearn())
    QSKIP("/usr/bin/python3 with scikit-learn is not installed (apt-get install python3-sklearn)");
  // FOCAL-like: 96-d features, two directions, 85/15 split. scikit-learn has no cosine k-means; on unit
  // rows Euclidean k-means is close to it (only the centres' lengths differ), so the partitions agree.
  torch::Tensor centres = torch::zeros({2, 96}, torch::kDouble);
  centres[0].narrow(0, 0, 48).fill_(1);
  centres[1].narrow(0, 24, 48).fill_(1);
  const auto [x, truth] = blobs(centres, {510, 90}, 0.6, 5);
  const torch::Tensor unit = unitRows(x);
  const auto [inertia, labels] = scikitLearnKMeans(unit, 2);
  QVERIFY2(labels.defined(), "the scikit-learn reference did not run");
  KMeansOptions options;
  options.metric = ClusterMetric::Cosine;
  const auto r = kmeans(x, options);
  QVERIFY(r.ok());
  QVERIFY(samePartition(r->labels, labels));
  QVERIFY(samePartition(r->labels, truth));
  // Same partition, so the objectives are tied by hand algebra: on unit rows |x - u|^2 = 2 (1 - cos) for a
  // unit centre u, and for the cluster mean m (scikit-learn's centre) sum |x - u|^2 = sum |x - m|^2 +
  // n |m - u|^2 with u = m / |m|, i.e. 2 x ours = inertia + sum over clusters of n (1 - |m|)^2.
  double correction = 0;
  for (std::int64_t c = 0; c < 2; ++c) {
    const torch::Tensor members = unit.index_select(0, (r->labels == c).nonzero().flatten());
    const double m = members.mean(0).norm().item<double>();
    correction += double(members.size(0)) * (1 - m) * (1 - m);
  }
  QVERIFY2(std::abs(2 * r->objective - (inertia + correction)) <= 1e-6 * inertia,
           qPrintable(QString("2 x ours %1, scikit-learn %2 + %3").arg(2 * r->objective).arg(inertia).arg(correction)));
}

void TestKMeans::shouldSurviveDuplicatePointsAndEmptyClusters() {
  // Three copies each of two points and k = 3: k-means++ must pick a duplicate third centre, which
  // then owns nothing. The result must stay finite, cover every row, and have objective 0.
  const torch::Tensor x = rows({{0, 0}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, {1, 1}});
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    KMeansOptions options;
    options.k = 3;
    options.metric = ClusterMetric::Euclidean;
    options.seed = seed;
    const auto r = kmeans(x, options);
    QVERIFY(r.ok());
    QVERIFY(torch::isfinite(r->centres).all().item<bool>());
    QCOMPARE(r->objective, 0.0);
    QVERIFY(r->labels.min().item<std::int64_t>() >= 0 && r->labels.max().item<std::int64_t>() < 3);
    QVERIFY(r->labels[0].item<std::int64_t>() != r->labels[3].item<std::int64_t>());
  }
  // Cosine with a zero row: it keeps cosine 0 to every centre instead of producing NaN.
  const torch::Tensor y = rows({{0, 0}, {1, 0}, {2, 0}, {0, 1}, {0, 3}});
  KMeansOptions options;
  options.metric = ClusterMetric::Cosine;
  options.nInit = 3;
  const auto r = kmeans(y, options);
  QVERIFY(r.ok());
  QVERIFY(torch::isfinite(r->centres).all().item<bool>());
  QVERIFY(std::isfinite(r->objective));
  QCOMPARE(r->labels[1].item<std::int64_t>(), r->labels[2].item<std::int64_t>());
  QCOMPARE(r->labels[3].item<std::int64_t>(), r->labels[4].item<std::int64_t>());
  QVERIFY(r->labels[1].item<std::int64_t>() != r->labels[3].item<std::int64_t>());
  QVERIFY(std::abs(r->objective - 1.0) < 1e-12);  // the zero row contributes 1 - 0, the others 0
}

void TestKMeans::shouldComputeFloat32InFloat32() {
  const torch::Tensor x = overlappingBlobs();
  KMeansOptions options;
  options.k = 3;
  const auto f = kmeans(x.to(torch::kFloat), options);
  const auto d = kmeans(x, options);
  const auto h = kmeans(x.to(torch::kHalf), options);
  QVERIFY(f.ok() && d.ok() && h.ok());
  QCOMPARE(f->centres.scalar_type(), torch::kFloat);
  QCOMPARE(d->centres.scalar_type(), torch::kDouble);
  QCOMPARE(h->centres.scalar_type(), torch::kFloat);
  QVERIFY(adjustedRandIndex(f->labels, d->labels) > 0.99);
  QVERIFY(std::abs(f->objective - d->objective) <= 1e-3 * d->objective);
}

void TestKMeans::shouldRejectBadArguments_data() {
  QTest::addColumn<int>("which");
  QTest::addColumn<QString>("mentions");
  QTest::newRow("undefined") << 0 << "feature tensor";
  QTest::newRow("1-D") << 1 << "[N, D]";
  QTest::newRow("integers") << 2 << "floating-point";
  QTest::newRow("k = 0") << 3 << "k >= 1";
  QTest::newRow("k > N") << 4 << "at least 5 rows";
  QTest::newRow("NaN") << 5 << "NaN";
  QTest::newRow("nInit = 0") << 6 << "nInit";
  QTest::newRow("maxIterations = 0") << 7 << "maxIterations";
  QTest::newRow("negative tolerance") << 8 << "tolerance";
  QTest::newRow("no columns") << 9 << "one feature";
}

void TestKMeans::shouldRejectBadArguments() {
  QFETCH(int, which);
  QFETCH(QString, mentions);
  torch::Tensor x = torch::rand({4, 3}, torch::kDouble);
  KMeansOptions options;
  switch (which) {
    case 0: x = torch::Tensor(); break;
    case 1: x = torch::rand({4}); break;
    case 2: x = torch::ones({4, 3}, torch::kLong); break;
    case 3: options.k = 0; break;
    case 4: options.k = 5; break;
    case 5: x[2][1] = std::nan(""); break;
    case 6: options.nInit = 0; break;
    case 7: options.maxIterations = 0; break;
    case 8: options.tolerance = -1; break;
    case 9: x = torch::rand({4, 0}); break;
  }
  const auto r = kmeans(x, options);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY2(QString::fromStdString(r.error().message).contains(mentions), r.error().message.c_str());
}

void TestKMeans::shouldStopWhenCancelled() {
  CancelToken cancel;
  cancel.cancel();
  const auto r = kmeans(overlappingBlobs(), {}, cancel);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::Cancelled);
}

QTEST_GUILESS_MAIN(TestKMeans)
#include "test_kmeans.moc"
