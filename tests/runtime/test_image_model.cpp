// ImageModel: an image is fed exactly as the package's input spec says and outputs come back typed.
// Fixture models are tiny TorchScript programs written here; expected values follow from their
// definitions and the spec arithmetic ((pixel * scale - mean) / std), worked by hand below.

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
Image solid(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  Image img(w, h, ColorOrder::RGB);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = img.row<std::uint8_t>(y) + 3 * x;
      p[0] = r; p[1] = g; p[2] = b;
    }
  return img;
}
// A horizontal ramp in the red channel: R = x, so outputs can be checked per position.
Image ramp(int w, int h) {
  Image img(w, h, ColorOrder::RGB);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.row<std::uint8_t>(y)[3 * x] = static_cast<std::uint8_t>(x);
  return img;
}
}  // namespace

class TestImageModel : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int counter_ = 0;

  std::string package(const std::string& body, const json& input, const json& outputs, const json& labels = json::array()) {
    const std::string dir = tmp_.filePath(QString::number(++counter_)).toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    torch::jit::Module m("Fixture");
    m.define("def forward(self, x):\n    return " + body + "\n");
    m.save(dir + "/model.pt");
    const json j = {{"schema", 1}, {"id", "fixture"}, {"version", "1.0.0"}, {"task", "test.task"},
                    {"format", "torchscript"}, {"entry", "model.pt"},
                    {"files", {{"model.pt", *Sha256::ofFile(dir + "/model.pt")}}},
                    {"input", input}, {"outputs", outputs}, {"labels", labels},
                    {"licence", "MIT"}, {"provenance", "test_image_model"}};
    std::ofstream(dir + "/loupe-model.json") << j.dump();
    return dir;
  }
  runtime::ImageModel open(const std::string& dir) {
    runtime::ImageModelOptions o;
    o.device.kind = DeviceRequest::Kind::Cpu;
    auto m = runtime::ImageModel::open(dir, "test.task", o);
    if (!m) qFatal("%s", m.error().message.c_str());
    return std::move(*m);
  }

 private Q_SLOTS:
  void shouldFeedChannelsInDeclaredOrder_data() {
    QTest::addColumn<QString>("order");
    QTest::addColumn<float>("expected");
    // Pure red pixel (255, 0, 0), scale 1/255: channel 0 is 1 for rgb, 0 for bgr (blue first).
    QTest::newRow("rgb") << "rgb" << 1.f;
    QTest::newRow("bgr") << "bgr" << 0.f;
  }
  void shouldFeedChannelsInDeclaredOrder() {
    QFETCH(QString, order);
    QFETCH(float, expected);
    auto m = open(package("x[:, 0:1]", {{"layout", "NCHW"}, {"channels", 3}, {"color_order", order.toStdString()},
                                        {"size", {{"policy", "fixed"}, {"width", 32}, {"height", 32}}}},
                          json::array({{{"name", "map"}, {"kind", "heatmap"}, {"shape", {1, 1, 32, 32}}}})));
    const Image img = solid(50, 20, 255, 0, 0);
    auto out = m.run(img);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    auto h = m.heatmap((*out)[0], 0, img.width(), img.height());
    QVERIFY(h.ok());
    QCOMPARE(h->width, 50);
    QCOMPARE(h->height, 20);  // resized back to the image
    for (float v : h->values) QVERIFY(std::abs(v - expected) < 1e-5f);
  }

  void shouldNormaliseWithMeanAndStd() {
    // (128 / 255 - 0.5) / 0.25 = 0.00784...; gray input replicated to 3 channels.
    auto m = open(package("x.mean([2, 3])", {{"layout", "NCHW"}, {"channels", 3}, {"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}},
                          json::array({{{"name", "e"}, {"kind", "embedding"}, {"shape", {1, 3}}}})));
    Image gray(8, 8, ColorOrder::Gray);
    std::fill(gray.data(), gray.data() + gray.byteSize(), 128);
    auto out = m.run(gray);
    QVERIFY(out.ok());
    const double expected = (128.0 / 255.0 - 0.5) / 0.25;
    for (int c = 0; c < 3; ++c) QVERIFY(std::abs((*out)[0][0][c].item<double>() - expected) < 1e-6);
    auto e = m.embedding((*out)[0], 0);
    QVERIFY(e.ok());
    for (int c = 0; c < 3; ++c) QVERIFY(std::abs((*e)[0][c].item<double>() - 1.0 / std::sqrt(3.0)) < 1e-6);
  }

  void shouldPadToMultipleAndCropBack() {
    auto m = open(package("x[:, 0:1] * 255.0", {{"layout", "NCHW"}, {"channels", 3}, {"size", {{"policy", "multiple_of"}, {"multiple", 16}}}},
                          json::array({{{"name", "r"}, {"kind", "heatmap"}}})));
    const Image img = ramp(37, 11);
    auto out = m.run(img);
    QVERIFY(out.ok());
    QCOMPARE((*out)[0].sizes().vec(), (std::vector<std::int64_t>{1, 1, 11, 37}));
    for (int x = 0; x < 37; ++x) QVERIFY(std::abs((*out)[0][0][0][5][x].item<float>() - x) < 1e-3f);
  }

  void shouldTileWithSlidingWindow() {
    auto m = open(package("x * 2.0", {{"layout", "NCHW"}, {"channels", 3},
                                      {"size", {{"policy", "sliding_window"}, {"width", 16}, {"height", 16}, {"overlap", 0.5}}}},
                          json::array({{{"name", "y"}, {"kind", "heatmap"}, {"shape", {1, 3, 16, 16}}}})));
    const Image img = ramp(70, 30);
    auto out = m.run(img);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QCOMPARE((*out)[0].sizes().vec(), (std::vector<std::int64_t>{1, 3, 30, 70}));
    for (int x = 0; x < 70; ++x) QVERIFY(std::abs((*out)[0][0][0][17][x].item<float>() - 2.f * x / 255.f) < 1e-5f);
  }

  void shouldTurnLogitsIntoSortedLabelledProbabilities() {
    auto m = open(package("torch.tensor([[1.0, 2.0, 3.0]]) + x.sum() * 0.0", {{"layout", "NCHW"}, {"channels", 3}},
                          json::array({{{"name", "cls"}, {"kind", "logits"}, {"shape", {1, 3}}}}), {"cat", "dog", "fox"}));
    auto out = m.run(solid(4, 4, 1, 2, 3));
    QVERIFY(out.ok());
    auto s = m.classScores((*out)[0], 0);
    QVERIFY(s.ok());
    // softmax(1, 2, 3) = (e, e^2, e^3) / (e + e^2 + e^3) = 0.09003, 0.24473, 0.66524
    QCOMPARE(s->at(0).label, std::string("fox"));
    QVERIFY(std::abs(s->at(0).probability - 0.66524f) < 1e-4f);
    QCOMPARE(s->at(2).label, std::string("cat"));
    QVERIFY(std::abs(s->at(2).probability - 0.09003f) < 1e-4f);
    auto wrong = m.heatmap((*out)[0], 0, 4, 4);
    QVERIFY(!wrong.ok());
    QVERIFY(QString::fromStdString(wrong.error().message).contains("is logits"));
  }

  void shouldFlattenPixelFeaturesRowMajor() {
    auto m = open(package("x", {{"layout", "NCHW"}, {"channels", 3}, {"scale", 1.0}},
                          json::array({{{"name", "f"}, {"kind", "per_pixel_features"}, {"shape", {1, 3, -1, -1}}}})));
    Image img(3, 2, ColorOrder::RGB);
    img.row<std::uint8_t>(1)[3 * 2 + 1] = 7;  // position (x=2, y=1) -> row 1*3+2 = 5, only G set
    img.row<std::uint8_t>(0)[0] = 3;          // position 0: R=3, G=0, B=0
    auto out = m.run(img);
    QVERIFY(out.ok());
    auto f = m.pixelFeatures((*out)[0], 0);
    QVERIFY(f.ok());
    QCOMPARE(f->sizes().vec(), (std::vector<std::int64_t>{6, 3}));
    QVERIFY(torch::allclose((*f)[5], torch::tensor({0.f, 1.f, 0.f})));
    QVERIFY(torch::allclose((*f)[0], torch::tensor({1.f, 0.f, 0.f})));
  }

  void shouldRefuseUnavailableDeviceAndWrongTask() {
    const auto dir = package("x", {{"layout", "NCHW"}, {"channels", 3}}, json::array({{{"name", "y"}, {"kind", "heatmap"}}}));
    runtime::ImageModelOptions o;
    o.device.kind = DeviceRequest::Kind::Cuda;
    auto m = runtime::ImageModel::open(dir, "test.task", o);
    if (torch::cuda::is_available()) QVERIFY(m.ok());
    else QCOMPARE(m.error().code, ErrorCode::DeviceUnavailable);
    o.device.kind = DeviceRequest::Kind::Cpu;
    auto other = runtime::ImageModel::open(dir, "prostate.detect", o);
    QVERIFY(!other.ok());
    QVERIFY(QString::fromStdString(other.error().message).contains("is for task test.task"));
  }
};

QTEST_GUILESS_MAIN(TestImageModel)
#include "test_image_model.moc"
