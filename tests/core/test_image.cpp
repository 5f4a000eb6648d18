// Image: depth conversion with rounding, colour-order conversion, shared vs deep copies.
#include <QtTest>

#include <cmath>
#include <limits>

#include "core/Image.h"

using namespace loupe;

Q_DECLARE_METATYPE(loupe::ColorOrder)

class TestImage : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldDescribeLayout_data();
  void shouldDescribeLayout();
  void shouldRoundU16ToU8_data();
  void shouldRoundU16ToU8();
  void shouldScaleAndClampF32ToU8_data();
  void shouldScaleAndClampF32ToU8();
  void shouldConvertToRgb_data();
  void shouldConvertToRgb();
  void shouldConvertU16ToRgbKeepingDepth();
  void shouldMakeIndependentClone();
  void shouldSharePixelsOnCopy();
  void shouldReadSamplesInOwnUnits();
};

void TestImage::shouldDescribeLayout_data() {
  QTest::addColumn<loupe::ColorOrder>("order");
  QTest::addColumn<int>("depth");
  QTest::addColumn<int>("channels");
  QTest::addColumn<int>("rowBytes");  // width 5, by hand: 5 * channels * bytes per sample
  QTest::newRow("gray u8") << ColorOrder::Gray << int(PixelDepth::U8) << 1 << 5;
  QTest::newRow("gray+alpha u16") << ColorOrder::GrayAlpha << int(PixelDepth::U16) << 2 << 20;
  QTest::newRow("rgb u8") << ColorOrder::RGB << int(PixelDepth::U8) << 3 << 15;
  QTest::newRow("bgr f32") << ColorOrder::BGR << int(PixelDepth::F32) << 3 << 60;
  QTest::newRow("rgba u16") << ColorOrder::RGBA << int(PixelDepth::U16) << 4 << 40;
  QTest::newRow("bgra u8") << ColorOrder::BGRA << int(PixelDepth::U8) << 4 << 20;
}

void TestImage::shouldDescribeLayout() {
  QFETCH(loupe::ColorOrder, order);
  QFETCH(int, depth);
  QFETCH(int, channels);
  QFETCH(int, rowBytes);
  const Image img(5, 3, order, PixelDepth(depth));
  QCOMPARE(img.channels(), channels);
  QCOMPARE(int(img.rowBytes()), rowBytes);
  QCOMPARE(int(img.byteSize()), rowBytes * 3);
  QVERIFY(!img.empty());
  for (std::size_t i = 0; i < img.byteSize(); ++i) QCOMPARE(img.data()[i], std::uint8_t(0));  // zero-filled
}

void TestImage::shouldRoundU16ToU8_data() {
  // Reference: round(v / 257) by hand (257 * 255 = 65535; halfway points at 257k + 128.5).
  QTest::addColumn<int>("u16");
  QTest::addColumn<int>("u8");
  QTest::newRow("0") << 0 << 0;
  QTest::newRow("128 -> 0.498") << 128 << 0;
  QTest::newRow("129 -> 0.502") << 129 << 1;
  QTest::newRow("257 -> 1") << 257 << 1;
  QTest::newRow("385 -> 1.498") << 385 << 1;
  QTest::newRow("386 -> 1.502") << 386 << 2;
  QTest::newRow("32896 -> 128") << 32896 << 128;
  QTest::newRow("65406 -> 254.498") << 65406 << 254;
  QTest::newRow("65407 -> 254.502") << 65407 << 255;
  QTest::newRow("65535") << 65535 << 255;
}

void TestImage::shouldRoundU16ToU8() {
  QFETCH(int, u16);
  QFETCH(int, u8);
  Image img(2, 1, ColorOrder::GrayAlpha, PixelDepth::U16);
  for (int i = 0; i < 4; ++i) img.row<std::uint16_t>(0)[i] = std::uint16_t(u16);
  img.source.path = "x.png";
  const Image out = img.toU8();
  QCOMPARE(out.depth(), PixelDepth::U8);
  QCOMPARE(out.order(), ColorOrder::GrayAlpha);
  QCOMPARE(out.width(), 2);
  for (int i = 0; i < 4; ++i) QCOMPARE(int(out.data()[i]), u8);
  QCOMPARE(QString::fromStdString(out.source.path), QStringLiteral("x.png"));
}

void TestImage::shouldScaleAndClampF32ToU8_data() {
  // Reference: round(clamp(v, 0, 1) * 255) by hand; NaN has no brightness and maps to 0.
  QTest::addColumn<float>("f");
  QTest::addColumn<int>("u8");
  QTest::newRow("0") << 0.f << 0;
  QTest::newRow("1") << 1.f << 255;
  QTest::newRow("0.5 -> 127.5") << 0.5f << 128;
  QTest::newRow("0.2 -> 51") << 0.2f << 51;
  QTest::newRow("negative") << -3.f << 0;
  QTest::newRow("above 1") << 7.f << 255;
  QTest::newRow("+inf") << std::numeric_limits<float>::infinity() << 255;
  QTest::newRow("NaN") << std::numeric_limits<float>::quiet_NaN() << 0;
}

void TestImage::shouldScaleAndClampF32ToU8() {
  QFETCH(float, f);
  QFETCH(int, u8);
  Image img(1, 1, ColorOrder::Gray, PixelDepth::F32);
  img.row<float>(0)[0] = f;
  QCOMPARE(int(img.toU8().data()[0]), u8);
}

void TestImage::shouldConvertToRgb_data() {
  // One pixel with samples 10, 20, 30, 40 (as many as the order has); expected RGB by hand.
  QTest::addColumn<loupe::ColorOrder>("order");
  QTest::addColumn<int>("r");
  QTest::addColumn<int>("g");
  QTest::addColumn<int>("b");
  QTest::newRow("rgb unchanged") << ColorOrder::RGB << 10 << 20 << 30;
  QTest::newRow("bgr swapped") << ColorOrder::BGR << 30 << 20 << 10;
  QTest::newRow("rgba drops alpha") << ColorOrder::RGBA << 10 << 20 << 30;
  QTest::newRow("bgra swapped, drops alpha") << ColorOrder::BGRA << 30 << 20 << 10;
  QTest::newRow("gray replicated") << ColorOrder::Gray << 10 << 10 << 10;
  QTest::newRow("gray+alpha replicated") << ColorOrder::GrayAlpha << 10 << 10 << 10;
}

void TestImage::shouldConvertToRgb() {
  QFETCH(loupe::ColorOrder, order);
  QFETCH(int, r);
  QFETCH(int, g);
  QFETCH(int, b);
  Image img(3, 2, order);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < img.channels(); ++c) img.row<std::uint8_t>(y)[x * img.channels() + c] = std::uint8_t(10 * (c + 1));
  const Image rgb = img.toRGB();
  QCOMPARE(rgb.order(), ColorOrder::RGB);
  QCOMPARE(rgb.width(), 3);
  QCOMPARE(rgb.height(), 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      QCOMPARE(int(rgb.sample(x, y, 0)), r);
      QCOMPARE(int(rgb.sample(x, y, 1)), g);
      QCOMPARE(int(rgb.sample(x, y, 2)), b);
    }
}

void TestImage::shouldConvertU16ToRgbKeepingDepth() {
  Image img(1, 1, ColorOrder::BGR, PixelDepth::U16);
  auto* p = img.row<std::uint16_t>(0);
  p[0] = 1000; p[1] = 2000; p[2] = 65535;
  const Image rgb = img.toRGB();
  QCOMPARE(rgb.depth(), PixelDepth::U16);
  QCOMPARE(rgb.row<std::uint16_t>(0)[0], std::uint16_t(65535));
  QCOMPARE(rgb.row<std::uint16_t>(0)[1], std::uint16_t(2000));
  QCOMPARE(rgb.row<std::uint16_t>(0)[2], std::uint16_t(1000));
}

void TestImage::shouldMakeIndependentClone() {
  Image img(4, 4, ColorOrder::RGB);
  img.data()[0] = 7;
  img.source.warnings.push_back("w");
  Image copy = img.clone();
  QVERIFY(copy.data() != img.data());
  QCOMPARE(copy.data()[0], std::uint8_t(7));
  QCOMPARE(copy.source.warnings.size(), std::size_t(1));
  copy.data()[0] = 99;
  QCOMPARE(img.data()[0], std::uint8_t(7));
  img.data()[1] = 42;
  QCOMPARE(copy.data()[1], std::uint8_t(0));
}

void TestImage::shouldSharePixelsOnCopy() {
  // Documented: copy-construction shares pixels like cv::Mat.
  Image img(2, 2, ColorOrder::Gray);
  Image shared = img;  // NOLINT
  shared.data()[3] = 5;
  QCOMPARE(img.data()[3], std::uint8_t(5));
}

void TestImage::shouldReadSamplesInOwnUnits() {
  Image u16(2, 1, ColorOrder::RGB, PixelDepth::U16);
  u16.row<std::uint16_t>(0)[3 + 2] = 60000;  // pixel (1,0), blue
  QCOMPARE(u16.sample(1, 0, 2), 60000.f);
  Image f(1, 2, ColorOrder::Gray, PixelDepth::F32);
  f.row<float>(1)[0] = 0.25f;
  QCOMPARE(f.sample(0, 1, 0), 0.25f);
}

QTEST_GUILESS_MAIN(TestImage)
#include "test_image.moc"
