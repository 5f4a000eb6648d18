// Device policy: parsing --device values, resolving them on this machine, thread configuration.
#include <QtTest>

#include <QThread>

#include <torch/cuda.h>
#include <ATen/Parallel.h>

#include "core/Device.h"

using namespace loupe;

Q_DECLARE_METATYPE(loupe::DeviceRequest::Kind)

class TestDevice : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldParseDeviceText_data();
  void shouldParseDeviceText();
  void shouldRejectBadDeviceText_data();
  void shouldRejectBadDeviceText();
  void shouldResolveCpu();
  void shouldResolveAutoToCudaOnlyWhenPresent();
  void shouldRefuseCudaWithoutDevice();
  void shouldRefuseCudaIndexBeyondDeviceCount();
  void shouldUseOneThreadPerCoreByDefault();
  void shouldSetExplicitThreadCount();
  void shouldDescribeCpuWithThreads();
};

void TestDevice::shouldParseDeviceText_data() {
  // Reference: the --device grammar in DeviceRequest.h (auto | cpu | cuda | cuda:N, case-insensitive).
  QTest::addColumn<QString>("text");
  QTest::addColumn<loupe::DeviceRequest::Kind>("kind");
  QTest::addColumn<int>("index");
  QTest::addColumn<QString>("canonical");
  QTest::newRow("auto") << "auto" << DeviceRequest::Kind::Auto << 0 << "auto";
  QTest::newRow("empty means auto") << "" << DeviceRequest::Kind::Auto << 0 << "auto";
  QTest::newRow("cpu") << "cpu" << DeviceRequest::Kind::Cpu << 0 << "cpu";
  QTest::newRow("CPU") << "CPU" << DeviceRequest::Kind::Cpu << 0 << "cpu";
  QTest::newRow("CUDA") << "CUDA" << DeviceRequest::Kind::Cuda << 0 << "cuda:0";
  QTest::newRow("cuda:0") << "cuda:0" << DeviceRequest::Kind::Cuda << 0 << "cuda:0";
  QTest::newRow("cuda:1") << "cuda:1" << DeviceRequest::Kind::Cuda << 1 << "cuda:1";
  QTest::newRow("Cuda:12") << "Cuda:12" << DeviceRequest::Kind::Cuda << 12 << "cuda:12";
  QTest::newRow("gpu alias") << "gpu" << DeviceRequest::Kind::Cuda << 0 << "cuda:0";
}

void TestDevice::shouldParseDeviceText() {
  QFETCH(QString, text);
  QFETCH(loupe::DeviceRequest::Kind, kind);
  QFETCH(int, index);
  QFETCH(QString, canonical);
  const auto r = DeviceRequest::parse(text.toStdString());
  QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
  QCOMPARE(r->kind, kind);
  QCOMPARE(r->index, index);
  QCOMPARE(QString::fromStdString(r->toString()), canonical);
  // The canonical text parses back to the same request.
  const auto again = DeviceRequest::parse(r->toString());
  QVERIFY(again.ok());
  QCOMPARE(again->kind, kind);
  QCOMPARE(again->index, index);
}

void TestDevice::shouldRejectBadDeviceText_data() {
  QTest::addColumn<QString>("text");
  QTest::newRow("cuda:x") << "cuda:x";
  QTest::newRow("cuda:") << "cuda:";
  QTest::newRow("cuda:-1") << "cuda:-1";
  QTest::newRow("cuda:1x") << "cuda:1x";
  QTest::newRow("cuda:99999999999") << "cuda:99999999999";
  QTest::newRow("tpu") << "tpu";
  QTest::newRow("leading space") << " cpu";
  QTest::newRow("cuda0") << "cuda0";
}

void TestDevice::shouldRejectBadDeviceText() {
  QFETCH(QString, text);
  const auto r = DeviceRequest::parse(text.toStdString());
  QVERIFY(!r.ok());
  QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
  QVERIFY(r.error().message.find(text.toStdString()) != std::string::npos);  // names the bad value
  QVERIFY(r.error().message.find("cuda:N") != std::string::npos);            // says what is allowed
}

void TestDevice::shouldResolveCpu() {
  DeviceRequest req;
  req.kind = DeviceRequest::Kind::Cpu;
  const auto d = resolveDevice(req);
  QVERIFY(d.ok());
  QVERIFY(d->is_cpu());
}

void TestDevice::shouldResolveAutoToCudaOnlyWhenPresent() {
  const auto d = resolveDevice(DeviceRequest{});
  QVERIFY(d.ok());
  if (torch::cuda::is_available()) {
    QVERIFY(d->is_cuda());
    QCOMPARE(int(d->index()), 0);
  } else {
    QVERIFY(d->is_cpu());
  }
}

void TestDevice::shouldRefuseCudaWithoutDevice() {
  const auto req = DeviceRequest::parse("cuda");
  QVERIFY(req.ok());
  const auto d = resolveDevice(*req);
  if (torch::cuda::is_available()) {
    QVERIFY(d.ok());
    QVERIFY(d->is_cuda());
  } else {
    // Never a silent fallback to the CPU.
    QVERIFY(!d.ok());
    QCOMPARE(d.error().code, ErrorCode::DeviceUnavailable);
    QVERIFY(d.error().message.find("cpu") != std::string::npos);  // says what to use instead
  }
}

void TestDevice::shouldRefuseCudaIndexBeyondDeviceCount() {
  const auto req = DeviceRequest::parse("cuda:999");
  QVERIFY(req.ok());
  const auto d = resolveDevice(*req);
  QVERIFY(!d.ok());
  QCOMPARE(d.error().code, ErrorCode::DeviceUnavailable);
}

void TestDevice::shouldUseOneThreadPerCoreByDefault() {
  // Reference: Qt's own count of usable cores.
  const int before = at::get_num_threads();
  QCOMPARE(configureThreads(0), QThread::idealThreadCount());
  QCOMPARE(at::get_num_threads(), QThread::idealThreadCount());
  configureThreads(before);
}

void TestDevice::shouldSetExplicitThreadCount() {
  const int before = at::get_num_threads();
  QCOMPARE(configureThreads(1), 1);
  QCOMPARE(at::get_num_threads(), 1);
  QCOMPARE(configureThreads(3), 3);
  configureThreads(before);
}

void TestDevice::shouldDescribeCpuWithThreads() {
  const int before = at::get_num_threads();
  configureThreads(2);
  QCOMPARE(QString::fromStdString(describeDevice(torch::Device(torch::kCPU))), QStringLiteral("cpu (2 threads)"));
  configureThreads(before);
}

QTEST_GUILESS_MAIN(TestDevice)
#include "test_device.moc"
