// forensics::noiseResidual: exact values on hand-made images, and on a real photo the premise of the
// tool: a region with added noise (another camera, a higher ISO) or with noise removed (blurred,
// denoised, resampled) stands out in the local-noise map.
#include <QtTest>

#include <random>

#include "ForensicsTestUtil.h"
#include "forensics/NoiseResidual.h"

using namespace loupe;
using namespace loupe::forensics;

class TestNoiseResidual : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void thirdOrderResidualOfCubicIsSix();
  void residualsVanishOnQuadratics();
  void medianResidualOfImpulse();
  void sixteenBitEqualsEightBitScaled();
  void flatImageGivesZeroMapsAndValidRange();
  void tooSmallIsRefused();
  void addedNoiseStandsOut();
  void blurredRegionStandsOut();
};

namespace {
Image rowFunction(int w, int h, double (*f)(int)) {
  Image img(w, h, ColorOrder::Gray);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.row<std::uint8_t>(y)[x] = static_cast<std::uint8_t>(f(x));
  return img;
}
}  // namespace

void TestNoiseResidual::thirdOrderResidualOfCubicIsSix() {
  // I(x, y) = x^3 for x = 0..6. By hand: r_h(x) = -(x-1)^3 + 3x^3 - 3(x+1)^3 + (x+2)^3 = 6 for every x
  // (the third difference of x^3 is 3! = 6); r_v = 0 (constant along y). Map = (|6| + 0) / 2 = 3 where the
  // 4 taps lie inside the image: x = 1..4.
  const Image img = rowFunction(7, 7, [](int x) { return double(x * x * x); });
  NoiseOptions o;
  o.window = 3;
  auto maps = noiseResidual(img, o);
  QVERIFY2(maps.ok(), maps.ok() ? "" : maps.error().message.c_str());
  for (int y = 0; y < 7; ++y)
    for (int x = 1; x <= 4; ++x) QCOMPARE(maps->srmResidual.at(x, y), 3.f);
}

void TestNoiseResidual::residualsVanishOnQuadratics() {
  // x^2 (0..225): every 3rd-order difference and the KV kernel (it annihilates polynomials of degree <= 2;
  // its rows and columns sum to zero and it is symmetric) give 0 inside; a monotone row's 3x3 median is
  // the pixel itself, so the median residual is 0 too.
  const Image img = rowFunction(16, 16, [](int x) { return double(x * x); });
  for (SrmKernel k : {SrmKernel::ThirdOrder, SrmKernel::KV5x5}) {
    NoiseOptions o;
    o.window = 5;
    o.srm = k;
    auto maps = noiseResidual(img, o);
    QVERIFY(maps.ok());
    for (int y = 2; y < 14; ++y)
      for (int x = 2; x < 13; ++x) {
        // float filter2D sums (|terms| up to 12 * 225) round to ~1e-5
        QVERIFY(std::abs(maps->srmResidual.at(x, y)) < 1e-3f);
        QCOMPARE(maps->medianResidual.at(x, y), 0.f);
      }
  }
}

void TestNoiseResidual::medianResidualOfImpulse() {
  // One pixel of 200 on a flat 50: the 3x3 median is 50 everywhere, so |I - median| is 150 there, 0 elsewhere.
  Image img(9, 9, ColorOrder::Gray);
  std::memset(img.data(), 50, img.byteSize());
  img.row<std::uint8_t>(4)[4] = 200;
  NoiseOptions o;
  o.window = 3;
  auto maps = noiseResidual(img, o);
  QVERIFY(maps.ok());
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x) QCOMPARE(maps->medianResidual.at(x, y), (x == 4 && y == 4) ? 150.f : 0.f);
}

void TestNoiseResidual::sixteenBitEqualsEightBitScaled() {
  // 16-bit input is analysed in 8-bit grey levels (v / 257): v * 257 must give the 8-bit maps.
  cv::Mat rgb = test::skimagePhotoRgb("coffee.png");
  SKIP_WITHOUT_PHOTO(rgb, "coffee.png");
  rgb = rgb(cv::Rect(0, 0, 128, 96)).clone();
  cv::Mat rgb16;
  rgb.convertTo(rgb16, CV_16U, 257.0);
  auto a = noiseResidual(test::toImage(rgb)), b = noiseResidual(test::toImage(rgb16));
  QVERIFY(a.ok() && b.ok());
  for (std::size_t i = 0; i < a->localNoise.values.size(); ++i)
    QVERIFY(std::abs(a->localNoise.values[i] - b->localNoise.values[i]) < 1e-3f);
  QVERIFY(std::abs(a->stats.sigmaEstimate - b->stats.sigmaEstimate) < 1e-3);
}

void TestNoiseResidual::flatImageGivesZeroMapsAndValidRange() {
  Image img(64, 48, ColorOrder::RGBA);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      auto* p = img.row<std::uint8_t>(y) + 4 * x;
      p[0] = 90, p[1] = 120, p[2] = 200, p[3] = std::uint8_t(x * 4);  // alpha varies: ignored
    }
  auto maps = noiseResidual(img);
  QVERIFY(maps.ok());
  for (const Heatmap* h : {&maps->medianResidual, &maps->srmResidual, &maps->localNoise}) {
    QVERIFY(h->rangeMax > h->rangeMin);
    for (float v : h->values) QVERIFY(std::abs(v) < 1e-3f);
  }
  QCOMPARE(maps->stats.sigmaEstimate, 0.0);
}

void TestNoiseResidual::tooSmallIsRefused() {
  Image img(4, 40, ColorOrder::Gray);
  std::memset(img.data(), 7, img.byteSize());
  auto maps = noiseResidual(img);
  QVERIFY(!maps.ok());
  QCOMPARE(maps.error().code, ErrorCode::InvalidArgument);
  QVERIFY(maps.error().message.find("4x40") != std::string::npos);
}

namespace {
// Mean local noise inside / outside `r`, with a margin of one window around r left out.
std::pair<double, double> insideOutside(const Heatmap& h, const cv::Rect& r, int margin) {
  const cv::Rect inner(r.x + margin, r.y + margin, r.width - 2 * margin, r.height - 2 * margin);
  const cv::Rect outer(r.x - margin, r.y - margin, r.width + 2 * margin, r.height + 2 * margin);
  double in = 0, out = 0;
  long ni = 0, no = 0;
  for (int y = 0; y < h.height; ++y)
    for (int x = 0; x < h.width; ++x) {
      if (inner.contains({x, y})) in += h.at(x, y), ++ni;
      else if (!outer.contains({x, y})) out += h.at(x, y), ++no;
    }
  return {in / ni, out / no};
}
}  // namespace

void TestNoiseResidual::addedNoiseStandsOut() {
  // Gaussian noise (sigma 6 grey levels, fixed seed) added to a region: the region's local noise must rise
  // well above its own level in the untouched photo and above the typical (median) level elsewhere.
  cv::Mat rgb = test::skimagePhotoRgb("coffee.png");
  SKIP_WITHOUT_PHOTO(rgb, "coffee.png");
  auto original = noiseResidual(test::toImage(rgb));
  QVERIFY(original.ok());
  // The region: the 128x128 block (on a 32-pixel grid, away from the border) with the least noise in the
  // original, where an analyst would look for added noise.
  cv::Rect r;
  double lowest = 1e30;
  for (int y = 32; y + 160 <= rgb.rows; y += 32)
    for (int x = 32; x + 160 <= rgb.cols; x += 32) {
      double sum = 0;
      for (int yy = y; yy < y + 128; ++yy)
        for (int xx = x; xx < x + 128; ++xx) sum += original->localNoise.at(xx, yy);
      if (sum < lowest) lowest = sum, r = cv::Rect(x, y, 128, 128);
    }
  cv::Mat tampered = rgb.clone();
  cv::Mat noise(r.size(), CV_32FC3);
  cv::RNG rng(7);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, 6.0);
  cv::Mat region;
  tampered(r).convertTo(region, CV_32FC3);
  region += noise;
  region.convertTo(tampered(r), CV_8UC3);
  auto before = noiseResidual(test::toImage(rgb)), after = noiseResidual(test::toImage(tampered));
  QVERIFY(before.ok() && after.ok());
  const auto [inBefore, outBefore] = insideOutside(before->localNoise, r, 32);
  const auto [in, out] = insideOutside(after->localNoise, r, 32);
  const double median = after->stats.localP50;
  qInfo("local noise in the region: %.2f before, %.2f after; median of the image %.2f", inBefore, in, median);
  QVERIFY2(in > 2.0 * inBefore, qPrintable(QString("after %1 before %2").arg(in).arg(inBefore)));
  QVERIFY2(in > 1.1 * median, qPrintable(QString("inside %1 median %2").arg(in).arg(median)));
  QVERIFY(std::abs(out - outBefore) < 0.05 * outBefore);  // elsewhere nothing changed
}

void TestNoiseResidual::blurredRegionStandsOut() {
  cv::Mat rgb = test::skimagePhotoRgb("coffee.png");
  SKIP_WITHOUT_PHOTO(rgb, "coffee.png");
  const cv::Rect r(200, 150, 160, 160);
  cv::GaussianBlur(rgb(r).clone(), rgb(r), cv::Size(0, 0), 1.5);
  auto maps = noiseResidual(test::toImage(rgb));
  QVERIFY(maps.ok());
  const auto [in, out] = insideOutside(maps->localNoise, r, 32);
  qInfo("local noise inside %.2f, outside %.2f", in, out);
  QVERIFY2(in < 0.5 * out, qPrintable(QString("inside %1 outside %2").arg(in).arg(out)));
}

QTEST_GUILESS_MAIN(TestNoiseResidual)
#include "test_noise_residual.moc"
