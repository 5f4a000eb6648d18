// The training-free baseline on a synthetic study where the answer is known: a "lesion" of low ADC and
// high DWI inside the central region must carry the highest likelihood and become the top candidate;
// the same signal outside the region (or only one of the two signs) must not.
#include <QtTest>

#include <cmath>
#include <random>

#include "analysis/DetectionMap.h"
#include "analysis/ProstateBaseline.h"

using namespace loupe;
using namespace loupe::analysis;

class TestProstateBaseline : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void findsTheLowAdcHighDwiSpot() {
    const std::array<std::int64_t, 3> n{96, 96, 16};
    const Vec3 sp{1.0, 1.0, 3.0};
    Volume t2 = Volume::floatVolume(n, sp), adc = Volume::floatVolume(n, sp), dwi = Volume::floatVolume(n, sp);
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.f, 1.f);
    for (std::int64_t k = 0; k < n[2]; ++k)
      for (std::int64_t j = 0; j < n[1]; ++j)
        for (std::int64_t i = 0; i < n[0]; ++i) {
          const std::size_t at = t2.offset(i, j, k);
          const bool body = (i - 47.5) * (i - 47.5) + (j - 47.5) * (j - 47.5) < 44 * 44;
          t2.floats[at] = body ? 400.f + 20.f * noise(rng) : 5.f;
          adc.floats[at] = body ? 1400.f + 80.f * noise(rng) : 0.f;
          dwi.floats[at] = body ? 60.f + 6.f * noise(rng) : 0.f;
        }
    auto box = [&](Volume& v, int x0, int y0, int z0, float value) {
      for (int k = z0; k < z0 + 3; ++k)
        for (int j = y0; j < y0 + 6; ++j)
          for (int i = x0; i < x0 + 6; ++i) v.floats[v.offset(i, j, k)] = value;
    };
    box(adc, 50, 40, 7, 700.f);  // the lesion: low ADC ...
    box(dwi, 50, 40, 7, 140.f);  // ... with high DWI, 5 mm from the centre
    box(adc, 30, 50, 6, 700.f);  // low ADC alone (e.g. a calcification): no
    box(adc, 8, 44, 7, 700.f);   // both, but at the body's edge, outside the region: no
    box(dwi, 8, 44, 7, 140.f);
    auto l = baselineLikelihood(t2, adc, dwi);
    QVERIFY2(l.ok(), l.ok() ? "" : l.error().message.c_str());
    auto d = extractLesionCandidates(*l);
    QVERIFY(d.ok());
    QVERIFY(!d->candidates.empty());
    const LesionCandidate& top = d->candidates.front();
    QVERIFY2(top.likelihood > 0.8, qPrintable(QString::number(top.likelihood)));
    QVERIFY2(std::abs(top.centroidIndex[0] - 52.5) < 1.5 && std::abs(top.centroidIndex[1] - 42.5) < 1.5 &&
                 std::abs(top.centroidIndex[2] - 8) < 1.0,
             qPrintable(QString("%1 %2 %3").arg(top.centroidIndex[0]).arg(top.centroidIndex[1]).arg(top.centroidIndex[2])));
    QVERIFY(l->floats[l->offset(32, 52, 7)] < 0.2f);  // low ADC alone
    QCOMPARE(l->floats[l->offset(10, 46, 8)], 0.f);   // outside the region
    for (const auto& c : d->candidates)
      if (c.id != top.id) QVERIFY(c.likelihood < 0.5 * top.likelihood);
  }

  void refusesMismatchedGrids() {
    Volume a = Volume::floatVolume({8, 8, 8}), b = Volume::floatVolume({8, 8, 9});
    auto r = baselineLikelihood(a, a, b);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("resample") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestProstateBaseline)
#include "test_prostate_baseline.moc"
