// PI-CAI metrics on hand-built cases with answers worked out by hand (below), the matching rules
// (IoU >= 0.1, one-to-one assignment, extra overlapping candidates not counted as false positives), and
// agreement with an independent Python implementation of picai_eval's definitions (scikit-learn's
// precision_recall_curve / roc_curve / auc, scipy's linear_sum_assignment) when python3 has them.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

#include "analysis/PicaiMetrics.h"
#include <nlohmann/json.hpp>

using namespace loupe;
using namespace loupe::analysis;

namespace {

// Debian's interpreter has python3-scipy / python3-sklearn; a python3 earlier on PATH (pyenv) may not.
QString python() { return QFile::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

void line(Volume& v, std::int64_t x0, std::int64_t x1, std::int64_t y, std::int64_t z, double value) {
  for (std::int64_t x = x0; x <= x1; ++x) {
    if (v.type == VoxelType::Float32) v.floats[v.offset(x, y, z)] = float(value);
    else v.ints[v.offset(x, y, z)] = std::int32_t(value);
  }
}

struct Case {
  Volume det, label;
};

// A: lesion, candidate covering it exactly (0.9)          -> TP (1, 0.9, IoU 1)
// B: no lesion, candidate 0.6                              -> FP (0, 0.6)
// C: lesion, nothing                                       -> FN (1, 0)
// D: lesion x 0..9, candidate x 8..18 (IoU 2/19 >= 0.1) 0.3 -> TP (1, 0.3, 2/19); far candidate 0.7 -> FP
std::vector<Case> handCases() {
  auto blank = [] { return Case{Volume::floatVolume({24, 12, 12}), Volume::intVolume({24, 12, 12})}; };
  std::vector<Case> cs(4, blank());
  line(cs[0].label, 2, 6, 5, 5, 1);
  line(cs[0].det, 2, 6, 5, 5, 0.9);
  line(cs[1].det, 2, 6, 5, 5, 0.6);
  line(cs[2].label, 2, 6, 5, 5, 1);
  line(cs[3].label, 0, 9, 5, 5, 1);
  line(cs[3].det, 8, 18, 5, 5, 0.3);
  line(cs[3].det, 2, 6, 1, 10, 0.7);
  return cs;
}

}  // namespace

class TestPicaiMetrics : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void handBuiltCases() {
    std::vector<CaseEvaluation> evals;
    for (const auto& c : handCases()) {
      auto e = evaluateCase(c.det, c.label);
      QVERIFY(e.ok());
      evals.push_back(*e);
    }
    QCOMPARE(int(evals[0].lesions.size()), 1);
    QCOMPARE(evals[0].lesions[0].overlap, 1.0);
    QCOMPARE(evals[1].lesions[0].isLesion, 0);
    QCOMPARE(evals[2].lesions[0].confidence, 0.0);
    QCOMPARE(int(evals[3].lesions.size()), 2);
    QVERIFY(std::abs(evals[3].lesions[0].overlap - 2.0 / 19.0) < 1e-12);
    QCOMPARE(evals[3].lesions[1].confidence, double(0.7f));
    // Lesion list (is_lesion, confidence): (1,.9) (0,.6) (1,0) (1,.3) (0,.7); 3 lesions.
    // Thresholds high to low: .9: R 1/3, P 1 -> 1/3;  .7, .6: recall unchanged;  .3: R 2/3, P 2/4 -> +1/6;
    // 0: R 1 but precision is set to 0 there.  AP = 1/2.
    // Patients: A .9 (+), B .6 (-), C 0 (+), D .7 (+): positives above the negative in 2 of 3 pairs: AUROC 2/3.
    const PicaiMetrics m = summarise(evals);
    QVERIFY2(std::abs(m.ap - 0.5) < 1e-6, qPrintable(QString::number(m.ap)));
    QVERIFY(std::abs(m.auroc - 2.0 / 3.0) < 1e-12);
    QVERIFY(std::abs(m.score - (0.5 + 2.0 / 3.0) / 2) < 1e-6);
    QCOMPARE(m.numLesions, 3);
    QCOMPARE(m.numCases, 4);
  }

  void overlapBelowTenPercentIsAMiss() {
    Volume label = Volume::intVolume({24, 4, 4}), det = Volume::floatVolume({24, 4, 4});
    line(label, 0, 9, 1, 1, 1);
    line(det, 9, 19, 1, 1, 0.8);  // IoU 1/20 = 0.05
    auto e = evaluateCase(det, label);
    QVERIFY(e.ok());
    QCOMPARE(int(e->lesions.size()), 2);
    QCOMPARE(e->lesions[0].isLesion, 1);
    QCOMPARE(e->lesions[0].confidence, 0.0);  // missed
    QCOMPARE(e->lesions[1].isLesion, 0);      // and a false positive
  }

  void secondOverlappingCandidateIsNotAFalsePositive() {
    Volume label = Volume::intVolume({24, 4, 4}), det = Volume::floatVolume({24, 4, 4});
    line(label, 0, 11, 1, 1, 1);
    line(det, 0, 4, 1, 1, 0.9);  // IoU 5/12
    line(det, 6, 9, 1, 1, 0.4);  // IoU 4/12, not connected to the first
    auto e = evaluateCase(det, label);
    QVERIFY(e.ok());
    QCOMPARE(e->numCandidates, 2);
    QCOMPARE(int(e->lesions.size()), 1);
    QCOMPARE(e->lesions[0].confidence, double(0.9f));
  }

  void assignmentIsOptimal() {
    // Greedy (largest first) would pair 0-0 and leave lesion 1 unmatched; the optimum pairs 0-1 and 1-0.
    const std::vector<double> w{1.5, 1.4, 1.45, 0.0};
    const auto m = maxWeightAssignment(w, 2, 2);
    QCOMPARE(m[0], 1);
    QCOMPARE(m[1], 0);
    const auto rect = maxWeightAssignment({0.2, 0.9, 0.1}, 1, 3);
    QCOMPARE(rect[0], 1);
  }

  void edgeCases() {
    QVERIFY(std::isnan(auroc({1, 1}, {0.2, 0.4})));
    QCOMPARE(auroc({1, 0, 1, 0}, {0.5, 0.5, 0.7, 0.1}), (0.5 + 1 + 1 + 1) / 4.0);  // ties count half
    QVERIFY(std::isnan(averagePrecision({{0, 0.3, 0}})));
    Volume a = Volume::floatVolume({4, 4, 4}), b = Volume::intVolume({4, 4, 5});
    QVERIFY(!evaluateCase(a, b).ok());
    a.floats[0] = -1;
    QVERIFY(!evaluateCase(a, Volume::intVolume({4, 4, 4})).ok());
  }

  void agreesWithPythonReference() {
    QProcess probe;
    probe.start(python(), {"-c", "import scipy, sklearn, numpy"});
    if (!probe.waitForFinished(30000) || probe.exitCode() != 0) QSKIP("python3 with scipy and scikit-learn is not installed");
    // 24 random cases: lesions and candidates as random boxes, some overlapping, confidences random.
    QTemporaryDir dir;
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> pos(0, 20), len(2, 6), count(0, 3);
    std::uniform_real_distribution<double> conf(0.05, 1.0);
    std::vector<CaseEvaluation> evals;
    std::ofstream list(dir.filePath("cases.txt").toStdString());
    for (int c = 0; c < 24; ++c) {
      Volume det = Volume::floatVolume({28, 28, 8}), label = Volume::intVolume({28, 28, 8});
      const int lesions = count(rng) % 3, candidates = count(rng);
      std::vector<std::array<int, 3>> boxes;
      for (int l = 0; l < lesions; ++l) {
        const int x = pos(rng), y = pos(rng), z = pos(rng) % 4, w = len(rng);
        boxes.push_back({x, y, z});
        for (int k = z; k < std::min(8, z + 3); ++k)
          for (int j = y; j < std::min(28, y + w); ++j)
            for (int i = x; i < std::min(28, x + w); ++i) label.ints[label.offset(i, j, k)] = 1;
      }
      for (int p = 0; p < candidates; ++p) {
        int x = pos(rng), y = pos(rng), z = pos(rng) % 4;
        if (!boxes.empty() && p == 0) {  // near a lesion, so hits and near misses happen
          x = std::min(27, boxes[0][0] + int(rng() % 3));
          y = std::min(27, boxes[0][1] + int(rng() % 3));
          z = boxes[0][2];
        }
        const int w = len(rng);
        const float v = float(conf(rng));
        for (int k = z; k < std::min(8, z + 2); ++k)
          for (int j = y; j < std::min(28, y + w); ++j)
            for (int i = x; i < std::min(28, x + w); ++i) det.floats[det.offset(i, j, k)] = v;
      }
      const std::string dp = dir.filePath(QString("d%1.raw").arg(c)).toStdString();
      const std::string lp = dir.filePath(QString("l%1.raw").arg(c)).toStdString();
      std::ofstream(dp, std::ios::binary).write(reinterpret_cast<const char*>(det.floats.data()), std::streamsize(det.floats.size() * 4));
      std::ofstream(lp, std::ios::binary).write(reinterpret_cast<const char*>(label.ints.data()), std::streamsize(label.ints.size() * 4));
      list << dp << " " << lp << " 8 28 28\n";
      auto e = evaluateCase(det, label);
      QVERIFY(e.ok());
      evals.push_back(*e);
    }
    list.close();
    QProcess py;
    py.start(python(), {LOUPE_SOURCE_DIR "/tests/prostate/picai_reference.py", "evaluate", dir.filePath("cases.txt")});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const auto ref = nlohmann::json::parse(py.readAllStandardOutput().toStdString());
    const PicaiMetrics m = summarise(evals);
    QVERIFY(m.numLesions > 5);
    QVERIFY2(std::abs(m.ap - ref["AP"].get<double>()) < 1e-6,
             qPrintable(QString("AP %1 vs %2").arg(m.ap).arg(ref["AP"].get<double>())));
    QVERIFY2(std::abs(m.auroc - ref["auroc"].get<double>()) < 1e-9,
             qPrintable(QString("AUROC %1 vs %2").arg(m.auroc).arg(ref["auroc"].get<double>())));
    std::size_t total = 0;
    for (const auto& e : evals) total += e.lesions.size();
    QCOMPARE(total, ref["lesions"].size());
  }
};

QTEST_GUILESS_MAIN(TestPicaiMetrics)
#include "test_picai_metrics.moc"
