// The default embedder of the Fashion-MNIST demo (resources/models/fmnist-embedder, trained by
// `loupe-cli train embeddings`, see its loupe-model.json provenance): "default" resolves to it, its files
// match the SHA-256s of its manifest (a flipped byte is refused), it is small, and it embeds Fashion-MNIST
// well: kNN accuracy (cosine, k = 20, weighted vote exp(sim / 0.07)) of the first 2,000 test images against
// the first 20,000 training images is >= 0.90. Reference: the same protocol with all 60,000 training images as
// the bank and all 10,000 test images gave the 0.9302 written in the manifest's provenance (loupe-cli eval
// embeddings, an independent code path); the subset gave 0.9305 here.
#include <QtTest>

#include <QTemporaryDir>

#include <filesystem>
#include <fstream>

#include "runtime/ModelPackage.h"
#include "runtime/NativeModels.h"
#include "train/DefaultEmbedder.h"
#include "train/data/Idx.h"
#include "train/metrics/EmbeddingMetrics.h"

using namespace loupe;
namespace fs = std::filesystem;

class TestDefaultEmbedder : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void defaultResolvesToTheShippedPackage() {
    auto folder = train::resolveEmbedderPackage("default");
    QVERIFY2(folder.ok(), folder.ok() ? "" : folder.error().message.c_str());
    auto package = runtime::openModelPackage(*folder);  // verifies every file's SHA-256
    QVERIFY2(package.ok(), package.ok() ? "" : package.error().message.c_str());
    QCOMPARE(QString::fromStdString(package->id), QStringLiteral("fashion-mnist-embedder"));
    QVERIFY(package->format == runtime::ModelFormat::Native);
    QVERIFY(!package->provenance.empty());
    QVERIFY(QString::fromStdString(package->provenance).contains(QStringLiteral("loupe-cli train embeddings")));
    std::uintmax_t bytes = 0;
    for (const auto& e : fs::directory_iterator(*folder)) bytes += e.is_regular_file() ? e.file_size() : 0;
    QVERIFY2(bytes < 2u * 1024 * 1024, qPrintable(QString::number(bytes)));
    // By id and by folder too; an unknown name says what was searched.
    QCOMPARE(*train::resolveEmbedderPackage(*folder), *folder);
    auto missing = train::resolveEmbedderPackage("no-such-embedder");
    QVERIFY(!missing.ok());
    QVERIFY(QString::fromStdString(missing.error().message).contains(QStringLiteral("searched")));
  }

  void aFlippedByteIsRefused() {
    auto folder = train::defaultEmbedderFolder();
    QVERIFY(folder.ok());
    QTemporaryDir tmp;
    const fs::path copy = fs::path(tmp.path().toStdString()) / "pkg";
    fs::copy(*folder, copy);
    {
      std::fstream f(copy / "model.pt", std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(1000);
      char c = 0;
      f.read(&c, 1);
      c = char(c ^ 0x5a);
      f.seekp(1000);
      f.write(&c, 1);
    }
    auto loaded = runtime::loadNativeEmbedder(copy.string());
    QVERIFY(!loaded.ok());
    QVERIFY2(QString::fromStdString(loaded.error().message).contains(QStringLiteral("sha256")),
             loaded.error().message.c_str());
  }

  void knnAccuracyOnATestSubset() {
    auto trainSet = train::loadFashionMnist(train::Split::Train);
    auto testSet = train::loadFashionMnist(train::Split::Test);
    if (!trainSet || !testSet) QSKIP("Debian's dataset-fashion-mnist is not installed");
    auto folder = train::defaultEmbedderFolder();
    QVERIFY(folder.ok());
    auto embedder = runtime::loadNativeEmbedder(*folder);
    QVERIFY2(embedder.ok(), embedder.ok() ? "" : embedder.error().message.c_str());
    const torch::Tensor bankImages = trainSet->images.narrow(0, 0, 20000), bankLabels = trainSet->labels.narrow(0, 0, 20000);
    const torch::Tensor queries = testSet->images.narrow(0, 0, 2000), queryLabels = testSet->labels.narrow(0, 0, 2000);
    auto bank = embedder->embed(bankImages);
    auto q = embedder->embed(queries);
    QVERIFY(bank.ok() && q.ok());
    QCOMPARE(bank->size(1), int64_t(embedder->model->config().embeddingDim));
    auto knn = train::knnClassify(*bank, bankLabels, *q, queryLabels);
    QVERIFY(knn.ok());
    qInfo("kNN accuracy on 2,000 test images (20,000 training images as the bank): %.4f", knn->accuracy);
    QVERIFY2(knn->accuracy >= 0.90, qPrintable(QString::number(knn->accuracy)));
  }
};

QTEST_MAIN(TestDefaultEmbedder)
#include "test_default_embedder.moc"
