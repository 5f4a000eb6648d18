// Splice synthesis (backend/train/data/SpliceSynth.h) on real photos from Debian's python3-skimage:
// determinism, masks that agree with the pixels (outside the mask: the host crop exactly; inside: the donor,
// checked against an independent bilinear interpolation written here in double precision from the recorded
// transform), and that JPEG, blur, noise and the donor's own JPEG are really applied (same seed with the
// step on and off: JPEG equals libjpeg re-compression of the unprocessed composite at the recorded quality;
// blur/noise change only masked pixels, blur lowers their high-frequency energy).
#include <QtTest>

#include <torch/torch.h>

#include <cmath>

#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "TestFiles.h"
#include "train/data/SpliceSynth.h"

using namespace loupe;
using namespace loupe::train;

namespace {

std::vector<torch::Tensor> photos() {
  std::vector<torch::Tensor> out;
  for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"}) {
    const QString path = test::debianPhoto(name);
    if (path.isEmpty()) return {};
    auto image = io::loadImage(path.toStdString());
    if (!image) return {};
    auto t = rgbTensor(*image);
    if (!t) return {};
    out.push_back(*t);
  }
  return out;
}

JpegRecompress libjpeg() {
  return [](const torch::Tensor& rgb, int quality) -> Result<torch::Tensor> {
    auto r = io::recompressJpeg(rgbImage(rgb), quality);
    if (!r) return r.error();
    return rgbTensor(*r);
  };
}

SpliceSynthOptions plain() {  // every optional step off
  SpliceSynthOptions o;
  o.size = 128;
  o.resampleProb = o.blurProb = o.noiseProb = o.donorJpegProb = o.jpegProb = 0.0;
  o.seed = 7;
  o.recompress = libjpeg();
  return o;
}

// Bilinear sample of a uint8 [3, H, W] photo at (x, y) (pixel centres), double precision.
double bilinear(const torch::Tensor& photo, int c, double x, double y) {
  auto a = photo.accessor<uint8_t, 3>();
  const int w = int(photo.size(2)), h = int(photo.size(1));
  const int x0 = std::clamp(int(std::floor(x)), 0, w - 1), y0 = std::clamp(int(std::floor(y)), 0, h - 1);
  const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
  const double fx = x - x0, fy = y - y0;
  return (1 - fy) * ((1 - fx) * a[c][y0][x0] + fx * a[c][y0][x1]) + fy * ((1 - fx) * a[c][y1][x0] + fx * a[c][y1][x1]);
}

}  // namespace

class TestSpliceSynth : public QObject {
  Q_OBJECT
  std::vector<torch::Tensor> photos_;

 private Q_SLOTS:
  void initTestCase() {
    photos_ = photos();
    if (photos_.empty()) QSKIP("python3-skimage's sample photos are not installed");
  }

  void refusesBadInput() {
    QVERIFY(!SpliceSynth::create({photos_[0]}, plain()));  // one photo: no donor
    QVERIFY(!SpliceSynth::create({photos_[0], torch::zeros({3, 20, 20}, torch::kUInt8)}, plain()));
    auto o = plain();
    o.minArea = 0.5;
    o.maxArea = 0.2;
    auto r = SpliceSynth::create(photos_, o);
    QVERIFY(!r);
    QVERIFY(QString::fromStdString(r.error().message).contains("area"));
  }

  void isDeterministic() {
    auto o = plain();
    o.resampleProb = o.blurProb = o.noiseProb = o.jpegProb = 0.5;
    auto a = SpliceSynth::create(photos_, o), b = SpliceSynth::create(photos_, o);
    QVERIFY(a && b);
    for (uint64_t i = 0; i < 6; ++i) {
      auto x = a->sample(i), y = b->sample(i);
      QVERIFY2(x && y, x ? "" : x.error().message.c_str());
      QVERIFY(torch::equal(x->image, y->image));
      QVERIFY(torch::equal(x->mask, y->mask));
    }
    QVERIFY(!torch::equal(a->sample(0)->image, a->sample(1)->image));
    o.seed = 8;
    auto c = SpliceSynth::create(photos_, o);
    QVERIFY(!torch::equal(a->sample(0)->mask, c->sample(0)->mask));
  }

  void masksAgreeWithPixels() {
    auto synth = SpliceSynth::create(photos_, plain());
    QVERIFY(synth);
    std::set<SpliceShape> shapes;
    for (uint64_t i = 0; i < 12; ++i) {
      auto s = synth->sample(i);
      QVERIFY2(s, s ? "" : s.error().message.c_str());
      shapes.insert(s->shape);
      QCOMPARE(s->image.sizes(), (torch::IntArrayRef{3, 128, 128}));
      QCOMPARE(s->hostScale, 1.0);  // every sample photo is larger than 128 px
      QVERIFY(s->host != s->donor);
      const torch::Tensor m = s->mask.to(torch::kBool);
      const int64_t forged = m.sum().item<int64_t>();
      QVERIFY(forged >= 16 && forged < 128 * 128);
      // Outside the mask: the host crop, exactly.
      const torch::Tensor crop = photos_[s->host].narrow(1, s->hostY, 128).narrow(2, s->hostX, 128);
      QVERIFY(torch::equal(s->image.masked_select(m.logical_not().expand({3, 128, 128})),
                           crop.masked_select(m.logical_not().expand({3, 128, 128}))));
      // Inside: the donor's own pixels, translated by whole pixels (no resampling in these options).
      auto img = s->image.accessor<uint8_t, 3>();
      auto msk = s->mask.accessor<uint8_t, 2>();
      auto don = photos_[s->donor].accessor<uint8_t, 3>();
      int checked = 0, differsFromHost = 0;
      for (int y = 0; y < 128; ++y)
        for (int x = 0; x < 128; ++x) {
          if (!msk[y][x]) continue;
          const double qx = x - s->anchorX + s->donorCenterX, qy = y - s->anchorY + s->donorCenterY;
          QCOMPARE(qx, std::round(qx));
          for (int c = 0; c < 3; ++c) {
            QCOMPARE(int(img[c][y][x]), int(don[c][int(std::lround(qy))][int(std::lround(qx))]));
            differsFromHost += img[c][y][x] != crop[c][y][x].item<uint8_t>();
          }
          ++checked;
        }
      QCOMPARE(int64_t(checked), forged);
      QVERIFY(differsFromHost > checked);  // the pasted content really is another photo
    }
    QCOMPARE(int(shapes.size()), 4);  // ellipse, polygon, blob, object all occur
  }

  void resamplingMatchesIndependentBilinear() {
    auto o = plain();
    o.resampleProb = 1.0;
    auto synth = SpliceSynth::create(photos_, o);
    QVERIFY(synth);
    for (uint64_t i = 0; i < 5; ++i) {
      auto s = synth->sample(i);
      QVERIFY(s);
      QVERIFY(s->scale != 1.0 || s->angleDeg != 0.0);
      const double t = s->angleDeg * M_PI / 180.0, c = std::cos(t), sn = std::sin(t);
      auto img = s->image.accessor<uint8_t, 3>();
      auto msk = s->mask.accessor<uint8_t, 2>();
      int worst = 0;
      for (int y = 0; y < 128; ++y)
        for (int x = 0; x < 128; ++x) {
          if (!msk[y][x]) continue;
          const double px = x - s->anchorX, py = y - s->anchorY;
          const double qx = (px * c + py * sn) / s->scale + s->donorCenterX;
          const double qy = (-px * sn + py * c) / s->scale + s->donorCenterY;
          for (int ch = 0; ch < 3; ++ch)
            worst = std::max(worst, std::abs(int(img[ch][y][x]) - int(std::lround(bilinear(photos_[s->donor], ch, qx, qy)))));
        }
      QVERIFY2(worst <= 1, qPrintable(QString("sample %1: max difference %2 grey levels").arg(i).arg(worst)));
    }
  }

  void jpegIsLibjpegAtTheRecordedQuality() {
    auto on = plain(), off = plain();
    on.jpegProb = 1.0;
    auto a = SpliceSynth::create(photos_, on), b = SpliceSynth::create(photos_, off);
    for (uint64_t i = 0; i < 4; ++i) {
      auto x = a->sample(i), y = b->sample(i);
      QVERIFY(x && y);
      QVERIFY(x->jpegQuality >= 60 && x->jpegQuality <= 95);
      QCOMPARE(y->jpegQuality, 0);
      QVERIFY(torch::equal(x->mask, y->mask));
      auto ref = io::recompressJpeg(rgbImage(y->image), x->jpegQuality);
      QVERIFY(ref);
      QVERIFY(torch::equal(x->image, *rgbTensor(*ref)));
      QVERIFY(!torch::equal(x->image, y->image));
    }
    // Without a JPEG codec the step is skipped and says so.
    on.recompress = nullptr;
    auto c = SpliceSynth::create(photos_, on);
    QCOMPARE(c->sample(0)->jpegQuality, 0);
  }

  void blurNoiseAndDonorJpegTouchOnlyThePastedRegion() {
    auto base = plain();
    auto b = SpliceSynth::create(photos_, base);
    for (int step = 0; step < 3; ++step) {
      auto o = plain();
      (step == 0 ? o.blurProb : step == 1 ? o.noiseProb : o.donorJpegProb) = 1.0;
      auto a = SpliceSynth::create(photos_, o);
      double hfOn = 0, hfOff = 0;
      for (uint64_t i = 0; i < 4; ++i) {
        auto x = a->sample(i), y = b->sample(i);
        QVERIFY(x && y);
        QVERIFY(torch::equal(x->mask, y->mask));
        const torch::Tensor m = x->mask.to(torch::kBool).expand({3, 128, 128});
        QVERIFY(torch::equal(x->image.masked_select(m.logical_not()), y->image.masked_select(m.logical_not())));
        const double changed = x->image.ne(y->image).logical_and(m).sum().item<double>() / m.sum().item<double>();
        QVERIFY2(changed > 0.3, qPrintable(QString("step %1 changed only %2 of the pasted samples").arg(step).arg(changed)));
        if (step == 0) {
          QVERIFY(x->blurSigma > 0);
          // Horizontal first differences inside the mask (both neighbours masked).
          const torch::Tensor inner = m.narrow(2, 1, 127).logical_and(m.narrow(2, 0, 127));
          auto hf = [&](const torch::Tensor& im) {
            const torch::Tensor f = im.to(torch::kFloat);
            return (f.narrow(2, 1, 127) - f.narrow(2, 0, 127)).abs().masked_select(inner).mean().item<double>();
          };
          hfOn += hf(x->image);
          hfOff += hf(y->image);
        }
        if (step == 1) QVERIFY(x->noiseSigma >= 1.0);
        if (step == 2) QVERIFY(x->donorJpegQuality >= 60);
      }
      if (step == 0) QVERIFY2(hfOn < 0.9 * hfOff, qPrintable(QString("blurred %1 vs sharp %2").arg(hfOn).arg(hfOff)));
    }
  }

  void maskAreasFollowTheTarget() {
    for (int shape = 0; shape < 4; ++shape)
      for (double area : {0.05, 0.2}) {
        double sum = 0;
        for (uint64_t seed = 0; seed < 8; ++seed) sum += spliceMask(SpliceShape(shape), 256, area, seed).mean().item<double>();
        const double mean = sum / 8;
        // Blob: a quantile threshold, exact; the others lose what falls outside the frame.
        QVERIFY2(mean > 0.6 * area && mean < 1.15 * area,
                 qPrintable(QString("%1 at %2: mean area %3").arg(spliceShapeName(SpliceShape(shape))).arg(area).arg(mean)));
      }
  }
};

QTEST_GUILESS_MAIN(TestSpliceSynth)
#include "test_splice_synth.moc"
