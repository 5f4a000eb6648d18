// loupe-cli end to end: the real binary, real files, documented exit codes and one-line errors.
// The ELA output is checked against the same computation done in-process through the backend.

#include "../support/CliRun.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>

#include "TestFiles.h"
#include "analysis/ErrorLevel.h"
#include "core/Sha256.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

using namespace loupe;

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 120000); }
}  // namespace

class TestCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private Q_SLOTS:
  void shouldListTasksFromManifests() {
    const Run r = cli({"tasks"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("forgery.ela\tError Level Analysis\t[Compression]"));  // category from the manifest
    QVERIFY(r.out.contains("--param quality=90"));
    const Run j = cli({"tasks", "--json"});
    QCOMPARE(j.exitCode, 0);
    const auto arr = QJsonDocument::fromJson(j.out.toUtf8()).array();
    QVERIFY(!arr.isEmpty());
    // Every installed plugin's tasks are listed (in plugin order); ELA among them with its parameters.
    QJsonObject ela;
    for (const auto& t : arr)
      if (t.toObject()["id"].toString() == QString("forgery.ela")) ela = t.toObject();
    QVERIFY(!ela.isEmpty());
    QCOMPARE(ela["plugin"].toString(), QString("forgery"));
    QCOMPARE(ela["category"].toString(), QString("Compression"));
    QCOMPARE(ela["parameters"].toArray()[0].toObject()["id"].toString(), QString("quality"));
  }

  void shouldWriteElaHeatmapMatchingBackend() {
    const QString photo = test::debianPhoto("rocket.jpg");
    if (photo.isEmpty()) QSKIP("python3-skimage sample photos not installed");
    const QString out = tmp_.filePath("ela");
    const Run r = cli({"run", "forgery.ela", photo, "--out", out, "--param", "quality=85", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));

    // result.json and stdout agree and describe the input exactly.
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QFile f(out + "/result.json");
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(f.readAll()).object(), doc);
    QCOMPARE(doc["task"].toString(), QString("forgery.ela"));
    QCOMPARE(doc["parameters"].toObject()["quality"].toInt(), 85);
    auto sha = Sha256::ofFile(photo.toStdString());
    QCOMPARE(doc["input"].toObject()["sha256"].toString().toStdString(), *sha);

    // The float map equals the backend computation on the same file (reference: in-process path).
    auto image = io::loadImage(photo.toStdString());
    QVERIFY(image.ok());
    auto re = io::recompressJpeg(image->toRGB(), 85);
    QVERIFY(re.ok());
    auto map = analysis::errorLevelMap(image->toRGB(), *re, {});
    QVERIFY(map.ok());
    const cv::Mat values = cv::imread((out + "/ela.tiff").toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(values.type(), CV_32F);
    QCOMPARE(values.cols, image->width());
    QCOMPARE(values.rows, image->height());
    double maxDiff = 0;
    for (int y = 0; y < values.rows; ++y)
      for (int x = 0; x < values.cols; ++x)
        maxDiff = std::max(maxDiff, double(std::abs(values.at<float>(y, x) - map->at(x, y))));
    QCOMPARE(maxDiff, 0.0);
    QVERIFY(map->rangeMax == 12.75f);

    // The colour PNG is the map drawn through the colour map, at the input's size.
    auto png = io::loadImage((out + "/ela.png").toStdString());
    QVERIFY(png.ok());
    QCOMPARE(png->width(), image->width());
    QCOMPARE(png->height(), image->height());
    QVERIFY(QFileInfo::exists(out + "/ela_stats.json"));
  }

  void shouldFailCleanlyOnBadInput_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing file") << "does-not-exist.jpg" << 3 << "No such file";
    QTest::newRow("empty file") << "empty.jpg" << 3 << "empty (0 bytes)";
    QTest::newRow("text renamed .jpg") << "notes.jpg" << 3 << "text file, not an image";
    QTest::newRow("PNG claiming 100000x100000") << "huge.png" << 3 << "100000 x 100000 pixels";
    QTest::newRow("JPEG cut inside its header") << "header-cut.jpg" << 3 << "truncated";
    QTest::newRow("folder") << "." << 3 << "is a folder";
  }
  void shouldFailCleanlyOnBadInput() {
    QFETCH(QString, file);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    QDir dir(tmp_.path());
    test::writeText(dir.filePath("empty.jpg"), {});
    test::writeText(dir.filePath("notes.jpg"), "Meeting notes\nnothing to see here\n");
    QVERIFY(test::writePngHeaderOnly(dir.filePath("huge.png"), 100000, 100000));
    const QString photo = test::debianPhoto("rocket.jpg");
    if (!photo.isEmpty()) QVERIFY(test::writeTruncatedCopy(photo, dir.filePath("header-cut.jpg"), 0.002));
    else if (file == "header-cut.jpg") QSKIP("needs a real JPEG");

    QElapsedTimer timer;
    timer.start();
    const Run r = cli({"run", "forgery.ela", dir.filePath(file), "--out", dir.filePath("out-" + file)});
    QCOMPARE(r.exitCode, exitCode);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable(r.err));  // one line
    QVERIFY(r.err.startsWith("loupe-cli: error: "));
    QVERIFY(!QFileInfo::exists(dir.filePath("out-" + file) + "/result.json"));
    QVERIFY(timer.elapsed() < 30000);  // refused up front, not after a 30 GB allocation
  }

  void shouldAnalyseUnusualButValidImages_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("16-bit TIFF") << "tiff16";
    QTest::newRow("grayscale PNG") << "gray";
    QTest::newRow("CMYK JPEG") << "cmyk";
    QTest::newRow("RGBA PNG") << "rgba";
    QTest::newRow("truncated JPEG body") << "truncated";
  }
  void shouldAnalyseUnusualButValidImages() {
    QFETCH(QString, kind);
    QDir dir(tmp_.path());
    QString path = dir.filePath(kind);
    QString expectWarning;
    if (kind == "tiff16") {
      cv::Mat m(48, 64, CV_16UC3);
      cv::randu(m, 0, 65535);
      path += ".tiff";
      QVERIFY(cv::imwrite(path.toStdString(), m));
    } else if (kind == "gray") {
      cv::Mat m(48, 64, CV_8UC1);
      cv::randu(m, 0, 255);
      path += ".png";
      QVERIFY(cv::imwrite(path.toStdString(), m));
    } else if (kind == "rgba") {
      cv::Mat m(48, 64, CV_8UC4);
      cv::randu(m, 0, 255);
      path += ".png";
      QVERIFY(cv::imwrite(path.toStdString(), m));
    } else if (kind == "cmyk") {
      path += ".jpg";
      QVERIFY(test::writeCmykJpeg(path, 40, 24, 255, 0, 0, 0));
      expectWarning = "CMYK";
    } else {
      const QString photo = test::debianPhoto("rocket.jpg");
      if (photo.isEmpty()) QSKIP("needs a real JPEG");
      path += ".jpg";
      QVERIFY(test::writeTruncatedCopy(photo, path, 0.6));
      expectWarning = "truncated";
    }
    const QString out = dir.filePath("out-" + kind);
    const Run r = cli({"run", "forgery.ela", path, "--out", out, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    if (!expectWarning.isEmpty()) QVERIFY2(r.err.contains("warning: ") && r.err.contains(expectWarning), qPrintable(r.err));
    const auto doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY(QFileInfo::exists(out + "/ela.png"));
    if (!expectWarning.isEmpty()) QVERIFY(!doc["input"].toObject()["warnings"].toArray().isEmpty());
  }

  void shouldRejectBadUsage_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    const QString photo = test::debianPhoto("rocket.jpg").isEmpty() ? "x.jpg" : test::debianPhoto("rocket.jpg");
    QTest::newRow("unknown task") << QStringList{"run", "forgery.nope", photo, "--out", "o"} << 2 << "Unknown task 'forgery.nope' (available: ";
    QTest::newRow("param out of range") << QStringList{"run", "forgery.ela", photo, "--out", "o", "--param", "quality=0"} << 2 << "outside 1 .. 100";
    QTest::newRow("param without value") << QStringList{"run", "forgery.ela", photo, "--out", "o", "--param", "quality"} << 2 << "name=value";
    QTest::newRow("unknown param") << QStringList{"run", "forgery.ela", photo, "--out", "o", "-p", "qualty=3"} << 2 << "no parameter 'qualty'";
    QTest::newRow("bad device") << QStringList{"run", "forgery.ela", photo, "--out", "o", "--device", "tpu"} << 2 << "Unknown device 'tpu'";
    QTest::newRow("missing --out") << QStringList{"run", "forgery.ela", photo} << 2 << "--out";
    QTest::newRow("no subcommand") << QStringList{} << 2 << "subcommand";
  }
  void shouldRejectBadUsage() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    const Run r = cli(args);
    QCOMPARE(r.exitCode, exitCode);
    QVERIFY2(r.err.contains(message) || r.out.contains(message), qPrintable(r.err + r.out));
  }

  void shouldRefuseCudaWithoutDevice() {
    const QString photo = test::debianPhoto("rocket.jpg");
    if (photo.isEmpty()) QSKIP("needs a real JPEG");
    const Run r = cli({"run", "forgery.ela", photo, "--out", tmp_.filePath("cuda"), "--device", "cuda"});
    // On a CUDA machine this runs; on a CPU-only build it must refuse with exit code 5, not fall back silently.
    if (r.exitCode == 0) QSKIP("CUDA present");
    QCOMPARE(r.exitCode, 5);
    QVERIFY(r.err.contains("CUDA"));
  }

  void shouldReportUnwritableOutput() {
    const QString photo = test::debianPhoto("rocket.jpg");
    if (photo.isEmpty()) QSKIP("needs a real JPEG");
    const QString blocker = tmp_.filePath("a-file");
    test::writeText(blocker, "x");
    const Run r = cli({"run", "forgery.ela", photo, "--out", blocker + "/sub"});
    QCOMPARE(r.exitCode, 7);
    QVERIFY(r.err.contains("Cannot create folder"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
