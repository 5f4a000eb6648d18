// Sliding-window inference: window placement, blending weights and reassembly, checked against
// hand-computed positions, the Gaussian formula, and whole-input inference of pointwise models
// (for which any correct blending must reproduce the whole-input result exactly).

#include <QtTest>

#include <torch/torch.h>

#include "runtime/SlidingWindow.h"

using namespace loupe;
using runtime::Blend;

class TestSlidingWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldPlaceWindowsEvenlyAndFlushWithEnd_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("window");
    QTest::addColumn<double>("overlap");
    QTest::addColumn<QList<int>>("starts");
    // stride = floor(window * (1 - overlap)); the last window ends at `size`.
    QTest::newRow("exact fit") << 10 << 10 << 0.25 << QList<int>{0};
    QTest::newRow("smaller than window") << 6 << 10 << 0.25 << QList<int>{0};
    QTest::newRow("half overlap") << 10 << 4 << 0.5 << QList<int>{0, 2, 4, 6};
    QTest::newRow("no overlap, remainder") << 10 << 4 << 0.0 << QList<int>{0, 4, 6};
    QTest::newRow("quarter overlap") << 100 << 32 << 0.25 << QList<int>{0, 24, 48, 68};
  }
  void shouldPlaceWindowsEvenlyAndFlushWithEnd() {
    QFETCH(int, size);
    QFETCH(int, window);
    QFETCH(double, overlap);
    QFETCH(QList<int>, starts);
    const auto got = runtime::windowStarts(size, window, overlap);
    QList<int> list;
    for (auto s : got) list << static_cast<int>(s);
    QCOMPARE(list, starts);
  }

  void shouldBuildGaussianImportanceMap() {
    // 1-D window of 9: sigma = 0.125 * 9, centre 4; w(i) = exp(-(i-4)^2 / (2 sigma^2)), max 1.
    const auto map = runtime::importanceMap({9, 1}, Blend::Gaussian);
    QCOMPARE(map.sizes().vec(), (std::vector<std::int64_t>{9, 1}));
    const double sigma = 0.125 * 9;
    for (int i = 0; i < 9; ++i) {
      const double expected = std::max(1e-3, std::exp(-(i - 4.0) * (i - 4.0) / (2 * sigma * sigma)));
      QVERIFY2(std::abs(map[i][0].item<double>() - expected) < 1e-6, qPrintable(QString::number(i)));
    }
    const auto lin = runtime::importanceMap({4, 4}, Blend::Linear);
    QCOMPARE(lin.max().item<float>(), 1.f);
    QVERIFY(lin.min().item<float>() > 0.f);
    QVERIFY(torch::allclose(lin, lin.t()));  // symmetric
    QVERIFY(torch::equal(runtime::importanceMap({3, 5}, Blend::Constant), torch::ones({3, 5})));
  }

  void shouldMatchWholeInputForPointwiseModel_data() {
    QTest::addColumn<int>("blend");
    QTest::addColumn<int>("batch");
    QTest::newRow("gaussian, batch 1") << int(Blend::Gaussian) << 1;
    QTest::newRow("gaussian, batch 4") << int(Blend::Gaussian) << 4;
    QTest::newRow("linear") << int(Blend::Linear) << 3;
    QTest::newRow("constant") << int(Blend::Constant) << 2;
  }
  void shouldMatchWholeInputForPointwiseModel() {
    QFETCH(int, blend);
    QFETCH(int, batch);
    torch::manual_seed(1);
    // A 1x1 convolution: 3 -> 2 channels, output depends only on the pixel itself.
    const auto w = torch::randn({2, 3, 1, 1});
    auto model = [&](const torch::Tensor& t) -> Result<torch::Tensor> { return torch::conv2d(t, w); };
    const auto x = torch::randn({1, 3, 37, 53});
    runtime::SlidingWindowOptions o;
    o.window = {16, 16};
    o.overlap = 0.5;
    o.blend = static_cast<Blend>(blend);
    o.batchSize = batch;
    int calls = 0;
    auto counted = [&](const torch::Tensor& t) { ++calls; return model(t); };
    auto y = runtime::slidingWindowInference(x, counted, o);
    QVERIFY(y.ok());
    QCOMPARE(y->sizes().vec(), (std::vector<std::int64_t>{1, 2, 37, 53}));
    QVERIFY(torch::allclose(*y, *model(x), 1e-5, 1e-5));
    // starts: H 37 -> {0, 8, 16, 21}, W 53 -> {0, 8, 16, 24, 32, 37}: 24 windows.
    QCOMPARE(calls, (24 + batch - 1) / batch);
  }

  void shouldPadInputsSmallerThanWindowAndCropBack() {
    const auto x = torch::rand({1, 1, 5, 7});
    runtime::SlidingWindowOptions o;
    o.window = {8, 8};
    auto y = runtime::slidingWindowInference(x, [](const torch::Tensor& t) -> Result<torch::Tensor> { return t * 3; }, o);
    QVERIFY(y.ok());
    QVERIFY(torch::allclose(*y, x * 3));
  }

  void shouldHandleVolumes() {
    const auto x = torch::rand({1, 2, 9, 20, 11});
    runtime::SlidingWindowOptions o;
    o.window = {4, 8, 8};
    o.overlap = 0.25;
    auto y = runtime::slidingWindowInference(x, [](const torch::Tensor& t) -> Result<torch::Tensor> { return t.sum(1, true); }, o);
    QVERIFY(y.ok());
    QVERIFY(torch::allclose(*y, x.sum(1, true), 1e-5, 1e-5));
  }

  void shouldRejectBadArgumentsAndModels() {
    runtime::SlidingWindowOptions o;
    o.window = {8, 8};
    auto id = [](const torch::Tensor& t) -> Result<torch::Tensor> { return t; };
    QVERIFY(!runtime::slidingWindowInference(torch::rand({2, 1, 8, 8}), id, o).ok());  // batch of 2
    QVERIFY(!runtime::slidingWindowInference(torch::rand({1, 8, 8}), id, o).ok());     // rank
    o.overlap = 1.0;
    QVERIFY(!runtime::slidingWindowInference(torch::rand({1, 1, 8, 8}), id, o).ok());
    o.overlap = 0.25;
    auto shrink = [](const torch::Tensor& t) -> Result<torch::Tensor> { return t.narrow(2, 0, 4); };
    auto r = runtime::slidingWindowInference(torch::rand({1, 1, 16, 16}), shrink, o);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::ModelError);
    auto failing = [](const torch::Tensor&) -> Result<torch::Tensor> { return Error{ErrorCode::ModelError, "boom"}; };
    QCOMPARE(runtime::slidingWindowInference(torch::rand({1, 1, 16, 16}), failing, o).error().message, std::string("boom"));
  }

  void shouldStopWhenCancelledAndReportProgress() {
    runtime::SlidingWindowOptions o;
    o.window = {4, 4};
    CancelToken cancel;
    int calls = 0;
    double last = 0;
    Progress progress([&](double f, const std::string&) { last = f; });
    auto fn = [&](const torch::Tensor& t) -> Result<torch::Tensor> {
      if (++calls == 3) cancel.cancel();
      return t;
    };
    auto r = runtime::slidingWindowInference(torch::rand({1, 1, 32, 32}), fn, o, cancel, progress);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Cancelled);
    QCOMPARE(calls, 3);
    QVERIFY(last > 0 && last < 1);
    QVERIFY(runtime::isOutOfMemory("CUDA out of memory. Tried to allocate 2.00 GiB"));
    QVERIFY(!runtime::isOutOfMemory("shape mismatch"));
  }
};

QTEST_GUILESS_MAIN(TestSlidingWindow)
#include "test_sliding_window.moc"
