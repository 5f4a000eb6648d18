// PI-CAI detection maps from hand-built likelihood volumes whose candidates are known, and (when python3
// with scipy is installed) voxel-for-voxel agreement with an independent Python re-implementation of
// PI-CAI's dynamic extraction (picai_reference.py) on a random smooth volume.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

#include "analysis/DetectionMap.h"

using namespace loupe;
using namespace loupe::analysis;

namespace {

// Debian's interpreter has python3-scipy / python3-sklearn; a python3 earlier on PATH (pyenv) may not.
QString python() { return QFile::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

void fillBox(Volume& v, std::array<std::int64_t, 3> lo, std::array<std::int64_t, 3> hi, float value) {
  for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
    for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
      for (std::int64_t i = lo[0]; i <= hi[0]; ++i) v.floats[v.offset(i, j, k)] = value;
}

// Blob A: 3x3x3 core of 0.9 in a 5x5x5 shell of 0.4 (>= 0.9 / 2.5 = 0.36: part of A).
// Blob B: 3x3x3 core of 0.5 in a shell of 0.15 (< 0.5 / 2.5 = 0.2: not part of B).
// Blob C: 2x2x2 = 8 voxels of 0.95, too small (<= 10 voxels).
Volume threeBlobs() {
  Volume v = Volume::floatVolume({30, 30, 12}, {0.5, 0.5, 3.0});
  fillBox(v, {3, 3, 2}, {7, 7, 6}, 0.4f);
  fillBox(v, {4, 4, 3}, {6, 6, 5}, 0.9f);
  fillBox(v, {15, 15, 2}, {19, 19, 6}, 0.15f);
  fillBox(v, {16, 16, 3}, {18, 18, 5}, 0.5f);
  fillBox(v, {25, 3, 8}, {26, 4, 9}, 0.95f);
  return v;
}

}  // namespace

class TestDetectionMap : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void components26() {
    // Voxels touching only at a corner are one component with 26-connectivity; (4,0,0) touches none.
    const std::array<std::int64_t, 3> n{5, 3, 3};
    auto at = [&](int i, int j, int k) { return std::size_t((k * n[1] + j) * n[0] + i); };
    std::vector<std::uint8_t> m(45, 0);
    m[at(0, 0, 0)] = m[at(1, 1, 1)] = m[at(2, 2, 2)] = m[at(4, 0, 0)] = 1;
    std::vector<std::int32_t> labels;
    QCOMPARE(labelComponents26(m, n, labels), 2);
    QCOMPARE(labels[at(0, 0, 0)], 1);
    QCOMPARE(labels[at(4, 0, 0)], 2);  // numbered in raster order of the first voxel
    QCOMPARE(labels[at(1, 1, 1)], 1);
    QCOMPARE(labels[at(2, 2, 2)], 1);
  }

  void singleCubeStatistics() {
    Volume v = Volume::floatVolume({20, 20, 10}, {0.5, 0.5, 3.0}, {10, 20, 30});
    fillBox(v, {5, 5, 2}, {7, 7, 4}, 0.8f);
    auto d = extractLesionCandidates(v);
    QVERIFY(d.ok());
    QCOMPARE(int(d->candidates.size()), 1);
    const LesionCandidate& c = d->candidates[0];
    QCOMPARE(c.voxels, std::int64_t(27));
    QCOMPARE(c.likelihood, double(0.8f));
    // 27 voxels of 0.5 * 0.5 * 3 mm^3 = 20.25 mm^3 = 0.02025 mL.
    QVERIFY(std::abs(c.volumeMl - 0.02025) < 1e-12);
    // Farthest voxel centres: opposite corners, (1, 1, 6) mm apart -> sqrt(38) mm.
    QVERIFY(std::abs(c.maxDiameterMm - std::sqrt(38.0)) < 1e-9);
    QVERIFY(std::abs(c.centroidIndex[0] - 6) < 1e-12 && std::abs(c.centroidIndex[2] - 3) < 1e-12);
    // World: origin + index * spacing (identity direction) = (13, 23, 39).
    QVERIFY(std::abs(c.centroidWorld[0] - 13) < 1e-9 && std::abs(c.centroidWorld[1] - 23) < 1e-9 &&
            std::abs(c.centroidWorld[2] - 39) < 1e-9);
    // The detection map holds 0.8 on exactly those voxels.
    int on = 0;
    for (float f : d->map.floats) on += f == 0.8f;
    QCOMPARE(on, 27);
  }

  void dynamicThresholding() {
    auto d = extractLesionCandidates(threeBlobs());
    QVERIFY(d.ok());
    QCOMPARE(int(d->candidates.size()), 2);
    QCOMPARE(d->candidates[0].likelihood, double(0.9f));
    QCOMPARE(d->candidates[0].voxels, std::int64_t(125));  // core + shell, all set to 0.9
    QCOMPARE(d->candidates[1].likelihood, double(0.5f));
    QCOMPARE(d->candidates[1].voxels, std::int64_t(27));   // core only
    // Constant likelihood per candidate; B's shell (touching B) was skipped, C was too small.
    for (std::size_t i = 0; i < d->map.floats.size(); ++i) {
      const int id = d->labels.ints[i];
      const float expected = id == 0 ? 0.f : float(d->candidates[id == d->candidates[0].id ? 0 : 1].likelihood);
      QCOMPARE(d->map.floats[i], expected);
    }
  }

  void dynamicFast() {
    CandidateOptions o;
    o.mode = ThresholdMode::DynamicFast;  // one threshold: 0.95 / 2.5 = 0.38
    auto d = extractLesionCandidates(threeBlobs(), o);
    QVERIFY(d.ok());
    QCOMPARE(int(d->candidates.size()), 2);
    QCOMPARE(d->candidates[0].voxels, std::int64_t(125));
    QCOMPARE(d->candidates[1].voxels, std::int64_t(27));
  }

  void adjacentCandidatesAreRemoved() {
    Volume v = Volume::floatVolume({12, 12, 12});
    fillBox(v, {2, 2, 2}, {4, 4, 4}, 0.9f);
    fillBox(v, {5, 2, 2}, {7, 4, 4}, 0.3f);  // touches the first plateau
    auto d = extractLesionCandidates(v);
    QVERIFY(d.ok());
    QCOMPARE(int(d->candidates.size()), 1);
    CandidateOptions keep;
    keep.removeAdjacent = false;
    auto both = extractLesionCandidates(v, keep);
    QVERIFY(both.ok());
    QCOMPARE(int(both->candidates.size()), 2);
    QCOMPARE(both->candidates[1].likelihood, double(0.3f));
  }

  void badInput() {
    Volume v = Volume::floatVolume({4, 4, 4});
    v.floats[3] = -0.5f;
    QVERIFY(!extractLesionCandidates(v).ok());
    v.floats[3] = std::nanf("");
    QVERIFY(!extractLesionCandidates(v).ok());
    QVERIFY(!extractLesionCandidates(Volume{}).ok());
    auto empty = extractLesionCandidates(Volume::floatVolume({4, 4, 4}));  // all zero: no candidates
    QVERIFY(empty.ok());
    QVERIFY(empty->candidates.empty());
  }

  void agreesWithPythonReference() {
    QProcess probe;
    probe.start(python(), {"-c", "import scipy, numpy"});
    if (!probe.waitForFinished(20000) || probe.exitCode() != 0) QSKIP("python3 with numpy/scipy is not installed");
    // A random smooth volume: a few Gaussian bumps of different heights plus low noise.
    Volume v = Volume::floatVolume({40, 36, 16});
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    for (int b = 0; b < 9; ++b) {
      const double cx = u(rng) * 40, cy = u(rng) * 36, cz = u(rng) * 16, h = 0.2 + 0.8 * u(rng), s = 1.5 + 2 * u(rng);
      for (std::int64_t k = 0; k < 16; ++k)
        for (std::int64_t j = 0; j < 36; ++j)
          for (std::int64_t i = 0; i < 40; ++i) {
            const double r2 = (i - cx) * (i - cx) + (j - cy) * (j - cy) + 4 * (k - cz) * (k - cz);
            v.floats[v.offset(i, j, k)] += float(h * std::exp(-r2 / (2 * s * s)));
          }
    }
    for (float& f : v.floats) f = std::min(1.f, f + float(0.01 * u(rng)));
    QTemporaryDir dir;
    const std::string in = dir.filePath("in.raw").toStdString(), out = dir.filePath("out.raw").toStdString();
    std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(v.floats.data()), std::streamsize(v.floats.size() * 4));
    QProcess py;
    py.start(python(), {LOUPE_SOURCE_DIR "/tests/prostate/picai_reference.py", "extract", QString::fromStdString(in), "16",
                         "36", "40", QString::fromStdString(out)});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    std::vector<std::int32_t> ref(v.floats.size());
    std::ifstream(out, std::ios::binary).read(reinterpret_cast<char*>(ref.data()), std::streamsize(ref.size() * 4));
    auto d = extractLesionCandidates(v);
    QVERIFY(d.ok());
    QVERIFY(d->candidates.size() >= 2);  // the case is not trivial
    int differ = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) differ += ref[i] != d->labels.ints[i];
    QCOMPARE(differ, 0);
  }
};

QTEST_GUILESS_MAIN(TestDetectionMap)
#include "test_detection_map.moc"
