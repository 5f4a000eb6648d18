// The forgery plugin's classic tools end to end through the host (manifest, parameters, plugin loading,
// the same path as loupe-cli run), on a real JPEG and on the bad-input list: images smaller than a
// block, one flat colour, PNG with alpha, 16-bit, extremely elongated, CMYK, and JPEG with broken EXIF.
// Every run gives layers or a clear error; every layer exports to files.
#include <QTemporaryDir>
#include <QtTest>

#include "ForensicsTestUtil.h"
#include "TestFiles.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "io/ImageWriter.h"

using namespace loupe;

namespace {
const char* kTasks[] = {"forgery.noise", "forgery.jpeg", "forgery.metadata", "forgery.hashes", "forgery.copymove"};
}

class TestClassicTasks : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::unique_ptr<host::PluginHost> host_;

  Result<host::RunOutcome> run(const std::string& task, const QString& file,
                               std::vector<std::pair<std::string, std::string>> params = {}) {
    host::RunRequest req;
    req.taskId = task;
    req.inputPath = file.toStdString();
    req.params = std::move(params);
    req.device = "cpu";
    auto plan = host::planRun(*host_, req, nullptr);
    if (!plan) return plan.error();
    return host::executeRun(*plan, CancelToken{}, Progress{});
  }
  static std::string cell(const host::RunOutcome& o, const std::string& layer, const std::string& key) {
    for (const auto& l : o.layers)
      if (l.id == layer)
        if (auto* t = std::get_if<Table>(&l.payload))
          for (const auto& r : t->rows)
            if (!r.empty() && r[0] == key) return r.size() > 1 ? r[1] : "";
    return {};
  }
  // All cells of the row whose first cell is `key`, joined with " | ".
  static std::string rowText(const host::RunOutcome& o, const std::string& layer, const std::string& key) {
    for (const auto& l : o.layers)
      if (l.id == layer)
        if (auto* t = std::get_if<Table>(&l.payload))
          for (const auto& r : t->rows)
            if (!r.empty() && r[0] == key) {
              std::string all;
              for (const auto& c : r) all += c + " | ";
              return all;
            }
    return {};
  }
  static bool hasLayer(const host::RunOutcome& o, const std::string& id) {
    for (const auto& l : o.layers)
      if (l.id == id) return true;
    return false;
  }
  QString writePng(const QString& name, const cv::Mat& m) {
    const QString path = tmp_.filePath(name);
    return io::writeImage(test::toImage(m), path.toStdString()).ok() ? path : QString();
  }

 private Q_SLOTS:
  void initTestCase();
  void realJpegGivesEveryLayer();
  void badInputs_data();
  void badInputs();
  void hashesCompareWithAnotherFile();
  void badParametersAreRefused();
};

void TestClassicTasks::initTestCase() {
  QVERIFY(tmp_.isValid());
  host_ = std::make_unique<host::PluginHost>();
  host_->setSearchPaths({LOUPE_PLUGIN_DIR});
  host_->scan();
}

void TestClassicTasks::realJpegGivesEveryLayer() {
  const QString rocket = test::debianPhoto("rocket.jpg");
  if (rocket.isEmpty()) QSKIP("python3-skimage not installed");
  for (const char* task : kTasks) {
    auto out = run(task, rocket);
    QVERIFY2(out.ok(), qPrintable(QString("%1: %2").arg(task, out.ok() ? "" : out.error().message.c_str())));
    QVERIFY(!out->layers.empty());
    const QString dir = tmp_.filePath(QString("export_") + task);
    QVERIFY(QDir().mkpath(dir));
    for (const auto& l : out->layers) {
      auto files = io::exportLayer(l, dir.toStdString());
      QVERIFY2(files.ok() && !files->empty(), qPrintable(QString::fromStdString(l.id)));
    }
  }
  auto jpeg = run("forgery.jpeg", rocket);
  QVERIFY(hasLayer(*jpeg, "jpeg_qtables") && hasLayer(*jpeg, "jpeg_ghost") && hasLayer(*jpeg, "jpeg_ghost_curve"));
  const int q = std::stoi(cell(*jpeg, "jpeg_summary", "estimated_quality"));
  QVERIFY(q >= 1 && q <= 100);
  auto hashes = run("forgery.hashes", rocket);
  QCOMPARE(QString::fromStdString(cell(*hashes, "hashes", "phash")).size(), 16);
  QCOMPARE(QString::fromStdString(cell(*hashes, "hashes", "sha256_file")).size(), 64);
  auto cm = run("forgery.copymove", rocket);
  QVERIFY(cell(*cm, "copymove_clusters", "summary").find("matched pairs") != std::string::npos);
}

void TestClassicTasks::badInputs_data() {
  QTest::addColumn<QString>("kind");
  for (const char* k : {"tiny 6x6", "flat colour", "png with alpha", "16-bit png", "elongated 5000x4", "cmyk jpeg",
                        "broken exif"})
    QTest::newRow(k) << k;
}

void TestClassicTasks::badInputs() {
  QFETCH(QString, kind);
  cv::Mat photo = test::skimagePhotoRgb("coffee.png");
  SKIP_WITHOUT_PHOTO(photo, "coffee.png");
  QString path;
  if (kind == "tiny 6x6") {
    path = writePng("tiny.png", photo(cv::Rect(0, 0, 6, 6)).clone());
  } else if (kind == "flat colour") {
    path = writePng("flat.png", cv::Mat(300, 400, CV_8UC3, cv::Scalar(30, 160, 90)));
  } else if (kind == "png with alpha") {
    cv::Mat rgba;
    cv::cvtColor(photo, rgba, cv::COLOR_RGB2RGBA);
    for (int y = 0; y < rgba.rows; ++y)
      for (int x = 0; x < rgba.cols; ++x) rgba.at<cv::Vec4b>(y, x)[3] = cv::saturate_cast<uchar>(x % 256);
    path = writePng("alpha.png", rgba);
  } else if (kind == "16-bit png") {
    cv::Mat m16;
    photo.convertTo(m16, CV_16U, 257.0);
    path = writePng("deep.png", m16);
  } else if (kind == "elongated 5000x4") {
    cv::Mat thin(4, 5000, CV_8UC3);
    cv::randu(thin, 0, 255);
    path = writePng("thin.png", thin);
  } else if (kind == "cmyk jpeg") {
    path = tmp_.filePath("cmyk.jpg");
    QVERIFY(test::writeCmykJpeg(path, 96, 64, 20, 120, 200, 10));
  } else if (kind == "broken exif") {
    // A JPEG whose EXIF APP1 segment claims an IFD far past its end.
    std::vector<std::uint8_t> jpeg;
    test::jpegRoundTrip(photo, 90, &jpeg);
    const std::uint8_t app1[] = {0xFF, 0xE1, 0x00, 0x1A, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 0xF0, 0xFF,
                                 0xFF, 0x7F, 0x05, 0x00, 0x0F, 0x01, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0x00};
    jpeg.insert(jpeg.begin() + 2, std::begin(app1), std::end(app1));
    path = tmp_.filePath("broken_exif.jpg");
    QVERIFY(test::writeBytes(path, jpeg));
  }
  QVERIFY(!path.isEmpty());
  for (const char* task : kTasks) {
    auto out = run(task, path);
    if (!out.ok()) {
      // Only the noise tool refuses, and only images smaller than its window, with a message saying so.
      QVERIFY2(QString(task) == "forgery.noise", qPrintable(QString("%1: %2").arg(task, out.error().message.c_str())));
      QVERIFY(kind == "tiny 6x6" || kind == "elongated 5000x4");
      QVERIFY2(out.error().message.find("smaller than") != std::string::npos, out.error().message.c_str());
      continue;
    }
    QVERIFY(!out->layers.empty());
    for (const auto& l : out->layers) QVERIFY(io::exportLayer(l, tmp_.path().toStdString()).ok());
    if (QString(task) == "forgery.copymove" && (kind == "flat colour" || kind == "tiny 6x6"))
      QVERIFY(rowText(*out, "copymove_clusters", "summary").find("no copied region") != std::string::npos);
    if (QString(task) == "forgery.jpeg" && (kind == "tiny 6x6" || kind == "elongated 5000x4"))
      QVERIFY(cell(*out, "jpeg_summary", "ghost").rfind("not computed", 0) == 0);
    if (QString(task) == "forgery.jpeg" && kind == "png with alpha")
      QVERIFY(!hasLayer(*out, "jpeg_qtables") && hasLayer(*out, "jpeg_ghost"));
    if (QString(task) == "forgery.metadata" && kind == "broken exif")
      QVERIFY(cell(*out, "metadata_findings", "problem").find("damaged") != std::string::npos);
    if (QString(task) == "forgery.noise" && kind == "png with alpha")
      QVERIFY(cell(*out, "noise_stats", "note").find("alpha") != std::string::npos);
  }
}

void TestClassicTasks::hashesCompareWithAnotherFile() {
  cv::Mat photo = test::skimagePhotoRgb("chelsea.png");
  SKIP_WITHOUT_PHOTO(photo, "chelsea.png");
  const QString a = writePng("a.png", photo);
  std::vector<std::uint8_t> jpeg;
  test::jpegRoundTrip(photo, 75, &jpeg);
  const QString b = tmp_.filePath("b.jpg");
  QVERIFY(test::writeBytes(b, jpeg));
  auto out = run("forgery.hashes", a, {{"compare_with", b.toStdString()}});
  QVERIFY(out.ok());
  QVERIFY(std::stoi(cell(*out, "hashes", "phash_distance")) <= 4);
  auto missing = run("forgery.hashes", a, {{"compare_with", tmp_.filePath("nope.png").toStdString()}});
  QVERIFY(!missing.ok());
  QVERIFY(missing.error().message.find("nope.png") != std::string::npos);
}

void TestClassicTasks::badParametersAreRefused() {
  cv::Mat photo = test::skimagePhotoRgb("chelsea.png");
  SKIP_WITHOUT_PHOTO(photo, "chelsea.png");
  const QString a = writePng("p.png", photo);
  QVERIFY(!run("forgery.noise", a, {{"median_kernel", "4"}}).ok());
  QVERIFY(!run("forgery.jpeg", a, {{"ghost_block", "12"}}).ok() ||
          cell(*run("forgery.jpeg", a, {{"ghost_block", "12"}}), "jpeg_summary", "ghost").find("multiple of 8") !=
              std::string::npos);
  QVERIFY(!run("forgery.jpeg", a, {{"ghost_min_quality", "90"}, {"ghost_max_quality", "60"}}).ok());
  QVERIFY(!run("forgery.copymove", a, {{"ratio", "1.5"}}).ok());  // outside the manifest's range
}

QTEST_GUILESS_MAIN(TestClassicTasks)
#include "test_classic_tasks.moc"
