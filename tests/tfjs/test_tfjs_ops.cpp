// TF.js graph runtime, op by op, on small graphs the test writes itself (model.json + one shard).
// Every expected value is computed independently of LibTorch: by hand (the numbers in the comments) or by
// a naive loop written from TensorFlow's definition of the op (NHWC, HWIO filters, SAME padding with the
// odd pixel at the bottom/right, depthwise output channel c * multiplier + m, valid-count average pooling).

#include <QTemporaryDir>
#include <QtTest>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

#include "runtime/tfjs/TfjsGraph.h"

using loupe::runtime::tfjs::GraphModel;
using nlohmann::json;

namespace {

// Builds a graph: nodes as GraphDef JSON, constants appended to one shard in manifest order.
struct GraphBuilder {
  json nodes = json::array();
  json weights = json::array();
  std::string bytes;

  void placeholder(const std::string& name, const std::vector<long>& shape) {
    json dims = json::array();
    for (long d : shape) dims.push_back({{"size", std::to_string(d)}});
    nodes.push_back({{"name", name}, {"op", "Placeholder"},
                     {"attr", {{"dtype", {{"type", "DT_FLOAT"}}}, {"shape", {{"shape", {{"dim", dims}}}}}}}});
  }
  void constNode(const std::string& name, const json& entry) {
    nodes.push_back({{"name", name}, {"op", "Const"}, {"attr", {{"dtype", {{"type", "DT_FLOAT"}}}}}});
    weights.push_back(entry);
  }
  void floats(const std::string& name, const std::vector<long>& shape, const std::vector<float>& v) {
    constNode(name, {{"name", name}, {"shape", shape}, {"dtype", "float32"}});
    bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  }
  void ints(const std::string& name, const std::vector<long>& shape, const std::vector<std::int32_t>& v) {
    constNode(name, {{"name", name}, {"shape", shape}, {"dtype", "int32"}});
    bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  }
  void op(const std::string& name, const std::string& op, const std::vector<std::string>& inputs, json attr = json::object()) {
    nodes.push_back({{"name", name}, {"op", op}, {"input", inputs}, {"attr", attr}});
  }
  // Writes model.json + weights.bin; `shardBytes` < 0 writes all bytes, else only that many.
  QString write(const QTemporaryDir& dir, long shardBytes = -1) const {
    json doc = {{"format", "graph-model"},
                {"modelTopology", {{"node", nodes}}},
                {"weightsManifest", json::array({{{"paths", {"weights.bin"}}, {"weights", weights}}})}};
    std::ofstream(dir.filePath("model.json").toStdString()) << doc.dump();
    std::ofstream bin(dir.filePath("weights.bin").toStdString(), std::ios::binary);
    bin.write(bytes.data(), shardBytes < 0 ? static_cast<long>(bytes.size()) : shardBytes);
    return dir.filePath("model.json");
  }
};

std::string b64(const std::string& s) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : s) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(chars[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(chars[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

json listI(std::vector<int> v) {
  json a = json::array();
  for (int x : v) a.push_back(std::to_string(x));
  return {{"list", {{"i", a}}}};
}
json str(const std::string& s) { return {{"s", b64(s)}}; }
json windowAttrs(const std::string& padding, int stride, int dilation = 1) {
  return {{"padding", str(padding)}, {"strides", listI({1, stride, stride, 1})},
          {"dilations", listI({1, dilation, dilation, 1})}, {"data_format", str("NHWC")}};
}

std::vector<float> ramp(int n, float start = 1.f, float step = 1.f) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + step * i;
  return v;
}

torch::Tensor nhwc(const std::vector<float>& v, long h, long w, long c) {
  return torch::tensor(v).reshape({1, h, w, c});
}

torch::Tensor runOne(const QString& model, const torch::Tensor& input, const std::string& out) {
  auto g = GraphModel::load(model.toStdString());
  if (!g) qFatal("%s", g.error().message.c_str());
  auto r = g->execute({{"x", input}}, {out});
  if (!r) qFatal("%s", r.error().message.c_str());
  return r->at(0).to(torch::kCPU).contiguous();
}

// Naive TensorFlow conv (NHWC input, HWIO or depthwise HWCM filter), padding per TF's definition.
std::vector<float> naiveConv(const std::vector<float>& x, int H, int W, int C, const std::vector<float>& f, int KH,
                             int KW, int M, bool depthwise, int stride, bool same, int* outH, int* outW, int* outC) {
  int oh, ow, padTop = 0, padLeft = 0;
  if (same) {
    oh = (H + stride - 1) / stride;
    ow = (W + stride - 1) / stride;
    const int totalH = std::max((oh - 1) * stride + KH - H, 0), totalW = std::max((ow - 1) * stride + KW - W, 0);
    padTop = totalH / 2;  // floor: the odd pixel goes to the bottom / right
    padLeft = totalW / 2;
  } else {
    oh = (H - KH) / stride + 1;
    ow = (W - KW) / stride + 1;
  }
  const int OC = depthwise ? C * M : M;
  std::vector<float> y(static_cast<std::size_t>(oh) * ow * OC, 0.f);
  for (int i = 0; i < oh; ++i)
    for (int j = 0; j < ow; ++j)
      for (int o = 0; o < OC; ++o) {
        double acc = 0;
        for (int a = 0; a < KH; ++a)
          for (int b = 0; b < KW; ++b) {
            const int yy = i * stride + a - padTop, xx = j * stride + b - padLeft;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            if (depthwise) {
              const int c = o / M, m = o % M;
              acc += x[(yy * W + xx) * C + c] * f[((a * KW + b) * C + c) * M + m];
            } else {
              for (int c = 0; c < C; ++c) acc += x[(yy * W + xx) * C + c] * f[((a * KW + b) * C + c) * M + o];
            }
          }
        y[(i * ow + j) * OC + o] = static_cast<float>(acc);
      }
  *outH = oh;
  *outW = ow;
  *outC = OC;
  return y;
}

void expectClose(const torch::Tensor& got, const std::vector<float>& want, const std::vector<long>& shape,
                 double tol = 1e-4) {
  QCOMPARE(got.sizes().vec(), std::vector<int64_t>(shape.begin(), shape.end()));
  QCOMPARE(static_cast<std::size_t>(got.numel()), want.size());
  const float* g = got.data_ptr<float>();
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::abs(g[i] - want[i]) > tol * std::max(1.0, std::abs(double(want[i]))))
      QFAIL(qPrintable(QString("element %1: got %2, want %3").arg(i).arg(g[i]).arg(want[i])));
}

}  // namespace

class TestTfjsOps : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void samePaddingPutsTheOddPixelBottomRight();
  void samePaddingMatchesNaiveConvolution_data();
  void samePaddingMatchesNaiveConvolution();
  void depthwiseWithMultiplier();
  void fusedConvBiasRelu();
  void stridedSliceMasks();
  void poolingSame();
  void resizeBilinearWithoutHalfPixelCentres();
  void reductionsReshapeExpandPadSoftmax();
  void fusedMatMul();
  void dequantisesFloat16AndUint8();
  void unknownOpIsNamed();
  void truncatedShardIsReported();
  void badFeedShapeIsReported();
};

void TestTfjsOps::samePaddingPutsTheOddPixelBottomRight() {
  // x = 1..16 in a 4x4 image (row-major). 3x3 all-ones kernel, stride 2, SAME: output 2x2, total padding
  // (2-1)*2 + 3 - 4 = 1 per axis, all of it at the bottom/right. Hand sums:
  //   out[0][0] = rows 0-2, cols 0-2 = 1+2+3+5+6+7+9+10+11 = 54
  //   out[0][1] = rows 0-2, cols 2-3 = 3+4+7+8+11+12 = 45
  //   out[1][0] = rows 2-3, cols 0-2 = 9+10+11+13+14+15 = 72
  //   out[1][1] = rows 2-3, cols 2-3 = 11+12+15+16 = 54
  // (Symmetric-first padding, top/left, would give 1+2+5+6 = 14 for out[0][0].)
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, 4, 4, 1});
  g.floats("w", {3, 3, 1, 1}, std::vector<float>(9, 1.f));
  g.op("y", "Conv2D", {"x", "w"}, windowAttrs("SAME", 2));
  auto y = runOne(g.write(dir), nhwc(ramp(16), 4, 4, 1), "y");
  expectClose(y, {54, 45, 72, 54}, {1, 2, 2, 1});

  // 2x2 kernel, stride 1, SAME on the same image: padding 1 at the bottom/right only.
  //   out[0][0] = 1+2+5+6 = 14, out[0][3] = 4+8 = 12, out[3][0] = 13+14 = 27, out[3][3] = 16
  QTemporaryDir dir2;
  GraphBuilder g2;
  g2.placeholder("x", {1, 4, 4, 1});
  g2.floats("w", {2, 2, 1, 1}, std::vector<float>(4, 1.f));
  g2.op("y", "Conv2D", {"x", "w"}, windowAttrs("SAME", 1));
  auto y2 = runOne(g2.write(dir2), nhwc(ramp(16), 4, 4, 1), "y");
  QCOMPARE(y2.sizes().vec(), (std::vector<int64_t>{1, 4, 4, 1}));
  QCOMPARE(y2[0][0][0][0].item<float>(), 14.f);
  QCOMPARE(y2[0][0][3][0].item<float>(), 12.f);
  QCOMPARE(y2[0][3][0][0].item<float>(), 27.f);
  QCOMPARE(y2[0][3][3][0].item<float>(), 16.f);
}

void TestTfjsOps::samePaddingMatchesNaiveConvolution_data() {
  QTest::addColumn<int>("H");
  QTest::addColumn<int>("W");
  QTest::addColumn<int>("K");
  QTest::addColumn<int>("stride");
  QTest::addColumn<bool>("same");
  QTest::newRow("even kernel, stride 1") << 5 << 6 << 2 << 1 << true;
  QTest::newRow("even kernel, stride 2, odd size") << 5 << 5 << 2 << 2 << true;
  QTest::newRow("odd kernel, stride 2, even size") << 6 << 8 << 3 << 2 << true;
  QTest::newRow("4x4 kernel, stride 3") << 7 << 9 << 4 << 3 << true;
  QTest::newRow("valid, stride 2") << 7 << 6 << 3 << 2 << false;
}

void TestTfjsOps::samePaddingMatchesNaiveConvolution() {
  QFETCH(int, H);
  QFETCH(int, W);
  QFETCH(int, K);
  QFETCH(int, stride);
  QFETCH(bool, same);
  const int C = 2, M = 3;
  const auto x = ramp(H * W * C, -3.f, 0.37f);
  const auto f = ramp(K * K * C * M, 0.5f, -0.11f);
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, H, W, C});
  g.floats("w", {K, K, C, M}, f);
  g.op("y", "Conv2D", {"x", "w"}, windowAttrs(same ? "SAME" : "VALID", stride));
  int oh, ow, oc;
  const auto want = naiveConv(x, H, W, C, f, K, K, M, false, stride, same, &oh, &ow, &oc);
  expectClose(runOne(g.write(dir), nhwc(x, H, W, C), "y"), want, {1, oh, ow, oc});
}

void TestTfjsOps::depthwiseWithMultiplier() {
  // 3 input channels, multiplier 2: output channel c*2 + m, filter [3, 3, 3, 2]; SAME, stride 2 on 5x6.
  const int H = 5, W = 6, C = 3, M = 2, K = 3;
  const auto x = ramp(H * W * C, 1.f, 0.5f);
  const auto f = ramp(K * K * C * M, -1.f, 0.07f);
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, H, W, C});
  g.floats("w", {K, K, C, M}, f);
  g.op("y", "DepthwiseConv2dNative", {"x", "w"}, windowAttrs("SAME", 2));
  int oh, ow, oc;
  const auto want = naiveConv(x, H, W, C, f, K, K, M, true, 2, true, &oh, &ow, &oc);
  QCOMPARE(oc, 6);
  expectClose(runOne(g.write(dir), nhwc(x, H, W, C), "y"), want, {1, oh, ow, oc});
  // Hand check of one value: 1x1 depthwise on a single pixel [1, 2, 3] with filter [[a0 a1][b0 b1][c0 c1]]
  // = [1,2,3,4,5,6] gives [1*1, 1*2, 2*3, 2*4, 3*5, 3*6] = [1, 2, 6, 8, 15, 18].
  QTemporaryDir dir2;
  GraphBuilder g2;
  g2.placeholder("x", {1, 1, 1, 3});
  g2.floats("w", {1, 1, 3, 2}, {1, 2, 3, 4, 5, 6});
  g2.op("y", "DepthwiseConv2dNative", {"x", "w"}, windowAttrs("VALID", 1));
  expectClose(runOne(g2.write(dir2), nhwc({1, 2, 3}, 1, 1, 3), "y"), {1, 2, 6, 8, 15, 18}, {1, 1, 1, 6});
}

void TestTfjsOps::fusedConvBiasRelu() {
  const int H = 4, W = 4, C = 2, M = 2, K = 3;
  const auto x = ramp(H * W * C, -4.f, 0.3f);
  const auto f = ramp(K * K * C * M, 0.2f, -0.05f);
  const std::vector<float> bias = {0.5f, -3.f};
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, H, W, C});
  g.floats("w", {K, K, C, M}, f);
  g.floats("b", {M}, bias);
  json attrs = windowAttrs("SAME", 1);
  attrs["fused_ops"] = {{"list", {{"s", {b64("BiasAdd"), b64("Relu")}}}}};
  attrs["num_args"] = {{"i", "1"}};
  g.op("y", "_FusedConv2D", {"x", "w", "b"}, attrs);
  int oh, ow, oc;
  auto want = naiveConv(x, H, W, C, f, K, K, M, false, 1, true, &oh, &ow, &oc);
  bool someNegative = false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    want[i] += bias[i % M];
    someNegative |= want[i] < 0;
    want[i] = std::max(want[i], 0.f);
  }
  QVERIFY(someNegative);  // the Relu matters in this case
  expectClose(runOne(g.write(dir), nhwc(x, H, W, C), "y"), want, {1, oh, ow, oc});

  // An unsupported fusion (FusedBatchNorm) is refused at load time, naming the node.
  QTemporaryDir dir2;
  GraphBuilder g2;
  g2.placeholder("x", {1, H, W, C});
  g2.floats("w", {K, K, C, M}, f);
  attrs["fused_ops"] = {{"list", {{"s", {b64("FusedBatchNorm")}}}}};
  g2.op("bn", "_FusedConv2D", {"x", "w"}, attrs);
  auto bad = GraphModel::load(g2.write(dir2).toStdString());
  QVERIFY(!bad);
  QVERIFY2(bad.error().message.find("FusedBatchNorm") != std::string::npos, bad.error().message.c_str());
  QVERIFY(bad.error().message.find("bn") != std::string::npos);
}

void TestTfjsOps::stridedSliceMasks() {
  // x[i][j][k] = 100 i + 10 j + k, shape [2, 3, 4].
  std::vector<float> x;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) x.push_back(100.f * i + 10.f * j + k);
  auto input = torch::tensor(x).reshape({2, 3, 4});
  struct Case {
    const char* what;
    std::vector<std::int32_t> begin, end, strides;
    int beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask;
    std::vector<long> shape;
    std::vector<float> want;
  };
  const std::vector<Case> cases = {
      // x[1, :, ::-2]: shrink axis 0, full axis 1, reversed stride 2 on axis 2 -> [x[1,j,3], x[1,j,1]]
      {"x[1, :, ::-2]", {1, 0, 0}, {2, 0, 0}, {1, 1, -2}, 0b110, 0b110, 0, 0, 0b001, {3, 2},
       {103, 101, 113, 111, 123, 121}},
      // x[..., 1:3] (ellipsis first) -> shape [2, 3, 2]
      {"x[..., 1:3]", {0, 1}, {0, 3}, {1, 1}, 0, 0, 0b01, 0, 0, {2, 3, 2},
       {1, 2, 11, 12, 21, 22, 101, 102, 111, 112, 121, 122}},
      // x[:, newaxis, -1, 0:4:3]: new axis, negative shrink index, stride 3 -> shape [2, 1, 2]
      {"x[:, newaxis, -1, 0:4:3]", {0, 0, -1, 0}, {0, 0, 0, 4}, {1, 1, 1, 3}, 0b0001, 0b0001, 0, 0b0010, 0b0100,
       {2, 1, 2}, {20, 23, 120, 123}},
      // x[-1:, 1] (implicit trailing ellipsis; end clamped) -> shape [1, 4]
      {"x[-1:, 1]", {-1, 1}, {10, 2}, {1, 1}, 0, 0, 0, 0, 0b10, {1, 4}, {110, 111, 112, 113}},
      // x[1::-1, 2:0:-1, 3] : negative strides with begin past... -> shape [2, 2]: x[1][2][3], x[1][1][3], x[0][2][3], x[0][1][3]
      {"x[1::-1, 2:0:-1, 3]", {1, 2, 3}, {0, 0, 4}, {-1, -1, 1}, 0, 0b001, 0, 0, 0b100, {2, 2}, {123, 113, 23, 13}},
  };
  for (const auto& c : cases) {
    QTemporaryDir dir;
    GraphBuilder g;
    g.placeholder("x", {2, 3, 4});
    const long n = static_cast<long>(c.begin.size());
    g.ints("b", {n}, c.begin);
    g.ints("e", {n}, c.end);
    g.ints("s", {n}, c.strides);
    g.op("y", "StridedSlice", {"x", "b", "e", "s"},
         {{"begin_mask", {{"i", std::to_string(c.beginMask)}}}, {"end_mask", {{"i", std::to_string(c.endMask)}}},
          {"ellipsis_mask", {{"i", std::to_string(c.ellipsisMask)}}},
          {"new_axis_mask", {{"i", std::to_string(c.newAxisMask)}}},
          {"shrink_axis_mask", {{"i", std::to_string(c.shrinkMask)}}}});
    qInfo("%s", c.what);
    expectClose(runOne(g.write(dir), input, "y"), c.want, c.shape);
  }
}

void TestTfjsOps::poolingSame() {
  // 3x3 image 1..9, 3x3 window, stride 1, SAME (padding 1 on each side).
  // MaxPool: out[0][0] = max(1,2,4,5) = 5; out[1][1] = 9.
  // AvgPool counts only real pixels: out[0][0] = (1+2+4+5)/4 = 3; out[0][1] = (1+2+3+4+5+6)/6 = 3.5;
  //   out[1][1] = 45/9 = 5; out[2][2] = (5+6+8+9)/4 = 7.
  for (const char* op : {"MaxPool", "AvgPool"}) {
    QTemporaryDir dir;
    GraphBuilder g;
    g.placeholder("x", {1, 3, 3, 1});
    json attrs = windowAttrs("SAME", 1);
    attrs.erase("dilations");
    attrs["ksize"] = listI({1, 3, 3, 1});
    g.op("y", op, {"x"}, attrs);
    auto y = runOne(g.write(dir), nhwc(ramp(9), 3, 3, 1), "y");
    if (std::string(op) == "MaxPool") expectClose(y, {5, 6, 6, 8, 9, 9, 8, 9, 9}, {1, 3, 3, 1});
    else expectClose(y, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}, {1, 3, 3, 1});
  }
  // MaxPool 2x2 stride 2 SAME on a 3x3 image: output 2x2, pad 1 at the bottom/right:
  // [max(1,2,4,5), max(3,6)], [max(7,8), 9] = [5, 6, 8, 9].
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, 3, 3, 1});
  json attrs = windowAttrs("SAME", 2);
  attrs.erase("dilations");
  attrs["ksize"] = listI({1, 2, 2, 1});
  g.op("y", "MaxPool", {"x"}, attrs);
  expectClose(runOne(g.write(dir), nhwc(ramp(9), 3, 3, 1), "y"), {5, 6, 8, 9}, {1, 2, 2, 1});
}

void TestTfjsOps::resizeBilinearWithoutHalfPixelCentres() {
  // [[0, 1], [2, 3]] -> 4x4. TF.js default (no align corners, no half-pixel centres): source = dst * 0.5,
  // upper neighbour clamped to the last pixel. Rows sample 0, 0.5, 1, 1.5 -> rows [0, 1] lerped by 0, .5, 0, .5
  // with row 1.5 = row 1. Row 0: 0, 0.5, 1, 1; row 1: 1, 1.5, 2, 2; rows 2 and 3: 2, 2.5, 3, 3.
  // With half_pixel_centers, source = (dst + .5) * .5 - .5 = -.25, .25, .75, 1.25 -> row 0: 0, .25, .75, 1.
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, 2, 2, 1});
  g.ints("size", {2}, {4, 4});
  g.op("y", "ResizeBilinear", {"x", "size"}, {{"align_corners", {{"b", false}}}, {"half_pixel_centers", {{"b", false}}}});
  g.op("h", "ResizeBilinear", {"x", "size"}, {{"align_corners", {{"b", false}}}, {"half_pixel_centers", {{"b", true}}}});
  g.op("a", "ResizeBilinear", {"x", "size"}, {{"align_corners", {{"b", true}}}, {"half_pixel_centers", {{"b", false}}}});
  const auto model = g.write(dir);
  const auto x = nhwc({0, 1, 2, 3}, 2, 2, 1);
  expectClose(runOne(model, x, "y"), {0, .5, 1, 1, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 2, 2.5, 3, 3}, {1, 4, 4, 1});
  auto h = runOne(model, x, "h");
  expectClose(h.slice(1, 0, 1), {0, .25, .75, 1}, {1, 1, 4, 1});
  // align_corners: source = dst * (2-1)/(4-1) = 0, 1/3, 2/3, 1 -> row 0: 0, 1/3, 2/3, 1.
  expectClose(runOne(model, x, "a").slice(1, 0, 1), {0, 1.f / 3, 2.f / 3, 1}, {1, 1, 4, 1});
}

void TestTfjsOps::reductionsReshapeExpandPadSoftmax() {
  // x = [[1, 2, 3], [4, 5, 6]] (2x3).
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {2, 3});
  g.ints("ax1", {1}, {1});
  g.ints("axneg", {1}, {-2});
  g.ints("shape", {3}, {3, -1, 1});
  g.ints("zero", {}, {0});
  g.ints("pads", {2, 2}, {1, 0, 0, 2});
  g.op("mean", "Mean", {"x", "ax1"}, {{"keep_dims", {{"b", false}}}});   // [2, 5]
  g.op("max", "Max", {"x", "axneg"}, {{"keep_dims", {{"b", true}}}});    // [[4, 5, 6]]
  g.op("reshape", "Reshape", {"x", "shape"});                          // shape [3, 2, 1]
  g.op("expand", "ExpandDims", {"x", "zero"});                         // shape [1, 2, 3]
  g.op("pad", "Pad", {"x", "pads"});                                   // one row above, two columns right
  g.op("softmax", "Softmax", {"x"});
  g.op("div", "RealDiv", {"x", "mean"});  // broadcasting [2,3] / [2] fails in TF too: not used
  g.op("sub", "Sub", {"x", "x"});
  g.op("relu6", "Relu6", {"x"});
  const auto model = g.write(dir);
  const auto x = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({2, 3});
  expectClose(runOne(model, x, "mean"), {2, 5}, {2});
  expectClose(runOne(model, x, "max"), {4, 5, 6}, {1, 3});
  expectClose(runOne(model, x, "reshape"), {1, 2, 3, 4, 5, 6}, {3, 2, 1});
  expectClose(runOne(model, x, "expand"), {1, 2, 3, 4, 5, 6}, {1, 2, 3});
  expectClose(runOne(model, x, "pad"), {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0}, {3, 5});
  expectClose(runOne(model, x, "relu6"), {1, 2, 3, 4, 5, 6}, {2, 3});
  // softmax of [1, 2, 3]: e^k / (e + e^2 + e^3) computed in double here.
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const float p0 = float(std::exp(1.0) / s), p1 = float(std::exp(2.0) / s), p2 = float(std::exp(3.0) / s);
  expectClose(runOne(model, x, "softmax"), {p0, p1, p2, p0, p1, p2}, {2, 3});
  // A failing op is an error naming the node, not an exception.
  auto gm = GraphModel::load(model.toStdString());
  QVERIFY(gm.ok());
  auto r = gm->execute({{"x", x}}, {"div"});
  QVERIFY(!r);
  QVERIFY2(r.error().message.find("node div (RealDiv)") != std::string::npos, r.error().message.c_str());
}

void TestTfjsOps::fusedMatMul() {
  // [1, 2] x [[1, 2, 3], [4, 5, 6]] = [9, 12, 15]; + bias [-10, 0, 1] = [-1, 12, 16]; Relu -> [0, 12, 16].
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {-1, 2});
  g.floats("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  g.floats("b", {3}, {-10, 0, 1});
  g.op("y", "_FusedMatMul", {"x", "w", "b"},
       {{"fused_ops", {{"list", {{"s", {b64("BiasAdd"), b64("Relu")}}}}}}, {"transpose_a", {{"b", false}}},
        {"transpose_b", {{"b", false}}}});
  expectClose(runOne(g.write(dir), torch::tensor({1.f, 2.f}).reshape({1, 2}), "y"), {0, 12, 16}, {1, 3});
}

void TestTfjsOps::dequantisesFloat16AndUint8() {
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1});
  // float16 bit patterns (IEEE 754 binary16): 0x3C00 = 1, 0xC000 = -2, 0x3800 = 0.5, 0x7BFF = 65504 (largest),
  // 0x0001 = 2^-24 (smallest subnormal), 0x3555 = 0.333251953125.
  const std::uint16_t halves[] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x3555};
  g.constNode("h", {{"name", "h"}, {"shape", {6}}, {"dtype", "float32"},
                    {"quantization", {{"dtype", "float16"}, {"original_dtype", "float32"}}}});
  g.bytes.append(reinterpret_cast<const char*>(halves), sizeof halves);
  // uint8 with min -1, scale 0.5: q = 0, 1, 2, 255 -> -1, -0.5, 0, 126.5 (value = min + scale * q).
  const unsigned char q8[] = {0, 1, 2, 255};
  g.constNode("u", {{"name", "u"}, {"shape", {2, 2}}, {"dtype", "float32"},
                    {"quantization", {{"dtype", "uint8"}, {"min", -1.0}, {"scale", 0.5}}}});
  g.bytes.append(reinterpret_cast<const char*>(q8), sizeof q8);
  g.op("hy", "Identity", {"h"});
  g.op("uy", "AddV2", {"u", "x"});  // + x (0) exercises broadcasting of a dequantised constant
  const auto model = g.write(dir);
  expectClose(runOne(model, torch::zeros({1}), "hy"), {1, -2, 0.5, 65504, 5.9604644775390625e-8f, 0.333251953125f}, {6},
              1e-7);
  expectClose(runOne(model, torch::zeros({1}), "uy"), {-1, -0.5, 0, 126.5}, {2, 2});
}

void TestTfjsOps::unknownOpIsNamed() {
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {1, 4});
  g.op("gelu/erf", "Erf", {"x"});
  g.op("top", "TopKV2", {"gelu/erf", "x"});
  auto r = GraphModel::load(g.write(dir).toStdString());
  QVERIFY(!r);
  const auto& m = r.error().message;
  QVERIFY2(m.find("Erf (node gelu/erf)") != std::string::npos, m.c_str());
  QVERIFY2(m.find("TopKV2 (node top)") != std::string::npos, m.c_str());
  QVERIFY(m.find("model.json") != std::string::npos);
}

void TestTfjsOps::truncatedShardIsReported() {
  GraphBuilder g;
  g.placeholder("x", {1, 4, 4, 1});
  g.floats("w", {3, 3, 1, 1}, std::vector<float>(9, 1.f));
  g.op("y", "Conv2D", {"x", "w"}, windowAttrs("SAME", 1));
  QTemporaryDir dir;
  auto r = GraphModel::load(g.write(dir, 20).toStdString());
  QVERIFY(!r);
  QVERIFY2(r.error().message.find("truncated") != std::string::npos, r.error().message.c_str());
  QVERIFY(r.error().message.find("weights.bin (20 bytes)") != std::string::npos);
  QVERIFY(r.error().message.find("36 bytes") != std::string::npos);
  // Too many bytes is just as wrong (a manifest that does not describe the shard).
  QTemporaryDir dir2;
  g.bytes += "xxxx";
  auto r2 = GraphModel::load(g.write(dir2).toStdString());
  QVERIFY(!r2);
  QVERIFY2(r2.error().message.find("wrong size") != std::string::npos, r2.error().message.c_str());
  // A missing shard names the file.
  QTemporaryDir dir3;
  const auto model = g.write(dir3);
  QFile::remove(dir3.filePath("weights.bin"));
  auto r3 = GraphModel::load(model.toStdString());
  QVERIFY(!r3);
  QVERIFY2(r3.error().message.find("weights.bin is missing") != std::string::npos, r3.error().message.c_str());
}

void TestTfjsOps::badFeedShapeIsReported() {
  QTemporaryDir dir;
  GraphBuilder g;
  g.placeholder("x", {-1, 4, 4, 1});
  g.op("y", "Relu", {"x"});
  auto m = GraphModel::load(g.write(dir).toStdString());
  QVERIFY(m.ok());
  auto r = m->execute({{"x", torch::zeros({1, 5, 4, 1})}}, {"y"});
  QVERIFY(!r);
  QVERIFY2(r.error().message.find("[?, 4, 4, 1]") != std::string::npos, r.error().message.c_str());
  auto ok = m->execute({{"x", -torch::ones({3, 4, 4, 1})}}, {"y"});
  QVERIFY(ok.ok());
  QCOMPARE(ok->at(0).sum().item<float>(), 0.f);
}

QTEST_GUILESS_MAIN(TestTfjsOps)
#include "test_tfjs_ops.moc"
