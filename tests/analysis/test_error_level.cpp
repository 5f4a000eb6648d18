// Error level analysis: hand-computed maps, argument checks, cancellation and exact statistics.
#include <QtTest>

#include <limits>

#include "analysis/ErrorLevel.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {
Image imageFrom(int w, int h, ColorOrder order, const std::vector<int>& samples) {
  Image img(w, h, order);
  for (std::size_t i = 0; i < samples.size(); ++i) img.data()[i] = std::uint8_t(samples[i]);
  return img;
}

Heatmap mapOf(std::vector<float> values) {
  Heatmap m;
  m.width = int(values.size());
  m.height = 1;
  m.values = std::move(values);
  return m;
}
}  // namespace

class TestErrorLevel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldTakeMaxAbsDifferenceOverChannels();
  void shouldHandleGrayImages();
  void shouldSetDisplayRangeFromAmplification_data();
  void shouldSetDisplayRangeFromAmplification();
  void shouldRejectBadAmplification_data();
  void shouldRejectBadAmplification();
  void shouldRejectMismatchedImages_data();
  void shouldRejectMismatchedImages();
  void shouldRejectNon8BitImages_data();
  void shouldRejectNon8BitImages();
  void shouldStopWhenCancelled();
  void shouldComputeExactStats_data();
  void shouldComputeExactStats();
  void shouldGiveZeroStatsForEmptyMap();
};

void TestErrorLevel::shouldTakeMaxAbsDifferenceOverChannels() {
  // Hand computation, pixel by pixel, max over R, G, B of |a - b|:
  //   (10,20,30) vs (12,20,25)    -> max(2, 0, 5)     = 5
  //   (0,0,0) vs (0,0,0)          -> 0
  //   (255,255,255) vs (0,255,255) -> 255
  //   (100,100,100) vs (101,99,100) -> 1
  const Image a = imageFrom(2, 2, ColorOrder::RGB, {10, 20, 30, 0, 0, 0, 255, 255, 255, 100, 100, 100});
  const Image b = imageFrom(2, 2, ColorOrder::RGB, {12, 20, 25, 0, 0, 0, 0, 255, 255, 101, 99, 100});
  ErrorLevelOptions options;
  options.colormap = Colormap::Magma;
  const auto map = errorLevelMap(a, b, options);
  QVERIFY2(map.ok(), map.ok() ? "" : map.error().message.c_str());
  QCOMPARE(map->width, 2);
  QCOMPARE(map->height, 2);
  QCOMPARE(map->values, (std::vector<float>{5, 0, 255, 1}));
  QCOMPARE(map->at(0, 1), 255.f);
  QCOMPARE(map->colormap, Colormap::Magma);
  QVERIFY(!map->unit.empty());
  // Symmetric: swapping the images gives the same map.
  const auto swapped = errorLevelMap(b, a, options);
  QVERIFY(swapped.ok());
  QCOMPARE(swapped->values, map->values);
}

void TestErrorLevel::shouldHandleGrayImages() {
  const Image a = imageFrom(3, 1, ColorOrder::Gray, {0, 128, 255});
  const Image b = imageFrom(3, 1, ColorOrder::Gray, {255, 128, 0});
  const auto map = errorLevelMap(a, b, {});
  QVERIFY(map.ok());
  QCOMPARE(map->values, (std::vector<float>{255, 0, 255}));  // by hand
}

void TestErrorLevel::shouldSetDisplayRangeFromAmplification_data() {
  // range = [0, 255 / amplification], by hand.
  QTest::addColumn<float>("amplification");
  QTest::addColumn<float>("rangeMax");
  QTest::newRow("default 20") << 20.f << 12.75f;
  QTest::newRow("1") << 1.f << 255.f;
  QTest::newRow("50") << 50.f << 5.1f;
  QTest::newRow("0.5") << 0.5f << 510.f;
}

void TestErrorLevel::shouldSetDisplayRangeFromAmplification() {
  QFETCH(float, amplification);
  QFETCH(float, rangeMax);
  const Image a = imageFrom(1, 1, ColorOrder::Gray, {1});
  ErrorLevelOptions options;
  options.amplification = amplification;
  const auto map = errorLevelMap(a, a, options);
  QVERIFY(map.ok());
  QCOMPARE(map->rangeMin, 0.f);
  QCOMPARE(map->rangeMax, rangeMax);
}

void TestErrorLevel::shouldRejectBadAmplification_data() {
  QTest::addColumn<float>("amplification");
  QTest::newRow("0") << 0.f;
  QTest::newRow("negative") << -3.f;
  QTest::newRow("NaN") << std::numeric_limits<float>::quiet_NaN();
}

void TestErrorLevel::shouldRejectBadAmplification() {
  QFETCH(float, amplification);
  const Image a = imageFrom(1, 1, ColorOrder::Gray, {1});
  ErrorLevelOptions options;
  options.amplification = amplification;
  const auto map = errorLevelMap(a, a, options);
  QVERIFY(!map.ok());
  QCOMPARE(map.error().code, ErrorCode::InvalidArgument);
}

void TestErrorLevel::shouldRejectMismatchedImages_data() {
  QTest::addColumn<int>("w");
  QTest::addColumn<int>("h");
  QTest::addColumn<int>("order");
  QTest::newRow("width") << 5 << 4 << int(ColorOrder::RGB);
  QTest::newRow("height") << 4 << 3 << int(ColorOrder::RGB);
  QTest::newRow("channels") << 4 << 4 << int(ColorOrder::Gray);
  QTest::newRow("colour order rgb vs bgr") << 4 << 4 << int(ColorOrder::BGR);
}

void TestErrorLevel::shouldRejectMismatchedImages() {
  QFETCH(int, w);
  QFETCH(int, h);
  QFETCH(int, order);
  const Image a(4, 4, ColorOrder::RGB);
  const Image b(w, h, ColorOrder(order));
  const auto map = errorLevelMap(a, b, {});
  QVERIFY(!map.ok());
  QCOMPARE(map.error().code, ErrorCode::InvalidArgument);
  QVERIFY(!map.error().message.empty());
}

void TestErrorLevel::shouldRejectNon8BitImages_data() {
  QTest::addColumn<int>("depthA");
  QTest::addColumn<int>("depthB");
  QTest::newRow("16-bit original") << int(PixelDepth::U16) << int(PixelDepth::U8);
  QTest::newRow("float re-compressed") << int(PixelDepth::U8) << int(PixelDepth::F32);
  QTest::newRow("both 16-bit") << int(PixelDepth::U16) << int(PixelDepth::U16);
}

void TestErrorLevel::shouldRejectNon8BitImages() {
  QFETCH(int, depthA);
  QFETCH(int, depthB);
  const auto map = errorLevelMap(Image(4, 4, ColorOrder::RGB, PixelDepth(depthA)),
                                 Image(4, 4, ColorOrder::RGB, PixelDepth(depthB)), {});
  QVERIFY(!map.ok());
  QCOMPARE(map.error().code, ErrorCode::InvalidArgument);
  QVERIFY(QString::fromStdString(map.error().message).contains(QStringLiteral("8-bit")));
}

void TestErrorLevel::shouldStopWhenCancelled() {
  const Image a(256, 256, ColorOrder::RGB);
  CancelToken cancel;
  cancel.cancel();
  const auto map = errorLevelMap(a, a, {}, cancel);
  QVERIFY(!map.ok());
  QCOMPARE(map.error().code, ErrorCode::Cancelled);
  // Not cancelled: the same call succeeds.
  QVERIFY(errorLevelMap(a, a, {}, CancelToken{}).ok());
}

void TestErrorLevel::shouldComputeExactStats_data() {
  // Reference: hand computation; p99 is the nearest-rank percentile, the ceil(0.99 N)-th smallest value.
  QTest::addColumn<QVector<float>>("values");
  QTest::addColumn<double>("mean");
  QTest::addColumn<double>("p99");
  QTest::addColumn<double>("max");
  QVector<float> ramp;  // 0..99: mean 49.5, rank 99 -> 98, max 99
  for (int i = 0; i < 100; ++i) ramp << float(i);
  QTest::newRow("ramp 0..99") << ramp << 49.5 << 98.0 << 99.0;
  QVector<float> two;  // 196 x 0, 2 x 5, 2 x 9: mean 28/200 = 0.14, rank 198 -> 5, max 9
  for (int i = 0; i < 196; ++i) two << 0.f;
  two << 5.f << 5.f << 9.f << 9.f;
  QTest::newRow("200 values, rank 198") << two << 0.14 << 5.0 << 9.0;
  QVector<float> thousand;  // 985 x 1, 10 x 40, 5 x 200: mean (985 + 400 + 1000)/1000 = 2.385, rank 990 -> 40
  for (int i = 0; i < 985; ++i) thousand << 1.f;
  for (int i = 0; i < 10; ++i) thousand << 40.f;
  for (int i = 0; i < 5; ++i) thousand << 200.f;
  QTest::newRow("1000 values, rank 990") << thousand << 2.385 << 40.0 << 200.0;
  QTest::newRow("single value") << QVector<float>{7.f} << 7.0 << 7.0 << 7.0;
  QTest::newRow("7 values, rank 7 is the max") << QVector<float>{3, 1, 4, 1, 5, 9, 2} << 25.0 / 7.0 << 9.0 << 9.0;
  QTest::newRow("all 255") << QVector<float>(50, 255.f) << 255.0 << 255.0 << 255.0;
}

void TestErrorLevel::shouldComputeExactStats() {
  QFETCH(QVector<float>, values);
  QFETCH(double, mean);
  QFETCH(double, p99);
  QFETCH(double, max);
  const ErrorLevelStats s = errorLevelStats(mapOf(std::vector<float>(values.begin(), values.end())));
  QCOMPARE(s.mean, mean);
  QCOMPARE(s.p99, p99);
  QCOMPARE(s.max, max);
}

void TestErrorLevel::shouldGiveZeroStatsForEmptyMap() {
  const ErrorLevelStats s = errorLevelStats(Heatmap{});
  QCOMPARE(s.mean, 0.0);
  QCOMPARE(s.p99, 0.0);
  QCOMPARE(s.max, 0.0);
}

QTEST_GUILESS_MAIN(TestErrorLevel)
#include "test_error_level.moc"
