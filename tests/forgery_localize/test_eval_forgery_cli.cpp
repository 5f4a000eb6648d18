// loupe-cli eval forgery end to end: the real binary on folders the test writes (a splice with its mask,
// a mask of the wrong size, an image without a mask, an authentic image), the JSON report, per-image
// errors and exit codes. The scores in the report are recomputed here from the mask that
// `loupe-cli run forgery.localize` writes for the same image, with the metric definitions of
// ForgeryMetrics.h (whose values are checked by hand in test_forgery_metrics).

#include "../support/CliRun.h"
#include <QtTest>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/ForgeryMetrics.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"

using namespace loupe;
using nlohmann::json;

namespace {

using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 120000); }

Image noisy(int w, int h, int x0, int y0, int rw, int rh, std::vector<std::uint8_t>& truth, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> host(0.f, 2.f), paste(0.f, 8.f);
  Image img(w, h, ColorOrder::RGB);
  truth.assign(static_cast<std::size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool in = x >= x0 && x < x0 + rw && y >= y0 && y < y0 + rh;
      truth[static_cast<std::size_t>(y) * w + x] = in;
      for (int c = 0; c < 3; ++c)
        img.row<std::uint8_t>(y)[3 * x + c] = static_cast<std::uint8_t>(
            std::clamp(std::round(80.f + 0.3f * x + 20.f * c + (in ? paste(rng) : host(rng))), 0.f, 255.f));
    }
  return img;
}

Image maskImage(const std::vector<std::uint8_t>& truth, int w, int h) {
  Image m(w, h, ColorOrder::Gray);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.row<std::uint8_t>(y)[x] = truth[static_cast<std::size_t>(y) * w + x] ? 255 : 0;
  return m;
}

const json* find(const json& task, const std::string& image) {
  for (const auto& r : task["per_image"])
    if (r["image"] == image) return &r;
  return nullptr;
}

}  // namespace

class TestEvalForgeryCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString data_;
  std::vector<std::uint8_t> truth_;

 private Q_SLOTS:
  void initTestCase() {
    data_ = tmp_.filePath("data");
    QDir().mkpath(data_);
    const auto path = [&](const char* name) { return (data_ + "/" + name).toStdString(); };
    QVERIFY(io::writeImage(noisy(320, 240, 160, 40, 112, 112, truth_, 1), path("a.png")).ok());
    QVERIFY(io::writeImage(maskImage(truth_, 320, 240), path("a_gt.png")).ok());
    std::vector<std::uint8_t> t;
    QVERIFY(io::writeImage(noisy(200, 160, 20, 20, 64, 64, t, 2), path("b.png")).ok());
    QVERIFY(io::writeImage(maskImage(std::vector<std::uint8_t>(100, 0), 10, 10), path("b_mask.png")).ok());
    QVERIFY(io::writeImage(noisy(200, 160, 0, 0, 0, 0, t, 3), path("c.png")).ok());
    QFile readme(data_ + "/README.txt");
    QVERIFY(readme.open(QIODevice::WriteOnly));
    readme.write("not an image");
  }

  void shouldScoreEveryImageAndListPerImageErrors() {
    const QString report = tmp_.filePath("report.json");
    const auto r = cli({"eval", "forgery", "--images", data_, "--masks", data_, "--task", "forgery.localize", "--task",
                        "forgery.ela", "--out", report, "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(r.out.contains("forgery.localize") && r.out.contains("forgery.ela"));
    std::ifstream in(report.toStdString());
    const json j = json::parse(in);
    QCOMPARE(j["tasks"].size(), std::size_t(2));
    for (const auto& task : j["tasks"]) {
      QCOMPARE(task["per_image"].size(), std::size_t(3));  // a, b, c: masks and README are not analysed
      QCOMPARE(task["evaluated"].get<int>(), 1);
      QCOMPARE(task["failed"].get<int>(), 2);
      const json* b = find(task, "b.png");
      QVERIFY(b && b->contains("error"));
      QVERIFY2((*b)["error"].get<std::string>().find("is 10x10 but the image is 200x160") != std::string::npos,
               (*b)["error"].get<std::string>().c_str());
      const json* c = find(task, "c.png");
      QVERIFY(c && (*c)["error"].get<std::string>().find("no mask") != std::string::npos);
    }

    // Recompute image a's scores for forgery.localize from the task's own mask file.
    const QString out = tmp_.filePath("run-a");
    QCOMPARE(cli({"run", "forgery.localize", data_ + "/a.png", "--out", out, "-q"}).exitCode, 0);
    auto maskFile = io::loadImage((out + "/forgery_mask.png").toStdString());
    QVERIFY(maskFile.ok());
    std::vector<std::uint8_t> pred(truth_.size());
    for (int y = 0; y < 240; ++y)
      for (int x = 0; x < 320; ++x) pred[y * 320 + x] = maskFile->row<std::uint8_t>(y)[x * maskFile->channels()] > 127;
    const auto counts = analysis::confusion(pred, truth_);
    const json* a = find(j["tasks"][0], "a.png");
    QVERIFY(a);
    QVERIFY(std::abs((*a)["f1"].get<double>() - analysis::binaryF1(counts)) < 1e-9);
    QVERIFY(std::abs((*a)["focal_f1"].get<double>() - analysis::macroF1(counts)) < 1e-9);
    QVERIFY(std::abs((*a)["iou"].get<double>() - analysis::intersectionOverUnion(counts)) < 1e-9);
    QVERIFY((*a)["f1"].get<double>() > 0.75);  // the splice is found
    QVERIFY((*a)["pixel_auc"].get<double>() > 0.9);
    QVERIFY(j["tasks"][0]["mean"]["image_auc"].is_null());  // no authentic image: undefined
  }

  void shouldTreatImagesWithoutMasksAsAuthenticWhenAsked() {
    const QString report = tmp_.filePath("report2.json");
    const auto r = cli({"eval", "forgery", "--images", data_, "--masks", data_, "--pristine-without-mask", "--out",
                        report, "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    std::ifstream in(report.toStdString());
    const json j = json::parse(in);
    const auto& task = j["tasks"][0];
    QCOMPARE(task["evaluated"].get<int>(), 2);  // a (forged) and c (authentic); b's mask is still the wrong size
    const json* c = find(task, "c.png");
    QVERIFY(c && !c->contains("error"));
    QCOMPARE((*c)["forged"].get<bool>(), false);
    QVERIFY((*c)["pixel_auc"].is_null());
    // Two images, one of each kind: the image AUC is 1 or 0 (or 0.5 on a tie), and defined.
    QVERIFY(task["mean"]["image_auc"].is_number());
  }

  void shouldRefuseBadOptionsWithUsageErrors() {
    QCOMPARE(cli({"eval", "forgery", "--images", tmp_.filePath("nope"), "--masks", data_}).exitCode, 2);
    QCOMPARE(cli({"eval", "forgery", "--images", data_, "--masks", data_, "--param", "no_such=1"}).exitCode, 2);
    QCOMPARE(cli({"eval", "forgery", "--images", data_, "--masks", data_, "--task", "nothing.here"}).exitCode, 2);
    const QString empty = tmp_.filePath("empty");
    QDir().mkpath(empty);
    QCOMPARE(cli({"eval", "forgery", "--images", empty, "--masks", data_}).exitCode, 3);
  }
};

QTEST_GUILESS_MAIN(TestEvalForgeryCli)
#include "test_eval_forgery_cli.moc"
