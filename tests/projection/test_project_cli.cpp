// `loupe-cli project --method tsne|umap` end to end with the real binary: a .npy of three 10-D Gaussian blobs
// (made here) becomes a store (`loupe-cli embed`), each method writes one CSV row per embedding with the
// metadata, the blobs keep 10-NN label accuracy 1.0 in the written 2-D coordinates, the same seed writes the
// same file, and an unknown method lists both.
#include "../support/CliRun.h"
#include <QtTest>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <fstream>

#include "ProjectionTestUtil.h"
#include "analysis/Knn.h"
#include "index/Npy.h"

using namespace loupe;

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 240000); }
}  // namespace

class TestProjectCli : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  torch::Tensor labels_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto [x, labels] = projection_test::blobs(3, 100, 10, 8.0, 11);
    labels_ = labels;
    QVERIFY(index::writeNpyMatrix(dir_.filePath("x.npy").toStdString(), x).ok());
    std::ofstream meta(dir_.filePath("meta.csv").toStdString());
    meta << "blob\n";
    for (std::int64_t i = 0; i < labels.size(0); ++i) meta << "blob " << labels[i].item<std::int64_t>() << "\n";
    meta.close();
    const Run r = cli({"embed", "--data", dir_.filePath("x.npy"), "--meta", dir_.filePath("meta.csv"), "--out",
                       dir_.filePath("store"), "--quiet"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
  }

  void writesLayouts_data() {
    QTest::addColumn<QString>("method");
    QTest::newRow("tsne") << "tsne";
    QTest::newRow("umap") << "umap";
  }

  void writesLayouts() {
    QFETCH(QString, method);
    const QString out = dir_.filePath(method + ".csv");
    // One thread: on a shared, oversubscribed machine LibTorch's per-iteration parallel regions stall.
    const Run r = cli({"project", "--store", dir_.filePath("store"), "--method", method, "--out", out, "--seed", "5",
                       "--threads", "1"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(method == "tsne" ? "KL divergence" : "epochs"), qPrintable(r.out));
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 301);
    QVERIFY(lines[0].startsWith("id,x,y,blob"));
    torch::Tensor xy = torch::empty({300, 2});
    for (int i = 0; i < 300; ++i) {
      const QStringList cells = lines[i + 1].split(',');
      QCOMPARE(cells[0].toInt(), i);
      QCOMPARE(cells[3], QString("blob %1").arg(labels_[i].item<std::int64_t>()));
      xy[i][0] = cells[1].toFloat();
      xy[i][1] = cells[2].toFloat();
    }
    QCOMPARE(*analysis::knnLabelAccuracy(xy, labels_, 10), 1.0);
    // Same seed, same file.
    const QString again = dir_.filePath(method + "-again.csv");
    QCOMPARE(cli({"project", "--store", dir_.filePath("store"), "--method", method, "--out", again, "--seed", "5",
                  "--threads", "1", "--quiet"}).exitCode, 0);
    QFile g(again);
    QVERIFY(g.open(QIODevice::ReadOnly));
    f.seek(0);
    QVERIFY(f.readAll() == g.readAll());
  }

  void listsMethods() {
    const Run r = cli({"project", "--store", dir_.filePath("store"), "--method", "mds", "--out", dir_.filePath("m.csv")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("tsne") && r.err.contains("umap"), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestProjectCli)
#include "test_project_cli.moc"
