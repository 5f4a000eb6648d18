// PCA against hand-worked cases and scikit-learn's PCA (python3-sklearn, run by the test on the same float32
// data; QSKIP when absent): components (after putting sklearn's rows in our sign convention: the
// largest-magnitude entry positive), explained variance (N - 1 denominator), ratios, singular values and the
// projection, for N >> D (covariance + eigh) and N < D (SVD). Zero-variance data gives zeros and a notice,
// never NaN. On CUDA (when present) the same numbers as on the CPU.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <torch/cuda.h>

#include <fstream>

#include "analysis/Pca.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {
double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64).cpu() - b.to(torch::kFloat64).cpu()).abs().max().item<double>();
}
torch::Tensor fromJson(const QJsonArray& a) {
  std::vector<double> v;
  int64_t rows = a.size(), cols = 1;
  bool matrix = !a.isEmpty() && a[0].isArray();
  for (const auto& r : a) {
    if (matrix) {
      cols = r.toArray().size();
      for (const auto& c : r.toArray()) v.push_back(c.toDouble());
    } else {
      v.push_back(r.toDouble());
    }
  }
  auto t = torch::tensor(v, torch::kFloat64);
  return matrix ? t.view({rows, cols}) : t;
}
// scikit-learn's PCA on x (float32 written raw, read with np.fromfile): its attributes as JSON.
QJsonObject sklearnPca(const torch::Tensor& x, int k) {
  QTemporaryDir dir;
  const QString path = dir.filePath("x.f32");
  auto c = x.to(torch::kFloat32).contiguous();
  std::ofstream(path.toStdString(), std::ios::binary).write(static_cast<const char*>(c.data_ptr()), c.numel() * 4);
  QProcess p;
  p.start("/usr/bin/python3", {"-c",
                               "import json, sys, numpy as np\n"
                               "from sklearn.decomposition import PCA\n"
                               "x = np.fromfile(sys.argv[1], np.float32).reshape(int(sys.argv[2]), int(sys.argv[3])).astype(np.float64)\n"
                               "p = PCA(n_components=int(sys.argv[4]), svd_solver='full').fit(x)\n"
                               "print(json.dumps({'components': p.components_.tolist(), 'mean': p.mean_.tolist(),\n"
                               "  'ev': p.explained_variance_.tolist(), 'ratio': p.explained_variance_ratio_.tolist(),\n"
                               "  'sv': p.singular_values_.tolist(), 'proj': p.transform(x[:20]).tolist()}))\n",
                               path, QString::number(x.size(0)), QString::number(x.size(1)), QString::number(k)});
  if (!p.waitForFinished(120000) || p.exitCode() != 0) {
    qWarning() << p.readAllStandardError();
    return {};
  }
  return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}
bool haveSklearn() {
  QProcess p;
  p.start("/usr/bin/python3", {"-c", "import sklearn"});
  return p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}
// Correlated Gaussian data with a decaying spectrum, seeded.
torch::Tensor data(int64_t n, int64_t d, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto z = at::randn({n, d}, gen) * torch::linspace(3.0, 0.1, d);
  auto mix = at::randn({d, d}, gen);
  return (z.matmul(mix) + 5.0).to(torch::kFloat32);
}
}  // namespace

class TestPca : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handWorkedAxes() {
    // (1,0), (-1,0), (0,2), (0,-2): mean 0, var x = 2/3, var y = 8/3 (N - 1 = 3), no covariance ->
    // components (0,1) and (1,0), variances 8/3 and 2/3, ratios 0.8 and 0.2.
    auto x = torch::tensor({1.f, 0.f, -1.f, 0.f, 0.f, 2.f, 0.f, -2.f}).view({4, 2});
    auto m = fitPca(x, {2});
    QVERIFY(m.ok());
    QVERIFY(maxAbsDiff(m->components, torch::tensor({0.f, 1.f, 1.f, 0.f}).view({2, 2})) < 1e-6);
    QVERIFY(maxAbsDiff(m->explainedVariance, torch::tensor({8.0 / 3, 2.0 / 3}, torch::kFloat64)) < 1e-12);
    QVERIFY(maxAbsDiff(m->explainedVarianceRatio, torch::tensor({0.8, 0.2}, torch::kFloat64)) < 1e-12);
    QVERIFY(maxAbsDiff(m->singularValues, torch::tensor({std::sqrt(8.0), std::sqrt(2.0)}, torch::kFloat64)) < 1e-12);
    QVERIFY(maxAbsDiff(m->transform(x), torch::tensor({0.f, 1.f, 0.f, -1.f, 2.f, 0.f, -2.f, 0.f}).view({4, 2})) < 1e-6);
    QVERIFY(m->notices.empty());
  }

  void pointsOnALine() {
    // y = -2x + 1 for x = 0..9: one direction, (1, -2)/sqrt(5) flipped so its largest entry (-2) is
    // positive -> (-1, 2)/sqrt(5); the second component has no variance (ratio 0, not NaN) and a notice.
    std::vector<float> v;
    for (int i = 0; i < 10; ++i) {
      v.push_back(float(i));
      v.push_back(float(-2 * i + 1));
    }
    auto x = torch::tensor(v).view({10, 2});
    auto m = fitPca(x, {2});
    QVERIFY(m.ok());
    const double s5 = std::sqrt(5.0);
    QVERIFY(maxAbsDiff(m->components[0], torch::tensor({-1 / s5, 2 / s5}, torch::kFloat64)) < 1e-6);
    // variance along the line: 5 * var(0..9) = 5 * 55 / 6
    QVERIFY(std::abs(m->explainedVariance[0].item<double>() - 5 * 55.0 / 6) < 1e-9);
    QCOMPARE(m->explainedVariance[1].item<double>(), 0.0);
    QVERIFY(std::abs(m->explainedVarianceRatio[0].item<double>() - 1.0) < 1e-12);
    QCOMPARE(m->explainedVarianceRatio[1].item<double>(), 0.0);
    QVERIFY(torch::isfinite(m->components).all().item<bool>());
    QCOMPARE(m->notices.size(), std::size_t(1));
    QVERIFY(m->notices[0].find("only 1 direction") != std::string::npos);
    // Orthonormal components.
    QVERIFY(maxAbsDiff(m->components.matmul(m->components.t()), torch::eye(2)) < 1e-6);
  }

  void zeroVarianceGivesZerosAndANotice() {
    auto x = torch::full({50, 6}, 0.1f);
    auto m = fitPca(x, {3});
    QVERIFY(m.ok());
    QVERIFY(torch::isfinite(m->components).all().item<bool>());
    QCOMPARE(m->explainedVarianceRatio.abs().sum().item<double>(), 0.0);
    QCOMPARE(m->explainedVariance.abs().sum().item<double>(), 0.0);
    auto p = m->transform(x);
    QVERIFY(torch::isfinite(p).all().item<bool>());
    QVERIFY(p.abs().max().item<float>() < 1e-6);
    QCOMPARE(m->notices.size(), std::size_t(1));
    QVERIFY(m->notices[0].find("identical (zero variance)") != std::string::npos);
    // One row alone has no variance either.
    auto one = fitPca(torch::ones({1, 4}), {1});
    QVERIFY(one.ok());
    QCOMPARE(one->explainedVarianceRatio[0].item<double>(), 0.0);
  }

  void badInputIsRefused() {
    QCOMPARE(fitPca(torch::randn({10, 3}), {4}).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(fitPca(torch::randn({2, 8}), {3}).error().code, ErrorCode::InvalidArgument);
    auto x = torch::randn({10, 3});
    x[2][1] = std::numeric_limits<float>::quiet_NaN();
    auto r = fitPca(x, {2});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("NaN or Inf") != std::string::npos);
    CancelToken cancel;
    cancel.cancel();
    QCOMPARE(fitPca(torch::randn({100, 3}), {2}, cancel).error().code, ErrorCode::Cancelled);
  }

  void matchesScikitLearn_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dims");
    QTest::addColumn<int>("k");
    QTest::newRow("N >> D (covariance)") << 5000 << 64 << 5;
    QTest::newRow("N < D (SVD)") << 12 << 40 << 3;
  }
  void matchesScikitLearn() {
    QFETCH(int, rows);
    QFETCH(int, dims);
    QFETCH(int, k);
    if (!haveSklearn()) QSKIP("python3-sklearn is not installed");
    auto x = data(rows, dims, 7);
    PcaOptions o;
    o.components = k;
    o.chunkRows = 999;  // several chunks
    auto m = fitPca(x, o);
    QVERIFY(m.ok());
    const QJsonObject ref = sklearnPca(x, k);
    QVERIFY(!ref.isEmpty());
    auto comps = fromJson(ref["components"].toArray());
    // sklearn's rows in our sign convention (largest-magnitude entry positive).
    auto signs = comps.gather(1, comps.abs().argmax(1, true)).sign();
    comps = comps * signs;
    QVERIFY2(maxAbsDiff(m->components, comps) < 1e-4, qPrintable(QString::number(maxAbsDiff(m->components, comps))));
    QVERIFY(maxAbsDiff(m->mean, fromJson(ref["mean"].toArray())) < 1e-4);
    auto ev = fromJson(ref["ev"].toArray());
    QVERIFY(((m->explainedVariance - ev).abs() / ev).max().item<double>() < 1e-6);
    QVERIFY(maxAbsDiff(m->explainedVarianceRatio, fromJson(ref["ratio"].toArray())) < 1e-8);
    auto sv = fromJson(ref["sv"].toArray());
    QVERIFY(((m->singularValues - sv).abs() / sv).max().item<double>() < 1e-6);
    auto proj = fromJson(ref["proj"].toArray()) * signs.view({1, k});
    QVERIFY(maxAbsDiff(m->transform(x.slice(0, 0, 20)), proj) < 1e-3);
  }

  void sameOnCudaAsOnCpu() {
    if (!torch::cuda::is_available()) QSKIP("no CUDA device");
    auto x = data(20000, 32, 9);
    auto cpu = fitPca(x, {4});
    auto gpu = fitPca(x.to(torch::kCUDA), {4});
    QVERIFY(cpu.ok() && gpu.ok());
    QVERIFY(maxAbsDiff(cpu->components, gpu->components) < 1e-5);
    QVERIFY(maxAbsDiff(cpu->explainedVarianceRatio, gpu->explainedVarianceRatio) < 1e-9);
    QVERIFY(gpu->transform(x.to(torch::kCUDA)).is_cuda());
  }
};

QTEST_GUILESS_MAIN(TestPca)
#include "test_pca.moc"
