// Image <-> NCHW tensor: hand-computed normalisation, channel swaps, 16-bit input, exact round trips,
// and clear errors for bad specs and bad tensors.
#include <QtTest>

#include <torch/torch.h>

#include <limits>
#include <random>

#include "core/TensorConvert.h"

using namespace loupe;

namespace {
// 2x2 RGB image, pixel (x, y):
//   (0,0) = (255, 0, 51)   (1,0) = (0, 255, 102)
//   (0,1) = (51, 102, 255) (1,1) = (204, 153, 0)
Image twoByTwo(ColorOrder order = ColorOrder::RGB) {
  const int px[4][3] = {{255, 0, 51}, {0, 255, 102}, {51, 102, 255}, {204, 153, 0}};
  Image img(2, 2, order);
  const bool bgr = order == ColorOrder::BGR;
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c) img.data()[i * 3 + c] = std::uint8_t(px[i][bgr ? 2 - c : c]);
  return img;
}

// Compares t[0][c][y][x] with expected[c][y*2+x].
void expectValues(const torch::Tensor& t, const std::vector<std::vector<float>>& expected) {
  QCOMPARE(t.dim(), int64_t(4));
  QCOMPARE(t.size(0), int64_t(1));
  QCOMPARE(t.size(1), int64_t(expected.size()));
  auto a = t.to(torch::kCPU).to(torch::kFloat32).contiguous();
  for (std::size_t c = 0; c < expected.size(); ++c)
    for (int i = 0; i < 4; ++i) {
      const float v = a[0][int64_t(c)][i / 2][i % 2].item<float>();
      if (std::abs(v - expected[c][std::size_t(i)]) > 1e-5f)
        QFAIL(qPrintable(QStringLiteral("channel %1 pixel %2: %3 != %4").arg(c).arg(i).arg(v).arg(expected[c][std::size_t(i)])));
    }
}

Image randomImage(int w, int h, ColorOrder order, PixelDepth depth, unsigned seed) {
  Image img(w, h, order, depth);
  std::mt19937 rng(seed);
  const std::size_t n = std::size_t(w) * h * img.channels();
  if (depth == PixelDepth::U8)
    for (std::size_t i = 0; i < n; ++i) img.data()[i] = std::uint8_t(rng() & 0xFF);
  else
    for (std::size_t i = 0; i < n; ++i) reinterpret_cast<std::uint16_t*>(img.data())[i] = std::uint16_t(rng() & 0xFFFF);
  return img;
}
}  // namespace

class TestTensorConvert : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldScaleAndNormalise();
  void shouldScaleWithoutStats();
  void shouldSwapToBgrWhenModelWantsBgr();
  void shouldSwapBgrImageToRgb();
  void shouldKeepBgrImageForBgrModel();
  void shouldKeepAlphaLastWhenSwapping();
  void shouldConvertGrayToOneChannel();
  void shouldConvertU16Input();
  void shouldRoundTripExactly_data();
  void shouldRoundTripExactly();
  void shouldClampAndRoundWhenConvertingBack();
  void shouldRejectWrongStats_data();
  void shouldRejectWrongStats();
  void shouldRejectEmptyImage();
  void shouldRejectBadTensors_data();
  void shouldRejectBadTensors();
  void shouldRejectUndefinedTensor();
  void shouldReportUnavailableCudaAsError();
};

void TestTensorConvert::shouldScaleAndNormalise() {
  // Hand computation with mean (0.5, 0.25, 0), std (0.5, 0.25, 2), x/255 first:
  //   R: 1, 0, 0.2, 0.8        -> (x - 0.5) / 0.5  = 1, -1, -0.6, 0.6
  //   G: 0, 1, 0.4, 0.6        -> (x - 0.25) / 0.25 = -1, 3, 0.6, 1.4
  //   B: 0.2, 0.4, 1, 0        -> x / 2            = 0.1, 0.2, 0.5, 0
  TensorSpec spec;
  spec.mean = {0.5f, 0.25f, 0.f};
  spec.std = {0.5f, 0.25f, 2.f};
  const auto t = imageToTensor(twoByTwo(), spec);
  QVERIFY(t.ok());
  QCOMPARE(t->scalar_type(), torch::kFloat32);
  expectValues(*t, {{1, -1, -0.6f, 0.6f}, {-1, 3, 0.6f, 1.4f}, {0.1f, 0.2f, 0.5f, 0}});
}

void TestTensorConvert::shouldScaleWithoutStats() {
  TensorSpec spec;
  spec.scale = 1.f;
  const auto t = imageToTensor(twoByTwo(), spec);
  QVERIFY(t.ok());
  expectValues(*t, {{255, 0, 51, 204}, {0, 255, 102, 153}, {51, 102, 255, 0}});
}

void TestTensorConvert::shouldSwapToBgrWhenModelWantsBgr() {
  // Mean/std are given in the model's channel order: mean[0] applies to blue here.
  TensorSpec spec;
  spec.scale = 1.f;
  spec.bgr = true;
  spec.mean = {1.f, 0.f, 0.f};
  const auto t = imageToTensor(twoByTwo(), spec);
  QVERIFY(t.ok());
  expectValues(*t, {{50, 101, 254, -1}, {0, 255, 102, 153}, {255, 0, 51, 204}});
}

void TestTensorConvert::shouldSwapBgrImageToRgb() {
  TensorSpec spec;
  spec.scale = 1.f;
  const auto t = imageToTensor(twoByTwo(ColorOrder::BGR), spec);  // same colours, stored B, G, R
  QVERIFY(t.ok());
  expectValues(*t, {{255, 0, 51, 204}, {0, 255, 102, 153}, {51, 102, 255, 0}});
}

void TestTensorConvert::shouldKeepBgrImageForBgrModel() {
  TensorSpec spec;
  spec.scale = 1.f;
  spec.bgr = true;
  const auto t = imageToTensor(twoByTwo(ColorOrder::BGR), spec);
  QVERIFY(t.ok());
  expectValues(*t, {{51, 102, 255, 0}, {0, 255, 102, 153}, {255, 0, 51, 204}});
}

void TestTensorConvert::shouldKeepAlphaLastWhenSwapping() {
  Image img(2, 2, ColorOrder::RGBA);
  for (int i = 0; i < 4; ++i) {
    img.data()[i * 4 + 0] = 10;
    img.data()[i * 4 + 1] = 20;
    img.data()[i * 4 + 2] = 30;
    img.data()[i * 4 + 3] = std::uint8_t(40 + i);
  }
  TensorSpec spec;
  spec.scale = 1.f;
  spec.bgr = true;
  const auto t = imageToTensor(img, spec);
  QVERIFY(t.ok());
  expectValues(*t, {{30, 30, 30, 30}, {20, 20, 20, 20}, {10, 10, 10, 10}, {40, 41, 42, 43}});
}

void TestTensorConvert::shouldConvertGrayToOneChannel() {
  Image img(2, 2, ColorOrder::Gray);
  img.data()[0] = 0; img.data()[1] = 51; img.data()[2] = 102; img.data()[3] = 255;
  TensorSpec spec;
  spec.bgr = true;  // irrelevant for one channel
  spec.mean = {0.2f};
  const auto t = imageToTensor(img, spec);
  QVERIFY(t.ok());
  expectValues(*t, {{-0.2f, 0.f, 0.2f, 0.8f}});  // x/255 - 0.2 by hand
}

void TestTensorConvert::shouldConvertU16Input() {
  // 16-bit samples with scale 1/65535 (by hand: 0, 1, 257/65535 = 1/255, 32768/65535).
  Image img(2, 2, ColorOrder::Gray, PixelDepth::U16);
  auto* p = reinterpret_cast<std::uint16_t*>(img.data());
  p[0] = 0; p[1] = 65535; p[2] = 257; p[3] = 32768;
  TensorSpec spec;
  spec.scale = 1.f / 65535.f;
  const auto t = imageToTensor(img, spec);
  QVERIFY(t.ok());
  expectValues(*t, {{0.f, 1.f, 1.f / 255.f, 32768.f / 65535.f}});
}

void TestTensorConvert::shouldRoundTripExactly_data() {
  QTest::addColumn<int>("depth");
  QTest::addColumn<int>("order");
  QTest::addColumn<bool>("bgr");
  QTest::addColumn<bool>("withStats");
  QTest::newRow("u8 rgb") << int(PixelDepth::U8) << int(ColorOrder::RGB) << false << false;
  QTest::newRow("u8 rgb, imagenet stats, bgr model") << int(PixelDepth::U8) << int(ColorOrder::RGB) << true << true;
  QTest::newRow("u8 gray") << int(PixelDepth::U8) << int(ColorOrder::Gray) << false << false;
  QTest::newRow("u8 rgba") << int(PixelDepth::U8) << int(ColorOrder::RGBA) << true << false;
  QTest::newRow("u16 rgb") << int(PixelDepth::U16) << int(ColorOrder::RGB) << false << false;
  QTest::newRow("u16 rgb, stats") << int(PixelDepth::U16) << int(ColorOrder::RGB) << true << true;
  QTest::newRow("u16 gray") << int(PixelDepth::U16) << int(ColorOrder::Gray) << false << false;
}

void TestTensorConvert::shouldRoundTripExactly() {
  // Reference: the original bytes. image -> tensor -> image must reproduce every sample.
  QFETCH(int, depth);
  QFETCH(int, order);
  QFETCH(bool, bgr);
  QFETCH(bool, withStats);
  const Image img = randomImage(17, 13, ColorOrder(order), PixelDepth(depth), 7);
  TensorSpec spec;
  spec.scale = depth == int(PixelDepth::U16) ? 1.f / 65535.f : 1.f / 255.f;
  spec.bgr = bgr;
  if (withStats) {
    spec.mean = {0.485f, 0.456f, 0.406f};
    spec.std = {0.229f, 0.224f, 0.225f};
  }
  const auto t = imageToTensor(img, spec);
  QVERIFY(t.ok());
  QCOMPARE(t->size(2), int64_t(13));
  QCOMPARE(t->size(3), int64_t(17));
  const auto back = tensorToImage(*t, spec, PixelDepth(depth));
  QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
  const ColorOrder expectedOrder = ColorOrder(order);
  QCOMPARE(int(back->order()), int(expectedOrder));
  QCOMPARE(back->width(), 17);
  QCOMPARE(back->height(), 13);
  QCOMPARE(back->byteSize(), img.byteSize());
  QVERIFY(std::equal(img.data(), img.data() + img.byteSize(), back->data()));

  // Also from [C, H, W] (no batch axis).
  const auto back3 = tensorToImage(t->squeeze(0), spec, PixelDepth(depth));
  QVERIFY(back3.ok());
  QVERIFY(std::equal(img.data(), img.data() + img.byteSize(), back3->data()));
}

void TestTensorConvert::shouldClampAndRoundWhenConvertingBack() {
  // Values (times 255): -1 -> 0, 0.4 -> 0, 0.6 -> 1, 300 -> 255, NaN -> 0 (no value), 127.5 -> 128.
  TensorSpec spec;
  spec.scale = 1.f;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto t = torch::tensor({-1.f, 0.4f, 0.6f, 300.f, nan, 127.5f}).view({1, 1, 2, 3});
  const auto img = tensorToImage(t, spec);
  QVERIFY(img.ok());
  QCOMPARE(img->order(), ColorOrder::Gray);
  const std::vector<int> expected = {0, 0, 1, 255, 0, 128};
  for (int i = 0; i < 6; ++i) QCOMPARE(int(img->data()[i]), expected[std::size_t(i)]);
}

void TestTensorConvert::shouldRejectWrongStats_data() {
  QTest::addColumn<QVector<float>>("mean");
  QTest::addColumn<QVector<float>>("std");
  QTest::newRow("mean has 1 value for 3 channels") << QVector<float>{0.5f} << QVector<float>{};
  QTest::newRow("mean has 4 values") << QVector<float>{0.1f, 0.2f, 0.3f, 0.4f} << QVector<float>{};
  QTest::newRow("std has 2 values") << QVector<float>{} << QVector<float>{1.f, 1.f};
  QTest::newRow("std contains 0") << QVector<float>{} << QVector<float>{1.f, 0.f, 1.f};
}

void TestTensorConvert::shouldRejectWrongStats() {
  QFETCH(QVector<float>, mean);
  QFETCH(QVector<float>, std);
  TensorSpec spec;
  spec.mean.assign(mean.begin(), mean.end());
  spec.std.assign(std.begin(), std.end());
  const auto t = imageToTensor(twoByTwo(), spec);
  QVERIFY(!t.ok());
  QCOMPARE(t.error().code, ErrorCode::InvalidArgument);
  QVERIFY(!t.error().message.empty());
  const auto img = tensorToImage(torch::zeros({1, 3, 2, 2}), spec);
  QVERIFY(!img.ok());
  QCOMPARE(img.error().code, ErrorCode::InvalidArgument);
}

void TestTensorConvert::shouldRejectEmptyImage() {
  const auto t = imageToTensor(Image(), TensorSpec{});
  QVERIFY(!t.ok());
  QCOMPARE(t.error().code, ErrorCode::InvalidArgument);
}

void TestTensorConvert::shouldRejectBadTensors_data() {
  QTest::addColumn<QVector<qint64>>("shape");
  QTest::newRow("5-D") << QVector<qint64>{1, 1, 3, 2, 2};
  QTest::newRow("2-D") << QVector<qint64>{2, 2};
  QTest::newRow("5 channels") << QVector<qint64>{1, 5, 2, 2};
  QTest::newRow("0 channels") << QVector<qint64>{1, 0, 2, 2};
  QTest::newRow("batch of 2") << QVector<qint64>{2, 3, 2, 2};
}

void TestTensorConvert::shouldRejectBadTensors() {
  QFETCH(QVector<qint64>, shape);
  std::vector<int64_t> dims(shape.begin(), shape.end());
  const auto img = tensorToImage(torch::zeros(dims), TensorSpec{});
  QVERIFY(!img.ok());
  QCOMPARE(img.error().code, ErrorCode::InvalidArgument);
  QVERIFY(!img.error().message.empty());
}

void TestTensorConvert::shouldRejectUndefinedTensor() {
  const auto img = tensorToImage(torch::Tensor(), TensorSpec{});
  QVERIFY(!img.ok());
  QCOMPARE(img.error().code, ErrorCode::InvalidArgument);
}

void TestTensorConvert::shouldReportUnavailableCudaAsError() {
  TensorSpec spec;
  spec.device = torch::Device(torch::kCUDA, 0);
  const auto t = imageToTensor(twoByTwo(), spec);  // must not throw
  if (torch::cuda::is_available()) {
    // On a GPU machine the CUDA path must give the CPU values (hand computation as in shouldScaleWithoutStats).
    QVERIFY(t.ok());
    QVERIFY(t->is_cuda());
    TensorSpec cpu;
    cpu.scale = spec.scale = 1.f;
    const auto onGpu = imageToTensor(twoByTwo(), spec);
    QVERIFY(onGpu.ok());
    expectValues(*onGpu, {{255, 0, 51, 204}, {0, 255, 102, 153}, {51, 102, 255, 0}});
    const auto back = tensorToImage(*onGpu, spec);
    QVERIFY(back.ok());
    const Image ref = twoByTwo();
    QVERIFY(std::equal(ref.data(), ref.data() + ref.byteSize(), back->data()));
  } else {
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::DeviceUnavailable);
  }
}

QTEST_GUILESS_MAIN(TestTensorConvert)
#include "test_tensor_convert.moc"
