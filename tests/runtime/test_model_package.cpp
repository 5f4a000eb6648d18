// Model packages: strict manifests, SHA-256 checked on load, pickles refused, outputs checked against
// the manifest. Fixture models are TorchScript written here by LibTorch itself (Module::define + save).

#include <QtTest>

#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Sha256.h"
#include "runtime/ModelPackage.h"
#include "runtime/TorchScriptModel.h"

using namespace loupe;
using nlohmann::json;

namespace {
// forward(x) = x * 2 (one buffer), or something deliberately wrong.
void writeModel(const std::string& path, const std::string& body) {
  torch::jit::Module m("Fixture");
  m.register_buffer("two", torch::full({1}, 2.0));
  m.define("def forward(self, x):\n    return " + body + "\n");
  m.save(path);
}

json manifestFor(const std::string& dir, const std::string& entry) {
  return {{"schema", 1},
          {"id", "fixture-doubler"},
          {"version", "1.0.0"},
          {"task", "forgery.localize"},
          {"format", "torchscript"},
          {"entry", entry},
          {"files", {{entry, *Sha256::ofFile(dir + "/" + entry)}}},
          {"input", {{"layout", "NCHW"}, {"channels", 3}, {"color_order", "rgb"},
                     {"size", {{"policy", "multiple_of"}, {"multiple", 8}}},
                     {"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}}},
          {"outputs", json::array({{{"name", "map"}, {"kind", "heatmap"}, {"shape", {1, 3, -1, -1}}}})},
          {"licence", "MIT"},
          {"provenance", "written by test_model_package"}};
}

void writeJson(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }
}  // namespace

class TestModelPackage : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  std::string makePackage(const QString& name, const std::string& body = "x * self.two") {
    const std::string dir = tmp_.filePath(name).toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    writeModel(dir + "/model.pt", body);
    writeJson(dir + "/loupe-model.json", manifestFor(dir, "model.pt"));
    return dir;
  }

 private Q_SLOTS:
  void shouldOpenAndRunValidPackage() {
    const auto dir = makePackage("ok");
    auto p = runtime::openModelPackage(dir);
    QVERIFY2(p.ok(), p.ok() ? "" : p.error().message.c_str());
    QCOMPARE(p->id, std::string("fixture-doubler"));
    QCOMPARE(p->input.size.kind, runtime::SizePolicy::Kind::MultipleOf);
    QCOMPARE(p->input.size.multiple, 8);
    QCOMPARE(p->input.mean.size(), std::size_t(3));
    auto model = runtime::TorchScriptModel::load(*p, torch::kCPU);
    QVERIFY(model.ok());
    const auto x = torch::arange(2 * 3 * 8 * 8, torch::kFloat32).view({2, 3, 8, 8});
    auto out = model->forward(x);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
    QCOMPARE(out->size(), std::size_t(1));
    QVERIFY(torch::equal((*out)[0], x * 2));  // reference: the definition of the fixture model
  }

  void shouldRejectInvalidManifest_data() {
    QTest::addColumn<QString>("pointer");  // JSON pointer to edit
    QTest::addColumn<QString>("value");    // JSON text; empty = remove
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown key") << "/colour" << "\"red\"" << "colour: unknown key";
    QTest::newRow("missing id") << "/id" << "" << "id: missing";
    QTest::newRow("wrong schema") << "/schema" << "7" << "schema: version 7 is not supported";
    QTest::newRow("bad format") << "/format" << "\"tensorflow\"" << "format: 'tensorflow' is not one of";
    QTest::newRow("entry not listed") << "/entry" << "\"other.pt\"" << "entry: 'other.pt' is not listed";
    QTest::newRow("bad sha") << "/files/model.pt" << "\"abc\"" << "64 hex digits";
    QTest::newRow("path escapes package") << "/files/..~1secret" << "\"" + QString(64, 'a') + "\"" << "plain relative path";
    QTest::newRow("bad layout") << "/input/layout" << "\"HWCN\"" << "input.layout";
    QTest::newRow("mean size") << "/input/mean" << "[0.5]" << "input.mean: has 1 values for 3 channels";
    QTest::newRow("zero std") << "/input/std" << "[1, 0, 1]" << "input.std: values must be positive";
    QTest::newRow("unknown input key") << "/input/resize" << "true" << "input.resize: unknown key";
    QTest::newRow("fixed without width") << "/input/size" << "{\"policy\": \"fixed\", \"height\": 4}" << "input.size.width: missing";
    QTest::newRow("overlap 1") << "/input/size" << "{\"policy\": \"sliding_window\", \"width\": 4, \"height\": 4, \"overlap\": 1}" << "overlap: must be in [0, 1)";
    QTest::newRow("output kind") << "/outputs/0/kind" << "\"vibes\"" << "outputs[0].kind: 'vibes' is not one of";
    QTest::newRow("no outputs") << "/outputs" << "[]" << "outputs: must be a non-empty array";
    QTest::newRow("missing licence") << "/licence" << "" << "licence: missing";
    QTest::newRow("not an object") << "" << "[1, 2]" << "must be a JSON object";
    QTest::newRow("input kind") << "/input/kind" << "\"audio\"" << "input.kind: 'audio' is not one of: image, tokens, vectors";
    QTest::newRow("tokens without context") << "/input" << "{\"kind\": \"tokens\", \"vocab_size\": 10}"
                                            << "input.context_length: missing";
    QTest::newRow("tokens with image keys") << "/input" << "{\"kind\": \"tokens\", \"context_length\": 8, \"vocab_size\": 10, \"channels\": 3}"
                                            << "input.channels: unknown key";
    QTest::newRow("tokenizer not listed") << "/input" << "{\"kind\": \"tokens\", \"context_length\": 8, \"vocab_size\": 10, \"tokenizer\": \"bpe.txt.gz\"}"
                                          << "input.tokenizer: 'bpe.txt.gz' is not listed in files";
    QTest::newRow("vectors without dims") << "/input" << "{\"kind\": \"vectors\"}" << "input.dims: missing";
    QTest::newRow("vectors bad dims") << "/input" << "{\"kind\": \"vectors\", \"dims\": [4, 0]}" << "input.dims: must be";
  }
  void shouldRejectInvalidManifest() {
    QFETCH(QString, pointer);
    QFETCH(QString, value);
    QFETCH(QString, message);
    const std::string dir = makePackage("edit");
    json j = manifestFor(dir, "model.pt");
    if (pointer.isEmpty()) j = json::parse(value.toStdString());
    else if (value.isEmpty()) j.erase(j.find(pointer.mid(1).toStdString()));
    else j[json::json_pointer(pointer.toStdString())] = json::parse(value.toStdString());
    auto p = runtime::parseModelManifest(j.dump(), dir);
    QVERIFY(!p.ok());
    QCOMPARE(p.error().code, ErrorCode::ModelError);
    QVERIFY2(QString::fromStdString(p.error().message).contains(message), p.error().message.c_str());
  }

  void shouldAcceptTokenAndVectorInputs() {
    const auto dir = makePackage("tokens");
    json j = manifestFor(dir, "model.pt");
    j["input"] = {{"kind", "tokens"}, {"context_length", 77}, {"vocab_size", 49408}, {"tokenizer", "model.pt"}};
    auto p = runtime::parseModelManifest(j.dump(), dir);
    QVERIFY2(p.ok(), p.ok() ? "" : p.error().message.c_str());
    QCOMPARE(p->input.kind, std::string("tokens"));
    QCOMPARE(p->input.contextLength, 77);
    QCOMPARE(p->input.vocabSize, 49408);
    j["input"] = {{"kind", "vectors"}, {"dims", {640, 640}}};
    p = runtime::parseModelManifest(j.dump(), dir);
    QVERIFY(p.ok());
    QCOMPARE(p->input.dims, (std::vector<int>{640, 640}));
  }

  void shouldRejectBrokenJson() {
    auto p = runtime::parseModelManifest("{\"schema\": 1,", "/x");
    QVERIFY(!p.ok());
    QVERIFY(QString::fromStdString(p.error().message).contains("not valid JSON"));
  }

  void shouldDetectDamagedWeights() {
    const auto dir = makePackage("damaged");
    {
      std::fstream f(dir + "/model.pt", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      f.put('\x5A');  // flip a byte after the manifest recorded the hash
    }
    auto p = runtime::openModelPackage(dir);
    QVERIFY(!p.ok());
    QVERIFY2(QString::fromStdString(p.error().message).contains("model.pt has sha256"), p.error().message.c_str());
    QVERIFY(QString::fromStdString(p.error().message).contains("damaged or replaced"));
    QVERIFY(runtime::openModelPackage(dir, /*verifyFiles=*/false).ok());
  }

  void shouldReportMissingFileAndFolder() {
    const auto dir = makePackage("missing");
    QFile::remove(QString::fromStdString(dir + "/model.pt"));
    auto p = runtime::openModelPackage(dir);
    QVERIFY(!p.ok());
    QVERIFY(QString::fromStdString(p.error().message).contains("model.pt is missing"));
    QCOMPARE(runtime::openModelPackage(tmp_.filePath("nope").toStdString()).error().code, ErrorCode::NotFound);
  }

  void shouldRefusePickledCheckpoints_data() {
    QTest::addColumn<QByteArray>("bytes");
    // Legacy torch.save: a raw pickle stream (protocol 2) — the header bytes are from the pickle spec.
    QTest::newRow("legacy pickle") << QByteArray("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  }
  void shouldRefusePickledCheckpoints() {
    QFETCH(QByteArray, bytes);
    const std::string dir = tmp_.filePath("pickle").toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    {
      std::ofstream f(dir + "/weights.pth", std::ios::binary);
      f.write(bytes.constData(), bytes.size());
    }
    writeJson(dir + "/loupe-model.json", manifestFor(dir, "weights.pth"));
    QCOMPARE(runtime::sniffWeightFile(dir + "/weights.pth"), runtime::WeightFileKind::PythonPickle);
    auto p = runtime::openModelPackage(dir);
    QVERIFY(!p.ok());
    QVERIFY2(QString::fromStdString(p.error().message).contains("never unpickles"), p.error().message.c_str());
    QVERIFY(QString::fromStdString(p.error().message).contains("torch.jit.trace"));
  }

  void shouldRefuseZipCheckpointWithoutCode() {
    // torch.save() of a state dict in the zip format: data.pkl but no code/ folder. Written with the
    // same zip writer LibTorch uses for TorchScript, holding only a data.pkl record.
    const std::string dir = tmp_.filePath("zipckpt").toStdString();
    QDir().mkpath(QString::fromStdString(dir));
    {
      caffe2::serialize::PyTorchStreamWriter w(dir + "/model.pt");
      const std::string pickle("\x80\x02}q\x00.", 6);
      w.writeRecord("data.pkl", pickle.data(), pickle.size());
      w.writeEndOfFile();
    }
    QCOMPARE(runtime::sniffWeightFile(dir + "/model.pt"), runtime::WeightFileKind::TorchCheckpoint);
    writeJson(dir + "/loupe-model.json", manifestFor(dir, "model.pt"));
    auto p = runtime::openModelPackage(dir);
    QVERIFY(!p.ok());
    QVERIFY(QString::fromStdString(p.error().message).contains("pickled PyTorch checkpoint"));
  }

  void shouldCheckOutputsAgainstManifest_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("wrong shape") << "x.sum(1)" << "has shape [2, 8, 8] but the package declares [1, 3, -1, -1]";
    QTest::newRow("NaN output") << "x * 0.0 / 0.0" << "NaN or infinite";
    QTest::newRow("two outputs") << "(x, x)" << "returned 2 output(s) but the package declares 1";
    QTest::newRow("not a tensor") << "3" << "expected tensors";
  }
  void shouldCheckOutputsAgainstManifest() {
    QFETCH(QString, body);
    QFETCH(QString, message);
    const auto dir = makePackage("bad-" + QString::number(qHash(body)), body.toStdString());
    auto p = runtime::openModelPackage(dir);
    QVERIFY(p.ok());
    auto model = runtime::TorchScriptModel::load(*p, torch::kCPU);
    QVERIFY(model.ok());
    auto out = model->forward(torch::ones({2, 3, 8, 8}));
    QVERIFY(!out.ok());
    QCOMPARE(out.error().code, ErrorCode::ModelError);
    QVERIFY2(QString::fromStdString(out.error().message).contains(message), out.error().message.c_str());
  }

  void shouldRefuseModelForAnotherTask() {
    auto p = runtime::openModelPackage(makePackage("task"));
    QVERIFY(p.ok());
    QVERIFY(runtime::checkPackageTask(*p, "forgery.localize").ok());
    auto wrong = runtime::checkPackageTask(*p, "prostate.detect");
    QVERIFY(!wrong.ok());
    QVERIFY(QString::fromStdString(wrong.error().message).contains("is for task forgery.localize, not prostate.detect"));
  }

  void shouldListPackagesInSearchPaths() {
    const QString root = tmp_.filePath("lib");
    QDir().mkpath(root + "/a");
    QDir().mkpath(root + "/b");
    QDir().mkpath(root + "/not-a-package");
    const auto a = makePackage("lib/a");
    std::ofstream(root.toStdString() + "/b/loupe-model.json") << "{ broken";
    auto list = runtime::listModelPackages({root.toStdString(), "/nonexistent"});
    QCOMPARE(list.size(), std::size_t(2));
    QVERIFY(list[0].package.ok());
    QVERIFY(!list[1].package.ok());
  }
};

QTEST_GUILESS_MAIN(TestModelPackage)
#include "test_model_package.moc"
