// tools/export/clld.py end to end: a random CLLD encoder (reduced ResNet + dense projection) -> package ->
// the same two feature maps from Python (torch.jit.load) and from Loupe (TorchScriptModel on a fixed tensor,
// ImageModel on a 300x200 PNG padded to multiples of 32), the --onnx package of the same network through
// OpenCV DNN, and the --checkpoint path on CLLD's DDP layout.
// Skipped where /usr/bin/python3 cannot import torch (apt-get install python3-torch python3-torchvision).

#include <QtTest>

#include <torch/torch.h>

#include "ExportCheck.h"

using namespace loupe;

class TestExportClld : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* name) const { return tmp_.filePath(name); }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void shouldGiveThePythonFeaturesInLoupe() {
    EXPORT_OR_SKIP("clld.py", (QStringList{"--random", "--seed", "0", "--small", "--out", dir("pkg"), "--reference", dir("ref"),
                                           "--save-upstream-checkpoint", dir("upstream/clld.pth.tar"), "--onnx", dir("onnx")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    QCOMPARE(ref.imageOutputs.size(), std::size_t(2));
    // 300x200 padded to 320x224 -> 10x7 cells at 1/32.
    QCOMPARE(ref.imageOutputs[0].tensor.sizes().vec(), (std::vector<std::int64_t>{1, 64, 7, 10}));
    auto c = exportcheck::compareWithPython(dir("pkg"), ref, "lanes.backbone",
                                            [](runtime::ImageModel& m, const std::vector<torch::Tensor>& out) {
      auto f = m.pixelFeatures(out[0], 0);
      QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
      QCOMPARE(f->sizes().vec(), (std::vector<std::int64_t>{70, 64}));
    });
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("clld.py --small: max |C++ - Python| tensor %.3g, image %.3g", c.tensorMaxAbs, c.imageMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-4);
    QVERIFY(c.imageMaxAbs < 1e-4);
  }

  void shouldRunTheOnnxExportThroughOpenCv() {
    // The same network written by torch.onnx.export (--onnx), run by OpenCV DNN through loadModel().
    if (!QFile::exists(dir("onnx/model.onnx"))) QSKIP("needs the export of the previous test");
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    auto c = exportcheck::compareWithPython(dir("onnx"), ref, "lanes.backbone");
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("clld.py --small --onnx (OpenCV DNN) vs Python TorchScript: max abs diff tensor %.3g, image %.3g", c.tensorMaxAbs,
          c.imageMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-3);  // outputs up to ~6; eager (exported to ONNX) vs frozen TorchScript: 2.5e-5
    QVERIFY(c.imageMaxAbs < 1e-3);
  }

  void shouldExportTheSameModelFromAClldCheckpoint() {
    if (!QFile::exists(dir("upstream/clld.pth.tar"))) QSKIP("needs the checkpoint of the previous test");
    EXPORT_OR_SKIP("clld.py", (QStringList{"--checkpoint", dir("upstream/clld.pth.tar"), "--small", "--out", dir("pkg2")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    const double d = exportcheck::compareTensorOnly(dir("pkg2"), ref, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    qInfo("package from the CLLD-layout checkpoint vs the random one: max abs difference %.3g", d);
    QVERIFY(d < 1e-4);
  }
};

QTEST_GUILESS_MAIN(TestExportClld)
#include "test_export_clld.moc"
