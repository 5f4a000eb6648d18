// Training-free localisation: a splice whose noise differs from the host image is found (mask against the
// known pasted rectangle), soft probabilities and image scores follow their definitions on hand-made
// feature sets, the grid resampling is exact on linear ramps, and awkward inputs (flat colour, tiny,
// 16-bit range, elongated) give clear results or errors.

#include <QtTest>

#include <torch/types.h>

#include <cmath>
#include <random>

#include "analysis/ForgeryLocalize.h"
#include "analysis/ForgeryMetrics.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {

// A host image with camera-like noise (sigma 2 grey levels) and a pasted rectangle with another noise
// level, on a smooth gradient so that content alone does not separate the regions. Returns the truth.
torch::Tensor splicedImage(int w, int h, int x0, int y0, int rw, int rh, float hostSigma, float pasteSigma,
                           std::vector<std::uint8_t>& truth, unsigned seed = 11) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> host(0.f, hostSigma), paste(0.f, pasteSigma);
  torch::Tensor g = torch::empty({h, w});
  auto a = g.accessor<float, 2>();
  truth.assign(static_cast<std::size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool in = x >= x0 && x < x0 + rw && y >= y0 && y < y0 + rh;
      truth[static_cast<std::size_t>(y) * w + x] = in;
      const float base = 60.f + 100.f * x / w + 40.f * y / h;
      a[y][x] = std::clamp(std::round(base + (in ? paste(rng) : host(rng))), 0.f, 255.f);
    }
  return g;
}

}  // namespace

class TestForgeryLocalize : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldFindASpliceWithDifferentNoise_data() {
    QTest::addColumn<QString>("method");
    QTest::newRow("kmeans") << "kmeans";
    QTest::newRow("hdbscan") << "hdbscan";
  }
  void shouldFindASpliceWithDifferentNoise() {
    QFETCH(QString, method);
    std::vector<std::uint8_t> truth;
    const torch::Tensor gray = splicedImage(384, 256, 200, 60, 128, 128, 1.5f, 6.f, truth);
    LocalizeOptions o;
    o.clustering.method = method == "kmeans" ? ClusterMethod::KMeans : ClusterMethod::Hdbscan;
    auto r = localizeNoiseCooccurrence(gray, o);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QVERIFY(r->forgeryFound);
    QCOMPARE(r->heatmap.width, 384);
    QCOMPARE(r->heatmap.height, 256);
    QCOMPARE(r->mask.values.size(), truth.size());
    const auto c = confusion(r->mask.values, truth);
    // Blocks of 64 pixels straddle the border, so edges are blurred by about half a block: F1 well above
    // chance (the pasted area is 17 % of the image) but not perfect.
    QVERIFY2(binaryF1(c) > 0.75, qPrintable(QString("F1 %1").arg(binaryF1(c))));
    QVERIFY(r->imageScore > 0.5);
    // The soft map is a probability and is high inside, low outside.
    QVERIFY(r->heatmap.at(264, 124) > 0.9f);
    QVERIFY(r->heatmap.at(40, 200) < 0.1f);
  }

  void shouldScoreAHomogeneousImageLowerThanASplice() {
    std::vector<std::uint8_t> truth;
    const torch::Tensor spliced = splicedImage(320, 240, 100, 60, 112, 112, 1.5f, 6.f, truth, 5);
    const torch::Tensor plain = splicedImage(320, 240, 0, 0, 0, 0, 1.5f, 1.5f, truth, 5);
    auto a = localizeNoiseCooccurrence(spliced, {});
    auto b = localizeNoiseCooccurrence(plain, {});
    QVERIFY(a.ok() && b.ok());
    QVERIFY2(a->imageScore > b->imageScore + 0.2, qPrintable(QString("%1 vs %2").arg(a->imageScore).arg(b->imageScore)));
  }

  void shouldFollowTheDefinitionOfTheSoftMap() {
    // 1-D features: six points at 0, four at 10, k = 2. Centres 0 and 10 (largest cluster = the zeros is
    // pristine). A point at 0: d_p = 0 -> p = 0; at 10: p = 1. Fisher ratio: between = 100, within = 0
    // -> J huge -> score ~ 1. Add a point at 2 (joins the zeros): centres 2/7 and 10;
    // p(2) = (2 - 2/7)^2 / ((2 - 2/7)^2 + 8^2).
    torch::Tensor x = torch::tensor({0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 10.0, 10.0, 10.0, 10.0}).unsqueeze(1);
    ClusterMapOptions o;
    o.metric = ClusterMetric::Euclidean;
    auto m = clusterForgeryMap(x, o);
    QVERIFY(m.ok());
    QVERIFY(m->forgeryFound);
    QCOMPARE(m->clusterSizes.size(), std::size_t(2));
    const double cp = 2.0 / 7.0;
    const double expect = (2 - cp) * (2 - cp) / ((2 - cp) * (2 - cp) + 64.0);
    QVERIFY(std::abs(m->probability[6].item<float>() - expect) < 1e-5);
    QVERIFY(std::abs(m->probability[0].item<float>() - cp * cp / (cp * cp + 100.0)) < 1e-5);
    QCOMPARE(m->probability[7].item<float>(), 1.f);
    QVERIFY(m->forged[8].item<bool>() && !m->forged[6].item<bool>());
    // J = between / within: between = (10 - 2/7)^2; within = mean sq. spread of the 7 pristine rows
    // (6 (2/7)^2 + (12/7)^2) / 7, forged rows 0.
    const double between = (10 - cp) * (10 - cp);
    const double within = (6 * cp * cp + (2 - cp) * (2 - cp)) / 7.0;
    const double j = between / within;
    QVERIFY(std::abs(m->imageScore - j / (1 + j)) < 1e-6);
  }

  void shouldJudgeAFlatImagePristineWithANote() {
    auto r = localizeNoiseCooccurrence(torch::full({200, 300}, 128.f), {});
    QVERIFY(r.ok());
    QVERIFY(!r->forgeryFound);
    QCOMPARE(r->imageScore, 0.0);
    bool noted = false;
    for (const auto& n : r->notes) noted |= n.find("no texture") != std::string::npos;
    QVERIFY(noted);
    for (auto v : r->mask.values) QCOMPARE(v, std::uint8_t(0));
    for (auto v : r->heatmap.values) QCOMPARE(v, 0.f);
  }

  void shouldRefuseAnImageSmallerThanTheSmallestBlock() {
    auto r = localizeNoiseCooccurrence(torch::full({12, 12}, 3.f), {});
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  }

  void shouldResampleLinearRampsExactly() {
    // Grid values v(gx, gy) = gx + 10 gy at centres x = 5 + 4 gx, y = 2 + 3 gy: inside the centres the
    // bilinear result is the same linear function of the pixel coordinate, outside it is clamped.
    torch::Tensor grid = torch::empty({3, 4});
    for (int gy = 0; gy < 3; ++gy)
      for (int gx = 0; gx < 4; ++gx) grid[gy][gx] = gx + 10.f * gy;
    const torch::Tensor out = resampleGrid(grid, 5, 2, 4, 3, 24, 12);
    QCOMPARE(out.size(0), 12);
    QCOMPARE(out.size(1), 24);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 24; ++x) {
        const double gx = std::clamp((x - 5) / 4.0, 0.0, 3.0), gy = std::clamp((y - 2) / 3.0, 0.0, 2.0);
        QVERIFY(std::abs(out[y][x].item<float>() - (gx + 10 * gy)) < 1e-5);
      }
    // The layer builder (row blending written straight into the heatmap) gives the same map, and the mask
    // is the map at the threshold.
    Localization loc;
    loc.forgeryFound = true;
    fillLocalizationMaps(loc, grid.reshape({-1}), 4, 3, 5, 2, 4, 3, 24, 12, 12.5f);
    QCOMPARE(loc.heatmap.width, 24);
    QCOMPARE(loc.heatmap.height, 12);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 24; ++x) {
        QVERIFY(std::abs(loc.heatmap.at(x, y) - out[y][x].item<float>()) < 1e-5);
        QCOMPARE(loc.mask.values[y * 24 + x], std::uint8_t(loc.heatmap.at(x, y) >= 12.5f));
      }
  }

  void shouldCancelPromptly() {
    std::vector<std::uint8_t> truth;
    const torch::Tensor gray = splicedImage(256, 256, 64, 64, 64, 64, 1.5f, 6.f, truth);
    CancelToken cancel;
    cancel.cancel();
    auto r = localizeNoiseCooccurrence(gray, {}, cancel);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
  }
};

QTEST_GUILESS_MAIN(TestForgeryLocalize)
#include "test_forgery_localize.moc"
