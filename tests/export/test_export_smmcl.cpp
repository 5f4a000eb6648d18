// tools/export/smmcl.py end to end: random dual SegNeXt + LightHamHead weights (reduced width) -> package
// -> the same logits from Python (torch.jit.load) and from Loupe's TorchScriptModel on a fixed 6-channel
// (RGB + X) tensor, twice in a row (the NMF2D fix makes the model deterministic), and the --checkpoint path
// on SMMCL's checkpoint layout (Engine.save_checkpoint, no NMF bases stored: RAND_INIT training).
// Skipped where /usr/bin/python3 cannot import torch (apt-get install python3-torch python3-torchvision).

#include <QtTest>

#include <torch/torch.h>

#include "ExportCheck.h"
#include "runtime/TorchScriptModel.h"

using namespace loupe;

class TestExportSmmcl : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* name) const { return tmp_.filePath(name); }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void shouldGiveThePythonLogitsInLoupeDeterministically() {
    EXPORT_OR_SKIP("smmcl.py", (QStringList{"--random", "--seed", "0", "--small", "--out", dir("pkg"), "--reference",
                                            dir("ref"), "--save-upstream-checkpoint", dir("upstream/smmcl.pth")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    QCOMPARE(ref.input.size(1), 6);  // RGB + X
    QVERIFY(ref.imagePath.empty());
    auto c = exportcheck::compareWithPython(dir("pkg"), ref, "segmentation.rgbx");
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("smmcl.py --small: max |C++ - Python| %.3g", c.tensorMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-4);

    // Same input, same output, call after call (the original draws new NMF bases on every call).
    auto package = runtime::openModelPackage(dir("pkg").toStdString());
    QVERIFY(package.ok());
    QCOMPARE(package->input.channels, 6);
    QCOMPARE(package->labels.size(), std::size_t(14));
    auto model = runtime::TorchScriptModel::load(*package, torch::kCPU);
    QVERIFY(model.ok());
    auto a = model->forward(ref.input);
    auto b = model->forward(ref.input);
    QVERIFY(a.ok() && b.ok());
    QVERIFY(torch::equal((*a)[0], (*b)[0]));
  }

  void shouldExportTheSameModelFromAnSmmclCheckpoint() {
    if (!QFile::exists(dir("upstream/smmcl.pth"))) QSKIP("needs the checkpoint of the previous test");
    EXPORT_OR_SKIP("smmcl.py", (QStringList{"--checkpoint", dir("upstream/smmcl.pth"), "--small", "--out", dir("pkg2")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    const double d = exportcheck::compareTensorOnly(dir("pkg2"), ref, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    qInfo("package from the SMMCL-layout checkpoint vs the random one: max abs difference %.3g", d);
    QVERIFY(d < 1e-4);
  }
};

QTEST_GUILESS_MAIN(TestExportSmmcl)
#include "test_export_smmcl.moc"
