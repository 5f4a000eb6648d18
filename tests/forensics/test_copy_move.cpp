// forensics::detectCopyMove on real photos manipulated here, so the answer is known: a textured region
// copied elsewhere in the same photo (plain, and rotated + scaled) must be found with the right boxes,
// mask and transform; untouched photos must give no detection; degenerate images must not crash.
// Periodic textures made here (tiles, a brick wall in running bond, a rotated weave; camera-like noise on
// top) hold no copy and must give no detection, while a photo patch copied within such a texture must
// still be found.
#include <QtTest>

#include <cmath>

#include "ForensicsTestUtil.h"
#include "forensics/CopyMove.h"

using namespace loupe;
using namespace loupe::forensics;

class TestCopyMove : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void findsTranslatedCopy_data();
  void findsTranslatedCopy();
  void findsRotatedScaledCopy();
  void untouchedPhotosGiveNothing_data();
  void untouchedPhotosGiveNothing();
  void orbAlsoFindsTheCopy();
  void degenerateImages();
  void periodicTexturesGiveNothing_data();
  void periodicTexturesGiveNothing();
  void copyOnPeriodicTextureIsFound();
};

namespace {
double overlap(const Box& b, const cv::Rect& r) {  // intersection over the rectangle's area
  const cv::Rect2f i = cv::Rect2f(b.x, b.y, b.w, b.h) & cv::Rect2f(r);
  return i.area() / double(r.area());
}
// The cluster's two boxes cover the two regions (in either order: which one is the original is not knowable).
bool boxesMatch(const CopyMoveCluster& c, const cv::Rect& a, const cv::Rect& b) {
  return (overlap(c.source, a) > 0.5 && overlap(c.copy, b) > 0.5) || (overlap(c.source, b) > 0.5 && overlap(c.copy, a) > 0.5);
}
double maskFraction(const Mask& m, const cv::Rect& r) {
  long on = 0;
  for (int y = r.y; y < r.y + r.height; ++y)
    for (int x = r.x; x < r.x + r.width; ++x) on += m.values[std::size_t(y) * m.width + x];
  return double(on) / r.area();
}
double maskOutside(const Mask& m, const cv::Rect& a, const cv::Rect& b, int margin) {
  const cv::Rect ga(a.x - margin, a.y - margin, a.width + 2 * margin, a.height + 2 * margin);
  const cv::Rect gb(b.x - margin, b.y - margin, b.width + 2 * margin, b.height + 2 * margin);
  long on = 0;
  for (int y = 0; y < m.height; ++y)
    for (int x = 0; x < m.width; ++x)
      if (!ga.contains({x, y}) && !gb.contains({x, y})) on += m.values[std::size_t(y) * m.width + x];
  return double(on) / (double(m.width) * m.height);
}
// A periodic texture, 8-bit RGB, w x h: "tiles" (a 40 x 40 tile of blurred noise repeated), "bricks"
// (running bond: 64 x 28 bricks, the same stamped grain in each, brightness varying per brick, 4-px mortar),
// "weave" (a 14 x 14 tile of blurred noise repeated, then rotated by 23 degrees). Gaussian noise (sigma 2)
// on top, independent per pixel, as a camera adds.
cv::Mat periodicTexture(const std::string& kind, int w, int h, unsigned seed) {
  cv::RNG rng(seed);
  auto noiseTile = [&](int tw, int th, double sigma) {
    cv::Mat t(th, tw, CV_32FC3);
    rng.fill(t, cv::RNG::UNIFORM, 0, 255);
    cv::Mat row, grid;  // blur a 3 x 3 tiling and keep the centre: a seamless (periodic) tile
    cv::hconcat(std::vector<cv::Mat>{t, t, t}, row);
    cv::vconcat(std::vector<cv::Mat>{row, row, row}, grid);
    cv::GaussianBlur(grid, grid, cv::Size(0, 0), sigma);
    t = grid(cv::Rect(tw, th, tw, th)).clone();
    cv::normalize(t, t, 30, 225, cv::NORM_MINMAX);
    return t;
  };
  cv::Mat img(h, w, CV_32FC3);
  if (kind == "tiles" || kind == "weave") {
    const int period = kind == "tiles" ? 40 : 14;
    const int big = kind == "weave" ? 2 * std::max(w, h) : 0;
    const cv::Mat tile = noiseTile(period, period, kind == "tiles" ? 2.5 : 1.5);
    cv::Mat canvas(big ? big : h, big ? big : w, CV_32FC3);
    for (int y = 0; y < canvas.rows; ++y)
      for (int x = 0; x < canvas.cols; ++x) canvas.at<cv::Vec3f>(y, x) = tile.at<cv::Vec3f>(y % period, x % period);
    if (big) {
      const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(big / 2.f, big / 2.f), 23.0, 1.0);
      cv::warpAffine(canvas, canvas, rot, canvas.size(), cv::INTER_LINEAR);
      canvas = canvas(cv::Rect((big - w) / 2, (big - h) / 2, w, h)).clone();
    }
    img = canvas;
  } else {  // bricks
    const int bw = 64, bh = 28, mortar = 4;
    const cv::Mat grain = noiseTile(bw, bh, 1.2);
    img.setTo(cv::Scalar(190, 185, 175));
    for (int row = 0; row * bh < h; ++row) {
      const int offset = (row % 2) * bw / 2;
      for (int col = -1; col * bw < w; ++col) {
        const float gain = float(rng.uniform(0.8, 1.1));
        for (int y = mortar; y < bh; ++y)
          for (int x = mortar; x < bw; ++x) {
            const int px = col * bw + offset + x, py = row * bh + y;
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            const cv::Vec3f g = grain.at<cv::Vec3f>(y, x);
            img.at<cv::Vec3f>(py, px) = cv::Vec3f(0.5f * g[0] + 70, 0.3f * g[1] + 30, 0.2f * g[2] + 20) * gain;
          }
      }
    }
  }
  cv::Mat noise(h, w, CV_32FC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, 2.0);
  cv::Mat out;
  cv::Mat(img + noise).convertTo(out, CV_8UC3);
  return out;
}
}  // namespace

void TestCopyMove::findsTranslatedCopy_data() {
  QTest::addColumn<QString>("photo");
  QTest::addColumn<QRect>("from");
  QTest::addColumn<QPoint>("to");
  QTest::newRow("astronaut: badge to background") << "astronaut.png" << QRect(150, 280, 100, 100) << QPoint(380, 390);
  QTest::newRow("coffee: beans to the wall") << "coffee.png" << QRect(60, 280, 110, 90) << QPoint(420, 20);
  QTest::newRow("chelsea: fur") << "chelsea.png" << QRect(250, 150, 80, 80) << QPoint(20, 20);
}

void TestCopyMove::findsTranslatedCopy() {
  QFETCH(QString, photo);
  QFETCH(QRect, from);
  QFETCH(QPoint, to);
  cv::Mat rgb = test::skimagePhotoRgb(qPrintable(photo));
  if (rgb.empty()) QSKIP("python3-skimage sample photo not installed");
  const cv::Rect src(from.x(), from.y(), from.width(), from.height());
  const cv::Rect dst(to.x(), to.y(), src.width, src.height);
  rgb(src).clone().copyTo(rgb(dst));
  auto r = detectCopyMove(test::toImage(rgb));
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  qInfo("%d keypoints, %d pairs, %zu clusters", r->keypoints, r->matchedPairs, r->clusters.size());
  QVERIFY(!r->clusters.empty());
  const auto& c = r->clusters[0];
  QVERIFY(int(c.pairs.size()) >= 4);
  QVERIFY(boxesMatch(c, src, dst));
  // A pure translation: A = identity, t = +-(dst - src).
  QVERIFY(std::abs(c.affine[0] - 1) < 0.05 && std::abs(c.affine[4] - 1) < 0.05);
  QVERIFY(std::abs(std::abs(c.affine[2]) - std::abs(dst.x - src.x)) < 3);
  QVERIFY(std::abs(std::abs(c.affine[5]) - std::abs(dst.y - src.y)) < 3);
  const double covered = maskFraction(r->mask, dst), outside = maskOutside(r->mask, src, dst, 16);
  qInfo("mask covers %.0f%% of the copy, %.2f%% of the image outside both regions", 100 * covered, 100 * outside);
  QVERIFY(covered > 0.4);
  QVERIFY(outside < 0.02);
  QCOMPARE(r->lines.lines.size(), [&] { std::size_t n = 0; for (const auto& k : r->clusters) n += k.pairs.size(); return n; }());
  QCOMPARE(r->boxes.boxes.size(), 2 * r->clusters.size());
  QCOMPARE(r->mask.width, rgb.cols);
}

void TestCopyMove::findsRotatedScaledCopy() {
  // The copy is rotated by 10 degrees and scaled by 1.1 about its centre before it is pasted.
  cv::Mat rgb = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(rgb, "astronaut.png");
  const cv::Rect src(140, 270, 120, 120);
  const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(60, 60), 10.0, 1.1);
  cv::Mat patch;
  cv::warpAffine(rgb(src).clone(), patch, rot, src.size(), cv::INTER_LINEAR);
  const cv::Rect inner(15, 15, 90, 90);  // inside the rotated square: no black corners
  const cv::Rect dst(390, 380, inner.width, inner.height);
  patch(inner).copyTo(rgb(dst));
  auto r = detectCopyMove(test::toImage(rgb));
  QVERIFY(r.ok());
  qInfo("%d keypoints, %d pairs, %zu clusters", r->keypoints, r->matchedPairs, r->clusters.size());
  QVERIFY(!r->clusters.empty());
  const auto& c = r->clusters[0];
  const double det = c.affine[0] * c.affine[4] - c.affine[1] * c.affine[3];
  const double scale = std::sqrt(std::abs(det));
  const double angle = std::atan2(c.affine[3], c.affine[0]) * 180 / M_PI;
  qInfo("recovered scale %.3f, angle %.1f degrees (%zu pairs)", scale, angle, c.pairs.size());
  // Either direction: 1.1 and -10 degrees (source -> copy; image y points down) or 1/1.1 and +10.
  const bool forward = std::abs(scale - 1.1) < 0.04 && std::abs(angle + 10) < 2;
  const bool backward = std::abs(scale - 1 / 1.1) < 0.04 && std::abs(angle - 10) < 2;
  QVERIFY(forward || backward);
  QVERIFY(maskFraction(r->mask, dst) > 0.3);
}

void TestCopyMove::untouchedPhotosGiveNothing_data() {
  QTest::addColumn<QString>("photo");
  for (const char* p : {"astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "camera.png", "motorcycle_left.png"})
    QTest::newRow(p) << p;
}

void TestCopyMove::untouchedPhotosGiveNothing() {
  QFETCH(QString, photo);
  cv::Mat rgb = test::skimagePhotoRgb(qPrintable(photo));
  if (rgb.empty()) QSKIP("python3-skimage sample photo not installed");
  auto r = detectCopyMove(test::toImage(rgb));
  QVERIFY(r.ok());
  qInfo("%d keypoints, %d pairs, %zu clusters", r->keypoints, r->matchedPairs, r->clusters.size());
  QCOMPARE(r->clusters.size(), std::size_t(0));
  for (auto v : r->mask.values) QCOMPARE(v, std::uint8_t(0));
}

void TestCopyMove::orbAlsoFindsTheCopy() {
  cv::Mat rgb = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(rgb, "astronaut.png");
  const cv::Rect src(150, 280, 100, 100), dst(380, 390, 100, 100);
  rgb(src).clone().copyTo(rgb(dst));
  CopyMoveOptions o;
  o.detector = KeypointDetector::Orb;
  auto r = detectCopyMove(test::toImage(rgb), o);
  QVERIFY(r.ok());
  qInfo("ORB: %d keypoints, %d pairs, %zu clusters", r->keypoints, r->matchedPairs, r->clusters.size());
  QVERIFY(!r->clusters.empty());
  QVERIFY(boxesMatch(r->clusters[0], src, dst));
}

void TestCopyMove::degenerateImages() {
  Image flat(300, 200, ColorOrder::RGB);
  std::memset(flat.data(), 77, flat.byteSize());
  auto f = detectCopyMove(flat);
  QVERIFY(f.ok());
  QCOMPARE(f->keypoints, 0);
  QVERIFY(f->clusters.empty());
  Image tiny(3, 2, ColorOrder::Gray);
  std::memset(tiny.data(), 1, tiny.byteSize());
  QVERIFY(detectCopyMove(tiny).ok());
  // Extremely elongated: 6000 x 6 of noise (detection downscales to 1600 x 2).
  Image thin(6000, 6, ColorOrder::Gray);
  cv::Mat view(6, 6000, CV_8U, thin.data());
  cv::randu(view, 0, 255);
  auto t = detectCopyMove(thin);
  QVERIFY(t.ok());
  QVERIFY(t->clusters.empty());
  CopyMoveOptions bad;
  bad.ratio = 1.5;
  QVERIFY(!detectCopyMove(flat, bad).ok());
  bad = {};
  bad.minClusterSize = 2;
  QVERIFY(!detectCopyMove(flat, bad).ok());
}

void TestCopyMove::periodicTexturesGiveNothing_data() {
  QTest::addColumn<QString>("kind");
  for (const char* k : {"tiles", "bricks", "weave"}) QTest::newRow(k) << k;
}

void TestCopyMove::periodicTexturesGiveNothing() {
  QFETCH(QString, kind);
  const cv::Mat rgb = periodicTexture(kind.toStdString(), 640, 480, 11);
  auto r = detectCopyMove(test::toImage(rgb));
  QVERIFY(r.ok());
  CopyMoveOptions off;
  off.maxLatticeAgreement = 1.0;
  auto without = detectCopyMove(test::toImage(rgb), off);
  QVERIFY(without.ok());
  qInfo("%s: %d keypoints, %d pairs, %zu clusters (%d dropped as the texture's lattice); %zu clusters without the "
        "lattice test", qPrintable(kind), r->keypoints, r->matchedPairs, r->clusters.size(), r->latticeRejected,
        without->clusters.size());
  // Tiles and bricks repeat exactly along the axes: g2NN already refuses their keypoints (every one has many
  // equally good matches). The rotated weave gets past it; without the lattice test it is taken for a copy,
  // so the test below is not vacuous.
  if (kind == "weave") QVERIFY(!without->clusters.empty());
  // Known gap: the weave's 23-degree lattice of 14-px period matches at d = (502, 0) = 33 v1 - 14 v2; the
  // displacement is too long for A A x / A^-1 x to stay inside the image and the region's autocorrelation
  // lattice is not pinned down finely enough for 47 periods.
  QEXPECT_FAIL("weave", "a long displacement across a rotated fine lattice is not recognised yet", Abort);
  QCOMPARE(r->clusters.size(), std::size_t(0));
  for (auto v : r->mask.values) QCOMPARE(v, std::uint8_t(0));
}

void TestCopyMove::copyOnPeriodicTextureIsFound() {
  // A patch of a real photo is placed on a tiled wall and then copied to another spot of the same wall.
  cv::Mat photo = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(photo, "astronaut.png");
  for (const char* kind : {"tiles", "bricks"}) {
    cv::Mat rgb = periodicTexture(kind, 640, 480, 5);
    const cv::Rect src(70, 90, 110, 110), dst(420, 300, 110, 110);
    photo(cv::Rect(150, 270, 110, 110)).copyTo(rgb(src));
    rgb(src).clone().copyTo(rgb(dst));
    auto r = detectCopyMove(test::toImage(rgb));
    QVERIFY(r.ok());
    qInfo("%s with a copied patch: %zu clusters, %d dropped as lattice", kind, r->clusters.size(), r->latticeRejected);
    // Only the real copy: on the tiles the wall's own 40-px repetition also forms a cluster (ZNCC > 0.9 over
    // the whole wall), which the lattice test drops -- without it the tiles would report a second "copy".
    QCOMPARE(r->clusters.size(), std::size_t(1));
    if (std::string(kind) == "tiles") {
      QVERIFY(r->latticeRejected >= 1);
      CopyMoveOptions off;
      off.maxLatticeAgreement = 1.0;
      auto without = detectCopyMove(test::toImage(rgb), off);
      QVERIFY(without.ok());
      QVERIFY(without->clusters.size() > r->clusters.size());
    }
    QVERIFY(boxesMatch(r->clusters[0], src, dst));
    QVERIFY(maskFraction(r->mask, dst) > 0.4);
    QVERIFY(maskOutside(r->mask, src, dst, 16) < 0.02);
  }
}

QTEST_GUILESS_MAIN(TestCopyMove)
#include "test_copy_move.moc"
