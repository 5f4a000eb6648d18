// The embedding store commands end to end, running the real loupe-cli:
//  - a .npy + metadata CSV becomes a store whose neighbours (`neighbours --id`) are the exact cosine
//    neighbours computed here in float64 (brute force), with the metadata of each row; `project --method
//    pca` writes the coordinates analysis::fitPca gives in-process (fitPca itself is checked against
//    scikit-learn in test_pca); `index --kind hnsw` rebuilds and a second run has nothing to do;
//  - bad input: NaN/Inf rows dropped and listed (kept metadata aligned) or refused with
//    --refuse-nonfinite, a metadata CSV with the wrong row count, a ragged CSV (line named), zero-variance
//    data for PCA (a notice, no NaN in the CSV);
//  - an image folder (Debian's scikit-image photos, labels from sub-folders) with a PNG that is only a
//    header, an empty .jpg and a text file named .png: all three skipped with a count and reasons, the rest embedded with a native package made here
//    (seeded, untrained EmbeddingCnn); `neighbours --image` on one of the photos finds that photo first
//    with cosine similarity 1.
#include "../support/CliRun.h"
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <torch/torch.h>

#include <fstream>

#include "TestFiles.h"
#include "analysis/Pca.h"
#include "index/Csv.h"
#include "index/Npy.h"
#include "runtime/NativeModels.h"

using namespace loupe;

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 240000); }
torch::Tensor clustered(int64_t n, int64_t d, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto centres = at::randn({6, d}, gen);
  return (centres.index_select(0, at::randint(6, {n}, gen)) + 0.5 * at::randn({n, d}, gen)).contiguous();
}
void writeMeta(const QString& path, int64_t rows) {
  std::ofstream f(path.toStdString());
  f << "label,note\n";
  for (int64_t i = 0; i < rows; ++i) f << "class " << i % 6 << ",\"item " << i << ", quoted\"\n";
}
// A native package with seeded random weights (a real network, not trained).
bool writeNativePackage(const QString& folder, const std::string& id) {
  torch::manual_seed(3);
  runtime::EmbeddingCnnConfig config;
  config.inChannels = 1;
  config.widths = {8, 16};
  config.embeddingDim = 16;
  config.classes = 0;
  config.projectionDim = 0;
  runtime::EmbeddingCnn net(config);
  net->eval();
  runtime::NativePackageInfo info;
  info.id = id;
  info.input.channels = 1;
  info.input.colorOrder = "gray";
  info.input.size.kind = runtime::SizePolicy::Kind::Fixed;
  info.input.size.width = info.input.size.height = 28;
  info.input.mean = {0.5};
  info.input.std = {0.25};
  info.provenance = "made by test_embed_cli";
  return runtime::saveEmbeddingCnnPackage(net, info, folder.toStdString()).ok();
}
void writeIdx(const QString& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::ofstream f(path.toStdString(), std::ios::binary);
  f << char(0) << char(0) << char(8) << char(dims.size());
  for (uint32_t d : dims) f << char(d >> 24) << char(d >> 16) << char(d >> 8) << char(d);
  f.write(reinterpret_cast<const char*>(values.data()), std::streamsize(values.size()));
}
QJsonObject manifest(const QString& store) {
  QFile f(store + "/manifest.json");
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}
}  // namespace

class TestEmbedCli : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void npyStoreNeighboursAndPca() {
    QTemporaryDir dir;
    auto x = clustered(600, 24, 11);
    QVERIFY(index::writeNpyMatrix(dir.filePath("x.npy").toStdString(), x).ok());
    writeMeta(dir.filePath("meta.csv"), 600);
    const QString store = dir.filePath("store");
    auto r = cli({"embed", "--data", dir.filePath("x.npy"), "--meta", dir.filePath("meta.csv"), "--out", store, "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject m = manifest(store);
    QCOMPARE(m["count"].toInt(), 600);
    QCOMPARE(m["dim"].toInt(), 24);
    QCOMPARE(m["index"].toObject()["kind"].toString(), QString("flat"));
    QCOMPARE(m["source"].toObject()["model_id"].toString(), QString("precomputed"));

    // Neighbours of row 17: exact cosine top-5 in float64, self excluded.
    r = cli({"neighbours", "--store", store, "--id", "17", "--k", "5", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray nb = QJsonDocument::fromJson(r.out.toUtf8()).array();
    QCOMPARE(nb.size(), 5);
    auto xd = x.to(torch::kFloat64);
    xd = xd / xd.norm(2, 1, true);
    auto sims = xd.matmul(xd[17]);
    sims[17] = -10;
    auto [vals, idx] = sims.topk(5);
    for (int i = 0; i < 5; ++i) {
      const QJsonObject o = nb[i].toObject();
      QCOMPARE(o["id"].toInteger(), idx[i].item<int64_t>());
      QVERIFY(std::abs(o["similarity"].toDouble() - vals[i].item<double>()) < 1e-5);
      const int64_t id = o["id"].toInteger();
      QCOMPARE(o["label"].toString(), QString("class %1").arg(id % 6));
      QCOMPARE(o["note"].toString(), QString("item %1, quoted").arg(id));
      QCOMPARE(o["row"].toString(), QString::number(id));
    }

    // PCA projection = fitPca in-process.
    r = cli({"project", "--store", store, "--method", "pca", "--dims", "2", "--out", dir.filePath("proj.csv")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("explained variance ratio"));
    auto csv = index::readCsv(dir.filePath("proj.csv").toStdString());
    QVERIFY(csv.ok());
    QCOMPARE(csv->header, (std::vector<std::string>{"id", "x", "y", "label", "note", "row"}));
    QCOMPARE(csv->rows.size(), std::size_t(600));
    auto pca = analysis::fitPca(x, {2});
    auto ref = pca->transform(x);
    double worst = 0;
    for (int64_t i = 0; i < 600; ++i)
      for (int d = 0; d < 2; ++d)
        worst = std::max(worst, std::abs(std::stod(csv->rows[std::size_t(i)][std::size_t(1 + d)]) - ref[i][d].item<double>()));
    QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
    QCOMPARE(csv->rows[5][3], std::string("class 5"));

    r = cli({"project", "--store", store, "--method", "nope", "--out", dir.filePath("p.csv")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("available: pca"));

    // Index kinds: hnsw replaces flat; asking again has nothing to do; the store reopens with it.
    r = cli({"index", "--store", store, "--kind", "hnsw"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(manifest(store)["index"].toObject()["kind"].toString(), QString("hnsw"));
    r = cli({"index", "--store", store, "--kind", "hnsw"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("nothing to do"), qPrintable(r.out));
    r = cli({"neighbours", "--store", store, "--id", "17", "--k", "5", "--json"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.err.isEmpty());  // no stale notice
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array()[0].toObject()["id"].toInteger(), idx[0].item<int64_t>());

    // Usage errors.
    QCOMPARE(cli({"neighbours", "--store", store}).exitCode, 2);
    r = cli({"neighbours", "--store", store, "--id", "600"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("id 600 is not in the store"));
    r = cli({"embed", "--data", dir.filePath("x.npy"), "--out", store});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--force"));
  }

  void nonFiniteRowsAreDroppedAndListed() {
    QTemporaryDir dir;
    auto x = clustered(50, 8, 12);
    x[4][2] = std::numeric_limits<float>::quiet_NaN();
    x[31][0] = std::numeric_limits<float>::infinity();
    QVERIFY(index::writeNpyMatrix(dir.filePath("x.npy").toStdString(), x).ok());
    writeMeta(dir.filePath("meta.csv"), 50);
    const QString store = dir.filePath("store");
    auto r = cli({"embed", "--data", dir.filePath("x.npy"), "--meta", dir.filePath("meta.csv"), "--out", store, "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("dropped 2 row(s) holding NaN or Inf (0-based rows of the input): 4, 31"), qPrintable(r.err));
    const QJsonObject m = manifest(store);
    QCOMPARE(m["count"].toInt(), 48);
    QCOMPARE(m["dropped_rows"].toArray(), (QJsonArray{4, 31}));
    // Metadata stays aligned: stored id 4 is input row 5.
    r = cli({"neighbours", "--store", store, "--id", "0", "--k", "47", "--json"});
    QCOMPARE(r.exitCode, 0);
    for (const auto& v : QJsonDocument::fromJson(r.out.toUtf8()).array()) {
      const QJsonObject o = v.toObject();
      const int64_t row = o["row"].toString().toLongLong();
      QCOMPARE(o["note"].toString(), QString("item %1, quoted").arg(row));
      QCOMPARE(o["id"].toInteger(), row - (row > 31 ? 2 : row > 4 ? 1 : 0));
    }
    r = cli({"embed", "--data", dir.filePath("x.npy"), "--out", dir.filePath("s2"), "--refuse-nonfinite"});
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.contains("2 embedding row(s) hold NaN or Inf: 4, 31"), qPrintable(r.err));
  }

  void badMetadataIsRefused() {
    QTemporaryDir dir;
    QVERIFY(index::writeNpyMatrix(dir.filePath("x.npy").toStdString(), clustered(20, 4, 13)).ok());
    writeMeta(dir.filePath("short.csv"), 19);
    auto r = cli({"embed", "--data", dir.filePath("x.npy"), "--meta", dir.filePath("short.csv"), "--out", dir.filePath("s")});
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.contains("has 19 data rows but") && r.err.contains("has 20 embeddings"), qPrintable(r.err));
    std::ofstream(dir.filePath("ragged.csv").toStdString()) << "label,note\na,b\nc\nd,e\n";
    r = cli({"embed", "--data", dir.filePath("x.npy"), "--meta", dir.filePath("ragged.csv"), "--out", dir.filePath("s")});
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.contains("ragged.csv line 3: 1 field(s), but the header has 2"), qPrintable(r.err));
    std::ofstream(dir.filePath("bad.npy").toStdString()) << "not numpy";
    r = cli({"embed", "--data", dir.filePath("bad.npy"), "--out", dir.filePath("s")});
    QCOMPARE(r.exitCode, 3);
    QVERIFY(r.err.contains("not a NumPy .npy file"));
    QVERIFY(!QFile::exists(dir.filePath("s/manifest.json")));
  }

  void zeroVariancePcaGivesANotice() {
    QTemporaryDir dir;
    QVERIFY(index::writeNpyMatrix(dir.filePath("x.npy").toStdString(), torch::full({30, 5}, 0.25f)).ok());
    const QString store = dir.filePath("store");
    QCOMPARE(cli({"embed", "--data", dir.filePath("x.npy"), "--out", store, "-q"}).exitCode, 0);
    auto r = cli({"project", "--store", store, "--out", dir.filePath("p.csv")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("identical (zero variance)"), qPrintable(r.err));
    auto csv = index::readCsv(dir.filePath("p.csv").toStdString());
    QVERIFY(csv.ok());
    for (const auto& row : csv->rows)
      for (int c = 1; c <= 2; ++c) QVERIFY(std::abs(std::stod(row[std::size_t(c)])) < 1e-6);  // no NaN
  }

  void idxFolderIsEmbeddedWithBothSplits() {
    // MNIST-style IDX files (random pixels, labels i % 10): 30 training + 12 test images.
    QTemporaryDir dir;
    const QString data = dir.filePath("idx");
    QVERIFY(QDir().mkpath(data));
    auto gen = at::detail::createCPUGenerator(21);
    auto train = at::randint(256, {30, 28, 28}, gen).to(torch::kUInt8).contiguous();
    auto test = at::randint(256, {12, 28, 28}, gen).to(torch::kUInt8).contiguous();
    auto bytes = [](const torch::Tensor& t) { return std::vector<uint8_t>(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel()); };
    std::vector<uint8_t> trainLabels(30), testLabels(12);
    for (int i = 0; i < 30; ++i) trainLabels[std::size_t(i)] = uint8_t(i % 10);
    for (int i = 0; i < 12; ++i) testLabels[std::size_t(i)] = uint8_t(i % 10);
    writeIdx(data + "/train-images-idx3-ubyte", {30, 28, 28}, bytes(train));
    writeIdx(data + "/train-labels-idx1-ubyte", {30}, trainLabels);
    writeIdx(data + "/t10k-images-idx3-ubyte", {12, 28, 28}, bytes(test));
    writeIdx(data + "/t10k-labels-idx1-ubyte", {12}, testLabels);
    QVERIFY(writeNativePackage(dir.filePath("model"), "test-idx-embedder"));
    const QString store = dir.filePath("store");
    auto r = cli({"embed", "--data", data, "--model", dir.filePath("model"), "--out", store, "--device", "cpu", "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject m = manifest(store);
    QCOMPARE(m["count"].toInt(), 42);
    QCOMPARE(m["dim"].toInt(), 16);
    auto csv = index::readCsv((store + "/meta.csv").toStdString());
    QVERIFY(csv.ok());
    QCOMPARE(csv->header, (std::vector<std::string>{"label", "label_id", "split", "index"}));
    auto joined = [](const std::vector<std::string>& row) {
      QStringList parts;
      for (const auto& v : row) parts << QString::fromStdString(v);
      return parts.join(',');
    };
    // Labels are i % 10 (written above), named with Fashion-MNIST's classes.
    QCOMPARE(joined(csv->rows[13]), QString("Dress,3,train,13"));
    QCOMPARE(joined(csv->rows[35]), QString("Sandal,5,test,5"));
    // vectors.f32 holds what the package gives in-process for the same images.
    auto embedder = runtime::loadNativeEmbedder(dir.filePath("model").toStdString());
    QVERIFY(embedder.ok());
    auto expected = embedder->embed(torch::cat({train, test}).unsqueeze(1));
    QVERIFY(expected.ok());
    std::ifstream f((store + "/vectors.f32").toStdString(), std::ios::binary);
    auto stored = torch::empty({42, 16}, torch::kFloat32);
    f.read(static_cast<char*>(stored.data_ptr()), 42 * 16 * 4);
    QVERIFY(f.good());
    QVERIFY2((stored - *expected).abs().max().item<float>() < 1e-5, "stored embeddings differ from the package's");
  }

  void imageFolderSkipsUnreadableImages() {
    const QString astronaut = test::debianPhoto("astronaut.png"), coffee = test::debianPhoto("coffee.png"),
                  chelsea = test::debianPhoto("chelsea.png"), rocket = test::debianPhoto("rocket.jpg");
    if (astronaut.isEmpty() || coffee.isEmpty() || chelsea.isEmpty() || rocket.isEmpty())
      QSKIP("python3-skimage's sample photos are not installed");
    QTemporaryDir dir;
    QDir(dir.path()).mkpath("images/people");
    QDir(dir.path()).mkpath("images/things");
    QVERIFY(QFile::copy(astronaut, dir.filePath("images/people/astronaut.png")));
    QVERIFY(QFile::copy(chelsea, dir.filePath("images/things/chelsea.png")));
    QVERIFY(QFile::copy(coffee, dir.filePath("images/things/coffee.png")));
    QVERIFY(QFile::copy(rocket, dir.filePath("images/things/rocket.jpg")));
    QVERIFY(test::writePngHeaderOnly(dir.filePath("images/things/broken.png"), 640, 480));
    QVERIFY(test::writeText(dir.filePath("images/people/notes.png"), "this is not a PNG"));
    QVERIFY(test::writeText(dir.filePath("images/things/empty.jpg"), ""));

    QVERIFY(writeNativePackage(dir.filePath("model"), "test-folder-embedder"));

    const QString store = dir.filePath("store");
    auto r = cli({"embed", "--data", dir.filePath("images"), "--model", dir.filePath("model"), "--out", store, "--batch", "2",
                  "--device", "cpu"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains("skipped 3 of 7 image(s) that could not be read"), qPrintable(r.err));
    QVERIFY(r.err.contains("things/broken.png: "));
    QVERIFY(r.err.contains("things/empty.jpg: "));
    QVERIFY(r.err.contains("people/notes.png: "));
    const QJsonObject m = manifest(store);
    QCOMPARE(m["count"].toInt(), 4);
    QCOMPARE(m["dim"].toInt(), 16);
    QCOMPARE(m["source"].toObject()["model_id"].toString(), QString("test-folder-embedder"));
    auto csv = index::readCsv((store + "/meta.csv").toStdString());
    QVERIFY(csv.ok());
    QCOMPARE(csv->header, (std::vector<std::string>{"path", "label"}));
    QCOMPARE(csv->rows[0], (std::vector<std::string>{"people/astronaut.png", "people"}));
    QCOMPARE(csv->rows[3], (std::vector<std::string>{"things/rocket.jpg", "things"}));

    // The photo itself, embedded again through `neighbours --image`, is its own nearest neighbour.
    r = cli({"neighbours", "--store", store, "--image", coffee, "--model", dir.filePath("model"), "--k", "2", "--json",
             "--device", "cpu"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray nb = QJsonDocument::fromJson(r.out.toUtf8()).array();
    QCOMPARE(nb[0].toObject()["path"].toString(), QString("things/coffee.png"));
    QVERIFY(nb[0].toObject()["similarity"].toDouble() > 0.99999);
    // Another model's embeddings are not comparable: refused.
    QVERIFY(writeNativePackage(dir.filePath("other"), "other-model"));
    r = cli({"neighbours", "--store", store, "--image", coffee, "--model", dir.filePath("other")});
    QCOMPARE(r.exitCode, 3);
    QVERIFY(r.err.contains("not comparable"));
  }
};

QTEST_GUILESS_MAIN(TestEmbedCli)
#include "test_embed_cli.moc"
