// `loupe-cli train embeddings --data IMAGE_DIR` end to end: the real binary on a folder of Fashion-MNIST
// images (Debian's dataset-fashion-mnist, written here as PNGs, one sub-folder per class, plus a corrupt file
// and a text file), then on the same images through a --labels CSV; the documented exit code 3 for folders
// and CSVs that cannot train. Skipped when the data set is not installed.
#include "../support/CliRun.h"
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "train/data/Idx.h"

namespace {
using loupe::test::CliRun;
CliRun cli(const QStringList& args) { return loupe::test::runCli(args, 110000); }

bool writeBytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}
}  // namespace

class TestTrainFolderCli : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString images_;
  QStringList rows_;  // CSV rows "path,label"

 private Q_SLOTS:
  void initTestCase() {
    auto set = loupe::train::loadFashionMnist(loupe::train::Split::Train);
    if (!set) QSKIP("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
    images_ = dir_.filePath("fm");
    // The first 400 training images, as 28 x 28 grey PNGs under their class name.
    for (int i = 0; i < 400; ++i) {
      const auto label = set->labels[i].item<int64_t>();
      const QString cls = QString::fromStdString(set->classNames[std::size_t(label)]).replace('/', '-');
      QVERIFY(QDir().mkpath(images_ + "/" + cls));
      const torch::Tensor px = set->images[i][0].contiguous();
      QImage img(px.data_ptr<uint8_t>(), 28, 28, 28, QImage::Format_Grayscale8);
      const QString rel = QStringLiteral("%1/%2.png").arg(cls).arg(i, 5, 10, QLatin1Char('0'));
      QVERIFY(img.copy().save(images_ + "/" + rel));
      rows_ << rel + "," + cls;
    }
    QVERIFY(writeBytes(images_ + "/" + rows_[0].section('/', 0, 0) + "/broken.png", "\x89PNG\r\n\x1a\nno more"));
    QVERIFY(writeBytes(images_ + "/README.txt", "Fashion-MNIST sample"));
  }

  void shouldTrainOnAClassFolder() {
    const QString pkg = dir_.filePath("pkg"), json = dir_.filePath("train.json");
    CliRun r = cli({"train", "embeddings", "--data", images_, "--loss", "ce", "--epochs", "1", "--limit", "300", "--batch", "32",
                    "--warmup", "2", "--threads", "1", "--quiet", "--out", pkg, "--json", json});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    // 401 image files (one corrupt), 10% of every class held out: about 40 test images.
    QVERIFY2(r.err.contains("401 image file(s) in 10 classes"), qPrintable(r.err));
    QVERIFY2(r.err.contains("skipped 1 unreadable image(s)") && r.err.contains("broken.png"), qPrintable(r.err));
    QVERIFY2(r.err.contains("training on 300 images"), qPrintable(r.err));
    QVERIFY2(r.out.contains("kNN test accuracy (cosine, k=20, weighted vote)"), qPrintable(r.out));
    QVERIFY(QFile::exists(pkg + "/loupe-model.json"));
    QVERIFY(QFile::exists(pkg + "/model.pt"));
    QVERIFY(!QFile::exists(pkg + "/checkpoint.pt"));
    QFile jf(json);
    QVERIFY(jf.open(QIODevice::ReadOnly));
    const QJsonObject j = QJsonDocument::fromJson(jf.readAll()).object();
    QCOMPARE(j.value("train_images").toInt(), 300);
    const int test = j.value("test_images").toInt();
    QVERIFY2(test >= 35 && test <= 45, qPrintable(QString::number(test)));
    // Chance is 10%; even one epoch of a CNN on 300 images is far above it on Fashion-MNIST.
    QVERIFY2(j.value("knn_accuracy").toDouble() > 0.3, qPrintable(QString::number(j.value("knn_accuracy").toDouble())));
    // The package describes the folder's data: ten labels, grey 28 x 28, statistics of these images.
    QFile mf(pkg + "/loupe-model.json");
    QVERIFY(mf.open(QIODevice::ReadOnly));
    const QJsonObject m = QJsonDocument::fromJson(mf.readAll()).object();
    QCOMPARE(m.value("id").toString(), QStringLiteral("fm-ce"));
    QCOMPARE(m.value("labels").toArray().size(), 10);
    QCOMPARE(m.value("input").toObject().value("channels").toInt(), 1);
    const double mean = m.value("input").toObject().value("mean").toArray().at(0).toDouble();
    QVERIFY2(mean > 0.2 && mean < 0.4, qPrintable(QString::number(mean)));  // Fashion-MNIST's is 0.286
    CliRun v = cli({"models", "verify", pkg});
    QVERIFY2(v.exitCode == 0, qPrintable(v.err + v.out));
  }

  void shouldTrainFromACsv() {
    QVERIFY(writeBytes(dir_.filePath("labels.csv"), ("path,label\n" + rows_.mid(0, 120).join('\n') + "\n").toUtf8()));
    CliRun r = cli({"train", "embeddings", "--data", images_, "--labels", dir_.filePath("labels.csv"), "--loss", "ce",
                    "--epochs", "1", "--batch", "32", "--val-fraction", "0.2", "--size", "20", "--threads", "1", "--quiet",
                    "--out", dir_.filePath("pkg-csv")});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.err.contains("120 image file(s) in 10 classes"), qPrintable(r.err));
    QVERIFY2(r.out.contains("kNN test accuracy"), qPrintable(r.out));
    QFile mf(dir_.filePath("pkg-csv/loupe-model.json"));
    QVERIFY(mf.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(mf.readAll()).object().value("input").toObject().value("size").toObject().value("width").toInt(), 20);
  }

  void shouldExitWithBadInputOnFoldersThatCannotTrain_data() {
    QTest::addColumn<QString>("csv");  // empty: no --labels
    QTest::addColumn<QString>("expected");
    QTest::newRow("one class") << QString() << "needs at least two classes";
    QTest::newRow("ragged csv") << "path,label\nx/1.png,a\nx/2.png,b,c\n" << "line 3";
    QTest::newRow("missing files") << "path,label\nx/1.png,a\nx/9.png,b\nx/8.png,b\n" << "2 row(s) name files that do not exist";
    QTest::newRow("no label column") << "path,kind\nx/1.png,a\n" << "no label column (named label, class or category)";
  }
  void shouldExitWithBadInputOnFoldersThatCannotTrain() {
    QFETCH(QString, csv);
    QFETCH(QString, expected);
    QTemporaryDir d;
    QVERIFY(QDir().mkpath(d.filePath("x")));
    for (int i = 1; i <= 2; ++i) {
      QImage img(28, 28, QImage::Format_Grayscale8);
      img.fill(QColor(i * 50, i * 50, i * 50));
      QVERIFY(img.save(d.filePath(QStringLiteral("x/%1.png").arg(i))));
    }
    QStringList args = {"train", "embeddings", "--data", d.path(), "--out", d.filePath("pkg"), "--quiet"};
    if (!csv.isEmpty()) {
      QVERIFY(writeBytes(d.filePath("labels.csv"), csv.toUtf8()));
      args << "--labels" << d.filePath("labels.csv");
    }
    CliRun r = cli(args);
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.err.startsWith("loupe-cli: error: ") && r.err.contains(expected), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestTrainFolderCli)
#include "test_train_folder_cli.moc"
