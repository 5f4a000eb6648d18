// ImageReader against the foundation's "bad input" list and the pixel formats a forensic analyst meets:
// every bad file gives a clear error or a clear warning, never a crash.
#include <QtTest>

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <opencv2/imgcodecs.hpp>

#include "IoTestUtil.h"
#include "io/ImageReader.h"

using namespace loupe;
using namespace loupe::test;

namespace {

const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data/";

// CRC-32 (ISO 3309, as PNG uses it), bit by bit. Checked against the well-known IEND CRC in a test below.
std::uint32_t crc32(const QByteArray& d) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : d) {
    c ^= std::uint8_t(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

QByteArray be32(std::uint32_t v) {
  QByteArray b(4, 0);
  for (int i = 0; i < 4; ++i) b[i] = char((v >> (24 - 8 * i)) & 0xFF);
  return b;
}

QByteArray pngChunk(const char* type, const QByteArray& data) {
  const QByteArray body = QByteArray(type, 4) + data;
  return be32(std::uint32_t(data.size())) + body + be32(crc32(body));
}

// PNG signature + IHDR claiming width x height 8-bit RGB + a tiny IDAT + IEND. The IDAT is zlib's
// compress() of 4 zero bytes: exactly the data of a 1 x 1 image (filter byte + R, G, B).
QByteArray pngClaiming(std::uint32_t width, std::uint32_t height) {
  QByteArray ihdr = be32(width) + be32(height);
  ihdr += char(8);  // bit depth
  ihdr += char(2);  // colour type RGB
  ihdr += char(0);  // compression
  ihdr += char(0);  // filter
  ihdr += char(0);  // interlace
  const QByteArray idat = QByteArray::fromHex("789c63606060000000040001");
  return QByteArray("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IDAT", idat) + pngChunk("IEND", {});
}

std::vector<std::uint8_t> encode(const cv::Mat& m, const std::string& ext, std::vector<int> params = {}) {
  std::vector<std::uint8_t> out;
  if (!cv::imencode(ext, m, out, params)) out.clear();
  return out;
}

std::vector<std::uint8_t> bytesOf(const QByteArray& b) { return {b.begin(), b.end()}; }

// Position of the SOF0 marker of a baseline JPEG (or 0 when not found).
std::size_t startOfSof(const std::vector<std::uint8_t>& j) {
  for (std::size_t i = 2; i + 4 < j.size();) {
    if (j[i + 1] == 0xC0) return i;
    i += 2 + (std::size_t(j[i + 2]) << 8 | j[i + 3]);
  }
  return 0;
}

// Position just after the SOF0 segment (or 0 when not found).
std::size_t endOfSof(const std::vector<std::uint8_t>& j) {
  const std::size_t i = startOfSof(j);
  return i ? i + 2 + (std::size_t(j[i + 2]) << 8 | j[i + 3]) : 0;
}

bool hasWarning(const Image& img, const char* word) {
  for (const auto& w : img.source.warnings)
    if (QString::fromStdString(w).contains(QLatin1String(word), Qt::CaseInsensitive)) return true;
  return false;
}

QString describe(const Result<Image>& r) {
  return r.ok() ? QStringLiteral("ok") : QString::fromStdString(r.error().toString());
}

}  // namespace

class TestImageReader : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void shouldComputePngCrcLikeTheSpec();
  void shouldReportMissingFileAsNotFound();
  void shouldRefuseFolder();
  void shouldRefuseEmptyFile();
  void shouldRefuseHugePngBeforeDecoding();
  void shouldRefuseHugeJpegAndBmpBeforeDecoding_data();
  void shouldRefuseHugeJpegAndBmpBeforeDecoding();
  void shouldHonourCustomPixelLimit();
  void shouldRefuseTextFileWithImageExtension_data();
  void shouldRefuseTextFileWithImageExtension();
  void shouldIdentifyFormatsByMagic_data();
  void shouldIdentifyFormatsByMagic();
  void shouldRefuseUnsupportedFormats_data();
  void shouldRefuseUnsupportedFormats();
  void shouldDecodeTruncatedJpegWithWarningOrFail_data();
  void shouldDecodeTruncatedJpegWithWarningOrFail();
  void shouldRefuseJpegCutInsideHeader_data();
  void shouldRefuseJpegCutInsideHeader();
  void shouldNeverCrashOnAnyJpegPrefix();
  void shouldHandleDebianTruncatedJpeg();
  void shouldLoad16BitExactly_data();
  void shouldLoad16BitExactly();
  void shouldLoadGrayAsGray_data();
  void shouldLoadGrayAsGray();
  void shouldLoadRgbaKeepingAlpha();
  void shouldLoadColourAsRgb();
  void shouldSurviveBrokenExif_data();
  void shouldSurviveBrokenExif();
  void shouldRecordWhereTheImageCameFrom();

 private:
  QTemporaryDir dir_;
  std::vector<std::uint8_t> jpeg_;  // 128 x 96 textured baseline JPEG, q = 90
};

void TestImageReader::initTestCase() {
  QVERIFY(dir_.isValid());
  jpeg_ = encode(texturedBgr(128, 96), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90});
  QVERIFY(jpeg_.size() > 2000);
  QVERIFY(startOfSof(jpeg_) > 0);
  QCOMPARE(endOfSof(jpeg_) - startOfSof(jpeg_), std::size_t(2 + 17));  // SOF0 with 3 components (B.2.2)
}

void TestImageReader::shouldComputePngCrcLikeTheSpec() {
  // Reference: every PNG ends with 00 00 00 00 'IEND' AE 42 60 82 (PNG spec, section 11.2.5).
  QCOMPARE(crc32("IEND"), 0xAE426082u);
  // And OpenCV accepts a small PNG built with these helpers.
  const QByteArray small = pngClaiming(1, 1);
  const auto r = io::decodeImage(bytesOf(small), "tiny.png");
  QVERIFY2(r.ok(), qPrintable(describe(r)));
  QCOMPARE(r->width(), 1);
}

void TestImageReader::shouldReportMissingFileAsNotFound() {
  const QString path = dir_.filePath(QStringLiteral("does-not-exist.jpg"));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::NotFound);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("does-not-exist.jpg")));
}

void TestImageReader::shouldRefuseFolder() {
  QVERIFY(QDir(dir_.path()).mkpath(QStringLiteral("folder.png")));
  const auto r = io::loadImage(dir_.filePath(QStringLiteral("folder.png")).toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("folder")));
}

void TestImageReader::shouldRefuseEmptyFile() {
  const QString path = dir_.filePath(QStringLiteral("empty.jpg"));
  QVERIFY(writeBytes(path, QByteArray()));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::CorruptData);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("empty")));
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("empty.jpg")));
}

void TestImageReader::shouldRefuseHugePngBeforeDecoding() {
  // 100000 x 100000 RGB would need 30 GB: it must be refused from the header, fast, without allocating.
  const QString path = dir_.filePath(QStringLiteral("bomb.png"));
  QVERIFY(writeBytes(path, pngClaiming(100000, 100000)));
  const QByteArray bytes = readBytes(path);
  QVERIFY(bytes.size() < 100);  // a few dozen bytes on disk
  const auto header = io::probeImage(reinterpret_cast<const std::uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
  QVERIFY(header.ok());
  QCOMPARE(header->width, std::int64_t(100000));
  QCOMPARE(header->height, std::int64_t(100000));

  QElapsedTimer timer;
  timer.start();
  const auto r = io::loadImage(path.toStdString());
  const qint64 ms = timer.elapsed();
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::TooLarge);
  const QString msg = QString::fromStdString(r.error().message);
  QVERIFY2(msg.contains(QStringLiteral("100000 x 100000")), qPrintable(msg));
  QVERIFY2(ms < 500, qPrintable(QStringLiteral("took %1 ms").arg(ms)));
}

void TestImageReader::shouldRefuseHugeJpegAndBmpBeforeDecoding_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("size");
  // The test JPEG with its SOF0 frame size patched to 65000 x 60000 (SOF0: length(2) precision(1)
  // height(2) width(2), JPEG spec B.2.2); the pixel data stays that of a small image.
  QByteArray jpeg(reinterpret_cast<const char*>(jpeg_.data()), int(jpeg_.size()));
  const int sof = int(startOfSof(jpeg_));  // checked in initTestCase
  jpeg[sof + 5] = char(60000 >> 8); jpeg[sof + 6] = char(60000 & 0xFF);
  jpeg[sof + 7] = char(65000 >> 8); jpeg[sof + 8] = char(65000 & 0xFF);
  QTest::newRow("jpeg 65000 x 60000") << jpeg << "65000 x 60000";
  // BITMAPINFOHEADER claiming 100000 x 100000, 24 bits, no pixel data.
  QByteArray bmp(54, 0);
  bmp[0] = 'B'; bmp[1] = 'M'; bmp[14] = 40;
  bmp[18] = char(0xA0); bmp[19] = char(0x86); bmp[20] = 0x01;  // 100000 = 0x0186A0, little-endian
  bmp[22] = char(0xA0); bmp[23] = char(0x86); bmp[24] = 0x01;
  bmp[26] = 1; bmp[28] = 24;
  QTest::newRow("bmp 100000 x 100000") << bmp << "100000 x 100000";
}

void TestImageReader::shouldRefuseHugeJpegAndBmpBeforeDecoding() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, size);
  QElapsedTimer timer;
  timer.start();
  const auto r = io::decodeImage(bytesOf(bytes), "huge");
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::TooLarge);
  QVERIFY2(QString::fromStdString(r.error().message).contains(size), r.error().message.c_str());
  QVERIFY(timer.elapsed() < 500);
}

void TestImageReader::shouldHonourCustomPixelLimit() {
  io::ImageLoadOptions options;
  options.maxPixels = 128 * 96 - 1;  // one pixel short of the test JPEG
  const auto r = io::decodeImage(jpeg_, "x.jpg", options);
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::TooLarge);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("128 x 96")));
  options.maxPixels = 128 * 96;
  QVERIFY(io::decodeImage(jpeg_, "x.jpg", options).ok());
}

void TestImageReader::shouldRefuseTextFileWithImageExtension_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QByteArray>("content");
  QTest::newRow("ascii .jpg") << "notes.jpg" << QByteArray("Hello,\nthis is a shopping list, not a photo.\n");
  QTest::newRow("utf-8 .png") << "readme.png" << QByteArray("Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e, "
                                                           "r\xc3\xa9sum\xc3\xa9 des r\xc3\xa9sultats.\n");
  // Text that happens to start with a binary format's magic letters.
  QTest::newRow("starts with BM") << "bm25.bmp" << QByteArray("BM25 ranking results for the query, top 10 documents\n");
  QTest::newRow("csv .tif") << "table.tif" << QByteArray("id,width,height\n1,640,480\n2,800,600\n");
}

void TestImageReader::shouldRefuseTextFileWithImageExtension() {
  QFETCH(QString, name);
  QFETCH(QByteArray, content);
  const QString path = dir_.filePath(name);
  QVERIFY(writeBytes(path, content));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::UnsupportedFormat);
  const QString msg = QString::fromStdString(r.error().message);
  QVERIFY2(msg.contains(QStringLiteral("text")), qPrintable(msg));
  QVERIFY2(msg.contains(name), qPrintable(msg));
}

void TestImageReader::shouldIdentifyFormatsByMagic_data() {
  // Reference: the magic numbers in each format's specification (JFIF/JPEG, PNG 1.2, TIFF 6.0, BMP, WebP RIFF).
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("format");
  QTest::addColumn<qint64>("width");
  QTest::addColumn<qint64>("height");
  QTest::newRow("png 3x2") << pngClaiming(3, 2) << "png" << qint64(3) << qint64(2);
  QTest::newRow("tiff little-endian") << QByteArray("II*\0\x08\0\0\0", 8) << "tiff" << qint64(0) << qint64(0);
  QTest::newRow("tiff big-endian") << QByteArray("MM\0*\0\0\0\x08", 8) << "tiff" << qint64(0) << qint64(0);
  // BITMAPINFOHEADER (40 bytes), 5 x -7 (top-down).
  QByteArray bmp(54, 0);
  bmp[0] = 'B'; bmp[1] = 'M'; bmp[14] = 40; bmp[18] = 5;
  bmp[22] = char(0xF9); bmp[23] = char(0xFF); bmp[24] = char(0xFF); bmp[25] = char(0xFF);
  QTest::newRow("bmp top-down") << bmp << "bmp" << qint64(5) << qint64(7);
  QTest::newRow("webp") << QByteArray("RIFF\x10\0\0\0WEBPVP8 ", 16) << "webp" << qint64(0) << qint64(0);
}

void TestImageReader::shouldIdentifyFormatsByMagic() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, format);
  QFETCH(qint64, width);
  QFETCH(qint64, height);
  const auto h = io::probeImage(reinterpret_cast<const std::uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
  QVERIFY2(h.ok(), h.ok() ? "" : h.error().message.c_str());
  QCOMPARE(QString::fromStdString(h->format), format);
  QCOMPARE(qint64(h->width), width);
  QCOMPARE(qint64(h->height), height);
}

void TestImageReader::shouldRefuseUnsupportedFormats_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("says");
  QTest::newRow("gif87a") << QByteArray("GIF87a\x01\0\x01\0\0\0\0;", 14) << "GIF";
  QTest::newRow("gif89a") << QByteArray("GIF89a\x01\0\x01\0\0\0\0;", 14) << "GIF";
  QTest::newRow("pdf") << QByteArray("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") << "PDF";
  QTest::newRow("zip") << QByteArray("PK\x03\x04\x14\0\0\0\x08\0\x8f\x9c\x01\x02\xff\xfe", 16) << "Unrecognised";
  QTest::newRow("single byte") << QByteArray("\x01", 1) << "Unrecognised";
}

void TestImageReader::shouldRefuseUnsupportedFormats() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, says);
  const auto h = io::probeImage(reinterpret_cast<const std::uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
  QVERIFY(!h.ok());
  QCOMPARE(h.error().code, ErrorCode::UnsupportedFormat);
  QVERIFY2(QString::fromStdString(h.error().message).contains(says), h.error().message.c_str());
  // The same through the decoder, with the file name in the message.
  const auto r = io::decodeImage(bytesOf(bytes), "input.jpg");
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::UnsupportedFormat);
  QVERIFY(QString::fromStdString(r.error().message).startsWith(QStringLiteral("input.jpg: ")));
}

void TestImageReader::shouldDecodeTruncatedJpegWithWarningOrFail_data() {
  QTest::addColumn<double>("keep");
  QTest::newRow("half") << 0.5;
  QTest::newRow("quarter") << 0.25;
  QTest::newRow("90 percent") << 0.9;
  QTest::newRow("all but the EOI marker") << -2.0;
}

void TestImageReader::shouldDecodeTruncatedJpegWithWarningOrFail() {
  QFETCH(double, keep);
  const std::size_t n = keep < 0 ? jpeg_.size() - 2 : std::size_t(double(jpeg_.size()) * keep);
  const std::vector<std::uint8_t> cut(jpeg_.begin(), jpeg_.begin() + long(n));
  const auto r = io::decodeImage(cut, "cut.jpg");
  if (r.ok()) {
    QCOMPARE(r->width(), 128);
    QCOMPARE(r->height(), 96);
    QVERIFY2(hasWarning(*r, "truncated"), "a truncated JPEG that decodes must say it is truncated");
  } else {
    QCOMPARE(r.error().code, ErrorCode::CorruptData);
  }
}

void TestImageReader::shouldRefuseJpegCutInsideHeader_data() {
  QTest::addColumn<int>("cutFromSofEnd");  // bytes removed before the end of the frame header
  QTest::newRow("just SOI") << -1;
  QTest::newRow("inside SOF") << 3;
  QTest::newRow("just before SOF ends") << 1;
  QTest::newRow("inside APP0") << 100000;
}

void TestImageReader::shouldRefuseJpegCutInsideHeader() {
  QFETCH(int, cutFromSofEnd);
  const std::size_t sofEnd = endOfSof(jpeg_);
  std::size_t n;
  if (cutFromSofEnd < 0) n = 2;
  else if (cutFromSofEnd >= 100000) n = 10;
  else n = sofEnd - std::size_t(cutFromSofEnd);
  const std::vector<std::uint8_t> cut(jpeg_.begin(), jpeg_.begin() + long(n));
  const auto r = io::decodeImage(cut, "head.jpg");
  QVERIFY2(!r.ok(), "a JPEG without a complete frame header cannot be an image");
  QCOMPARE(r.error().code, ErrorCode::CorruptData);
  QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("head.jpg")));
}

void TestImageReader::shouldNeverCrashOnAnyJpegPrefix() {
  // Every prefix length in the headers, then a stride through the scan data: ok + warning, or CorruptData.
  // From 2 bytes on (FF D8, the start-of-image marker): shorter prefixes are not recognisable as JPEG.
  const std::size_t sofEnd = endOfSof(jpeg_);
  int decoded = 0;
  for (std::size_t n = 2; n < jpeg_.size(); n += (n < sofEnd + 700 ? 1 : 131)) {
    const std::vector<std::uint8_t> cut(jpeg_.begin(), jpeg_.begin() + long(n));
    const auto r = io::decodeImage(cut, "prefix.jpg");
    if (r.ok()) {
      ++decoded;
      if (!hasWarning(*r, "truncated")) QFAIL(qPrintable(QStringLiteral("prefix %1 decoded without warning").arg(n)));
    } else if (r.error().code != ErrorCode::CorruptData) {
      QFAIL(qPrintable(QStringLiteral("prefix %1: %2").arg(n).arg(describe(r))));
    }
  }
  QVERIFY(decoded > 0);  // long prefixes do decode (with a grey bottom)
}

void TestImageReader::shouldHandleDebianTruncatedJpeg() {
  const QString path = QString::fromLatin1(kSkimageData) + QStringLiteral("truncated.jpg");
  if (!QFile::exists(path)) QSKIP("python3-skimage's truncated.jpg is not installed");
  const auto r = io::loadImage(path.toStdString());
  if (r.ok()) QVERIFY2(hasWarning(*r, "truncated"), "decoded without the truncation warning");
  else QCOMPARE(r.error().code, ErrorCode::CorruptData);
}

void TestImageReader::shouldLoad16BitExactly_data() {
  QTest::addColumn<QString>("ext");
  QTest::addColumn<int>("channels");
  QTest::newRow("png rgb") << ".png" << 3;
  QTest::newRow("png gray") << ".png" << 1;
  QTest::newRow("tiff rgb") << ".tiff" << 3;
  QTest::newRow("tiff gray") << ".tiff" << 1;
}

void TestImageReader::shouldLoad16BitExactly() {
  // Reference: the pattern written with cv::imwrite (OpenCV stores B, G, R; we must read R, G, B).
  QFETCH(QString, ext);
  QFETCH(int, channels);
  const int w = 19, h = 11;
  cv::Mat m(h, w, CV_16UC(channels));
  auto value = [](int x, int y, int c) { return std::uint16_t((x * 3371 + y * 977 + c * 20011) % 65536); };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) m.ptr<std::uint16_t>(y)[x * channels + c] = value(x, y, c);
  const QString path = dir_.filePath(QStringLiteral("deep") + QString::number(channels) + ext);
  QVERIFY(cv::imwrite(path.toStdString(), m));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY2(r.ok(), qPrintable(describe(r)));
  QCOMPARE(r->depth(), PixelDepth::U16);
  QCOMPARE(int(r->order()), int(channels == 1 ? ColorOrder::Gray : ColorOrder::RGB));
  QCOMPARE(r->width(), w);
  QCOMPARE(r->height(), h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) {
        const int stored = channels == 1 ? c : 2 - c;  // RGB channel c was written as BGR channel 2 - c
        if (r->row<std::uint16_t>(y)[x * channels + c] != value(x, y, stored))
          QFAIL(qPrintable(QStringLiteral("(%1,%2,%3)").arg(x).arg(y).arg(c)));
      }
}

void TestImageReader::shouldLoadGrayAsGray_data() {
  QTest::addColumn<QString>("ext");
  QTest::addColumn<int>("tolerance");  // PNG is lossless; JPEG q=95 on a smooth ramp stays within a few levels
  QTest::newRow("png") << ".png" << 0;
  QTest::newRow("jpeg") << ".jpg" << 4;
}

void TestImageReader::shouldLoadGrayAsGray() {
  QFETCH(QString, ext);
  QFETCH(int, tolerance);
  cv::Mat m(32, 64, CV_8UC1);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) m.at<std::uint8_t>(y, x) = std::uint8_t(x * 4);
  const QString path = dir_.filePath(QStringLiteral("gray") + ext);
  QVERIFY(cv::imwrite(path.toStdString(), m, {cv::IMWRITE_JPEG_QUALITY, 95}));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY2(r.ok(), qPrintable(describe(r)));
  QCOMPARE(r->order(), ColorOrder::Gray);
  QCOMPARE(r->depth(), PixelDepth::U8);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      if (std::abs(int(r->row<std::uint8_t>(y)[x]) - x * 4) > tolerance)
        QFAIL(qPrintable(QStringLiteral("(%1,%2) = %3").arg(x).arg(y).arg(r->row<std::uint8_t>(y)[x])));
}

void TestImageReader::shouldLoadRgbaKeepingAlpha() {
  cv::Mat m(5, 7, CV_8UC4);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) m.at<cv::Vec4b>(y, x) = cv::Vec4b(10, 20, 30, std::uint8_t(x * 40 + y));  // B,G,R,A
  const QString path = dir_.filePath(QStringLiteral("rgba.png"));
  QVERIFY(cv::imwrite(path.toStdString(), m));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY2(r.ok(), qPrintable(describe(r)));
  QCOMPARE(r->order(), ColorOrder::RGBA);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) {
      const std::uint8_t* p = r->row<std::uint8_t>(y) + x * 4;
      QCOMPARE(int(p[0]), 30);
      QCOMPARE(int(p[1]), 20);
      QCOMPARE(int(p[2]), 10);
      QCOMPARE(int(p[3]), x * 40 + y);
    }
}

void TestImageReader::shouldLoadColourAsRgb() {
  cv::Mat m(3, 4, CV_8UC3, cv::Scalar(200, 100, 50));  // B, G, R
  const QString path = dir_.filePath(QStringLiteral("colour.png"));
  QVERIFY(cv::imwrite(path.toStdString(), m));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(r.ok());
  QCOMPARE(r->order(), ColorOrder::RGB);
  QCOMPARE(int(r->sample(3, 2, 0)), 50);
  QCOMPARE(int(r->sample(3, 2, 1)), 100);
  QCOMPARE(int(r->sample(3, 2, 2)), 200);
  QVERIFY(r->source.warnings.empty());
}

void TestImageReader::shouldSurviveBrokenExif_data() {
  QTest::addColumn<QByteArray>("payload");  // APP1 content inserted right after SOI
  QTest::newRow("random garbage") << QByteArray("Exif\0\0\x13\x37\xde\xad\xbe\xef garbage garbage", 30);
  QTest::newRow("TIFF header, IFD offset past the end") << QByteArray("Exif\0\0II*\0\xf0\xff\xff\x7f", 14);
  QTest::newRow("IFD with absurd entry count")
      << QByteArray("Exif\0\0MM\0*\0\0\0\x08\xff\xff\x01\x12\0\x03\0\0\0\x01\0\x06\0\0", 28);
  QTest::newRow("Exif header only") << QByteArray("Exif\0\0", 6);
  QTest::newRow("empty XMP-like APP1") << QByteArray("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta", 39);
}

void TestImageReader::shouldSurviveBrokenExif() {
  QFETCH(QByteArray, payload);
  std::vector<std::uint8_t> broken = {0xFF, 0xD8, 0xFF, 0xE1, std::uint8_t((payload.size() + 2) >> 8),
                                      std::uint8_t((payload.size() + 2) & 0xFF)};
  broken.insert(broken.end(), payload.begin(), payload.end());
  broken.insert(broken.end(), jpeg_.begin() + 2, jpeg_.end());
  const auto r = io::decodeImage(broken, "broken-exif.jpg");
  QVERIFY2(r.ok(), qPrintable(describe(r)));
  QCOMPARE(r->source.exifOrientation, 1);
  QCOMPARE(r->width(), 128);
  QCOMPARE(r->height(), 96);
  // Same pixels as the file without the broken segment.
  const auto clean = io::decodeImage(jpeg_, "clean.jpg");
  QVERIFY(clean.ok());
  QVERIFY(std::equal(clean->data(), clean->data() + clean->byteSize(), r->data()));
}

void TestImageReader::shouldRecordWhereTheImageCameFrom() {
  const QString path = dir_.filePath(QStringLiteral("source.jpg"));
  QVERIFY(writeBytes(path, jpeg_));
  const auto r = io::loadImage(path.toStdString());
  QVERIFY(r.ok());
  QCOMPARE(QString::fromStdString(r->source.format), QStringLiteral("jpeg"));
  QCOMPARE(QString::fromStdString(r->source.path), QFileInfo(path).absoluteFilePath());
  // Reference: Qt's SHA-256 of the file's bytes.
  QCOMPARE(QString::fromStdString(r->source.sha256),
           QString::fromLatin1(QCryptographicHash::hash(readBytes(path), QCryptographicHash::Sha256).toHex()));
  QVERIFY(r->source.warnings.empty());
  QCOMPARE(r->source.exifOrientation, 1);
}

QTEST_GUILESS_MAIN(TestImageReader)
#include "test_image_reader.moc"
