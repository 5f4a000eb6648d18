// forgery.localize end to end through the host (plan, execute), as loupe-cli and the GUI run it: image
// files written here (8-bit RGB, 16-bit RGBA, flat, tiny), and FOCAL-style inference with real TorchScript
// feature extractors the test defines and saves as model packages (no mock: the runtime loads, feeds and
// runs them). The spliced region is known, so the masks are scored against it.

#include <QtTest>

#include <torch/script.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/ForgeryMetrics.h"
#include "core/Sha256.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "io/ImageWriter.h"

using namespace loupe;
using nlohmann::json;

namespace {

// RGB image: smooth gradient + sensor-like noise (sigma 2); a rectangle with noise sigma 8 pasted in.
Image splice(int w, int h, int x0, int y0, int rw, int rh, std::vector<std::uint8_t>& truth, bool sixteenBitAlpha = false) {
  std::mt19937 rng(42);
  std::normal_distribution<float> host(0.f, 2.f), paste(0.f, 8.f);
  Image img(w, h, sixteenBitAlpha ? ColorOrder::RGBA : ColorOrder::RGB,
            sixteenBitAlpha ? PixelDepth::U16 : PixelDepth::U8);
  truth.assign(static_cast<std::size_t>(w) * h, 0);
  const int ch = img.channels();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool in = x >= x0 && x < x0 + rw && y >= y0 && y < y0 + rh;
      truth[static_cast<std::size_t>(y) * w + x] = in;
      const float base = 70.f + 90.f * x / w + 50.f * y / h;
      for (int c = 0; c < 3; ++c) {
        const float v = std::clamp(std::round(base + 10.f * c + (in ? paste(rng) : host(rng))), 0.f, 255.f);
        if (sixteenBitAlpha) img.row<std::uint16_t>(y)[x * ch + c] = static_cast<std::uint16_t>(v * 257.f);
        else img.row<std::uint8_t>(y)[x * ch + c] = static_cast<std::uint8_t>(v);
      }
      if (sixteenBitAlpha) img.row<std::uint16_t>(y)[x * ch + 3] = static_cast<std::uint16_t>(x % 2 ? 65535 : 1000);
    }
  return img;
}

// A per-pixel feature extractor in TorchScript: mean absolute third-order residual (grey levels) over
// cell x cell blocks, next to a constant channel, so that the feature's direction (what cosine k-means
// sees) follows the local noise level.
std::string extractorPackage(const QString& root, const std::string& id, int cell, bool perPixel = true) {
  const std::string dir = (root + "/" + QString::fromStdString(id)).toStdString();
  QDir().mkpath(QString::fromStdString(dir));
  torch::jit::Module m("NoiseExtractor");
  const std::string c = std::to_string(cell);
  m.define(
      "def forward(self, x):\n"
      "    g = x.mean(1, True) * 255.0\n"
      "    r = (g - 3.0 * torch.roll(g, [-1], [3]) + 3.0 * torch.roll(g, [-2], [3]) - torch.roll(g, [-3], [3])).abs()\n"
      "    e = torch.conv2d(r, torch.ones(1, 1, " + c + ", " + c + ") / " + std::to_string(cell * cell) + ".0, None, [" + c + ", " + c + "])\n"
      "    return torch.cat([e, torch.ones_like(e) * 8.0], 1)\n");
  m.save(dir + "/model.pt");
  const json j = {{"schema", 1}, {"id", id}, {"version", "1.0.0"}, {"task", "forgery.localize"},
                  {"format", "torchscript"}, {"entry", "model.pt"},
                  {"files", {{"model.pt", *Sha256::ofFile(dir + "/model.pt")}}},
                  {"input", {{"layout", "NCHW"}, {"channels", 3}, {"color_order", "rgb"},
                             {"size", {{"policy", "multiple_of"}, {"multiple", cell}}}}},
                  {"outputs", json::array({{{"name", "features"}, {"kind", perPixel ? "per_pixel_features" : "heatmap"},
                                            {"shape", {1, perPixel ? 2 : 1, -1, -1}}}})},
                  {"labels", json::array()}, {"licence", "MIT"}, {"provenance", "test_localize_task"}};
  if (!perPixel) {
    // A heatmap-only model: one channel.
    torch::jit::Module h("Heat");
    h.define("def forward(self, x):\n    return x.mean(1, True)\n");
    h.save(dir + "/model.pt");
    json k = j;
    k["files"]["model.pt"] = *Sha256::ofFile(dir + "/model.pt");
    std::ofstream(dir + "/loupe-model.json") << k.dump();
    return dir;
  }
  std::ofstream(dir + "/loupe-model.json") << j.dump();
  return dir;
}

}  // namespace

class TestLocalizeTask : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<host::PluginHost> host_;

  Result<host::RunOutcome> run(const QString& file, std::vector<std::pair<std::string, std::string>> params = {},
                               const CancelToken& cancel = {}) {
    host::RunRequest req;
    req.taskId = "forgery.localize";
    req.inputPath = file.toStdString();
    req.params = std::move(params);
    req.device = "cpu";
    auto plan = host::planRun(*host_, req, nullptr);
    if (!plan) return plan.error();
    return host::executeRun(*plan, cancel, Progress{});
  }
  static const Table* table(const host::RunOutcome& o) {
    for (const auto& l : o.layers)
      if (auto* t = std::get_if<Table>(&l.payload)) return t;
    return nullptr;
  }
  static std::string row(const host::RunOutcome& o, const std::string& key) {
    std::string all;
    for (const auto& r : table(o)->rows)
      if (r[0] == key) all += (all.empty() ? "" : " | ") + r[1];
    return all;
  }
  static const Mask* mask(const host::RunOutcome& o) {
    for (const auto& l : o.layers)
      if (auto* m = std::get_if<Mask>(&l.payload)) return m;
    return nullptr;
  }

 private Q_SLOTS:
  void initTestCase() {
    host_ = std::make_unique<host::PluginHost>();
    host_->setSearchPaths({LOUPE_PLUGIN_DIR});
    host_->scan();
    QVERIFY(host_->findTask("forgery.localize").spec);
    qputenv("LOUPE_MODEL_PATH", tmp_.filePath("models").toUtf8());
  }

  void shouldLocaliseASpliceWithTheTrainingFreeExtractor_data() {
    QTest::addColumn<bool>("sixteenBitAlpha");
    QTest::newRow("8-bit RGB") << false;
    QTest::newRow("16-bit RGBA") << true;
  }
  void shouldLocaliseASpliceWithTheTrainingFreeExtractor() {
    QFETCH(bool, sixteenBitAlpha);
    std::vector<std::uint8_t> truth;
    const Image img = splice(320, 240, 170, 40, 112, 112, truth, sixteenBitAlpha);
    const QString file = tmp_.filePath(sixteenBitAlpha ? "splice16.png" : "splice.png");
    QVERIFY(io::writeImage(img, file.toStdString()).ok());
    auto out = run(file);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QCOMPARE(out->layers.size(), std::size_t(3));
    QCOMPARE(out->layers[0].kind(), std::string("heatmap"));
    const Mask* m = mask(*out);
    QVERIFY(m);
    QCOMPARE(m->width, 320);
    QCOMPARE(m->height, 240);
    const double f1 = analysis::binaryF1(analysis::confusion(m->values, truth));
    QVERIFY2(f1 > 0.75, qPrintable(QString("F1 %1").arg(f1)));
    QCOMPARE(row(*out, "forgery_found"), std::string("yes"));
    QVERIFY(std::atof(row(*out, "image_score").c_str()) > 0.5);
    QVERIFY(row(*out, "extractor").find("splicebuster") != std::string::npos);
  }

  void shouldJudgeAFlatImagePristine() {
    Image flat(300, 200, ColorOrder::RGB);
    std::fill(flat.data(), flat.data() + flat.byteSize(), 90);
    const QString file = tmp_.filePath("flat.png");
    QVERIFY(io::writeImage(flat, file.toStdString()).ok());
    auto out = run(file, {{"clustering", "hdbscan"}});
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QCOMPARE(row(*out, "forgery_found"), std::string("no"));
    QVERIFY(row(*out, "note").find("no texture") != std::string::npos);
    for (auto v : mask(*out)->values) QCOMPARE(v, std::uint8_t(0));
  }

  void shouldExplainImagesTooSmall() {
    Image tiny(12, 9, ColorOrder::Gray);
    std::fill(tiny.data(), tiny.data() + tiny.byteSize(), 7);
    const QString file = tmp_.filePath("tiny.png");
    QVERIFY(io::writeImage(tiny, file.toStdString()).ok());
    auto out = run(file);
    QVERIFY(!out.ok());
    QVERIFY(out.error().message.find("too small") != std::string::npos);
  }

  void shouldRunFocalStyleExtractorPackages() {
    extractorPackage(tmp_.filePath("models"), "noise-cells-8", 8);
    extractorPackage(tmp_.filePath("models"), "noise-cells-16", 16);
    std::vector<std::uint8_t> truth;
    const Image img = splice(256, 192, 32, 48, 96, 96, truth);
    const QString file = tmp_.filePath("splice-focal.png");
    QVERIFY(io::writeImage(img, file.toStdString()).ok());

    auto one = run(file, {{"extractor", "noise-cells-8"}});
    QVERIFY2(one.ok(), one.ok() ? "" : one.error().message.c_str());
    QCOMPARE(row(*one, "grid"), std::string("32x24"));
    QCOMPARE(row(*one, "feature_dims"), std::string("2"));
    QVERIFY(row(*one, "clustering").find("cosine") != std::string::npos);  // FOCAL's metric by default
    double f1 = analysis::binaryF1(analysis::confusion(mask(*one)->values, truth));
    QVERIFY2(f1 > 0.85, qPrintable(QString("F1 %1").arg(f1)));

    // FOCAL's fusion: the second network's 16x12 grid resized (nearest) to the first's, each
    // L2-normalised, concatenated: 4 dimensions.
    auto fused = run(file, {{"extractor", "noise-cells-8+noise-cells-16"}});
    QVERIFY2(fused.ok(), fused.ok() ? "" : fused.error().message.c_str());
    QCOMPARE(row(*fused, "feature_dims"), std::string("4"));
    QCOMPARE(row(*fused, "extractor"), std::string("noise-cells-8 + noise-cells-16"));
    f1 = analysis::binaryF1(analysis::confusion(mask(*fused)->values, truth));
    QVERIFY2(f1 > 0.8, qPrintable(QString("F1 %1").arg(f1)));

    // A folder works as well as an id.
    auto byFolder = run(file, {{"extractor", tmp_.filePath("models/noise-cells-8").toStdString()}});
    QVERIFY(byFolder.ok());
  }

  void shouldExplainUnusableExtractors() {
    std::vector<std::uint8_t> truth;
    const QString file = tmp_.filePath("splice-bad.png");
    QVERIFY(io::writeImage(splice(64, 64, 0, 0, 16, 16, truth), file.toStdString()).ok());
    auto missing = run(file, {{"extractor", "no-such-package"}});
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().code, ErrorCode::NotFound);
    QVERIFY(missing.error().message.find("splicebuster") != std::string::npos);

    extractorPackage(tmp_.filePath("models"), "heat-only", 8, false);
    auto heat = run(file, {{"extractor", "heat-only"}});
    QVERIFY(!heat.ok());
    QVERIFY(heat.error().message.find("per_pixel_features") != std::string::npos);
  }

  void shouldHonourCancellation() {
    std::vector<std::uint8_t> truth;
    const QString file = tmp_.filePath("cancel.png");
    QVERIFY(io::writeImage(splice(256, 256, 10, 10, 64, 64, truth), file.toStdString()).ok());
    CancelToken cancel;
    cancel.cancel();
    auto out = run(file, {}, cancel);
    QVERIFY(!out.ok());
    QCOMPARE(out.error().code, ErrorCode::Cancelled);
  }
};

QTEST_GUILESS_MAIN(TestLocalizeTask)
#include "test_localize_task.moc"
