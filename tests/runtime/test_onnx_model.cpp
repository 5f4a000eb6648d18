// ONNX packages through OpenCV DNN (libloupe_runtime_onnx, loaded by loadModel on first use): a small CNN
// with seeded random weights is exported at test time by tests/runtime/fixtures/make_onnx_fixture.py
// (Debian's python3-torch: torch.onnx.export and torch.jit.trace of the same weights) and run here. The
// references are the eager PyTorch outputs the script writes, and the TorchScript export of the same net;
// the largest differences are printed. Skipped where /usr/bin/python3 cannot import torch.

#include <QtTest>

#include <torch/torch.h>

#include <fstream>

#include "runtime/ImageModel.h"
#include "runtime/Model.h"

using namespace loupe;

namespace {
torch::Tensor readF32(const QString& path, std::vector<std::int64_t> shape) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  auto t = torch::empty(shape, torch::kFloat32);
  in.read(reinterpret_cast<char*>(t.data_ptr<float>()), static_cast<std::streamsize>(t.numel() * 4));
  return in ? t : torch::Tensor();
}
double maxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

class TestOnnxModel : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* sub) const { return tmp_.filePath(sub); }
  Result<runtime::ModelPackage> pkg(const char* sub) { return runtime::openModelPackage(dir(sub).toStdString()); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QProcess py;
    py.start("/usr/bin/python3", {"-c", "import torch"});
    if (!py.waitForFinished(60000) || py.exitCode() != 0) QSKIP("/usr/bin/python3 cannot import torch (python3-torch)");
    py.start("/usr/bin/python3", {QStringLiteral(LOUPE_SOURCE_DIR "/tests/runtime/fixtures/make_onnx_fixture.py"), tmp_.path()});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
  }

  void shouldMatchPyTorchAndTorchScript() {
    auto onnx = pkg("onnx");
    QVERIFY2(onnx.ok(), onnx.ok() ? "" : onnx.error().message.c_str());
    QCOMPARE(onnx->format, runtime::ModelFormat::Onnx);
    auto model = runtime::loadModel(*onnx, torch::kCPU);
    QVERIFY2(model.ok(), model.ok() ? "" : model.error().message.c_str());
    const auto x = readF32(dir("ref/input.bin"), {2, 3, 32, 48});
    const auto logits = readF32(dir("ref/logits.bin"), {2, 10});
    const auto features = readF32(dir("ref/features.bin"), {2, 16, 16, 24});
    QVERIFY(x.defined() && logits.defined() && features.defined());

    auto out = (*model)->forward(x);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QCOMPARE(out->size(), std::size_t(2));
    QCOMPARE((*out)[0].sizes().vec(), logits.sizes().vec());
    QCOMPARE((*out)[1].sizes().vec(), features.sizes().vec());
    const double dLogits = maxDiff((*out)[0], logits), dFeatures = maxDiff((*out)[1], features);

    auto ts = pkg("ts");
    QVERIFY(ts.ok());
    auto tsModel = runtime::loadModel(*ts, torch::kCPU);
    QVERIFY(tsModel.ok());
    auto tsOut = (*tsModel)->forward(x);
    QVERIFY(tsOut.ok());
    const double dTs = std::max(maxDiff((*out)[0], (*tsOut)[0]), maxDiff((*out)[1], (*tsOut)[1]));
    qInfo("ONNX (OpenCV DNN) vs PyTorch eager: max abs diff logits %.3g, features %.3g; vs TorchScript %.3g "
          "(logits scale %.3g)", dLogits, dFeatures, dTs, logits.abs().max().item<double>());
    QVERIFY(dLogits < 1e-4);
    QVERIFY(dFeatures < 1e-4);
    QVERIFY(dTs < 1e-4);
  }

  void imageModelShouldRunOnnxLikeTorchScript() {
    runtime::ImageModelOptions o;
    o.device.kind = DeviceRequest::Kind::Cpu;
    auto onnx = runtime::ImageModel::open(dir("onnx").toStdString(), "test.onnx", o);
    QVERIFY2(onnx.ok(), onnx.ok() ? "" : onnx.error().message.c_str());
    auto ts = runtime::ImageModel::open(dir("ts").toStdString(), "test.onnx", o);
    QVERIFY(ts.ok());
    Image img(70, 50, ColorOrder::RGB);  // resized to the fixed 48x32 input by both
    for (int y = 0; y < 50; ++y)
      for (int x = 0; x < 70; ++x)
        for (int c = 0; c < 3; ++c) img.row<std::uint8_t>(y)[3 * x + c] = static_cast<std::uint8_t>((x * 3 + y * 5 + c * 70) % 256);
    auto a = onnx->run(img);
    auto b = ts->run(img);
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().message.c_str());
    QVERIFY(b.ok());
    QVERIFY(maxDiff((*a)[0], (*b)[0]) < 1e-4);
    auto scores = onnx->classScores((*a)[0], 0);
    QVERIFY(scores.ok());
    QCOMPARE(scores->size(), std::size_t(10));
    QVERIFY(scores->front().label.rfind("class", 0) == 0);
  }

  void shouldRefuseCudaAndBrokenFiles() {
    auto onnx = pkg("onnx");
    QVERIFY(onnx.ok());
    auto cuda = runtime::loadModel(*onnx, torch::Device(torch::kCUDA, 0));
    QVERIFY(!cuda.ok());
    QCOMPARE(cuda.error().code, ErrorCode::DeviceUnavailable);
    QVERIFY(QString::fromStdString(cuda.error().message).contains("CPU only"));

    runtime::ModelPackage broken = *onnx;
    broken.folder = dir("broken").toStdString();
    QDir().mkpath(dir("broken"));
    std::ofstream(broken.entryPath()) << "not a protobuf";
    auto m = runtime::loadModel(broken, torch::kCPU);
    QVERIFY(!m.ok());
    QVERIFY2(QString::fromStdString(m.error().message).contains("Cannot read model.onnx as ONNX"), m.error().message.c_str());
  }

  void shouldCheckOutputShapesAgainstManifest() {
    auto onnx = pkg("onnx");
    QVERIFY(onnx.ok());
    onnx->outputs[0].shape = {-1, 11};  // the graph gives 10 logits
    auto model = runtime::loadModel(*onnx, torch::kCPU);
    QVERIFY(model.ok());
    auto out = (*model)->forward(torch::zeros({1, 3, 32, 48}));
    QVERIFY(!out.ok());
    QVERIFY2(QString::fromStdString(out.error().message).contains("has shape [1, 10] but the package declares [-1, 11]"),
             out.error().message.c_str());
  }
};

QTEST_GUILESS_MAIN(TestOnnxModel)
#include "test_onnx_model.moc"
