// tools/export/clip4cir.py end to end: random CLIP (ViT image encoder, text transformer; reduced width) and
// CLIP4Cir's Combiner -> three packages (image; tokens; vectors) -> the same outputs from Python
// (torch.jit.load of the written files) and from Loupe (ImageModel/TorchScriptModel for the image encoder,
// EncoderModel for token ids and for the two feature vectors), the whole query pipeline
// combine(image(reference), text(modification)) against Python's eager modules, and the --checkpoint path
// on CLIP4Cir's checkpoint layout. Skipped where /usr/bin/python3 cannot import torch.

#include <QtTest>

#include <torch/torch.h>

#include <fstream>

#include "ExportCheck.h"
#include "runtime/EncoderModel.h"
#include "runtime/ImageModel.h"

using namespace loupe;

namespace {
template <class T>
torch::Tensor readRaw(const QString& path, std::vector<std::int64_t> shape, torch::ScalarType type) {
  auto t = torch::empty(shape, type);
  std::ifstream in(path.toStdString(), std::ios::binary);
  in.read(reinterpret_cast<char*>(t.data_ptr<T>()), static_cast<std::streamsize>(t.numel() * sizeof(T)));
  return in ? t : torch::Tensor();
}
}  // namespace

class TestExportClip4Cir : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString dir(const char* name) const { return tmp_.filePath(name); }
  torch::Tensor f32(const char* name, std::vector<std::int64_t> shape) const {
    return readRaw<float>(dir("ref/vectors/") + name + ".bin", shape, torch::kFloat32);
  }
  static runtime::EncoderModel encoder(const QString& folder) {
    auto m = runtime::EncoderModel::open(folder.toStdString(), "retrieval.compose", DeviceRequest{DeviceRequest::Kind::Cpu, 0});
    if (!m) qFatal("%s", m.error().message.c_str());
    return std::move(*m);
  }
  static constexpr std::int64_t kDim = 32;  // --small embedding width

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    EXPORT_OR_SKIP("clip4cir.py", (QStringList{"--random", "--seed", "0", "--small", "--out", dir("pkg"), "--reference",
                                               dir("ref"), "--save-upstream-checkpoint", dir("upstream")}));
  }

  void imageEncoderShouldMatchPython() {
    exportcheck::Reference ref;
    QString error;
    QVERIFY2(exportcheck::readReference(dir("ref/image"), ref, &error), qPrintable(error));
    auto c = exportcheck::compareWithPython(dir("pkg/image"), ref, "retrieval.compose",
                                            [](runtime::ImageModel& m, const std::vector<torch::Tensor>& out) {
      auto e = m.embedding(out[0], 0);
      QVERIFY(e.ok());
      QCOMPARE(e->sizes().vec(), (std::vector<std::int64_t>{1, kDim}));
      QVERIFY(std::abs(e->norm().item<double>() - 1.0) < 1e-5);
    });
    QVERIFY2(c.error.isEmpty(), qPrintable(c.error));
    qInfo("clip4cir image encoder: max |C++ - Python| tensor %.3g, image %.3g", c.tensorMaxAbs, c.imageMaxAbs);
    QVERIFY(c.tensorMaxAbs < 1e-4);
    QVERIFY(c.imageMaxAbs < 1e-4);
  }

  void textEncoderShouldMatchPython() {
    const auto tokens = readRaw<std::int64_t>(dir("ref/vectors/tokens.bin"), {3, 77}, torch::kLong);
    const auto expected = f32("text_embedding", {3, kDim});
    QVERIFY(tokens.defined() && expected.defined());
    auto text = encoder(dir("pkg/text"));
    QCOMPARE(text.package().input.kind, std::string("tokens"));
    QCOMPARE(text.package().input.contextLength, 77);
    auto out = text.encodeTokens(tokens);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    const double d = (*out - expected).abs().max().item<double>();
    // The same through the id-list API (padding with zeros up to the context length).
    std::vector<std::vector<std::int64_t>> lists(3);
    for (int n = 0; n < 3; ++n) {
      const auto row = tokens[n];
      const auto eot = row.argmax().item<std::int64_t>();
      for (std::int64_t i = 0; i <= eot; ++i) lists[static_cast<std::size_t>(n)].push_back(row[i].item<std::int64_t>());
    }
    auto out2 = text.encodeTokens(lists);
    QVERIFY(out2.ok());
    qInfo("clip4cir text encoder: max |C++ - Python| %.3g (scale %.3g)", d, expected.abs().max().item<double>());
    QVERIFY(d < 1e-4);
    QVERIFY(torch::equal(*out2, *out));
  }

  void combinerAndPipelineShouldMatchPython() {
    auto combiner = encoder(dir("pkg/combiner"));
    QCOMPARE(combiner.package().input.dims, (std::vector<int>{kDim, kDim}));
    auto out = combiner.encodeVectors({f32("image_features", {2, kDim}), f32("text_features", {2, kDim})});
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    const double d = (*out - f32("combined", {2, kDim})).abs().max().item<double>();

    // The query of composed retrieval, each part from its own package in C++.
    auto imagePkg = runtime::openModelPackage(dir("pkg/image").toStdString());
    QVERIFY(imagePkg.ok());
    auto image = runtime::loadModel(*imagePkg, torch::kCPU);
    QVERIFY(image.ok());
    auto imageFeat = (*image)->forward(f32("pipeline_image", {1, 3, 64, 64}));
    QVERIFY(imageFeat.ok());
    auto textFeat = encoder(dir("pkg/text")).encodeTokens(readRaw<std::int64_t>(dir("ref/vectors/tokens.bin"), {3, 77}, torch::kLong).narrow(0, 0, 1));
    QVERIFY(textFeat.ok());
    auto query = combiner.encodeVectors({(*imageFeat)[0], *textFeat});
    QVERIFY(query.ok());
    const double dq = (*query - f32("pipeline_query", {1, kDim})).abs().max().item<double>();
    qInfo("clip4cir combiner: max |C++ - Python| %.3g; image+text+combiner pipeline vs Python eager %.3g", d, dq);
    QVERIFY(d < 1e-5);
    QVERIFY(dq < 1e-4);
    QVERIFY(std::abs(query->norm().item<double>() - 1.0) < 1e-5);
  }

  void shouldRefuseBadInputsWithClearMessages() {
    auto text = encoder(dir("pkg/text"));
    auto tooLong = text.encodeTokens(std::vector<std::vector<std::int64_t>>{std::vector<std::int64_t>(78, 5)});
    QVERIFY(!tooLong.ok());
    QVERIFY2(QString::fromStdString(tooLong.error().message).contains("reads at most 77"), tooLong.error().message.c_str());
    auto outOfVocab = text.encodeTokens(std::vector<std::vector<std::int64_t>>{{1, 5000}});
    QVERIFY(!outOfVocab.ok());
    QVERIFY(QString::fromStdString(outOfVocab.error().message).contains("[0, 1024)"));
    auto combiner = encoder(dir("pkg/combiner"));
    auto wrong = combiner.encodeVectors({torch::zeros({1, kDim}), torch::zeros({1, kDim + 1})});
    QVERIFY(!wrong.ok());
    QVERIFY(QString::fromStdString(wrong.error().message).contains("input 2 must be [N, 32]"));
    runtime::ImageModelOptions o;
    o.device.kind = DeviceRequest::Kind::Cpu;
    auto asImage = runtime::ImageModel::open(dir("pkg/text").toStdString(), "retrieval.compose", o);
    QVERIFY(!asImage.ok());
    QVERIFY2(QString::fromStdString(asImage.error().message).contains("takes tokens, not images"), asImage.error().message.c_str());
  }

  void shouldExportTheSameModelsFromClip4CirCheckpoints() {
    EXPORT_OR_SKIP("clip4cir.py", (QStringList{"--checkpoint", dir("upstream/clip.pt"), "--combiner-checkpoint",
                                               dir("upstream/combiner.pt"), "--small", "--out", dir("pkg2")}));
    auto a = encoder(dir("pkg/text")), b = encoder(dir("pkg2/text"));
    const auto tokens = readRaw<std::int64_t>(dir("ref/vectors/tokens.bin"), {3, 77}, torch::kLong);
    auto ya = a.encodeTokens(tokens), yb = b.encodeTokens(tokens);
    QVERIFY(ya.ok() && yb.ok());
    auto ca = encoder(dir("pkg/combiner")).encodeVectors({f32("image_features", {2, kDim}), f32("text_features", {2, kDim})});
    auto cb = encoder(dir("pkg2/combiner")).encodeVectors({f32("image_features", {2, kDim}), f32("text_features", {2, kDim})});
    QVERIFY(ca.ok() && cb.ok());
    const double d = std::max((*ya - *yb).abs().max().item<double>(), (*ca - *cb).abs().max().item<double>());
    qInfo("packages from CLIP4Cir-layout checkpoints vs the random export: max abs difference %.3g", d);
    QVERIFY(d < 1e-6);
  }
};

QTEST_GUILESS_MAIN(TestExportClip4Cir)
#include "test_export_clip4cir.moc"
