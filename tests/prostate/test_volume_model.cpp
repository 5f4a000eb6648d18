// The 3-D model path: a real TorchScript package this test writes (a 1x1x1 conv3d + sigmoid, and a
// two-class logits variant) run by sliding windows on a study whose sequences live on different oblique
// grids. A pointwise model makes the right answer computable independently: sigmoid(-ADC channel) on the
// model grid, resampled into the T2W's grid; window blending must reproduce it exactly.
#include <torch/script.h>

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Sha256.h"
#include "runtime/ModelPackage.h"
#include "volume/Resample.h"
#include "volume/VolumeModel.h"

using namespace loupe;
using json = nlohmann::json;

namespace {

Mat3 rotZ(double a) { return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}; }

Volume field(std::array<std::int64_t, 3> n, Vec3 sp, Vec3 origin, Mat3 dir, Vec3 g, double c) {
  Volume v = Volume::floatVolume(n, sp, origin, dir);
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i) {
        const Vec3 p = v.indexToWorld({double(i), double(j), double(k)});
        v.floats[v.offset(i, j, k)] = float(g[0] * p[0] + g[1] * p[1] + g[2] * p[2] + c + 3 * std::sin(0.2 * p[0]));
      }
  return v;
}

Study study() {
  Study s;
  s.path = "synthetic";
  s.sequences.emplace_back("t2w", field({40, 36, 10}, {0.8, 0.8, 3.0}, {-16, -14, -15}, rotZ(0.2), {1, 2, 0.5}, 300));
  s.sequences.emplace_back("adc", field({24, 22, 12}, {2, 2, 3}, {-24, -22, -18}, rotZ(-0.1), {-3, 1, 2}, 1200));
  s.sequences.emplace_back("dwi", field({24, 22, 12}, {2, 2, 3}, {-24, -22, -18}, rotZ(-0.1), {0.5, -0.5, 1}, 50));
  return s;
}

}  // namespace

class TestVolumeModel : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  std::string package(const std::string& name, const std::string& body, const std::string& kind, int outChannels,
                       const std::string& layout = "NCDHW") {
    const std::string dir = tmp_.filePath(QString::fromStdString(name)).toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    torch::jit::Module m("Lesion3d");
    m.register_parameter("w", torch::tensor({0.f, -1.f, 0.f}).reshape({1, 3, 1, 1, 1}), false);
    m.register_parameter("b", torch::zeros({1}), false);
    m.define("def forward(self, x):\n    a = torch.conv3d(x, self.w, self.b)\n    return " + body + "\n");
    m.save(dir + "/model.pt");
    json size = {{"policy", "sliding_window"}, {"width", 16}, {"height", 16}, {"depth", 4}, {"overlap", 0.25}};
    if (layout != "NCDHW") size.erase("depth");
    const json j = {{"schema", 1}, {"id", name}, {"version", "1.0.0"}, {"task", "prostate.detect"},
                    {"format", "torchscript"}, {"entry", "model.pt"},
                    {"files", {{"model.pt", *Sha256::ofFile(dir + "/model.pt")}}},
                    {"input", {{"layout", layout}, {"channels", 3}, {"color_order", "any"}, {"size", size}, {"scale", 1.0}}},
                    {"outputs", json::array({{{"name", "lesion"}, {"kind", kind}}})},
                    {"labels", json::array()}, {"licence", "MIT"}, {"provenance", "test_volume_model"}};
    std::ofstream(dir + "/loupe-model.json") << j.dump();
    (void)outChannels;
    return dir;
  }

  void compareWithDirect(const std::string& dir, double factor) {
    auto pkg = runtime::openModelPackage(dir);
    QVERIFY2(pkg.ok(), pkg.ok() ? "" : pkg.error().message.c_str());
    const Study s = study();
    volume::VolumeModelOptions o;
    o.spacing = {1.0, 1.0, 3.0};
    auto out = volume::runVolumeModel(*pkg, s, o);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QVERIFY(sameGeometry(*out, *s.find("t2w")));
    // Independent expectation: the normalised ADC channel x on the model grid, through 1 / (1 + exp(factor * x)).
    Volume grid;
    auto stacked = volume::stackSequences(s, o, grid);
    QVERIFY(stacked.ok());
    QVERIFY(grid.size[0] > 16 && grid.size[2] > 4);  // several windows along every axis
    Volume expected = grid.sameGrid(VoxelType::Float32);
    const std::size_t n = std::size_t(grid.voxelCount());
    for (std::size_t i = 0; i < n; ++i) expected.floats[i] = float(1.0 / (1.0 + std::exp(factor * (*stacked)[n + i])));
    auto back = volume::resampleToGrid(expected, *s.find("t2w"));
    QVERIFY(back.ok());
    double worst = 0;
    for (std::size_t i = 0; i < back->floats.size(); ++i) worst = std::max(worst, double(std::abs(back->floats[i] - out->floats[i])));
    QVERIFY2(worst < 1e-5, qPrintable(QString("max difference %1").arg(worst)));
  }

 private Q_SLOTS:
  void probabilities() { compareWithDirect(package("prob", "torch.sigmoid(a)", "probabilities", 1), 1.0); }
  void twoClassLogits() {
    // Channels (a, -a) with a = -ADC: P(lesion) = softmax[1] = e^-a / (e^a + e^-a) = sigmoid(-2a) = sigmoid(2 ADC).
    compareWithDirect(package("logits", "torch.cat([a, -a], 1)", "logits", 2), -2.0);
  }

  void refusesWrongPackagesAndStudies() {
    auto flat = runtime::openModelPackage(package("flat", "a", "probabilities", 1, "NCHW"));
    if (flat.ok()) {
      auto r = volume::runVolumeModel(*flat, study());
      QVERIFY(!r.ok());
      QVERIFY2(r.error().message.find("NCDHW") != std::string::npos, r.error().message.c_str());
    }
    auto pkg = runtime::openModelPackage(package("ok", "torch.sigmoid(a)", "probabilities", 1));
    QVERIFY(pkg.ok());
    Study s = study();
    s.sequences.pop_back();  // no dwi
    auto r = volume::runVolumeModel(*pkg, s);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("dwi") != std::string::npos, r.error().message.c_str());
  }
};

QTEST_GUILESS_MAIN(TestVolumeModel)
#include "test_volume_model.moc"
