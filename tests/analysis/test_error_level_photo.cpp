// The premise of error level analysis, on a real photo: a region pasted from an uncompressed original
// into a JPEG re-compresses with a clearly larger error than the rest of the image.
#include <QtTest>

#include "analysis/ErrorLevel.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

using namespace loupe;

class TestErrorLevelPhoto : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldShowPastedUncompressedPatch_data();
  void shouldShowPastedUncompressedPatch();
};

void TestErrorLevelPhoto::shouldShowPastedUncompressedPatch_data() {
  QTest::addColumn<QString>("path");
  QTest::addColumn<int>("patchX");  // 64-aligned, so JPEG blocks are wholly inside or outside the patch
  QTest::addColumn<int>("patchY");
  // python3-skimage's lossless sample photos (PNG, never JPEG-compressed).
  QTest::newRow("astronaut") << "/usr/lib/python3/dist-packages/skimage/data/astronaut.png" << 192 << 128;
  QTest::newRow("coffee") << "/usr/lib/python3/dist-packages/skimage/data/coffee.png" << 256 << 192;
}

void TestErrorLevelPhoto::shouldShowPastedUncompressedPatch() {
  QFETCH(QString, path);
  QFETCH(int, patchX);
  QFETCH(int, patchY);
  if (!QFile::exists(path)) QSKIP("python3-skimage sample photo not installed");
  constexpr int kPatch = 128;
  constexpr int kQuality = 75;

  auto loaded = io::loadImage(path.toStdString());
  QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
  const Image original = loaded->toRGB().toU8();
  QVERIFY(original.width() >= patchX + kPatch && original.height() >= patchY + kPatch);

  // A forger's workflow: the published JPEG, with a region pasted from an uncompressed source.
  const auto published = io::recompressJpeg(original, kQuality);
  QVERIFY(published.ok());
  Image tampered = published->clone();
  for (int y = patchY; y < patchY + kPatch; ++y)
    std::memcpy(tampered.row<std::uint8_t>(y) + patchX * 3, original.row<std::uint8_t>(y) + patchX * 3, kPatch * 3);

  const auto resaved = io::recompressJpeg(tampered, kQuality);
  QVERIFY(resaved.ok());
  const auto map = analysis::errorLevelMap(tampered, *resaved, {});
  QVERIFY2(map.ok(), map.ok() ? "" : map.error().message.c_str());

  double inside = 0, outside = 0;
  long nIn = 0, nOut = 0;
  for (int y = 0; y < map->height; ++y)
    for (int x = 0; x < map->width; ++x) {
      const bool in = x >= patchX && x < patchX + kPatch && y >= patchY && y < patchY + kPatch;
      (in ? inside : outside) += map->at(x, y);
      ++(in ? nIn : nOut);
    }
  inside /= double(nIn);
  outside /= double(nOut);
  qInfo("mean error inside the patch %.3f, outside %.3f (ratio %.2f)", inside, outside, inside / outside);
  QVERIFY2(inside > 2.0 * outside, qPrintable(QStringLiteral("inside %1 vs outside %2").arg(inside).arg(outside)));

  const auto stats = analysis::errorLevelStats(*map);
  QVERIFY(stats.mean > 0.0);
  QVERIFY(stats.p99 >= stats.mean);
  QVERIFY(stats.max >= stats.p99);
}

QTEST_GUILESS_MAIN(TestErrorLevelPhoto)
#include "test_error_level_photo.moc"
