// forensics: JPEG quantisation tables, IJG quality estimate and JPEG ghosts.
// References: the IJG tables of ITU-T T.81 Annex K scaled as libjpeg's jpeg_quality_scaling (hand-computed
// entries below), and libjpeg-turbo's own encoder (through OpenCV), whose files must be recognised at
// exactly the quality they were written with. Ghosts: Farid (2009)'s experiment redone on a real photo.
#include <QtTest>

#include "ForensicsTestUtil.h"
#include "forensics/JpegForensics.h"

using namespace loupe;
using namespace loupe::forensics;

class TestJpegForensics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void ijgTablesByHand();
  void estimatesTheEncodersQuality_data();
  void estimatesTheEncodersQuality();
  void nonIjgTablesAreFlagged();
  void damagedOrForeignFilesGiveErrors();
  void ghostShowsRegionCompressedBefore();
  void secondaryMinimumHintsDoubleCompression();
  void ghostRefusesTinyImages();
};

void TestJpegForensics::ijgTablesByHand() {
  // q = 50: scale 100, the Annex K tables themselves.
  QCOMPARE(ijgTable(50, false)[0], std::uint16_t(16));
  QCOMPARE(ijgTable(50, false)[63], std::uint16_t(99));
  QCOMPARE(ijgTable(50, true)[0], std::uint16_t(17));
  // q = 75: scale 200 - 150 = 50; (16*50 + 50) / 100 = 8, (11*50 + 50) / 100 = 6, (121*50+50)/100 = 61.
  QCOMPARE(ijgTable(75, false)[0], std::uint16_t(8));
  QCOMPARE(ijgTable(75, false)[1], std::uint16_t(6));
  QCOMPARE(ijgTable(75, false)[6 * 8 + 5], std::uint16_t(61));
  // q = 10: scale 5000 / 10 = 500; 16*500/100 = 80; 99*500/100 = 495 -> clamped to 255 (baseline).
  QCOMPARE(ijgTable(10, false)[0], std::uint16_t(80));
  QCOMPARE(ijgTable(10, true)[63], std::uint16_t(255));
  // q = 100: scale 0 -> every entry 1.
  for (auto v : ijgTable(100, false)) QCOMPARE(v, std::uint16_t(1));
}

void TestJpegForensics::estimatesTheEncodersQuality_data() {
  QTest::addColumn<int>("quality");
  for (int q : {20, 50, 75, 85, 90, 95, 100}) QTest::newRow(qPrintable(QString::number(q))) << q;
}

void TestJpegForensics::estimatesTheEncodersQuality() {
  QFETCH(int, quality);
  cv::Mat rgb = test::skimagePhotoRgb("chelsea.png");
  SKIP_WITHOUT_PHOTO(rgb, "chelsea.png");
  std::vector<std::uint8_t> bytes;
  test::jpegRoundTrip(rgb, quality, &bytes);
  auto info = readJpegInfo(bytes);
  QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
  QCOMPARE(info->width, rgb.cols);
  QCOMPARE(info->components.size(), std::size_t(3));
  QCOMPARE(info->tables.size(), std::size_t(2));
  QCOMPARE(info->tables[0].values, ijgTable(quality, false));
  const auto est = estimateIjgQuality(*info);
  QCOMPARE(est.quality, quality);
  QVERIFY(est.exact);
  QCOMPARE(est.meanAbsError, 0.0);
}

void TestJpegForensics::nonIjgTablesAreFlagged() {
  JpegInfo info;
  info.components = {{1, 2, 2, 0}};
  QuantTable t;
  t.values = ijgTable(80, false);
  t.values[0] += 3;  // a camera's own table: close to q80 but not IJG
  info.tables = {t};
  const auto est = estimateIjgQuality(info);
  QCOMPARE(est.quality, 80);
  QVERIFY(!est.exact);
  QCOMPARE(est.maxAbsError, 3.0);
  QVERIFY(std::abs(est.meanAbsError - 3.0 / 64) < 1e-12);
}

void TestJpegForensics::damagedOrForeignFilesGiveErrors() {
  cv::Mat rgb = test::skimagePhotoRgb("chelsea.png");
  SKIP_WITHOUT_PHOTO(rgb, "chelsea.png");
  std::vector<std::uint8_t> png;
  cv::imencode(".png", rgb, png);
  auto notJpeg = readJpegInfo(png);
  QVERIFY(!notJpeg.ok());
  QCOMPARE(notJpeg.error().code, ErrorCode::UnsupportedFormat);

  std::vector<std::uint8_t> jpeg;
  test::jpegRoundTrip(rgb, 90, &jpeg);
  QVERIFY(!readJpegInfo({0xFF, 0xD8}).ok());
  for (std::size_t cut : {std::size_t(20), std::size_t(100)}) {
    std::vector<std::uint8_t> head(jpeg.begin(), jpeg.begin() + std::ptrdiff_t(cut));
    auto r = readJpegInfo(head);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::CorruptData);
  }
  std::vector<std::uint8_t> garbage = {0xFF, 0xD8};
  std::mt19937 rng(3);
  for (int i = 0; i < 4000; ++i) garbage.push_back(std::uint8_t(rng()));
  QVERIFY(!readJpegInfo(garbage).ok());
}

void TestJpegForensics::ghostShowsRegionCompressedBefore() {
  // Farid's experiment: a region that was saved at q = 60 before being pasted into an image that is then
  // saved at q = 90 re-compresses almost without error at 60; the rest does not.
  cv::Mat rgb = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(rgb, "astronaut.png");
  const cv::Rect r(192, 256, 128, 128);  // 8-aligned
  cv::Mat tampered = rgb.clone();
  test::jpegRoundTrip(rgb, 60)(r).copyTo(tampered(r));
  const cv::Mat published = test::jpegRoundTrip(tampered, 90);
  auto ghost = jpegGhost(test::toImage(published), {}, 90);
  QVERIFY2(ghost.ok(), ghost.ok() ? "" : ghost.error().message.c_str());
  for (const auto& c : ghost->curve) qInfo("q=%d  mean diff %.2f  dip %.3f", c.quality, c.meanDifference, c.dipScore);
  QVERIFY2(ghost->shownQuality >= 55 && ghost->shownQuality <= 65, qPrintable(QString::number(ghost->shownQuality)));
  const cv::Rect inner(r.x + 16, r.y + 16, r.width - 32, r.height - 32);
  const auto [in, out] = test::meanInOut(ghost->map, inner);
  qInfo("normalised ghost inside %.3f, outside %.3f", in, out);
  QVERIFY(in < 0.4 * out);
}

void TestJpegForensics::secondaryMinimumHintsDoubleCompression() {
  cv::Mat rgb = test::skimagePhotoRgb("coffee.png");
  SKIP_WITHOUT_PHOTO(rgb, "coffee.png");
  const cv::Mat twice = test::jpegRoundTrip(test::jpegRoundTrip(rgb, 60), 90);
  auto g2 = jpegGhost(test::toImage(twice), {}, 90);
  QVERIFY(g2.ok());
  QVERIFY2(g2->secondaryMinimum >= 55 && g2->secondaryMinimum <= 65, qPrintable(QString::number(g2->secondaryMinimum)));
  const cv::Mat once = test::jpegRoundTrip(rgb, 90);
  auto g1 = jpegGhost(test::toImage(once), {}, 90);
  QVERIFY(g1.ok());
  QCOMPARE(g1->secondaryMinimum, 0);
}

void TestJpegForensics::ghostRefusesTinyImages() {
  Image img(20, 400, ColorOrder::Gray);
  std::memset(img.data(), 100, img.byteSize());
  auto g = jpegGhost(img, {});
  QVERIFY(!g.ok());
  QCOMPARE(g.error().code, ErrorCode::InvalidArgument);
  QVERIFY(g.error().message.find("20x400") != std::string::npos);
  // A flat image is large enough: no ghost anywhere, but a valid map.
  Image flat(64, 64, ColorOrder::Gray);
  std::memset(flat.data(), 100, flat.byteSize());
  auto f = jpegGhost(flat, {});
  QVERIFY(f.ok());
  for (float v : f->map.values) QVERIFY(v >= 0.f && v <= 1.f);
}

QTEST_GUILESS_MAIN(TestJpegForensics)
#include "test_jpeg_forensics.moc"
