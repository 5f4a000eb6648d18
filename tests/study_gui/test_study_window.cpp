// StudyWindow on the offscreen platform: a three-sequence study written to NIfTI files (different
// geometry per sequence) opens in linked views; layouts; a candidate click jumps every view; PI-RADS and
// comments survive a saved session reopened in a new window and appear in the exported report; and, when
// ../shared/data holds the ProstateX study, Detect Lesions runs prostate.detect through the plugin host and
// its candidates agree with the candidate label volume it returned.
//
// References: expected slices and positions are computed from the written geometry (world -> index);
// candidate volumes are recounted from the label volume (voxels * voxel volume / 1000, as PI-CAI defines).

#include <QtTest>

#include <QComboBox>
#include <QTableWidget>
#include <QTemporaryDir>

#include "CandidatesPanel.h"
#include "ErrorBanner.h"
#include "StudyWindow.h"
#include "host/PluginHost.h"
#include "session/SessionFile.h"
#include "volume/VolumeIO.h"
#include "widgets/SliceLink.h"
#include "widgets/SliceView.h"

using namespace loupe;
using namespace loupe::gui;
using loupe::widgets::SlicePlane;

namespace {

Volume filled(std::array<std::int64_t, 3> n, Vec3 spacing, Vec3 origin, Mat3 dir, float scale) {
  Volume v = Volume::floatVolume(n, spacing, origin, dir);
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i) v.floats[v.offset(i, j, k)] = scale * float((i + 2 * j + 3 * k) % 50);
  return v;
}

QStringList writeStudy(const QString& dir) {
  const double c = std::cos(0.1), s = std::sin(0.1);
  const Volume t2 = filled({80, 80, 10}, {0.5, 0.5, 3.0}, {-20, -20, -15}, {c, -s, 0, s, c, 0, 0, 0, 1}, 10.f);
  const Volume adc = filled({24, 24, 12}, {2.0, 2.0, 3.0}, {-24, -22, -18}, identity3(), 60.f);
  const Volume dwi = filled({22, 22, 11}, {2.0, 2.0, 3.2}, {-23, -21, -17}, identity3(), 2.f);
  QStringList paths;
  for (const auto& [name, v] : {std::pair{"case_t2w.nii.gz", &t2}, {"case_adc.nii.gz", &adc}, {"case_hbv.nii.gz", &dwi}}) {
    const QString p = dir + QLatin1Char('/') + QLatin1String(name);
    if (!volume::writeVolume(*v, p.toStdString())) return {};
    paths << p;
  }
  return paths;
}

// Candidate labels in the reference grid: two boxes, and their candidates.
void fakeDetection(StudyWindow& w) {
  const Volume& ref = *w.reference();
  Volume labels = ref.sameGrid(VoxelType::Int32);
  Volume like = ref.sameGrid(VoxelType::Float32);
  for (std::int64_t k = 2; k < 4; ++k)
    for (std::int64_t j = 10; j < 16; ++j)
      for (std::int64_t i = 50; i < 58; ++i) {
        labels.ints[labels.offset(i, j, k)] = 1;
        like.floats[like.offset(i, j, k)] = 0.8f;
      }
  for (std::int64_t j = 60; j < 64; ++j)
    for (std::int64_t i = 20; i < 24; ++i) {
      labels.ints[labels.offset(i, j, 7)] = 2;
      like.floats[like.offset(i, j, 7)] = 0.4f;
    }
  session::StudyCandidate a, b;
  a.id = 1;
  a.likelihood = 0.8;
  const Vec3 ca = ref.indexToWorld({53.5, 12.5, 2.5});
  a.centroidLps = {ca[0], ca[1], ca[2]};
  b.id = 2;
  b.likelihood = 0.4;
  const Vec3 cb = ref.indexToWorld({21.5, 61.5, 7});
  b.centroidLps = {cb[0], cb[1], cb[2]};
  w.showDetection({{QStringLiteral("likelihood"), QStringLiteral("Likelihood"), std::make_shared<const Volume>(like), {}},
                   {QStringLiteral("candidate_labels"), QStringLiteral("Candidates"), std::make_shared<const Volume>(labels), {}}},
                  {a, b});
}

}  // namespace

class TestStudyWindow : public QObject {
  Q_OBJECT

  host::PluginHost host_;

 private Q_SLOTS:
  void initTestCase() { host_.scan(); }

  void opensAStudyInLinkedViews() {
    QTemporaryDir dir;
    const QStringList paths = writeStudy(dir.path());
    QCOMPARE(paths.size(), 3);
    StudyWindow w(host_);
    w.resize(1400, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.openStudyAndWait(paths));
    QCOMPARE(w.views().size(), 3);
    QCOMPARE(w.views()[0]->imageName(), QStringLiteral("T2W"));
    QCOMPARE(w.views()[1]->imageName(), QStringLiteral("ADC"));
    QCOMPARE(w.views()[2]->imageName(), QStringLiteral("DWI"));
    QCOMPARE(w.reference()->size, (std::array<std::int64_t, 3>{80, 80, 10}));
    for (auto* v : w.views()) {
      QCOMPARE(v->link(), w.link());
      QCOMPARE(v->frame().nu, 80);  // every sequence shown in the T2W grid
    }
    // ADC in 10^-6 mm^2/s gets the ADC window, T2W its percentiles.
    QCOMPARE(w.sequenceWindow(QStringLiteral("adc"))->second, 3000.0);
    QTest::keyClick(w.views()[0], Qt::Key_PageUp);
    QCOMPARE(w.views()[1]->slice(), w.views()[0]->slice());
    QCOMPARE(w.views()[2]->slice(), w.views()[0]->slice());
    // Window changes of one ADC view reach every view of the ADC.
    w.setLayout(StudyWindow::Layout::Planes, SlicePlane::Axial, QStringLiteral("adc"));
    QCOMPARE(w.views().size(), 3);
    QCOMPARE(w.views()[1]->plane(), SlicePlane::Sagittal);
    QCOMPARE(w.views()[2]->plane(), SlicePlane::Coronal);
    for (auto* v : w.views()) QCOMPARE(v->imageName(), QStringLiteral("ADC"));
    w.views()[1]->setWindow(100, 1100);
    QCOMPARE(w.views()[0]->windowLow(), 100.0);
    QCOMPARE(w.views()[2]->windowHigh(), 1100.0);
  }

  void candidateClickJumpsEveryView() {
    QTemporaryDir dir;
    StudyWindow w(host_);
    w.resize(1400, 900);
    w.show();
    QVERIFY(w.openStudyAndWait(writeStudy(dir.path())));
    fakeDetection(w);
    QCOMPARE(w.candidatesPanel()->count(), 2);
    for (auto* v : w.views()) {
      QVERIFY(v->overlay(QStringLiteral("likelihood")));
      QVERIFY(v->overlay(QStringLiteral("candidate_labels")));
    }
    // Click row 2 in the table.
    QTableWidget* table = w.candidatesPanel()->table();
    const QRect cell = table->visualItemRect(table->item(1, CandidatesPanel::Likelihood));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    const auto target = w.candidatesPanel()->candidates()[1].centroidLps;
    for (int i = 0; i < 3; ++i) QVERIFY(std::abs(w.link()->crosshair()[i] - target[i]) < 1e-9);
    for (auto* v : w.views()) {
      QCOMPARE(v->slice(), 7);  // the candidate's T2W slice
      // Centred on it.
      const QPointF p = v->worldToWidget({target[0], target[1], target[2]});
      QVERIFY(std::abs(p.x() - v->width() / 2.0) < 1e-6 && std::abs(p.y() - v->height() / 2.0) < 1e-6);
    }
    // Its label is drawn under the crosshair: candidate 2 outlined in the palette's second colour somewhere
    // on that slice, and the readout names it.
    QVERIFY(w.views()[0]->readoutAt({target[0], target[1], target[2]}).contains(QStringLiteral("candidate 2")));
  }

  void assessmentsSurviveASessionAndReachTheReport() {
    QTemporaryDir dir;
    const QString sessionPath = dir.filePath(QStringLiteral("case.loupe"));
    const QStringList paths = writeStudy(dir.path());
    {
      StudyWindow w(host_);
      w.show();
      QVERIFY(w.openStudyAndWait(paths));
      fakeDetection(w);
      auto* combo = w.candidatesPanel()->findChild<QComboBox*>(QStringLiteral("pirads0"));
      QVERIFY(combo);
      QSignalSpy changed(w.candidatesPanel(), &CandidatesPanel::assessmentChanged);
      combo->setCurrentIndex(4);  // PI-RADS 4
      w.candidatesPanel()->setComment(0, QStringLiteral("restricted diffusion, PZ left"));
      w.candidatesPanel()->setPirads(1, 2);
      QCOMPARE(changed.count(), 3);
      w.setLayout(StudyWindow::Layout::Sequences, SlicePlane::Coronal);
      w.candidatesPanel()->activate(0);
      QVERIFY(w.saveSession(sessionPath));
    }
    StudyWindow w2(host_);
    w2.show();
    QVERIFY(w2.openSession(sessionPath));
    const auto c = w2.candidatesPanel()->candidates();
    QCOMPARE(c.size(), std::size_t(2));
    QCOMPARE(c[0].pirads.value(), 4);
    QCOMPARE(c[0].comment, QStringLiteral("restricted diffusion, PZ left"));
    QCOMPARE(c[1].pirads.value(), 2);
    QCOMPARE(w2.plane(), SlicePlane::Coronal);
    QCOMPARE(w2.views().size(), 3);
    QVERIFY(w2.views()[0]->overlay(QStringLiteral("candidate_labels")));
    for (int i = 0; i < 3; ++i) QVERIFY(std::abs(w2.link()->crosshair()[i] - c[0].centroidLps[i]) < 1e-9);
    // The editors show the restored values.
    auto* combo = w2.candidatesPanel()->findChild<QComboBox*>(QStringLiteral("pirads0"));
    QCOMPARE(combo->currentText(), QStringLiteral("4"));
    const QString html = dir.filePath(QStringLiteral("report.html"));
    QVERIFY(w2.exportReport(html));
    QFile f(html);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY(text.contains(QStringLiteral("restricted diffusion, PZ left")));
    QVERIFY(text.contains(QStringLiteral("<td><b>4</b></td>")));
    QVERIFY(text.contains(QStringLiteral("<td><b>2</b></td>")));
    QVERIFY(text.contains(QStringLiteral("case_adc.nii.gz")));
  }

  void aStudySessionWithAMissingFileSaysWhich() {
    QTemporaryDir dir;
    const QString sessionPath = dir.filePath(QStringLiteral("case.loupe"));
    const QStringList paths = writeStudy(dir.path());
    {
      StudyWindow w(host_);
      QVERIFY(w.openStudyAndWait(paths));
      QVERIFY(w.saveSession(sessionPath));
    }
    QVERIFY(QFile::remove(paths[1]));
    StudyWindow w2(host_);
    QVERIFY(!w2.openSession(sessionPath));
    QVERIFY2(w2.banner()->text().contains(QStringLiteral("case_adc.nii.gz")), qPrintable(w2.banner()->text()));
  }

  void detectLesionsOnProstateX() {
    const QString d = QStringLiteral(LOUPE_SHARED_DATA_DIR "/prostate_mri/output-expected/mha/ProstateX/ProstateX-0000/");
    const QStringList paths = {d + "ProstateX-0000_07-07-2011_t2w.mha", d + "ProstateX-0000_07-07-2011_adc.mha",
                               d + "ProstateX-0000_07-07-2011_hbv.mha"};
    for (const QString& p : paths)
      if (!QFile::exists(p)) QSKIP("ProstateX data not present under ../shared/data/prostate_mri");
    if (!host_.findTask("prostate.detect").spec) QSKIP("the prostate plugin is not built");
    StudyWindow w(host_);
    w.resize(1400, 900);
    w.show();
    QVERIFY(w.openStudyAndWait(paths));
    QCOMPARE(w.reference()->size, (std::array<std::int64_t, 3>{384, 384, 19}));
    QSignalSpy done(&w, &StudyWindow::detectionFinished);
    QVERIFY(w.runDetection());
    QVERIFY(w.isDetecting());
    QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, 120000);
    QCOMPARE(done.at(0).at(0).toBool(), true);
    const auto cands = w.candidatesPanel()->candidates();
    QVERIFY(!cands.empty());
    const Volume* labels = nullptr;
    const auto* overlay = w.views()[0]->overlay(QStringLiteral("candidate_labels"));
    QVERIFY(overlay && overlay->volume);
    labels = overlay->volume.get();
    QVERIFY(sameGeometry(*labels, *w.reference()));
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (i > 0) QVERIFY(cands[i].likelihood <= cands[i - 1].likelihood);
      std::int64_t voxels = 0;
      for (std::int32_t l : labels->ints) voxels += l == cands[i].id ? 1 : 0;
      QVERIFY(voxels > 10);  // PI-CAI drops candidates of 10 voxels or fewer
      const double ml = voxels * labels->voxelVolumeMm3() / 1000.0;
      QVERIFY2(std::abs(ml - cands[i].volumeMl) < 0.0006, qPrintable(QStringLiteral("%1 vs %2").arg(ml).arg(cands[i].volumeMl)));
    }
    // The window jumped to the most likely candidate.
    for (int i = 0; i < 3; ++i) QVERIFY(std::abs(w.link()->crosshair()[i] - cands[0].centroidLps[i]) < 1e-9);
  }
};

QTEST_MAIN(TestStudyWindow)
#include "test_study_window.moc"
