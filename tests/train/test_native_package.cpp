// Native model packages: a trained-in-Loupe embedder saved as a package (weights archive + architecture.json +
// loupe-model.json with SHA-256s) opens through the runtime's validation and embeds exactly like the model it
// came from; damaged files and bad architecture descriptions are refused with messages that say why.
#include <QtTest>

#include <QTemporaryDir>

#include <fstream>

#include "runtime/ModelPackage.h"
#include "runtime/NativeModels.h"

using namespace loupe;
using namespace loupe::runtime;

namespace {
NativePackageInfo info() {
  NativePackageInfo i;
  i.id = "test-embedder";
  i.input.channels = 1;
  i.input.colorOrder = "gray";
  i.input.scale = 1.0 / 255.0;
  i.input.mean = {0.5};
  i.input.std = {0.25};
  i.provenance = "made by test_native_package";
  return i;
}
EmbeddingCnnConfig small() {
  EmbeddingCnnConfig c;
  c.widths = {4, 8};
  c.embeddingDim = 6;
  c.classes = 3;
  c.projectionDim = 5;
  return c;
}
}  // namespace

class TestNativePackage : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void roundTripEmbedsIdentically() {
    QTemporaryDir dir;
    torch::manual_seed(1);
    EmbeddingCnn net(small());
    // Move the BatchNorm statistics away from their initial values so that buffers must round-trip too.
    net->train();
    {
      torch::NoGradGuard g;
      for (int i = 0; i < 3; ++i) net->forward(torch::randn({8, 1, 12, 12}) * 3 + 1);
    }
    net->eval();
    QVERIFY(saveEmbeddingCnnPackage(net, info(), dir.path().toStdString()).ok());
    auto opened = openModelPackage(dir.path().toStdString());
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message.c_str());
    QCOMPARE(opened->format, ModelFormat::Native);
    QCOMPARE(opened->outputs.at(0).kind, std::string("embedding"));
    auto loaded = loadNativeEmbedder(dir.path().toStdString());
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    const torch::Tensor images = torch::randint(0, 256, {5, 1, 12, 12}, torch::kUInt8);
    auto ours = loaded->embed(images, 2);
    QVERIFY(ours.ok());
    torch::NoGradGuard g;
    const torch::Tensor expected = net->embed((images.to(torch::kFloat) / 255.0 - 0.5) / 0.25);
    QVERIFY(torch::allclose(*ours, expected, 1e-5, 1e-6));
    QVERIFY(!QFile::exists(dir.filePath("model.pt.partial")));
  }

  void damagedWeightsAreRefused() {
    QTemporaryDir dir;
    EmbeddingCnn net(small());
    QVERIFY(saveEmbeddingCnnPackage(net, info(), dir.path().toStdString()).ok());
    {
      std::fstream f(dir.filePath("model.pt").toStdString(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      f.put('\x42');
    }
    auto loaded = loadNativeEmbedder(dir.path().toStdString());
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().message.find("sha256") != std::string::npos, loaded.error().message.c_str());
  }

  void architectureIsParsedStrictly_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown architecture") << R"({"architecture": "resnet9", "in_channels": 1, "widths": [8], "convs_per_stage": 1, "embedding_dim": 4, "classes": 0, "projection_dim": 0})"
                                          << "resnet9";
    QTest::newRow("unknown key") << R"({"architecture": "loupe.embedding_cnn", "in_channels": 1, "widths": [8], "convs_per_stage": 1, "embedding_dim": 4, "classes": 0, "projection_dim": 0, "dropout": 0.5})"
                                 << "dropout";
    QTest::newRow("bad width") << R"({"architecture": "loupe.embedding_cnn", "in_channels": 1, "widths": [0], "convs_per_stage": 1, "embedding_dim": 4, "classes": 0, "projection_dim": 0})"
                               << "widths";
    QTest::newRow("missing field") << R"({"architecture": "loupe.embedding_cnn", "in_channels": 1, "widths": [8], "convs_per_stage": 1, "classes": 0, "projection_dim": 0})"
                                   << "embedding_dim";
    QTest::newRow("not json") << "{architecture" << "not valid JSON";
  }
  void architectureIsParsedStrictly() {
    QFETCH(QString, json);
    QFETCH(QString, message);
    auto r = parseEmbeddingCnnArchitecture(json.toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.error().message).contains(message), r.error().message.c_str());
    auto good = parseEmbeddingCnnArchitecture(embeddingCnnArchitectureJson(small()));
    QVERIFY(good.ok());
    QCOMPARE(good->widths, small().widths);
    QCOMPARE(good->projectionDim, 5);
  }

  void channelMismatchIsAnError() {
    QTemporaryDir dir;
    EmbeddingCnn net(small());
    QVERIFY(saveEmbeddingCnnPackage(net, info(), dir.path().toStdString()).ok());
    auto loaded = loadNativeEmbedder(dir.path().toStdString());
    QVERIFY(loaded.ok());
    auto r = loaded->embed(torch::zeros({2, 3, 12, 12}, torch::kUInt8));
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("channel") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestNativePackage)
#include "test_native_package.moc"
