// tools/export/focal.py end to end: random FOCAL ViT (SAM encoder) + HRNet weights, reduced width, fused
// the way FOCAL fuses them -> package -> the same per-pixel features from Python (torch.jit.load) and from
// Loupe (TorchScriptModel on a fixed tensor, ImageModel on a PNG resized to the fixed input size), and the
// --checkpoint path on FOCAL's checkpoint layout (DataParallel state dicts with the rest of SAM inside).
// Skipped where /usr/bin/python3 cannot import torch (apt-get install python3-torch python3-torchvision).

#include <QtTest>

#include <torch/torch.h>

#include "ExportCheck.h"

using namespace loupe;

class TestExportFocal : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* name) const { return tmp_.filePath(name); }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void shouldGiveThePythonFeaturesInLoupe() {
    EXPORT_OR_SKIP("focal.py", (QStringList{"--random", "--seed", "0", "--small", "--input-size", "512", "--backbone", "fusion",
                                            "--out", dir("pkg"),
                                            "--reference", dir("ref"), "--save-upstream-checkpoint", dir("upstream/focal.pth")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    // Reduced widths: ViT neck 64 + HRNet branch 8 channels, on FOCAL's 1/16 grid (512x512 input here, to keep
    // the global attention of the test quick; FOCAL's own is 1024x1024 -> 64x64).
    QCOMPARE(ref.tensorOutputs.at(0).tensor.sizes().vec(), (std::vector<std::int64_t>{1, 72, 32, 32}));

    auto c = exportcheck::compareWithPython(dir("pkg"), ref, "forgery.localize",
                                            [](runtime::ImageModel& m, const std::vector<torch::Tensor>& out) {
      QCOMPARE(m.package().input.size.width, 512);
      auto f = m.pixelFeatures(out[0], 0);  // [32*32, 72] rows, unit length
      QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
      QCOMPARE(f->sizes().vec(), (std::vector<std::int64_t>{1024, 72}));
      QVERIFY((f->norm(2, 1) - 1).abs().max().item<double>() < 1e-5);
    });
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("focal.py --small fusion: max |C++ - Python| tensor %.3g, image %.3g", c.tensorMaxAbs, c.imageMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-4);
    QVERIFY(c.imageMaxAbs < 1e-4);
  }

  void shouldExportTheSameModelFromFocalCheckpoints() {
    if (!QFile::exists(dir("upstream/focal-vit.pth"))) QSKIP("needs the checkpoints of the previous test");
    EXPORT_OR_SKIP("focal.py", (QStringList{"--checkpoint", dir("upstream/focal-vit.pth"), "--hrnet-checkpoint",
                                            dir("upstream/focal-hrnet.pth"), "--small", "--input-size", "512",
                                            "--out", dir("pkg2")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    const double d = exportcheck::compareTensorOnly(dir("pkg2"), ref, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    qInfo("package from FOCAL-layout checkpoints vs the random one: max abs difference %.3g", d);
    QVERIFY(d < 1e-4);
  }
};

QTEST_GUILESS_MAIN(TestExportFocal)
#include "test_export_focal.moc"
