// prostate.detect through the host, as loupe-cli runs it: a synthetic study written as NIfTI files on
// three different grids with a known "lesion" (low ADC, high DWI) at a known world position; the baseline
// and a TorchScript model package; NIfTI outputs in the T2W geometry (re-read: identical geometry); bad
// studies; and the real ProstateX DICOM study when ../shared/data is present.
#include <torch/script.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/Sha256.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "volume/Study.h"
#include "volume/VolumeIO.h"

using namespace loupe;
using json = nlohmann::json;

namespace {

Mat3 rotZ(double a) { return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}; }

const Vec3 kLesion{6.0, -4.0, 3.0};  // world (LPS, mm)

// Body: a cylinder of radius 45 mm around the z axis; lesion: a 5 mm radius ball at kLesion.
Volume sequence(std::array<std::int64_t, 3> n, Vec3 sp, Mat3 dir, float body, float lesion, float noiseSd, int seed) {
  Volume v = Volume::floatVolume(n, sp, {0, 0, 0}, dir);
  const Vec3 half = v.indexToWorld({(n[0] - 1) / 2.0, (n[1] - 1) / 2.0, (n[2] - 1) / 2.0});
  v.origin = {-half[0], -half[1], -half[2]};  // centred on the world origin
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, noiseSd);
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i) {
        const Vec3 p = v.indexToWorld({double(i), double(j), double(k)});
        const double r = std::hypot(p[0], p[1]);
        const double d = std::sqrt((p[0] - kLesion[0]) * (p[0] - kLesion[0]) + (p[1] - kLesion[1]) * (p[1] - kLesion[1]) +
                                   (p[2] - kLesion[2]) * (p[2] - kLesion[2]));
        float value = r < 45 ? body + noise(rng) : 0.f;
        if (d < 5.0) value = lesion + noise(rng);
        v.floats[v.offset(i, j, k)] = value;
      }
  return v;
}

void writeStudy(const QString& dir, bool withAdc = true, Vec3 adcShift = {0, 0, 0}) {
  QDir().mkpath(dir);
  QVERIFY(volume::writeVolume(sequence({128, 128, 16}, {0.7, 0.7, 3.0}, rotZ(0.15), 400, 380, 15, 1),
                              (dir + "/case_t2w.nii.gz").toStdString()).ok());
  Volume adc = sequence({48, 48, 18}, {2.0, 2.0, 3.0}, rotZ(-0.1), 1400, 600, 60, 2);
  for (int i = 0; i < 3; ++i) adc.origin[i] += adcShift[i];
  if (withAdc) QVERIFY(volume::writeVolume(adc, (dir + "/case_adc.nii.gz").toStdString()).ok());
  QVERIFY(volume::writeVolume(sequence({48, 48, 18}, {2.0, 2.0, 3.0}, rotZ(-0.1), 60, 160, 5, 3),
                              (dir + "/case_hbv.nii.gz").toStdString()).ok());
}

}  // namespace

class TestProstateDetect : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<host::PluginHost> host_;

  Result<json> run(const std::string& input, const QString& out, std::vector<std::pair<std::string, std::string>> params = {},
                   host::RunStage* stage = nullptr) {
    host::RunRequest req;
    req.taskId = "prostate.detect";
    req.inputPath = input;
    req.params = std::move(params);
    req.device = "cpu";
    host::RunStage s = host::RunStage::Task;
    auto plan = host::planRun(*host_, req, &s);
    if (!plan) {
      if (stage) *stage = s;
      return plan.error();
    }
    auto outcome = host::executeRun(*plan, {}, {});
    if (!outcome) {
      if (stage) *stage = host::RunStage::Task;
      return outcome.error();
    }
    QDir().mkpath(out);
    return host::writeRun(*plan, *outcome, out.toStdString());
  }

  std::string modelPackage() {
    const std::string dir = tmp_.filePath("model").toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    // Pointwise: likelihood = sigmoid(2 * (DWI - ADC) - 4) on z-scored channels.
    torch::jit::Module m("Pointwise3d");
    m.register_parameter("w", torch::tensor({0.f, -2.f, 2.f}).reshape({1, 3, 1, 1, 1}), false);
    m.register_parameter("b", torch::tensor({-4.f}), false);
    m.define("def forward(self, x):\n    return torch.sigmoid(torch.conv3d(x, self.w, self.b))\n");
    m.save(dir + "/model.pt");
    const json j = {{"schema", 1}, {"id", "pointwise-test"}, {"version", "1.0.0"}, {"task", "prostate.detect"},
                    {"format", "torchscript"}, {"entry", "model.pt"},
                    {"files", {{"model.pt", *Sha256::ofFile(dir + "/model.pt")}}},
                    {"input", {{"layout", "NCDHW"}, {"channels", 3}, {"color_order", "any"}, {"scale", 1.0},
                               {"size", {{"policy", "sliding_window"}, {"width", 32}, {"height", 32}, {"depth", 8}, {"overlap", 0.25}}}}},
                    {"outputs", json::array({{{"name", "lesion"}, {"kind", "probabilities"}}})},
                    {"labels", json::array()}, {"licence", "MIT"}, {"provenance", "test_prostate_detect"}};
    std::ofstream(dir + "/loupe-model.json") << j.dump();
    return dir;
  }

  void checkOutputs(const json& doc, const QString& out, const std::string& methodWord) {
    QCOMPARE(doc["volumes"].size(), std::size_t(3));
    auto t2 = volume::readVolume(tmp_.filePath("study/case_t2w.nii.gz").toStdString());
    QVERIFY(t2.ok());
    for (const char* name : {"likelihood", "detection_map", "candidate_labels"}) {
      auto v = volume::readVolume((out + "/" + name + ".nii.gz").toStdString());
      QVERIFY2(v.ok(), v.ok() ? "" : v.error().message.c_str());
      QVERIFY2(sameGeometry(*v, *t2, 1e-5), name);  // written in, and re-read with, the T2W geometry
    }
    const json& rows = doc["layers"][0]["rows"];
    QVERIFY(rows.size() >= 1);
    // Top candidate: centroid (column 4, "x, y, z" LPS mm) within 3 mm of the lesion, volume near 4/3 pi 5^3.
    double x, y, z;
    QCOMPARE(std::sscanf(rows[0][4].get<std::string>().c_str(), "%lf, %lf, %lf", &x, &y, &z), 3);
    const double dist = std::sqrt((x - kLesion[0]) * (x - kLesion[0]) + (y - kLesion[1]) * (y - kLesion[1]) + (z - kLesion[2]) * (z - kLesion[2]));
    QVERIFY2(dist < 3.0, qPrintable(QString("top candidate %1 mm from the lesion").arg(dist)));
    const double ml = std::stod(rows[0][2].get<std::string>());
    QVERIFY2(ml > 0.2 && ml < 1.2, qPrintable(QString("volume %1 mL").arg(ml)));
    const std::string method = doc["layers"][1]["rows"][0][1].get<std::string>();
    QVERIFY2(method.find(methodWord) != std::string::npos, method.c_str());
    QVERIFY(QFile::exists(out + "/candidates.json"));
  }

 private Q_SLOTS:
  void initTestCase() {
    host_ = std::make_unique<host::PluginHost>();
    host_->setSearchPaths({QString::fromUtf8(qgetenv("LOUPE_PLUGIN_PATH"))});
    host_->scan();
    QVERIFY(host_->findTask("prostate.detect").spec);
    writeStudy(tmp_.filePath("study"));
  }

  void baselineOnAFolder() {
    auto doc = run(tmp_.filePath("study").toStdString(), tmp_.filePath("out_baseline"));
    QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
    checkOutputs(*doc, tmp_.filePath("out_baseline"), "training-free baseline");
    QCOMPARE((*doc)["input"]["kind"].get<std::string>(), std::string("volume_study"));
    QCOMPARE((*doc)["input"]["sequences"].size(), std::size_t(3));
  }

  void modelOnAListOfFiles() {
    const QString s = tmp_.filePath("study");
    const std::string list = (s + "/case_t2w.nii.gz," + s + "/case_adc.nii.gz," + s + "/case_hbv.nii.gz").toStdString();
    auto doc = run(list, tmp_.filePath("out_model"), {{"model", modelPackage()}, {"spacing", "1.0,1.0,3.0"}});
    QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
    checkOutputs(*doc, tmp_.filePath("out_model"), "pointwise-test");
  }

  void badStudies() {
    writeStudy(tmp_.filePath("no_adc"), false);
    auto a = run(tmp_.filePath("no_adc").toStdString(), tmp_.filePath("o1"));
    QVERIFY(!a.ok());
    QVERIFY2(a.error().message.find("lacks adc") != std::string::npos, a.error().message.c_str());
    writeStudy(tmp_.filePath("apart"), true, {0, 0, 400});
    auto b = run(tmp_.filePath("apart").toStdString(), tmp_.filePath("o2"));
    QVERIFY(!b.ok());
    QVERIFY2(b.error().message.find("do not overlap") != std::string::npos, b.error().message.c_str());
    host::RunStage stage = host::RunStage::Task;
    auto c = run(tmp_.filePath("nothing_here").toStdString(), tmp_.filePath("o3"), {}, &stage);
    QVERIFY(!c.ok());
    QVERIFY(stage == host::RunStage::Input);
  }

  void realProstateXStudy() {
    const QString dcm = QStringLiteral(LOUPE_SHARED_DATA_DIR "/prostate_mri/input/dcm/ProstateX/ProstateX-0000/07-07-2011");
    if (!QDir(dcm).exists()) QSKIP("prostate_mri data not present under ../shared/data");
    auto doc = run(dcm.toStdString(), tmp_.filePath("out_real"));
    QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message.c_str());
    auto study = volume::loadStudy({dcm.toStdString()});
    QVERIFY(study.ok());
    auto map = volume::readVolume(tmp_.filePath("out_real/detection_map.nii.gz").toStdString());
    QVERIFY(map.ok());
    QVERIFY(sameGeometry(*map, *study->find("t2w"), 1e-4));  // oblique DICOM geometry kept through NIfTI
  }
};

QTEST_GUILESS_MAIN(TestProstateDetect)
#include "test_prostate_detect.moc"
