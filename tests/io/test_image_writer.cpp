// ImageWriter: lossless round trips, formats that cannot hold a depth, folders created on demand,
// clear Io errors, no temporary files left behind; exportLayer for heatmaps, masks, tables, label maps
// and vector layers (polylines, boxes, points);
// recompressJpeg's argument checks and behaviour.
#include <QtTest>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <algorithm>
#include <thread>
#include <chrono>
#include <limits>
#include <random>

#include "IoTestUtil.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

using namespace loupe;
using namespace loupe::test;

namespace {

Image randomImage(int w, int h, ColorOrder order, PixelDepth depth, unsigned seed) {
  Image img(w, h, order, depth);
  std::mt19937 rng(seed);
  const std::size_t n = std::size_t(w) * h * img.channels();
  for (std::size_t i = 0; i < n; ++i) {
    switch (depth) {
      case PixelDepth::U8: img.data()[i] = std::uint8_t(rng()); break;
      case PixelDepth::U16: reinterpret_cast<std::uint16_t*>(img.data())[i] = std::uint16_t(rng()); break;
      case PixelDepth::F32: reinterpret_cast<float*>(img.data())[i] = float(int(rng() % 20001) - 10000) / 997.f; break;
    }
  }
  return img;
}

Image fromMat(const cv::Mat& bgr) {
  Image img(bgr.cols, bgr.rows, ColorOrder::BGR);
  for (int y = 0; y < bgr.rows; ++y) std::memcpy(img.row<std::uint8_t>(y), bgr.ptr(y), img.rowBytes());
  return img.toRGB().clone();
}

double meanAbsDiff(const Image& a, const Image& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.byteSize(); ++i) sum += std::abs(int(a.data()[i]) - int(b.data()[i]));
  return sum / double(a.byteSize());
}

Layer heatmapLayer(const std::string& id, int w, int h, std::vector<float> values) {
  Heatmap hm;
  hm.width = w;
  hm.height = h;
  hm.values = std::move(values);
  hm.rangeMin = 0.f;
  hm.rangeMax = 10.f;
  hm.colormap = Colormap::Viridis;
  Layer l;
  l.id = id;
  l.title = "Heat";
  l.payload = hm;
  return l;
}

QString message(const Result<void>& r) { return r.ok() ? QString() : QString::fromStdString(r.error().toString()); }

}  // namespace

class TestImageWriter : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init();
  void shouldRoundTripLosslessly_data();
  void shouldRoundTripLosslessly();
  void shouldWriteJpegCloseToInput();
  void shouldWriteGrayAlphaAsRgba();
  void shouldRefuseFormatThatCannotHoldImage_data();
  void shouldRefuseFormatThatCannotHoldImage();
  void shouldRefuseEmptyImage();
  void shouldCreateMissingFolders();
  void shouldReportUnwritablePathAsIo();
  void shouldNotReplaceFolderAndLeaveNoTempFile();
  void shouldReplaceExistingFileWithoutLeftovers();
  void shouldExportHeatmapAsColourPngAndFloatTiff();
  void shouldExportMaskAs0And255();
  void shouldExportTableAsJson();
  void shouldExportLabelMapAs16BitPngAndLabelTable();
  void shouldRefuseLabelOutside16Bits();
  void shouldExportVectorLayersAsJson();
  void shouldExportIntoNewNestedFolder();
  void shouldRefuseBadLayerIds_data();
  void shouldRefuseBadLayerIds();
  void shouldRefuseLayerWithWrongValueCount();
  void shouldRefuseJpegQualityOutOfRange_data();
  void shouldRefuseJpegQualityOutOfRange();
  void shouldRecompressGrayAndRgb_data();
  void shouldRecompressGrayAndRgb();
  void shouldRefuseRecompressingUnsupportedImages_data();
  void shouldRefuseRecompressingUnsupportedImages();
  void shouldStopRecompressingWhenCancelled();
  void shouldLoseMoreAtLowerQuality();

 private:
  std::unique_ptr<QTemporaryDir> dir_;
};

void TestImageWriter::init() {
  dir_ = std::make_unique<QTemporaryDir>();
  QVERIFY(dir_->isValid());
}

void TestImageWriter::shouldRoundTripLosslessly_data() {
  // Reference: the random samples written; PNG and TIFF are lossless for these depths.
  QTest::addColumn<QString>("name");
  QTest::addColumn<int>("order");
  QTest::addColumn<int>("depth");
  QTest::newRow("png u8 rgb") << "a.png" << int(ColorOrder::RGB) << int(PixelDepth::U8);
  QTest::newRow("png u8 gray") << "a.png" << int(ColorOrder::Gray) << int(PixelDepth::U8);
  QTest::newRow("png u8 rgba") << "a.png" << int(ColorOrder::RGBA) << int(PixelDepth::U8);
  QTest::newRow("png u8 bgr") << "a.png" << int(ColorOrder::BGR) << int(PixelDepth::U8);
  QTest::newRow("png u16 rgb") << "a.png" << int(ColorOrder::RGB) << int(PixelDepth::U16);
  QTest::newRow("png u16 gray") << "a.png" << int(ColorOrder::Gray) << int(PixelDepth::U16);
  QTest::newRow("tiff u16 rgb") << "a.tiff" << int(ColorOrder::RGB) << int(PixelDepth::U16);
  QTest::newRow("tif u8 rgb") << "a.tif" << int(ColorOrder::RGB) << int(PixelDepth::U8);
  QTest::newRow("tiff f32 gray") << "a.tiff" << int(ColorOrder::Gray) << int(PixelDepth::F32);
  QTest::newRow("TIFF f32 rgb") << "A.TIFF" << int(ColorOrder::RGB) << int(PixelDepth::F32);
}

void TestImageWriter::shouldRoundTripLosslessly() {
  QFETCH(QString, name);
  QFETCH(int, order);
  QFETCH(int, depth);
  const Image img = randomImage(23, 9, ColorOrder(order), PixelDepth(depth), 99);
  const QString path = dir_->filePath(name);
  const auto w = io::writeImage(img, path.toStdString());
  QVERIFY2(w.ok(), qPrintable(message(w)));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(int(r->depth()), depth);
  // BGR comes back as RGB (same colours), the other orders unchanged.
  const Image expected = ColorOrder(order) == ColorOrder::BGR ? img.toRGB() : img;
  QCOMPARE(int(r->order()), int(expected.order()));
  QCOMPARE(r->byteSize(), expected.byteSize());
  QVERIFY(std::memcmp(r->data(), expected.data(), expected.byteSize()) == 0);
  QCOMPARE(allEntries(dir_->path()), QStringList{name});
}

void TestImageWriter::shouldWriteJpegCloseToInput() {
  const Image img = fromMat(texturedBgr(64, 48));
  const QString path = dir_->filePath(QStringLiteral("photo.jpg"));
  QVERIFY(io::writeImage(img, path.toStdString()).ok());
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(r.ok());
  QCOMPARE(r->order(), ColorOrder::RGB);
  QVERIFY2(meanAbsDiff(img, *r) < 4.0, qPrintable(QString::number(meanAbsDiff(img, *r))));
}

void TestImageWriter::shouldWriteGrayAlphaAsRgba() {
  Image img(4, 3, ColorOrder::GrayAlpha);
  for (int i = 0; i < 12; ++i) {
    img.data()[2 * i] = std::uint8_t(i * 20);
    img.data()[2 * i + 1] = std::uint8_t(255 - i);
  }
  const QString path = dir_->filePath(QStringLiteral("ga.png"));
  const auto w = io::writeImage(img, path.toStdString());
  QVERIFY2(w.ok(), qPrintable(message(w)));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(r.ok());
  QCOMPARE(r->order(), ColorOrder::RGBA);
  for (int i = 0; i < 12; ++i) {
    const std::uint8_t* p = r->data() + 4 * i;
    QCOMPARE(int(p[0]), i * 20);
    QCOMPARE(int(p[1]), i * 20);
    QCOMPARE(int(p[2]), i * 20);
    QCOMPARE(int(p[3]), 255 - i);
  }
}

void TestImageWriter::shouldRefuseFormatThatCannotHoldImage_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<int>("depth");
  QTest::addColumn<QString>("says");
  QTest::newRow("float to png") << "f.png" << int(PixelDepth::F32) << "float";
  QTest::newRow("float to jpeg") << "f.jpg" << int(PixelDepth::F32) << "float";
  QTest::newRow("16-bit to jpeg") << "d.jpeg" << int(PixelDepth::U16) << "16-bit";
  QTest::newRow("unknown extension") << "x.xyz" << int(PixelDepth::U8) << ".xyz";
  QTest::newRow("no extension") << "noext" << int(PixelDepth::U8) << "extension";
}

void TestImageWriter::shouldRefuseFormatThatCannotHoldImage() {
  // Writing silently converted pixels (float heatmap squashed to 0/1 in a PNG) would lose the data.
  QFETCH(QString, name);
  QFETCH(int, depth);
  QFETCH(QString, says);
  const Image img = randomImage(4, 4, ColorOrder::Gray, PixelDepth(depth), 1);
  const auto w = io::writeImage(img, dir_->filePath(name).toStdString());
  QVERIFY(!w.ok());
  QCOMPARE(w.error().code, ErrorCode::InvalidArgument);
  QVERIFY2(QString::fromStdString(w.error().message).contains(says), w.error().message.c_str());
  QVERIFY(allEntries(dir_->path()).isEmpty());
}

void TestImageWriter::shouldRefuseEmptyImage() {
  const auto w = io::writeImage(Image(), dir_->filePath(QStringLiteral("e.png")).toStdString());
  QVERIFY(!w.ok());
  QCOMPARE(w.error().code, ErrorCode::InvalidArgument);
  QVERIFY(allEntries(dir_->path()).isEmpty());
}

void TestImageWriter::shouldCreateMissingFolders() {
  const QString path = dir_->filePath(QStringLiteral("a/b/c/out.png"));
  const auto w = io::writeImage(randomImage(3, 3, ColorOrder::RGB, PixelDepth::U8, 2), path.toStdString());
  QVERIFY2(w.ok(), qPrintable(message(w)));
  QVERIFY(QFileInfo::exists(path));
  QCOMPARE(allEntries(dir_->filePath(QStringLiteral("a/b/c"))), QStringList{QStringLiteral("out.png")});
}

void TestImageWriter::shouldReportUnwritablePathAsIo() {
  // /proc accepts no new files, not even from root.
  const auto w = io::writeImage(randomImage(3, 3, ColorOrder::RGB, PixelDepth::U8, 3), "/proc/loupe-test/x.png");
  QVERIFY(!w.ok());
  QCOMPARE(w.error().code, ErrorCode::Io);
  QVERIFY(QString::fromStdString(w.error().message).contains(QStringLiteral("/proc/loupe-test")));
  const auto e = io::exportLayer(heatmapLayer("ela", 2, 1, {1.f, 2.f}), "/proc/loupe-test");
  QVERIFY(!e.ok());
  QCOMPARE(e.error().code, ErrorCode::Io);
}

void TestImageWriter::shouldNotReplaceFolderAndLeaveNoTempFile() {
  QVERIFY(QDir(dir_->path()).mkdir(QStringLiteral("taken.png")));
  const auto w = io::writeImage(randomImage(3, 3, ColorOrder::RGB, PixelDepth::U8, 4),
                                dir_->filePath(QStringLiteral("taken.png")).toStdString());
  QVERIFY(!w.ok());
  QCOMPARE(w.error().code, ErrorCode::Io);
  QCOMPARE(allEntries(dir_->path()), QStringList{QStringLiteral("taken.png")});
  QVERIFY(QFileInfo(dir_->filePath(QStringLiteral("taken.png"))).isDir());
}

void TestImageWriter::shouldReplaceExistingFileWithoutLeftovers() {
  const QString path = dir_->filePath(QStringLiteral("same.png"));
  QVERIFY(writeBytes(path, QByteArray("old content")));
  const Image img = randomImage(5, 5, ColorOrder::Gray, PixelDepth::U8, 5);
  QVERIFY(io::writeImage(img, path.toStdString()).ok());
  QVERIFY(io::writeImage(img, path.toStdString()).ok());
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(r.ok());
  QVERIFY(std::memcmp(r->data(), img.data(), img.byteSize()) == 0);
  QCOMPARE(allEntries(dir_->path()), QStringList{QStringLiteral("same.png")});
}

void TestImageWriter::shouldExportHeatmapAsColourPngAndFloatTiff() {
  // Values include negatives, fractions, large numbers and NaN: the TIFF must keep every bit.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {0.f, 2.5f, 10.f, -3.25f, 1e-7f, 12345.678f, nan, 7.f};
  const auto files = io::exportLayer(heatmapLayer("ela", 4, 2, values), dir_->path().toStdString());
  QVERIFY2(files.ok(), files.ok() ? "" : files.error().message.c_str());
  const QString png = dir_->filePath(QStringLiteral("ela.png"));
  const QString tiff = dir_->filePath(QStringLiteral("ela.tiff"));
  QCOMPARE(files->size(), std::size_t(2));
  QCOMPARE(QString::fromStdString((*files)[0]), png);
  QCOMPARE(QString::fromStdString((*files)[1]), tiff);
  QCOMPARE(allEntries(dir_->path()), (QStringList{QStringLiteral("ela.png"), QStringLiteral("ela.tiff")}));

  // Float values, read back by the project's loader and independently by OpenCV.
  const auto back = io::loadImage(tiff.toStdString());
  QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
  QCOMPARE(back->depth(), PixelDepth::F32);
  QCOMPARE(back->order(), ColorOrder::Gray);
  QCOMPARE(back->width(), 4);
  QCOMPARE(back->height(), 2);
  QVERIFY(std::memcmp(back->data(), values.data(), values.size() * sizeof(float)) == 0);
  const cv::Mat cvBack = cv::imread(tiff.toStdString(), cv::IMREAD_UNCHANGED);
  QCOMPARE(cvBack.type(), CV_32FC1);
  QVERIFY(std::memcmp(cvBack.ptr(), values.data(), values.size() * sizeof(float)) == 0);

  // Colours: viridis over [0, 10]; 0 -> viridis(0) = (68, 1, 84), 10 -> viridis(1) = (253, 231, 37)
  // (matplotlib table); the PNG is RGBA with opaque alpha.
  const auto colour = io::loadImage(png.toStdString());
  QVERIFY(colour.ok());
  QCOMPARE(colour->order(), ColorOrder::RGBA);
  auto px = [&](int x, int y) {
    const std::uint8_t* p = colour->row<std::uint8_t>(y) + 4 * x;
    return QStringLiteral("(%1,%2,%3,%4)").arg(p[0]).arg(p[1]).arg(p[2]).arg(p[3]);
  };
  QCOMPARE(px(0, 0), QStringLiteral("(68,1,84,255)"));
  QCOMPARE(px(2, 0), QStringLiteral("(253,231,37,255)"));
  QCOMPARE(px(3, 0), QStringLiteral("(68,1,84,255)"));    // below the range: low end
  QCOMPARE(px(2, 1), QStringLiteral("(68,1,84,255)"));    // NaN: low end
  QCOMPARE(px(1, 1), QStringLiteral("(253,231,37,255)")); // above the range: high end
}

void TestImageWriter::shouldExportMaskAs0And255() {
  Mask m;
  m.width = 3;
  m.height = 2;
  m.values = {0, 1, 2, 255, 0, 1};
  Layer l;
  l.id = "mask";
  l.payload = m;
  const auto files = io::exportLayer(l, dir_->path().toStdString());
  QVERIFY(files.ok());
  QCOMPARE(files->size(), std::size_t(1));
  const auto back = io::loadImage(files->front());
  QVERIFY(back.ok());
  QCOMPARE(back->order(), ColorOrder::Gray);
  const std::vector<int> expected = {0, 255, 255, 255, 0, 255};
  for (int i = 0; i < 6; ++i) QCOMPARE(int(back->data()[i]), expected[std::size_t(i)]);
}

void TestImageWriter::shouldExportTableAsJson() {
  Table t;
  t.columns = {"name", "value"};
  t.rows = {{"mean", "1.5"}, {"p99", "12"}, {"quote \" and \\ backslash", "\xc3\xa9t\xc3\xa9"}};
  Layer l;
  l.id = "stats";
  l.title = "ELA statistics";
  l.payload = t;
  const auto files = io::exportLayer(l, dir_->path().toStdString());
  QVERIFY(files.ok());
  QCOMPARE(QString::fromStdString(files->front()), dir_->filePath(QStringLiteral("stats.json")));
  // Reference: parsed by Qt's JSON reader, independent of the writer's library.
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(readBytes(dir_->filePath(QStringLiteral("stats.json"))), &err);
  QCOMPARE(err.error, QJsonParseError::NoError);
  const QJsonObject o = doc.object();
  QCOMPARE(o.value(QStringLiteral("id")).toString(), QStringLiteral("stats"));
  QCOMPARE(o.value(QStringLiteral("title")).toString(), QStringLiteral("ELA statistics"));
  QCOMPARE(o.value(QStringLiteral("columns")).toArray().size(), 2);
  const QJsonArray rows = o.value(QStringLiteral("rows")).toArray();
  QCOMPARE(rows.size(), 3);
  QCOMPARE(rows[1].toObject().value(QStringLiteral("value")).toString(), QStringLiteral("12"));
  QCOMPARE(rows[2].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("quote \" and \\ backslash"));
  QCOMPARE(rows[2].toObject().value(QStringLiteral("value")).toString(), QString::fromUtf8("\xc3\xa9t\xc3\xa9"));
  QCOMPARE(allEntries(dir_->path()), QStringList{QStringLiteral("stats.json")});
}

void TestImageWriter::shouldExportLabelMapAs16BitPngAndLabelTable() {
  LabelMap map;
  map.width = 3;
  map.height = 2;
  map.values = {0, 1, 2, 300, 65535, 1};  // 300 and 65535 need 16 bits
  map.labels = {{1, "peripheral zone", std::array<std::uint8_t, 3>{10, 20, 30}, true}, {2, "lesion", std::nullopt, false}};
  Layer l;
  l.id = "zones";
  l.title = "Zones";
  l.payload = map;
  const auto files = io::exportLayer(l, dir_->path().toStdString());
  QVERIFY2(files.ok(), files.ok() ? "" : files.error().message.c_str());
  QCOMPARE(allEntries(dir_->path()), (QStringList{QStringLiteral("zones.json"), QStringLiteral("zones.png")}));
  // Reference: OpenCV's PNG reader, unchanged depth.
  const cv::Mat back = cv::imread(dir_->filePath(QStringLiteral("zones.png")).toStdString(), cv::IMREAD_UNCHANGED);
  QCOMPARE(back.type(), CV_16UC1);
  for (int i = 0; i < 6; ++i) QCOMPARE(int(back.at<std::uint16_t>(i / 3, i % 3)), map.values[std::size_t(i)]);
  QJsonParseError err;
  const QJsonObject o = QJsonDocument::fromJson(readBytes(dir_->filePath(QStringLiteral("zones.json"))), &err).object();
  QCOMPARE(err.error, QJsonParseError::NoError);
  const QJsonArray labels = o.value(QStringLiteral("labels")).toArray();
  QCOMPARE(labels.size(), 2);
  QCOMPARE(labels[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("peripheral zone"));
  QCOMPARE(labels[0].toObject().value(QStringLiteral("colour")).toArray()[2].toInt(), 30);
  QVERIFY(!labels[1].toObject().contains(QStringLiteral("colour")));
  QCOMPARE(labels[1].toObject().value(QStringLiteral("visible")).toBool(), false);
}

void TestImageWriter::shouldRefuseLabelOutside16Bits() {
  LabelMap map;
  map.width = 2;
  map.height = 1;
  map.values = {1, -1};
  Layer l;
  l.id = "lm";
  l.payload = map;
  const auto r = io::exportLayer(l, dir_->path().toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("-1")));
  QVERIFY(!QFile::exists(dir_->filePath(QStringLiteral("lm.png"))));
}

void TestImageWriter::shouldExportVectorLayersAsJson() {
  Polylines lines;
  lines.width = 100;
  lines.height = 50;
  lines.lines = {{{{1.5f, 2.f}, {10.f, 20.25f}}, "match 1"}};
  Boxes boxes;
  boxes.width = 100;
  boxes.height = 50;
  boxes.boxes = {{4.f, 5.f, 6.f, 7.f, "face", 0.75}, {0.f, 0.f, 1.f, 1.f, "no score", std::nan("")}};
  Points points;
  points.points = {{{3.f, 4.f}, "eye"}};
  const std::vector<Layer> layers = {{"lines", "Lines", lines}, {"boxes", "Boxes", boxes}, {"points", "Points", points}};
  for (const auto& l : layers) {
    const auto files = io::exportLayer(l, dir_->path().toStdString());
    QVERIFY2(files.ok(), files.ok() ? "" : files.error().message.c_str());
    QCOMPARE(files->size(), std::size_t(1));
  }
  auto read = [&](const char* name) {
    return QJsonDocument::fromJson(readBytes(dir_->filePath(QString::fromLatin1(name)))).object();
  };
  const QJsonObject lo = read("lines.json");
  QCOMPARE(lo.value(QStringLiteral("kind")).toString(), QStringLiteral("polylines"));
  const QJsonArray pts = lo.value(QStringLiteral("lines")).toArray()[0].toObject().value(QStringLiteral("points")).toArray();
  QCOMPARE(pts.size(), 2);
  QCOMPARE(pts[1].toArray()[1].toDouble(), 20.25);
  const QJsonArray bo = read("boxes.json").value(QStringLiteral("boxes")).toArray();
  QCOMPARE(bo.size(), 2);
  QCOMPARE(bo[0].toObject().value(QStringLiteral("score")).toDouble(), 0.75);
  QVERIFY(!bo[1].toObject().contains(QStringLiteral("score")));  // NaN means no score, not a null
  QCOMPARE(bo[0].toObject().value(QStringLiteral("h")).toDouble(), 7.0);
  const QJsonObject po = read("points.json");
  QCOMPARE(po.value(QStringLiteral("kind")).toString(), QStringLiteral("points"));
  QCOMPARE(po.value(QStringLiteral("points")).toArray()[0].toObject().value(QStringLiteral("label")).toString(),
           QStringLiteral("eye"));
}

void TestImageWriter::shouldExportIntoNewNestedFolder() {
  const QString nested = dir_->filePath(QStringLiteral("run/2024/layers"));
  const auto files = io::exportLayer(heatmapLayer("h", 2, 2, {1, 2, 3, 4}), nested.toStdString());
  QVERIFY2(files.ok(), files.ok() ? "" : files.error().message.c_str());
  QCOMPARE(allEntries(nested), (QStringList{QStringLiteral("h.png"), QStringLiteral("h.tiff")}));
}

void TestImageWriter::shouldRefuseBadLayerIds_data() {
  QTest::addColumn<QString>("id");
  QTest::newRow("empty") << "";
  QTest::newRow("parent folder") << "../escape";
  QTest::newRow("sub folder") << "a/b";
  QTest::newRow("dot-dot") << "..";
}

void TestImageWriter::shouldRefuseBadLayerIds() {
  // A layer id becomes a file name: it must not write outside the export folder.
  QFETCH(QString, id);
  const QString out = dir_->filePath(QStringLiteral("out"));
  const auto files = io::exportLayer(heatmapLayer(id.toStdString(), 1, 1, {1.f}), out.toStdString());
  QVERIFY(!files.ok());
  QCOMPARE(files.error().code, ErrorCode::InvalidArgument);
  QVERIFY(allEntries(dir_->path()).size() <= 1);  // at most the (empty) out folder
  QVERIFY(allEntries(out).isEmpty());
}

void TestImageWriter::shouldRefuseLayerWithWrongValueCount() {
  // A plugin bug (values.size() != width * height) must be an error, not a read past the buffer.
  const auto h = io::exportLayer(heatmapLayer("h", 100, 100, {1.f, 2.f}), dir_->path().toStdString());
  QVERIFY(!h.ok());
  QCOMPARE(h.error().code, ErrorCode::InvalidArgument);
  Mask m;
  m.width = 64;
  m.height = 64;
  m.values = {1};
  Layer l;
  l.id = "m";
  l.payload = m;
  const auto r = io::exportLayer(l, dir_->path().toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY(allEntries(dir_->path()).isEmpty());
}

void TestImageWriter::shouldRefuseJpegQualityOutOfRange_data() {
  QTest::addColumn<int>("quality");
  QTest::addColumn<bool>("valid");
  QTest::newRow("0") << 0 << false;
  QTest::newRow("-5") << -5 << false;
  QTest::newRow("101") << 101 << false;
  QTest::newRow("1") << 1 << true;
  QTest::newRow("100") << 100 << true;
}

void TestImageWriter::shouldRefuseJpegQualityOutOfRange() {
  QFETCH(int, quality);
  QFETCH(bool, valid);
  const auto r = io::recompressJpeg(randomImage(16, 16, ColorOrder::RGB, PixelDepth::U8, 6), quality);
  QCOMPARE(r.ok(), valid);
  if (!valid) {
    QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
    QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("1-100")));
  }
}

void TestImageWriter::shouldRecompressGrayAndRgb_data() {
  // Odd sizes exercise libjpeg's edge padding of partial 16 x 16 (4:2:0) blocks.
  QTest::addColumn<int>("order");
  QTest::addColumn<int>("quality");
  QTest::addColumn<int>("width");
  QTest::addColumn<int>("height");
  QTest::newRow("rgb q80") << int(ColorOrder::RGB) << 80 << 40 << 24;
  QTest::newRow("gray q80") << int(ColorOrder::Gray) << 80 << 40 << 24;
  QTest::newRow("rgb q95 odd size") << int(ColorOrder::RGB) << 95 << 257 << 131;
  QTest::newRow("rgb q30 odd size") << int(ColorOrder::RGB) << 30 << 131 << 257;
  QTest::newRow("gray q55 odd size") << int(ColorOrder::Gray) << 55 << 99 << 77;
  QTest::newRow("rgb q100") << int(ColorOrder::RGB) << 100 << 64 << 48;
}

void TestImageWriter::shouldRecompressGrayAndRgb() {
  // Reference: OpenCV's own encode + decode of the same pixels at the same quality.
  QFETCH(int, order);
  QFETCH(int, quality);
  QFETCH(int, width);
  QFETCH(int, height);
  const cv::Mat bgr = texturedBgr(width, height);
  cv::Mat mat = bgr;
  Image img = fromMat(bgr);
  if (ColorOrder(order) == ColorOrder::Gray) {
    cv::cvtColor(bgr, mat, cv::COLOR_BGR2GRAY);
    img = Image(mat.cols, mat.rows, ColorOrder::Gray);
    for (int y = 0; y < mat.rows; ++y) std::memcpy(img.row<std::uint8_t>(y), mat.ptr(y), img.rowBytes());
  }
  const auto r = io::recompressJpeg(img, quality);
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(int(r->order()), order);
  QCOMPARE(r->width(), width);
  QCOMPARE(r->height(), height);
  std::vector<std::uint8_t> buf;
  QVERIFY(cv::imencode(".jpg", mat, buf, {cv::IMWRITE_JPEG_QUALITY, quality}));
  const cv::Mat ref = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  Image expected = ColorOrder(order) == ColorOrder::Gray ? Image(width, height, ColorOrder::Gray) : Image(width, height, ColorOrder::BGR);
  for (int y = 0; y < ref.rows; ++y) std::memcpy(expected.row<std::uint8_t>(y), ref.ptr(y), expected.rowBytes());
  if (ColorOrder(order) != ColorOrder::Gray) expected = expected.toRGB();
  QCOMPARE(r->byteSize(), expected.byteSize());
  QVERIFY(std::memcmp(r->data(), expected.data(), expected.byteSize()) == 0);  // bit-identical
  QVERIFY(meanAbsDiff(img, *r) > 0.0);  // it did go through JPEG
}

void TestImageWriter::shouldRefuseRecompressingUnsupportedImages_data() {
  QTest::addColumn<int>("order");
  QTest::addColumn<int>("depth");
  QTest::addColumn<QString>("says");
  QTest::newRow("rgba") << int(ColorOrder::RGBA) << int(PixelDepth::U8) << "rgba";
  QTest::newRow("16-bit rgb") << int(ColorOrder::RGB) << int(PixelDepth::U16) << "16-bit";
  QTest::newRow("float gray") << int(ColorOrder::Gray) << int(PixelDepth::F32) << "float";
}

void TestImageWriter::shouldRefuseRecompressingUnsupportedImages() {
  QFETCH(int, order);
  QFETCH(int, depth);
  QFETCH(QString, says);
  const auto r = io::recompressJpeg(Image(8, 8, ColorOrder(order), PixelDepth(depth)), 75);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY2(QString::fromStdString(r.error().message).contains(says), r.error().message.c_str());
  const auto empty = io::recompressJpeg(Image(), 75);
  QVERIFY(!empty.ok());
  QCOMPARE(empty.error().code, ErrorCode::InvalidArgument);
}

void TestImageWriter::shouldStopRecompressingWhenCancelled() {
  const Image big = fromMat(texturedBgr(4000, 3000));
  CancelToken before;
  before.cancel();
  QElapsedTimer t;
  t.start();
  const auto r = io::recompressJpeg(big, 90, before);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::Cancelled);
  QVERIFY2(t.elapsed() < 50, qPrintable(QStringLiteral("%1 ms").arg(t.elapsed())));

  // Cancelled from another thread while it runs: it ends long before a full 12 MP encode + decode would.
  QElapsedTimer whole;
  whole.start();
  QVERIFY(io::recompressJpeg(big, 90).ok());
  const qint64 fullMs = whole.elapsed();
  CancelToken during;
  std::thread canceller([during] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    during.cancel();
  });
  t.restart();
  const auto c = io::recompressJpeg(big, 90, during);
  const qint64 ms = t.elapsed();
  canceller.join();
  if (c.ok()) QSKIP("the machine finished a 12 MP re-compression within 20 ms; nothing to cancel");
  QCOMPARE(c.error().code, ErrorCode::Cancelled);
  qInfo("12 MP re-compression: %lld ms in full, cancelled after %lld ms (cancel at 20 ms)", fullMs, ms);
  QVERIFY2(ms < 20 + std::max<qint64>(100, fullMs / 4), qPrintable(QStringLiteral("%1 ms of %2").arg(ms).arg(fullMs)));
}

void TestImageWriter::shouldLoseMoreAtLowerQuality() {
  const Image img = fromMat(texturedBgr(96, 64));
  const auto q95 = io::recompressJpeg(img, 95);
  const auto q30 = io::recompressJpeg(img, 30);
  QVERIFY(q95.ok() && q30.ok());
  const double e95 = meanAbsDiff(img, *q95), e30 = meanAbsDiff(img, *q30);
  QVERIFY2(e30 > 1.5 * e95, qPrintable(QStringLiteral("q30 %1 vs q95 %2").arg(e30).arg(e95)));
}

QTEST_GUILESS_MAIN(TestImageWriter)
#include "test_image_writer.moc"
