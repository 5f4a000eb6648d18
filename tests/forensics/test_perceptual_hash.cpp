// forensics::perceptualHashes: checked bit for bit against an independent implementation of the same
// definitions in Python (NumPy block means + scipy.fftpack.dct, as the imagehash package computes pHash),
// run by this test on crops whose sizes make area averaging exact; hand-made images with known hashes;
// and the purpose of a perceptual hash: same picture after re-compression/resizing -> few bits differ,
// another photo -> many.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "ForensicsTestUtil.h"
#include "forensics/PerceptualHash.h"
#include "io/ImageReader.h"

using namespace loupe;
using namespace loupe::forensics;

namespace {
const char* kReference = R"PY(
import sys
import numpy as np
from PIL import Image
from scipy.fftpack import dct

def luma(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]

def blocks(g, w, h):  # exact area average: the sizes divide
    H, W = g.shape
    return g.reshape(h, H // h, w, W // w).mean(axis=(1, 3))

def hexbits(bits):
    return "%016x" % int("".join("1" if b else "0" for b in bits.flatten()), 2)

g = luma(sys.argv[1])
p = blocks(g, 32, 32)
low = dct(dct(p, axis=0), axis=1)[:8, :8]
a = blocks(g, 8, 8)
print(hexbits(low > np.median(low)), hexbits(a > a.mean()))
d = blocks(luma(sys.argv[2]), 9, 8)
print(hexbits(d[:, 1:] > d[:, :-1]))
)PY";
}  // namespace

class TestPerceptualHash : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void matchesPythonReference_data();
  void matchesPythonReference();
  void handMadeImages();
  void alphaAndDepthDoNotChangeTheHash();
  void robustToRecompressionAndResizing();
  void differentPhotosAreFarApart();

 private:
  QTemporaryDir dir_;
};

void TestPerceptualHash::matchesPythonReference_data() {
  QTest::addColumn<QString>("photo");
  QTest::newRow("astronaut") << "astronaut.png";
  QTest::newRow("chelsea") << "chelsea.png";
  QTest::newRow("coffee") << "coffee.png";
  QTest::newRow("rocket") << "rocket.jpg";
}

void TestPerceptualHash::matchesPythonReference() {
  QFETCH(QString, photo);
  cv::Mat rgb = test::skimagePhotoRgb(qPrintable(photo));
  if (rgb.empty()) QSKIP("python3-skimage sample photo not installed");
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  const QString p32 = dir_.filePath(photo + "_32.png"), p98 = dir_.filePath(photo + "_98.png");
  QVERIFY(cv::imwrite(p32.toStdString(), bgr(cv::Rect(0, 0, bgr.cols / 32 * 32, bgr.rows / 32 * 32))));
  QVERIFY(cv::imwrite(p98.toStdString(), bgr(cv::Rect(0, 0, bgr.cols / 9 * 9, bgr.rows / 8 * 8))));

  QProcess py;
  py.start("/usr/bin/python3", {"-c", kReference, p32, p98});
  QVERIFY(py.waitForFinished(60000));
  const QString err = QString::fromUtf8(py.readAllStandardError());
  if (py.exitCode() != 0 && err.contains("ModuleNotFoundError"))
    QSKIP("python3-numpy, python3-scipy or python3-pil missing for the reference");
  QVERIFY2(py.exitCode() == 0, qPrintable(err));
  const QStringList ref = QString::fromUtf8(py.readAllStandardOutput()).split(QRegularExpression("\\s+"), Qt::SkipEmptyParts);
  QCOMPARE(ref.size(), 3);

  auto a = io::loadImage(p32.toStdString()), b = io::loadImage(p98.toStdString());
  QVERIFY(a.ok() && b.ok());
  auto ha = perceptualHashes(*a), hb = perceptualHashes(*b);
  QVERIFY(ha.ok() && hb.ok());
  QCOMPARE(QString::fromStdString(hashHex(ha->pHash)), ref[0]);
  QCOMPARE(QString::fromStdString(hashHex(ha->aHash)), ref[1]);
  QCOMPARE(QString::fromStdString(hashHex(hb->dHash)), ref[2]);
}

void TestPerceptualHash::handMadeImages() {
  // One colour: only the DC coefficient is non-zero, so it alone lies above the median (0): pHash has the
  // first bit only; nothing is above the mean (aHash 0) and no pixel is brighter than its left one (dHash 0).
  Image flat(64, 64, ColorOrder::RGB);
  std::memset(flat.data(), 128, flat.byteSize());
  auto f = perceptualHashes(flat);
  QVERIFY(f.ok());
  QCOMPARE(hashHex(f->pHash), std::string("8000000000000000"));
  QCOMPARE(f->aHash, std::uint64_t(0));
  QCOMPARE(f->dHash, std::uint64_t(0));
  // Left half black, right half white (64 x 64): the 8x8 means are 0 for columns 0-3 and 255 for 4-7, so each
  // aHash row is 00001111. dHash's 9 columns are 64/9 = 7.1 pixels wide: column 4 covers x = 28.4 .. 35.6
  // (grey), 5..8 white: the brighter-than-left bits are at x = 3 (grey > black) and 4 (white > grey): 00011000.
  Image step(64, 64, ColorOrder::Gray);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) step.row<std::uint8_t>(y)[x] = x < 32 ? 0 : 255;
  auto s = perceptualHashes(step);
  QVERIFY(s.ok());
  QCOMPARE(hashHex(s->aHash), std::string("0f0f0f0f0f0f0f0f"));
  QCOMPARE(hashHex(s->dHash), std::string("1818181818181818"));
  QCOMPARE(hammingDistance(0, ~std::uint64_t(0)), 64);
  QCOMPARE(hammingDistance(0xF0, 0x0F), 8);
  // 1x1 and 2000x3 images hash without complaint.
  Image tiny(1, 1, ColorOrder::Gray);
  tiny.data()[0] = 9;
  QVERIFY(perceptualHashes(tiny).ok());
  Image thin(2000, 3, ColorOrder::Gray);
  std::memset(thin.data(), 50, thin.byteSize());
  QVERIFY(perceptualHashes(thin).ok());
  QVERIFY(!perceptualHashes(Image()).ok());
}

void TestPerceptualHash::alphaAndDepthDoNotChangeTheHash() {
  cv::Mat rgb = test::skimagePhotoRgb("astronaut.png");
  SKIP_WITHOUT_PHOTO(rgb, "astronaut.png");
  cv::Mat rgba, rgb16;
  cv::cvtColor(rgb, rgba, cv::COLOR_RGB2RGBA);
  rgb.convertTo(rgb16, CV_16U, 257.0);
  auto h8 = perceptualHashes(test::toImage(rgb)), hA = perceptualHashes(test::toImage(rgba)),
       h16 = perceptualHashes(test::toImage(rgb16));
  QVERIFY(h8.ok() && hA.ok() && h16.ok());
  QCOMPARE(hA->pHash, h8->pHash);
  QCOMPARE(h16->pHash, h8->pHash);
  QCOMPARE(h16->dHash, h8->dHash);
}

void TestPerceptualHash::robustToRecompressionAndResizing() {
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png"}) {
    cv::Mat rgb = test::skimagePhotoRgb(name);
    SKIP_WITHOUT_PHOTO(rgb, "sample");
    const auto orig = *perceptualHashes(test::toImage(rgb));
    const auto jpeg = *perceptualHashes(test::toImage(test::jpegRoundTrip(rgb, 70)));
    cv::Mat half;
    cv::resize(rgb, half, cv::Size(rgb.cols / 2, rgb.rows / 2), 0, 0, cv::INTER_AREA);
    const auto small = *perceptualHashes(test::toImage(half));
    qInfo("%s: pHash bits changed by JPEG q70: %d, by halving: %d", name, hammingDistance(orig.pHash, jpeg.pHash),
          hammingDistance(orig.pHash, small.pHash));
    QVERIFY(hammingDistance(orig.pHash, jpeg.pHash) <= 4);
    QVERIFY(hammingDistance(orig.pHash, small.pHash) <= 4);
    QVERIFY(hammingDistance(orig.dHash, jpeg.dHash) <= 6);
  }
}

void TestPerceptualHash::differentPhotosAreFarApart() {
  std::vector<PerceptualHashes> h;
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png"}) {
    cv::Mat rgb = test::skimagePhotoRgb(name);
    SKIP_WITHOUT_PHOTO(rgb, "sample");
    h.push_back(*perceptualHashes(test::toImage(rgb)));
  }
  for (std::size_t i = 0; i < h.size(); ++i)
    for (std::size_t j = i + 1; j < h.size(); ++j) {
      const int d = hammingDistance(h[i].pHash, h[j].pHash);
      QVERIFY2(d >= 20, qPrintable(QString("photos %1 and %2: %3 bits").arg(i).arg(j).arg(d)));
    }
}

QTEST_GUILESS_MAIN(TestPerceptualHash)
#include "test_perceptual_hash.moc"
