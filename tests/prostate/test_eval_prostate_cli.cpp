// `loupe-cli eval prostate` on NIfTI folders holding the hand-built cases of test_picai_metrics
// (AP 1/2, AUROC 2/3, PI-CAI score 7/12, worked out there), its JSON report, likelihood input (--softmax)
// and usage/bad-input exit codes.
#include "../support/CliRun.h"
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <nlohmann/json.hpp>

#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 120000); }

void line(Volume& v, std::int64_t x0, std::int64_t x1, std::int64_t y, std::int64_t z, double value) {
  for (std::int64_t x = x0; x <= x1; ++x) {
    if (v.type == VoxelType::Float32) v.floats[v.offset(x, y, z)] = float(value);
    else v.ints[v.offset(x, y, z)] = std::int32_t(value);
  }
}

}  // namespace

class TestEvalProstateCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private Q_SLOTS:
  void initTestCase() {
    QDir().mkpath(tmp_.filePath("pred"));
    QDir().mkpath(tmp_.filePath("labels"));
    const Vec3 sp{0.5, 0.5, 3.0};
    std::vector<Volume> det(4, Volume::floatVolume({24, 12, 12}, sp)), lab(4, Volume::intVolume({24, 12, 12}, sp));
    line(lab[0], 2, 6, 5, 5, 1);
    line(det[0], 2, 6, 5, 5, 0.9);
    line(det[1], 2, 6, 5, 5, 0.6);
    line(lab[2], 2, 6, 5, 5, 1);
    line(lab[3], 0, 9, 5, 5, 1);
    line(det[3], 8, 18, 5, 5, 0.3);
    line(det[3], 2, 6, 1, 10, 0.7);
    const char* ids[] = {"case_a", "case_b", "case_c", "case_d"};
    for (int i = 0; i < 4; ++i) {
      QVERIFY(volume::writeVolume(det[i], tmp_.filePath(QString("pred/%1_detection_map.nii.gz").arg(ids[i])).toStdString()).ok());
      QVERIFY(volume::writeVolume(lab[i], tmp_.filePath(QString("labels/%1.nii.gz").arg(ids[i])).toStdString()).ok());
    }
  }

  void handBuiltCases() {
    const QString report = tmp_.filePath("report.json");
    const Run r = cli({"eval", "prostate", "--pred", tmp_.filePath("pred"), "--labels", tmp_.filePath("labels"), "--out", report});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("AP 0.5000  AUROC 0.6667  PI-CAI score 0.5833"), qPrintable(r.out));
    QVERIFY(r.out.contains("case_d"));
    QFile f(report);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto doc = nlohmann::json::parse(f.readAll().toStdString());
    QVERIFY(std::abs(doc["AP"].get<double>() - 0.5) < 1e-6);
    QVERIFY(std::abs(doc["auroc"].get<double>() - 2.0 / 3.0) < 1e-9);
    QCOMPARE(doc["num_lesions"].get<int>(), 3);
    QCOMPARE(doc["cases"]["case_d"]["lesion_results"].size(), std::size_t(2));
  }

  void likelihoodInput() {
    // One case: a likelihood blob (peak 0.8, 27 voxels) on the lesion: --softmax extracts it -> a hit.
    QDir().mkpath(tmp_.filePath("soft/pred"));
    QDir().mkpath(tmp_.filePath("soft/labels"));
    Volume like = Volume::floatVolume({16, 16, 8}), lab = Volume::intVolume({16, 16, 8});
    for (int k = 3; k < 6; ++k)
      for (int j = 6; j < 9; ++j)
        for (int i = 6; i < 9; ++i) {
          like.floats[like.offset(i, j, k)] = (i == 7 && j == 7 && k == 4) ? 0.8f : 0.5f;
          lab.ints[lab.offset(i, j, k)] = 1;
        }
    Volume neg = Volume::floatVolume({16, 16, 8});
    QVERIFY(volume::writeVolume(like, tmp_.filePath("soft/pred/p1.nii.gz").toStdString()).ok());
    QVERIFY(volume::writeVolume(lab, tmp_.filePath("soft/labels/p1.nii.gz").toStdString()).ok());
    QVERIFY(volume::writeVolume(neg, tmp_.filePath("soft/pred/p2.nii.gz").toStdString()).ok());
    QVERIFY(volume::writeVolume(Volume::intVolume({16, 16, 8}), tmp_.filePath("soft/labels/p2_label.nii.gz").toStdString()).ok());
    const Run r = cli({"eval", "prostate", "--pred", tmp_.filePath("soft/pred"), "--labels", tmp_.filePath("soft/labels"), "--softmax"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("AP 1.0000  AUROC 1.0000  PI-CAI score 1.0000"), qPrintable(r.out));
  }

  void badInput() {
    QDir().mkpath(tmp_.filePath("partial"));
    QVERIFY(QFile::copy(tmp_.filePath("pred/case_a_detection_map.nii.gz"), tmp_.filePath("partial/case_a_detection_map.nii.gz")));
    const Run missing = cli({"eval", "prostate", "--pred", tmp_.filePath("partial"), "--labels", tmp_.filePath("labels")});
    QCOMPARE(missing.exitCode, 3);
    QVERIFY2(missing.err.contains("No prediction for case case_b"), qPrintable(missing.err));
    const Run nodir = cli({"eval", "prostate", "--pred", tmp_.filePath("nope"), "--labels", tmp_.filePath("labels")});
    QCOMPARE(nodir.exitCode, 3);
    const Run usage = cli({"eval", "prostate", "--pred", tmp_.filePath("pred"), "--labels", tmp_.filePath("labels"), "--min-overlap", "0"});
    QCOMPARE(usage.exitCode, 2);
    const Run noargs = cli({"eval", "prostate"});
    QCOMPARE(noargs.exitCode, 2);
  }
};

QTEST_GUILESS_MAIN(TestEvalProstateCli)
#include "test_eval_prostate_cli.moc"
