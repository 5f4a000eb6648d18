// EXIF orientation 1..8: the loader shows the picture the way the camera meant it.
// Files are written with OpenCV, then tagged with Exiv2, exactly as a camera or editor would store them.
#include <QtTest>

#include <QTemporaryDir>

#include <atomic>
#include <thread>

#include <exiv2/exiv2.hpp>
#include <opencv2/imgcodecs.hpp>

#include "IoTestUtil.h"
#include "io/ImageReader.h"

using namespace loupe;

namespace {

// Stored picture: 48 x 32, blue, with a red 16x16 block at the stored top-left corner and a green one at
// the stored top-right corner (16-pixel blocks survive JPEG's 8x8/16x16 chroma blocks).
constexpr int kW = 48, kH = 32, kBlock = 16;

cv::Mat storedPicture() {
  cv::Mat m(kH, kW, CV_8UC3, cv::Scalar(255, 0, 0));                         // BGR blue
  m(cv::Rect(0, 0, kBlock, kBlock)).setTo(cv::Scalar(0, 0, 255));            // red at top-left
  m(cv::Rect(kW - kBlock, 0, kBlock, kBlock)).setTo(cv::Scalar(0, 255, 0));  // green at top-right
  return m;
}

bool setOrientation(const std::string& path, int value, std::string& why, bool withXmp = false) {
  try {
    auto image = Exiv2::ImageFactory::open(path);
    image->readMetadata();
    Exiv2::ExifData exif = image->exifData();
    exif["Exif.Image.Orientation"] = std::uint16_t(value);
    image->setExifData(exif);
    if (withXmp) {
      Exiv2::XmpData xmp;
      xmp["Xmp.dc.title"] = "rotated test picture";
      xmp["Xmp.tiff.Orientation"] = value;
      image->setXmpData(xmp);
    }
    image->writeMetadata();
    return true;
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
}

enum Corner { TL, TR, BR, BL };

// Which colour is at a displayed corner: 'R', 'G', 'B' or '?' (centre of the 16x16 corner block).
char colourAt(const Image& img, Corner corner) {
  const int x = (corner == TL || corner == BL) ? kBlock / 2 : img.width() - 1 - kBlock / 2;
  const int y = (corner == TL || corner == TR) ? kBlock / 2 : img.height() - 1 - kBlock / 2;
  const int r = int(img.sample(x, y, 0)), g = int(img.sample(x, y, 1)), b = int(img.sample(x, y, 2));
  if (r > 180 && g < 80 && b < 80) return 'R';
  if (g > 180 && r < 80 && b < 80) return 'G';
  if (b > 180 && r < 80 && g < 80) return 'B';
  return '?';
}

QString corners(const Image& img) {
  QString s;
  for (Corner c : {TL, TR, BR, BL}) s += QLatin1Char(colourAt(img, c));
  return s;
}

}  // namespace

class TestExifOrientation : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void shouldApplyExifOrientation_data();
  void shouldApplyExifOrientation();
  void shouldKeepStoredLayoutWhenAskedNotToRotate();
  void shouldWarnAboutInvalidOrientationValue();
  void shouldLoadTaggedFilesFromManyThreads();

 private:
  QTemporaryDir dir_;
};

void TestExifOrientation::initTestCase() { QVERIFY(dir_.isValid()); }

void TestExifOrientation::shouldApplyExifOrientation_data() {
  // Expected layouts from the EXIF 2.32 spec, tag 0x0112 (Orientation): the value says on which visual side
  // the stored 0th row and 0th column lie:
  //   1 row0=top,    col0=left     5 row0=left,  col0=top
  //   2 row0=top,    col0=right    6 row0=right, col0=top
  //   3 row0=bottom, col0=right    7 row0=right, col0=bottom
  //   4 row0=bottom, col0=left     8 row0=left,  col0=bottom
  // Stored top-left (red) sits where row0 meets col0; stored top-right (green) where row0 meets the side
  // opposite col0. Corners are listed TL, TR, BR, BL of the displayed image; 5-8 swap width and height.
  QTest::addColumn<QString>("ext");
  QTest::addColumn<int>("orientation");
  QTest::addColumn<QString>("expected");
  QTest::addColumn<bool>("swapped");
  const struct { int o; const char* layout; bool swap; } cases[] = {
      {1, "RGBB", false}, {2, "GRBB", false}, {3, "BBRG", false}, {4, "BBGR", false},
      {5, "RBBG", true},  {6, "BRGB", true},  {7, "BGRB", true},  {8, "GBBR", true},
  };
  for (const char* ext : {".jpg", ".png"})
    for (const auto& c : cases)
      QTest::newRow(qPrintable(QStringLiteral("%1 orientation %2").arg(QLatin1String(ext + 1)).arg(c.o)))
          << QString::fromLatin1(ext) << c.o << QString::fromLatin1(c.layout) << c.swap;
}

void TestExifOrientation::shouldApplyExifOrientation() {
  QFETCH(QString, ext);
  QFETCH(int, orientation);
  QFETCH(QString, expected);
  QFETCH(bool, swapped);
  const std::string path = dir_.filePath(QStringLiteral("o%1%2").arg(orientation).arg(ext)).toStdString();
  QVERIFY(cv::imwrite(path, storedPicture(), {cv::IMWRITE_JPEG_QUALITY, 98}));
  std::string why;
  QVERIFY2(setOrientation(path, orientation, why), why.c_str());

  const auto r = io::loadImage(path);
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(r->source.exifOrientation, orientation);
  QCOMPARE(r->width(), swapped ? kH : kW);
  QCOMPARE(r->height(), swapped ? kW : kH);
  QCOMPARE(corners(*r), expected);
  QVERIFY(r->source.warnings.empty());
}

void TestExifOrientation::shouldKeepStoredLayoutWhenAskedNotToRotate() {
  const std::string path = dir_.filePath(QStringLiteral("raw6.jpg")).toStdString();
  QVERIFY(cv::imwrite(path, storedPicture(), {cv::IMWRITE_JPEG_QUALITY, 98}));
  std::string why;
  QVERIFY2(setOrientation(path, 6, why), why.c_str());
  io::ImageLoadOptions options;
  options.applyOrientation = false;
  const auto r = io::loadImage(path, options);
  QVERIFY(r.ok());
  QCOMPARE(r->width(), kW);
  QCOMPARE(r->height(), kH);
  QCOMPARE(corners(*r), QStringLiteral("RGBB"));
}

void TestExifOrientation::shouldWarnAboutInvalidOrientationValue() {
  // 9 is not a valid orientation (EXIF allows 1-8): load upright and say so.
  const std::string path = dir_.filePath(QStringLiteral("o9.jpg")).toStdString();
  QVERIFY(cv::imwrite(path, storedPicture(), {cv::IMWRITE_JPEG_QUALITY, 98}));
  std::string why;
  QVERIFY2(setOrientation(path, 9, why), why.c_str());
  const auto r = io::loadImage(path);
  QVERIFY(r.ok());
  QCOMPARE(r->source.exifOrientation, 1);
  QCOMPARE(corners(*r), QStringLiteral("RGBB"));
  QCOMPARE(r->source.warnings.size(), std::size_t(1));
  QVERIFY(QString::fromStdString(r->source.warnings[0]).contains(QStringLiteral("orientation")));
}

void TestExifOrientation::shouldLoadTaggedFilesFromManyThreads() {
  // Jobs load images on worker threads: EXIF + XMP parsing must give the same result on every thread.
  const std::string path = dir_.filePath(QStringLiteral("xmp6.jpg")).toStdString();
  QVERIFY(cv::imwrite(path, storedPicture(), {cv::IMWRITE_JPEG_QUALITY, 98}));
  std::string why;
  QVERIFY2(setOrientation(path, 6, why, true), why.c_str());
  std::vector<std::uint8_t> bytes;
  {
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray all = f.readAll();
    bytes.assign(all.begin(), all.end());
  }
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const auto r = io::decodeImage(bytes, "xmp6.jpg");
        if (r.ok() && r->source.exifOrientation == 6 && r->width() == kH && corners(*r) == QLatin1String("BRGB")) ++good;
      }
    });
  for (auto& th : threads) th.join();
  QCOMPARE(good.load(), 100);
}

QTEST_GUILESS_MAIN(TestExifOrientation)
#include "test_exif_orientation.moc"
