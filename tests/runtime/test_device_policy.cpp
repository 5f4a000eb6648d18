// ImageModel's device policy: batches of images give the same numbers as one image at a time, and running
// out of memory shrinks the batch, then the tiles, then falls back to the CPU with a notice in the result.
// Out-of-memory is injected with ImageModelOptions::forwardHook, which returns the error text LibTorch's
// CUDA allocator throws ("CUDA out of memory. Tried to allocate ...") when a forward exceeds a pixel cap,
// so the real retry code runs here on the CPU. References: the same model run without the cap (tiles of a
// pointwise model blend back to exactly the untiled values), and one-by-one runs for the batch API.

#include <QtTest>

#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Sha256.h"
#include "runtime/ImageModel.h"

using namespace loupe;
using nlohmann::json;

namespace {
Image pattern(int w, int h, int seed) {
  Image img(w, h, ColorOrder::RGB);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.row<std::uint8_t>(y)[3 * x + c] = static_cast<std::uint8_t>((x * 7 + y * 13 + c * 50 + seed * 31) % 256);
  return img;
}
Error oom(std::int64_t bytes) {
  return {ErrorCode::ModelError, "fixture failed: CUDA out of memory. Tried to allocate " + std::to_string(bytes) + " bytes"};
}
double maxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

class TestDevicePolicy : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int counter_ = 0;

  // A package around a TorchScript module written here; `conv` adds a seeded 3x3 convolution (real batched
  // arithmetic, so batch and single runs go through different BLAS shapes).
  std::string package(const std::string& body, const json& size, const json& outputs, bool conv = false) {
    const std::string dir = tmp_.filePath(QString::number(++counter_)).toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    torch::jit::Module m("Fixture");
    torch::manual_seed(7);
    m.register_parameter("w", torch::randn({4, 3, 3, 3}) * 0.2, false);
    m.register_parameter("b", torch::randn({4}), false);
    m.define(conv ? "def forward(self, x):\n    y = torch.conv2d(x, self.w, self.b, 1, 1)\n    return " + body + "\n"
                  : "def forward(self, x):\n    return " + body + "\n");
    m.save(dir + "/model.pt");
    const json j = {{"schema", 1}, {"id", "fixture"}, {"version", "1.0.0"}, {"task", "test.task"},
                    {"format", "torchscript"}, {"entry", "model.pt"},
                    {"files", {{"model.pt", *Sha256::ofFile(dir + "/model.pt")}}},
                    {"input", {{"layout", "NCHW"}, {"channels", 3}, {"size", size}}},
                    {"outputs", outputs}, {"licence", "MIT"}, {"provenance", "test_device_policy"}};
    std::ofstream(dir + "/loupe-model.json") << j.dump();
    return dir;
  }
  runtime::ImageModel open(const std::string& dir, runtime::ImageModelOptions o) {
    o.device.kind = DeviceRequest::Kind::Cpu;
    o.warmupRuns = 0;
    auto m = runtime::ImageModel::open(dir, "test.task", o);
    if (!m) qFatal("%s", m.error().message.c_str());
    return std::move(*m);
  }
  static bool mentions(const std::vector<std::string>& notices, const char* text) {
    return std::any_of(notices.begin(), notices.end(), [&](const std::string& n) { return n.find(text) != std::string::npos; });
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void batchShouldMatchOneByOne() {
    // Fixed 32x32 input: images of any size are resized, so they share forwards; an embedding-like output.
    const auto dir = package("y.mean([2, 3])", {{"policy", "fixed"}, {"width", 32}, {"height", 32}},
                             json::array({{{"name", "e"}, {"kind", "embedding"}, {"shape", {-1, 4}}}}), true);
    std::vector<std::int64_t> seen;
    runtime::ImageModelOptions o;
    o.batchSize = 2;
    o.forwardHook = [&](const torch::Tensor& x, bool) -> Result<void> {
      seen.push_back(x.size(0));
      return {};
    };
    auto model = open(dir, o);
    std::vector<Image> images;
    for (int i = 0; i < 5; ++i) images.push_back(pattern(40 + 3 * i, 30 + i, i));
    auto runs = model.inferBatch(images);
    QVERIFY2(runs.ok(), runs.ok() ? "" : runs.error().message.c_str());
    QCOMPARE(seen, (std::vector<std::int64_t>{2, 2, 1}));  // 5 images in forwards of 2, 2, 1
    QCOMPARE(runs->size(), std::size_t(5));
    double worst = 0;
    for (int i = 0; i < 5; ++i) {
      auto single = model.run(images[static_cast<std::size_t>(i)]);
      QVERIFY(single.ok());
      QCOMPARE((*runs)[static_cast<std::size_t>(i)].outputs[0].sizes().vec(), (std::vector<std::int64_t>{1, 4}));
      worst = std::max(worst, maxDiff((*runs)[static_cast<std::size_t>(i)].outputs[0], (*single)[0]));
      QVERIFY((*runs)[static_cast<std::size_t>(i)].notices.empty());
    }
    qInfo("batch of 5 (B = 2) vs one by one: max abs difference %.3g", worst);
    QVERIFY(worst < 1e-5);
  }

  void batchShouldCropEachImageBack() {
    // multiple_of 8: a 20x12 and a 17x9 image pad to different sizes -> separate forwards, each cropped back.
    const auto dir = package("x * 2.0", {{"policy", "multiple_of"}, {"multiple", 8}},
                             json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {-1, 3, -1, -1}}}}));
    auto model = open(dir, {});
    auto runs = model.inferBatch({pattern(20, 12, 0), pattern(17, 9, 1), pattern(20, 12, 2)});
    QVERIFY(runs.ok());
    QCOMPARE((*runs)[0].outputs[0].sizes().vec(), (std::vector<std::int64_t>{1, 3, 12, 20}));
    QCOMPARE((*runs)[1].outputs[0].sizes().vec(), (std::vector<std::int64_t>{1, 3, 9, 17}));
    QCOMPARE((*runs)[2].outputs[0].sizes().vec(), (std::vector<std::int64_t>{1, 3, 12, 20}));
    // Reference: pixel / 255 * 2 (default scale, no mean/std), red channel of (5, 3) in image 2.
    const float expect = ((5 * 7 + 3 * 13 + 0 + 1 * 31) % 256) / 255.f * 2.f;
    QCOMPARE((*runs)[1].outputs[0][0][0][3][5].item<float>(), expect);
  }

  void outOfMemoryShouldHalveTheBatch() {
    const auto dir = package("y.mean([2, 3])", {{"policy", "fixed"}, {"width", 16}, {"height", 16}},
                             json::array({{{"name", "e"}, {"kind", "embedding"}, {"shape", {-1, 4}}}}), true);
    std::vector<std::int64_t> seen;
    runtime::ImageModelOptions o;
    o.batchSize = 4;
    o.forwardHook = [&](const torch::Tensor& x, bool) -> Result<void> {
      seen.push_back(x.size(0));
      if (x.size(0) > 1) return oom(x.numel() * 4);  // only one image fits
      return {};
    };
    auto model = open(dir, o);
    std::vector<Image> images = {pattern(16, 16, 0), pattern(16, 16, 1), pattern(16, 16, 2), pattern(16, 16, 3)};
    auto runs = model.inferBatch(images);
    QVERIFY2(runs.ok(), runs.ok() ? "" : runs.error().message.c_str());
    QCOMPARE(seen, (std::vector<std::int64_t>{4, 2, 1, 1, 1, 1}));
    QVERIFY(mentions((*runs)[0].notices, "with 4 images per forward; retried with 2"));
    QVERIFY(mentions((*runs)[0].notices, "with 2 images per forward; retried with 1"));
    QVERIFY(!mentions((*runs)[0].notices, "CPU"));
  }

  void outOfMemoryShouldShrinkTilesThenFallBackToCpu_data() {
    QTest::addColumn<int>("capPixels");       // largest H*W a forward may take on the "GPU"; 0 = nothing fits
    QTest::addColumn<QString>("lastTile");    // the tile size the run ends with, or empty for the CPU
    QTest::newRow("whole image does not fit, 64x64 tiles do") << 64 * 64 << "64x64";
    QTest::newRow("only 32x32 tiles fit") << 32 * 32 << "32x32";
    QTest::newRow("nothing fits: CPU") << 0 << "";
  }
  void outOfMemoryShouldShrinkTilesThenFallBackToCpu() {
    QFETCH(int, capPixels);
    QFETCH(QString, lastTile);
    // A pointwise model (any size): tiles blend back to exactly the untiled result.
    const auto dir = package("x * 3.0 + 1.0", {{"policy", "any"}},
                             json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {-1, 3, -1, -1}}}}));
    const Image image = pattern(100, 90, 5);
    auto plain = open(dir, {}).run(image);
    QVERIFY(plain.ok());

    std::vector<std::pair<std::int64_t, bool>> calls;  // (pixels, on the CPU fallback)
    runtime::ImageModelOptions o;
    o.minTile = 32;
    o.forwardHook = [&](const torch::Tensor& x, bool onFallback) -> Result<void> {
      calls.push_back({x.size(2) * x.size(3), onFallback});
      if (!onFallback && x.size(2) * x.size(3) > capPixels) return oom(x.numel() * 4);
      return {};
    };
    auto model = open(dir, o);
    auto r = model.infer(image);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    for (const auto& n : r->notices) qInfo("notice: %s", n.c_str());
    QCOMPARE(r->outputs[0].sizes().vec(), (std::vector<std::int64_t>{1, 3, 90, 100}));
    QVERIFY(maxDiff(r->outputs[0], (*plain)[0]) < 1e-5);
    QVERIFY(mentions(r->notices, "for the whole 100x90 input; retried in tiles of 64x64"));
    if (lastTile.isEmpty()) {
      QVERIFY(mentions(r->notices, "tiles of 32x32"));
      QVERIFY(mentions(r->notices, "ran out of memory"));
      QVERIFY(mentions(r->notices, "this run used the CPU instead"));
      QVERIFY(calls.back().second);
      QCOMPARE(model.lastNotices(), r->notices);
    } else {
      QVERIFY(mentions(r->notices, ("tiles of " + lastTile.toStdString()).c_str()));
      QVERIFY(!mentions(r->notices, "CPU"));
      QVERIFY(!calls.back().second);
      QVERIFY(calls.back().first <= capPixels);
    }
  }

  void outOfMemoryWithoutFallbackShouldFailClearly() {
    const auto dir = package("x * 3.0", {{"policy", "fixed"}, {"width", 16}, {"height", 16}},
                             json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {-1, 3, 16, 16}}}}));
    runtime::ImageModelOptions o;
    o.cpuFallback = false;
    o.forwardHook = [&](const torch::Tensor& x, bool) -> Result<void> { return oom(x.numel() * 4); };
    auto r = open(dir, o).infer(pattern(16, 16, 0));
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.error().message).contains("CUDA out of memory"), r.error().message.c_str());
  }

  void slidingWindowModelShouldShrinkWindowBatchThenUseCpu() {
    const auto dir = package("x * 2.0", {{"policy", "sliding_window"}, {"width", 16}, {"height", 16}, {"overlap", 0.25}},
                             json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {-1, 3, 16, 16}}}}));
    const Image image = pattern(40, 30, 1);
    auto plain = open(dir, {}).run(image);
    QVERIFY(plain.ok());
    runtime::ImageModelOptions o;
    o.batchSize = 4;
    o.forwardHook = [&](const torch::Tensor& x, bool onFallback) -> Result<void> {
      if (!onFallback) return oom(x.numel() * 4);
      return {};
    };
    auto r = open(dir, o).infer(image);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QVERIFY(mentions(r->notices, "4 windows per forward; retried with 2"));
    QVERIFY(mentions(r->notices, "this run used the CPU instead"));
    QVERIFY(maxDiff(r->outputs[0], (*plain)[0]) < 1e-6);
  }
};

QTEST_GUILESS_MAIN(TestDevicePolicy)
#include "test_device_policy.moc"
