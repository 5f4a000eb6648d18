// CMYK JPEGs (print workflows, stock photos): loaded as RGB with a clear warning, colours roughly right.
#include <QtTest>

#include <QTemporaryDir>

#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>

#include "IoTestUtil.h"
#include "io/ImageReader.h"

using namespace loupe;

namespace {

struct ErrorJump {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void onJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorJump*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Writes interleaved 4-component samples with libjpeg, as a print application would (in_color_space CMYK;
// libjpeg adds the Adobe APP14 marker for CMYK). Returns an empty string on success, else the reason.
std::string writeCmykJpeg(const char* path, int w, int h, const std::vector<JSAMPLE>& samples) {
  FILE* file = std::fopen(path, "wb");
  if (!file) return "cannot create the file";
  jpeg_compress_struct cinfo;
  ErrorJump err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = onJpegError;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::fclose(file);
    return err.message;
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPLE*>(samples.data()) + std::size_t(cinfo.next_scanline) * std::size_t(w) * 4;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);
  return {};
}

}  // namespace

class TestCmykJpeg : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldLoadCmykAsRgbWithWarning_data();
  void shouldLoadCmykAsRgbWithWarning();
};

void TestCmykJpeg::shouldLoadCmykAsRgbWithWarning_data() {
  // Convention: Adobe (Photoshop) CMYK JPEGs store *inverted* ink values (255 = no ink) and carry an APP14
  // "Adobe" marker; OpenCV's decoder (icvCvt_CMYK2BGR_8u_C4C3R) assumes exactly that, computing
  // channel = k - (255 - ink) * k / 256 from the stored bytes. So stored (C, M, Y, K) = (0, 255, 255, 255)
  // is full cyan ink and nothing else: RGB about (0, 255, 255). The same colour in the non-inverted
  // convention, (255, 0, 0, 0), would come out black, which is why the test pins the convention.
  QTest::addColumn<QVector<int>>("cmyk");  // stored bytes
  QTest::addColumn<QVector<int>>("rgb");   // expected colour, +-30
  QTest::newRow("cyan") << QVector<int>{0, 255, 255, 255} << QVector<int>{0, 255, 255};
  QTest::newRow("magenta") << QVector<int>{255, 0, 255, 255} << QVector<int>{255, 0, 255};
  QTest::newRow("yellow") << QVector<int>{255, 255, 0, 255} << QVector<int>{255, 255, 0};
  QTest::newRow("paper white") << QVector<int>{255, 255, 255, 255} << QVector<int>{255, 255, 255};
  QTest::newRow("full black ink") << QVector<int>{255, 255, 255, 0} << QVector<int>{0, 0, 0};
}

void TestCmykJpeg::shouldLoadCmykAsRgbWithWarning() {
  QFETCH(QVector<int>, cmyk);
  QFETCH(QVector<int>, rgb);
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("print.jpg"));
  const int w = 32, h = 16;
  std::vector<JSAMPLE> samples(std::size_t(w) * h * 4);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = JSAMPLE(cmyk[int(i % 4)]);
  const std::string why = writeCmykJpeg(path.toLocal8Bit().constData(), w, h, samples);
  QVERIFY2(why.empty(), why.c_str());
  QVERIFY(loupe::test::readBytes(path).contains("Adobe"));  // the APP14 marker the convention relies on

  const auto r = io::loadImage(path.toStdString());
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(r->order(), ColorOrder::RGB);
  QCOMPARE(r->depth(), PixelDepth::U8);
  QCOMPARE(r->width(), w);
  QCOMPARE(r->height(), h);
  bool warned = false;
  for (const auto& msg : r->source.warnings) warned = warned || msg.find("CMYK") != std::string::npos;
  QVERIFY2(warned, "a CMYK JPEG must say its colours were converted without a profile");
  for (int c = 0; c < 3; ++c) {
    const int v = int(r->sample(w / 2, h / 2, c));
    QVERIFY2(std::abs(v - rgb[c]) <= 30, qPrintable(QStringLiteral("channel %1 = %2, expected %3").arg(c).arg(v).arg(rgb[c])));
  }
}

QTEST_GUILESS_MAIN(TestCmykJpeg)
#include "test_cmyk_jpeg.moc"
