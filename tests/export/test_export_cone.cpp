// tools/export/cone.py end to end: random CoNe weights (reduced width) -> package -> the same numbers from
// Python (torch.jit.load) and from Loupe (TorchScriptModel on a fixed tensor, ImageModel on a PNG), and the
// --checkpoint path on a checkpoint in the official layout ({"model": DDP state dict of CoNe}).
// Skipped where /usr/bin/python3 cannot import torch (apt-get install python3-torch python3-torchvision).

#include <QtTest>

#include <torch/torch.h>

#include "ExportCheck.h"

using namespace loupe;

class TestExportCone : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* name) const { return tmp_.filePath(name); }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void shouldGiveThePythonOutputsInLoupe() {
    EXPORT_OR_SKIP("cone.py", (QStringList{"--random", "--seed", "0", "--small", "--out", dir("pkg"), "--reference",
                                           dir("ref"), "--save-upstream-checkpoint", dir("upstream/cone.tar")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));

    auto c = exportcheck::compareWithPython(dir("pkg"), ref, "embeddings.embed",
                                            [](runtime::ImageModel& m, const std::vector<torch::Tensor>& out) {
      QCOMPARE(m.package().outputs.size(), std::size_t(2));
      auto e = m.embedding(out[0], 0);  // 256-d, unit length
      QVERIFY2(e.ok(), e.ok() ? "" : e.error().message.c_str());
      QCOMPARE(e->sizes().vec(), (std::vector<std::int64_t>{1, 256}));
      QVERIFY(std::abs(e->norm().item<double>() - 1.0) < 1e-5);
      auto s = m.classScores(out[1], 1);
      QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
      QCOMPARE(s->size(), std::size_t(10));
    });
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("cone.py --small: max |C++ - Python| tensor %.3g, image %.3g", c.tensorMaxAbs, c.imageMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-4);
    QVERIFY(c.imageMaxAbs < 1e-4);
  }

  void shouldExportTheSameModelFromAnUpstreamCheckpoint() {
    if (!QFile::exists(dir("upstream/cone.tar"))) QSKIP("needs the checkpoint of the previous test");
    EXPORT_OR_SKIP("cone.py", (QStringList{"--checkpoint", dir("upstream/cone.tar"), "--small", "--out", dir("pkg2")}));
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref"), ref, &error), qPrintable(error));
    const double d = exportcheck::compareTensorOnly(dir("pkg2"), ref, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    qInfo("package from the upstream-layout checkpoint vs the random one: max abs difference %.3g", d);
    QVERIFY(d < 1e-4);
  }

  void shouldRefuseAMismatchedCheckpointWithTheKeysNamed() {
    // The full-size architecture against the reduced checkpoint: an error naming keys, exit status 2.
    if (!QFile::exists(dir("upstream/cone.tar"))) QSKIP("needs the checkpoint of the first test");
    QString log;
    bool skip = false;
    const QString err = exportcheck::runExport("cone.py", {"--checkpoint", dir("upstream/cone.tar"), "--out", dir("pkg3")},
                                               300, &skip, &log);
    QVERIFY(!err.isEmpty());
    QVERIFY2(log.contains("does not match the architecture") && log.contains("wrong shape"), qPrintable(log));
    QVERIFY(!QFile::exists(dir("pkg3/loupe-model.json")));
  }
};

QTEST_GUILESS_MAIN(TestExportCone)
#include "test_export_cone.moc"
