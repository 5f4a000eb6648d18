// Splicebuster-style co-occurrence features: the symmetry classes, the block histograms against a plain
// scalar implementation of the definition (residual, quantisation, 4-tuples, block counts written out as
// loops, independent of the tensor code), luminance of every pixel format, and the automatic geometry.

#include <QtTest>

#include <torch/types.h>

#include <array>
#include <cmath>
#include <random>
#include <set>

#include "analysis/NoiseCooccurrence.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {

// Reference: counts of class c in the block at (gy, gx), computed pixel by pixel.
std::vector<std::int64_t> referenceBlock(const std::vector<float>& img, int w, int h, int block, int stride, int gy,
                                         int gx) {
  const auto& table = cooccurrenceClassOfCode();
  auto q = [&](float r) {
    const double v = std::nearbyint(r / 2.0);  // round half to even (default rounding mode)
    return static_cast<int>(std::clamp(v, -1.0, 1.0)) + 1;
  };
  auto px = [&](int x, int y) { return img[static_cast<std::size_t>(y) * w + x]; };
  std::vector<std::int64_t> counts(kCooccurrenceBins, 0);
  for (int i = gy * stride; i < gy * stride + block; ++i)
    for (int j = gx * stride; j < gx * stride + block; ++j) {
      const int y = i + 3, x = j + 3;  // centre pixel of the domain position
      int codeH = 0, codeV = 0;
      for (int t = 0; t < 4; ++t) {
        // row residual at column x - 3 + t: I[c] - 3 I[c+1] + 3 I[c+2] - I[c+3]
        const int c = x - 3 + t;
        const float rh = px(c, y) - 3 * px(c + 1, y) + 3 * px(c + 2, y) - px(c + 3, y);
        const int r = y - 3 + t;
        const float rv = px(x, r) - 3 * px(x, r + 1) + 3 * px(x, r + 2) - px(x, r + 3);
        codeH = codeH * 3 + q(rh);
        codeV = codeV * 3 + q(rv);
      }
      ++counts[table[codeH]];
      ++counts[kCooccurrenceClasses + table[codeV]];
    }
  return counts;
}

}  // namespace

class TestNoiseCooccurrence : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldMerge81CodesInto25SymmetryClasses() {
    const auto& table = cooccurrenceClassOfCode();
    QCOMPARE(table.size(), std::size_t(81));
    QCOMPARE(std::set<std::int64_t>(table.begin(), table.end()).size(), std::size_t(25));  // Burnside count
    auto code = [](int a, int b, int c, int d) { return 27 * (a + 1) + 9 * (b + 1) + 3 * (c + 1) + (d + 1); };
    // Negation and reversal land in the same class; (1,0,0,0) and (1,1,0,0) are different classes.
    QCOMPARE(table[code(1, 0, -1, 1)], table[code(-1, 1, 0, -1)]);  // negated
    QCOMPARE(table[code(1, 0, -1, 1)], table[code(1, -1, 0, 1)]);   // reversed
    QCOMPARE(table[code(1, 0, -1, 1)], table[code(-1, 1, 0, -1)]);
    QVERIFY(table[code(1, 0, 0, 0)] != table[code(1, 1, 0, 0)]);
    // The all-zero tuple is alone in its class.
    int zeros = 0;
    for (int c = 0; c < 81; ++c) zeros += table[c] == cooccurrenceFlatClass();
    QCOMPARE(zeros, 1);
  }

  void shouldCountBlocksAsTheDefinitionSays_data() {
    QTest::addColumn<int>("block");
    QTest::addColumn<int>("stride");
    QTest::newRow("block 16 stride 4") << 16 << 4;
    QTest::newRow("block 24 stride 8") << 24 << 8;
    QTest::newRow("block 16 stride 16") << 16 << 16;
  }
  void shouldCountBlocksAsTheDefinitionSays() {
    QFETCH(int, block);
    QFETCH(int, stride);
    const int w = 61, h = 47;
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.f, 3.f);
    std::vector<float> img(static_cast<std::size_t>(w) * h);
    // Integer grey levels (as decoded images) with a gradient, so odd residuals hit the rounding ties.
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) img[y * w + x] = std::round(100.f + x + 0.5f * y + noise(rng));
    const torch::Tensor gray = torch::from_blob(img.data(), {h, w}, torch::kFloat32).clone();
    auto hist = cooccurrenceBlockHistograms(gray, block, stride);
    QVERIFY2(hist.ok(), hist.ok() ? "" : hist.error().message.c_str());
    // The tensor-operation path (what CUDA runs) gives the same counts as the fused CPU loop.
    auto viaTensors = cooccurrenceBlockHistograms(gray, block, stride, {}, HistogramPath::Tensor);
    QVERIFY(viaTensors.ok());
    QVERIFY(torch::equal(*hist, *viaTensors));
    const int gy = (h - 6) / stride - block / stride + 1, gx = (w - 6) / stride - block / stride + 1;
    QCOMPARE(hist->size(0), gy);
    QCOMPARE(hist->size(1), gx);
    QCOMPARE(hist->size(2), kCooccurrenceBins);
    for (int by = 0; by < gy; ++by)
      for (int bx = 0; bx < gx; ++bx) {
        const auto ref = referenceBlock(img, w, h, block, stride, by, bx);
        for (int c = 0; c < kCooccurrenceBins; ++c) QCOMPARE((*hist)[by][bx][c].item<std::int64_t>(), ref[c]);
      }
  }

  void shouldRefuseBlocksThatDoNotFit() {
    const torch::Tensor gray = torch::zeros({30, 30});
    QVERIFY(!cooccurrenceBlockHistograms(gray, 32, 8).ok());
    QVERIFY(!cooccurrenceBlockHistograms(gray, 16, 6).ok());  // stride does not divide the block
    auto tiny = noiseCooccurrenceFeatures(torch::zeros({20, 400}));
    QVERIFY(!tiny.ok());
    QVERIFY(tiny.error().message.find("too small") != std::string::npos);
  }

  void shouldReduceTheBlockToFitAndChooseTheStride() {
    std::mt19937 rng(1);
    std::normal_distribution<float> noise(128.f, 4.f);
    torch::Tensor gray = torch::empty({40, 2000});
    for (int i = 0; i < gray.numel(); ++i) gray.data_ptr<float>()[i] = std::round(noise(rng));
    auto f = noiseCooccurrenceFeatures(gray);  // extremely elongated: 64-pixel block cannot fit 40 rows
    QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
    QCOMPARE(f->blockSize, 32);  // (40 - 6) rounded down to a multiple of 8
    QCOMPARE(f->stride, 4);
    QCOMPARE(f->gridHeight, 1);
    QCOMPARE(f->gridWidth, (2000 - 6 - 32) / 4 + 1);
    QVERIFY(!f->notes.empty());
    QCOMPARE(f->features.size(0), static_cast<std::int64_t>(f->gridWidth));
    QCOMPARE(f->features.size(1), 24);
    QCOMPARE(f->originX, 3 + 31 / 2.0);

    // A large image: the stride grows until there are at most maxBlocks blocks.
    NoiseFeatureOptions o;
    o.maxBlocks = 100;
    auto g = noiseCooccurrenceFeatures(torch::full({300, 300}, 5.f), o);
    QVERIFY(g.ok());
    QVERIFY(g->gridWidth * g->gridHeight <= 100);
    QCOMPARE(g->blockSize % g->stride, 0);
  }

  void shouldMarkFlatBlocksAndProjectWithPca() {
    // Left half flat, right half noisy: flat blocks are excluded; PCA output is centred.
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.f, 6.f);
    torch::Tensor gray = torch::full({100, 200}, 80.f);
    auto a = gray.accessor<float, 2>();
    for (int y = 0; y < 100; ++y)
      for (int x = 100; x < 200; ++x) a[y][x] = std::round(120.f + noise(rng));
    NoiseFeatureOptions o;
    o.blockSize = 32;
    o.stride = 8;
    auto f = noiseCooccurrenceFeatures(gray, o);
    QVERIFY(f.ok());
    const auto textured = f->textured.view({f->gridHeight, f->gridWidth});
    QVERIFY(!textured[0][0].item<bool>());                   // entirely in the flat half
    QVERIFY(textured[0][f->gridWidth - 1].item<bool>());     // entirely in the noisy half
    QCOMPARE(f->features.size(0), f->textured.sum().item<std::int64_t>());
    QVERIFY(f->features.mean(0).abs().max().item<float>() < 1e-4f);
    QVERIFY(f->explainedVariance > 0.0 && f->explainedVariance <= 1.0 + 1e-9);
  }

  void shouldComputeLuminanceForEveryFormat() {
    // 0.299 R + 0.587 G + 0.114 B of (200, 100, 50) = 59.8 + 58.7 + 5.7 = 124.2
    Image rgba(2, 1, ColorOrder::RGBA);
    std::uint8_t* p = rgba.row<std::uint8_t>(0);
    const std::uint8_t px[8] = {200, 100, 50, 0, 200, 100, 50, 255};
    std::copy(px, px + 8, p);
    auto l = luminance(rgba);
    QVERIFY(std::abs(l[0][0].item<float>() - 124.2f) < 1e-3f);
    QVERIFY(std::abs(l[0][1].item<float>() - 124.2f) < 1e-3f);  // alpha ignored
    Image bgr16(1, 1, ColorOrder::BGR, PixelDepth::U16);
    std::uint16_t* q = bgr16.row<std::uint16_t>(0);
    q[0] = 50 * 257; q[1] = 100 * 257; q[2] = 200 * 257;  // B, G, R
    QVERIFY(std::abs(luminance(bgr16)[0][0].item<float>() - 124.2f) < 1e-3f);
    Image grayAlpha(1, 1, ColorOrder::GrayAlpha);
    grayAlpha.row<std::uint8_t>(0)[0] = 77;
    grayAlpha.row<std::uint8_t>(0)[1] = 3;
    QCOMPARE(luminance(grayAlpha)[0][0].item<float>(), 77.f);
  }
};

QTEST_GUILESS_MAIN(TestNoiseCooccurrence)
#include "test_noise_cooccurrence.moc"
