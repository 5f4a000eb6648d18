// forensics::analyseMetadata on JPEGs this test writes with Exiv2 itself: the entries it wrote come back,
// editor/date notes appear, the EXIF thumbnail of the original shows where the main image was edited,
// and damaged EXIF is reported instead of crashing.
#include <QTemporaryDir>
#include <QtTest>

#include <exiv2/exiv2.hpp>

#include <random>

#include "ForensicsTestUtil.h"
#include "forensics/Metadata.h"
#include "io/ImageReader.h"

using namespace loupe;
using namespace loupe::forensics;

class TestMetadataForensics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void readsEntriesAndNotes();
  void thumbnailShowsTheEdit();
  void untouchedImageMatchesItsThumbnail();
  void croppedImageHasAnotherAspect();
  void damagedExifIsReportedNotFatal_data();
  void damagedExifIsReportedNotFatal();
  void noMetadataAtAll();

 private:
  // Writes `main` as a JPEG with EXIF (thumbnail made from `thumbSource`), XMP and IPTC into dir/name.
  QString writeJpegWithMetadata(const QString& name, const cv::Mat& main, const cv::Mat& thumbSource);
  QTemporaryDir dir_;
  cv::Mat photo_;
  cv::Rect edit_{100, 80, 120, 100};
};

void TestMetadataForensics::initTestCase() {
  QVERIFY(dir_.isValid());
  photo_ = test::skimagePhotoRgb("chelsea.png");  // 451x300
}

QString TestMetadataForensics::writeJpegWithMetadata(const QString& name, const cv::Mat& main,
                                                     const cv::Mat& thumbSource) {
  std::vector<std::uint8_t> bytes;
  test::jpegRoundTrip(main, 92, &bytes);
  const QString path = dir_.filePath(name);
  if (!test::writeBytes(path, bytes)) return {};
  cv::Mat small, bgr;
  const double s = 160.0 / thumbSource.cols;
  cv::resize(thumbSource, small, cv::Size(160, int(std::lround(thumbSource.rows * s))), 0, 0, cv::INTER_AREA);
  cv::cvtColor(small, bgr, cv::COLOR_RGB2BGR);
  std::vector<std::uint8_t> thumb;
  cv::imencode(".jpg", bgr, thumb, {cv::IMWRITE_JPEG_QUALITY, 85});

  auto image = Exiv2::ImageFactory::open(path.toStdString());
  image->readMetadata();
  Exiv2::ExifData exif;
  exif["Exif.Image.Make"] = "LoupeTest";
  exif["Exif.Image.Model"] = "Bench Camera 1";
  exif["Exif.Image.Software"] = "Adobe Photoshop 24.0 (Windows)";
  exif["Exif.Image.DateTime"] = "2024:05:06 12:00:00";
  exif["Exif.Photo.DateTimeOriginal"] = "2023:01:02 10:11:12";
  exif["Exif.Photo.PixelXDimension"] = std::uint32_t(main.cols);
  exif["Exif.Photo.PixelYDimension"] = std::uint32_t(main.rows);
  Exiv2::ExifThumb(exif).setJpegThumbnail(thumb.data(), long(thumb.size()));
  image->setExifData(exif);
  Exiv2::XmpData xmp;
  xmp["Xmp.xmp.CreatorTool"] = "GIMP 2.10";
  image->setXmpData(xmp);
  Exiv2::IptcData iptc;
  iptc["Iptc.Application2.Caption"] = "A cat on a table";
  image->setIptcData(iptc);
  image->writeMetadata();
  return path;
}

namespace {
const MetadataEntry* entry(const MetadataReport& r, const std::string& key) {
  for (const auto& e : r.entries)
    if (e.key == key) return &e;
  return nullptr;
}
bool hasNote(const MetadataReport& r, const std::string& needle) {
  for (const auto& n : r.notes)
    if (n.find(needle) != std::string::npos) return true;
  return false;
}
MetadataReport analyseFile(const QString& path) {
  auto bytes = io::readFileBytes(path.toStdString());
  auto image = io::loadImage(path.toStdString());
  return analyseMetadata(*bytes, image.ok() ? *image : Image());
}
}  // namespace

void TestMetadataForensics::readsEntriesAndNotes() {
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  const QString path = writeJpegWithMetadata("plain.jpg", photo_, photo_);
  QVERIFY(!path.isEmpty());
  const auto r = analyseFile(path);
  QVERIFY(r.problems.empty());
  QVERIFY(entry(r, "Exif.Image.Make") && entry(r, "Exif.Image.Make")->value == "LoupeTest");
  QCOMPARE(entry(r, "Exif.Image.Make")->family, std::string("Exif"));
  QCOMPARE(entry(r, "Exif.Image.Make")->group, std::string("Image"));
  QVERIFY(entry(r, "Xmp.xmp.CreatorTool") && entry(r, "Xmp.xmp.CreatorTool")->value == "GIMP 2.10");
  QVERIFY(entry(r, "Iptc.Application2.Caption") && entry(r, "Iptc.Application2.Caption")->family == "Iptc");
  QVERIFY(hasNote(r, "Exif.Image.Software names an image editor"));
  QVERIFY(hasNote(r, "Xmp.xmp.CreatorTool names an image editor"));
  QVERIFY(hasNote(r, "DateTimeOriginal (2023:01:02 10:11:12) differs from ModifyDate"));
  QVERIFY(!hasNote(r, "EXIF states"));  // the stated size is the real one
}

void TestMetadataForensics::thumbnailShowsTheEdit() {
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  cv::Mat astronaut = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(astronaut, "astronaut.png");
  cv::Mat edited = photo_.clone();
  astronaut(cv::Rect(150, 40, edit_.width, edit_.height)).copyTo(edited(edit_));  // a face pasted in
  const QString path = writeJpegWithMetadata("edited.jpg", edited, photo_);
  const auto r = analyseFile(path);
  QVERIFY(r.thumbnail.has_value());
  QCOMPARE(r.thumbnail->width, 160);
  QCOMPARE(r.thumbnail->mimeType, std::string("image/jpeg"));
  const Heatmap& d = r.thumbnail->difference;
  QCOMPARE(d.width, photo_.cols);
  QCOMPARE(d.height, photo_.rows);
  const cv::Rect inner(edit_.x + 10, edit_.y + 10, edit_.width - 20, edit_.height - 20);
  const auto [in, out] = test::meanInOut(d, inner);
  qInfo("thumbnail difference inside the edit %.1f, outside %.1f grey levels", in, out);
  QVERIFY(in > 5 * out);
  QVERIFY(in > 20.0);
}

void TestMetadataForensics::untouchedImageMatchesItsThumbnail() {
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  const auto r = analyseFile(writeJpegWithMetadata("same.jpg", photo_, photo_));
  QVERIFY(r.thumbnail.has_value());
  qInfo("thumbnail vs image: mean %.2f, p95 %.2f", r.thumbnail->meanAbsDifference, r.thumbnail->p95AbsDifference);
  QVERIFY(r.thumbnail->meanAbsDifference < 4.0);
  QVERIFY(!hasNote(r, "EXIF thumbnail differs"));
  QVERIFY(!hasNote(r, "aspect ratio"));
}

void TestMetadataForensics::croppedImageHasAnotherAspect() {
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  const cv::Mat cropped = photo_(cv::Rect(0, 0, 300, 300)).clone();  // cropped after capture
  const QString path = writeJpegWithMetadata("cropped.jpg", cropped, photo_);
  // The camera's stated size is the uncropped one.
  {
    auto image = Exiv2::ImageFactory::open(path.toStdString());
    image->readMetadata();
    image->exifData()["Exif.Photo.PixelXDimension"] = std::uint32_t(photo_.cols);
    image->writeMetadata();
  }
  const auto r = analyseFile(path);
  QVERIFY(hasNote(r, "aspect ratio"));
  QVERIFY(hasNote(r, "EXIF states 451x300 pixels but the image is 300x300"));
}

void TestMetadataForensics::damagedExifIsReportedNotFatal_data() {
  QTest::addColumn<int>("kind");
  QTest::newRow("IFD offset past the end") << 0;
  QTest::newRow("random IFD entries") << 1;
  QTest::newRow("thumbnail offset past the end") << 2;
  QTest::newRow("APP1 length beyond the file") << 3;
}

void TestMetadataForensics::damagedExifIsReportedNotFatal() {
  QFETCH(int, kind);
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  const QString good = writeJpegWithMetadata("good.jpg", photo_, photo_);
  auto bytes = *io::readFileBytes(good.toStdString());
  // APP1: FF E1, length (2), "Exif\0\0", TIFF header: byte order (2), 42 (2), IFD0 offset (4).
  std::size_t app1 = 0;
  for (std::size_t i = 2; i + 10 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xE1 && std::memcmp(&bytes[i + 4], "Exif\0\0", 6) == 0) {
      app1 = i;
      break;
    }
  QVERIFY(app1 > 0);
  const std::size_t tiff = app1 + 10;
  const bool little = bytes[tiff] == 'I';
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int b = 0; b < 4; ++b) bytes[at + std::size_t(b)] = std::uint8_t(little ? v >> (8 * b) : v >> (8 * (3 - b)));
  };
  std::mt19937 rng(11);
  switch (kind) {
    case 0: put32(tiff + 4, 0xFFFFFF00u); break;
    case 1: for (std::size_t i = tiff + 10; i < tiff + 200; ++i) bytes[i] = std::uint8_t(rng()); break;
    case 2: {
      // Every JPEGInterchangeFormat (0x0201) entry pointed far outside the segment.
      for (std::size_t i = tiff; i + 12 < bytes.size() && i < tiff + 4000; ++i) {
        const bool tag = little ? (bytes[i] == 0x01 && bytes[i + 1] == 0x02) : (bytes[i] == 0x02 && bytes[i + 1] == 0x01);
        const bool type = little ? bytes[i + 2] == 4 && bytes[i + 3] == 0 : bytes[i + 2] == 0 && bytes[i + 3] == 4;
        if (tag && type) put32(i + 8, 0x7FFFFFF0u);
      }
      break;
    }
    case 3: bytes[app1 + 2] = 0xFF, bytes[app1 + 3] = 0xFF; break;
  }
  const QString path = dir_.filePath(QString("broken%1.jpg").arg(kind));
  QVERIFY(test::writeBytes(path, bytes));
  auto image = io::loadImage(path.toStdString());
  const auto r = analyseMetadata(bytes, image.ok() ? *image : Image());
  qInfo("%zu entries, %zu problems, thumbnail %s", r.entries.size(), r.problems.size(), r.thumbnail ? "yes" : "no");
  for (const auto& p : r.problems) qInfo("problem: %s", p.c_str());
  for (const auto& n : r.notes) qInfo("note: %s", n.c_str());
  // The damage is reported as a problem. The pixels still load, except when the APP1 length runs past the
  // end of the file: then the reader says so (no crash either way).
  QVERIFY(!r.problems.empty());
  if (kind == 3) QVERIFY(!image.ok() && image.error().message.find("truncated") != std::string::npos);
  else QVERIFY2(image.ok(), image.ok() ? "" : image.error().message.c_str());
}

void TestMetadataForensics::noMetadataAtAll() {
  SKIP_WITHOUT_PHOTO(photo_, "chelsea.png");
  std::vector<std::uint8_t> bytes;
  test::jpegRoundTrip(photo_, 90, &bytes);
  const auto r = analyseMetadata(bytes, Image());
  QVERIFY(r.problems.empty());
  QVERIFY(!r.thumbnail);
  QVERIFY(hasNote(r, "No EXIF data"));
  const std::vector<std::uint8_t> notAnImage = {'h', 'e', 'l', 'l', 'o'};
  const auto n = analyseMetadata(notAnImage, Image());
  QVERIFY(!n.problems.empty());
}

QTEST_GUILESS_MAIN(TestMetadataForensics)
#include "test_metadata_forensics.moc"
