// loupe-cli train embeddings / eval embeddings end to end: the real binary on a small MNIST-style IDX folder
// written here (stripe classes), the package it writes, the documented exit codes for bad input and usage.
#include "../support/CliRun.h"
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include <fstream>
#include <random>

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 240000); }

void writeIdx(const QString& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::ofstream f(path.toStdString(), std::ios::binary);
  f << char(0) << char(0) << char(8) << char(dims.size());
  for (uint32_t d : dims) f << char(d >> 24) << char(d >> 16) << char(d >> 8) << char(d);
  f.write(reinterpret_cast<const char*>(values.data()), std::streamsize(values.size()));
}

// n images of 28 x 28 stripes: class c horizontal (c < 5) or vertical, period 2 + c % 5, random phase, noise.
void writeSplit(const QString& dir, const QString& prefix, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> images(static_cast<std::size_t>(n) * 784), labels(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int c = i % 10, period = 2 + c % 5, phase = int(rng() % uint64_t(period));
    labels[i] = uint8_t(c);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const int k = c < 5 ? y : x;
        images[std::size_t(i) * 784 + y * 28 + x] = (k - phase) % period == 0 && k >= phase ? 200 : uint8_t(rng() % 60);
      }
  }
  writeIdx(dir + "/" + prefix + "-images-idx3-ubyte", {uint32_t(n), 28, 28}, images);
  writeIdx(dir + "/" + prefix + "-labels-idx1-ubyte", {uint32_t(n)}, labels);
}
}  // namespace

class TestTrainCli : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void trainsWritesPackageAndEvaluates() {
    QTemporaryDir dir;
    const QString data = dir.filePath("data"), pkg = dir.filePath("pkg");
    QVERIFY(QDir().mkpath(data));
    writeSplit(data, "train", 400, 1);
    writeSplit(data, "t10k", 100, 2);
    Run r = cli({"train", "embeddings", "--data", data, "--loss", "ce", "--epochs", "4", "--batch", "50", "--out", pkg,
                 "--quiet", "--threads", "1", "--lr", "0.005"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("kNN test accuracy"), qPrintable(r.out));
    QVERIFY(QFile::exists(pkg + "/loupe-model.json"));
    QVERIFY(QFile::exists(pkg + "/architecture.json"));
    QVERIFY(!QFile::exists(pkg + "/checkpoint.pt"));  // removed after a finished run
    Run v = cli({"models", "verify", pkg});
    QVERIFY2(v.exitCode == 0, qPrintable(v.err + v.out));
    Run e = cli({"eval", "embeddings", "--model", pkg, "--data", data, "--quiet", "--probe-epochs", "5", "--json",
                 dir.filePath("eval.json")});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err + e.out));
    QVERIFY(e.out.contains("kNN accuracy"));
    QVERIFY(e.out.contains("linear probe accuracy"));
    QVERIFY(e.out.contains("R@1"));
    QVERIFY(QFile::exists(dir.filePath("eval.json")));
  }

  void exitCodes() {
    QTemporaryDir dir;
    Run r = cli({"train", "embeddings", "--data", dir.filePath("nothing"), "--out", dir.filePath("p"), "--quiet"});
    QCOMPARE(r.exitCode, 3);  // bad input
    QVERIFY(r.err.startsWith("loupe-cli: error: "));
    r = cli({"train", "embeddings", "--loss", "arcface", "--out", dir.filePath("p"), "--quiet"});
    QCOMPARE(r.exitCode, 2);  // usage
    QVERIFY(r.err.contains("supcon"));
    r = cli({"train", "embeddings", "--loss", "supcon", "--loss-param", "temp=0.1", "--out", dir.filePath("p"), "--quiet"});
    QCOMPARE(r.exitCode, 2);
    r = cli({"eval", "embeddings", "--model", dir.filePath("no-package")});
    QCOMPARE(r.exitCode, 3);
  }
};

QTEST_APPLESS_MAIN(TestTrainCli)
#include "test_train_cli.moc"
