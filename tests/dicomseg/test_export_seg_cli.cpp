// `loupe-cli export seg` end to end on the real ProstateX-0000 study (../shared/data/prostate_mri; skipped
// when absent): prostate.detect's candidate_labels.nii.gz + candidates.json -> a DICOM SEG on the T2W
// series with one segment per candidate, described from candidates.json, read back voxel for voxel equal
// to the candidate labels on the series' grid; bad inputs exit 3 with a message naming the problem.
#include "../support/CliRun.h"
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

#include "volume/DicomSeg.h"
#include "volume/Resample.h"
#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

const QString kStudy = QStringLiteral(LOUPE_SHARED_DATA_DIR "/prostate_mri/input/dcm/ProstateX/ProstateX-0000/07-07-2011");
const QString kT2 = kStudy + "/4.000000-t2tsetra-00702";

using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 300000); }

}  // namespace

class TestExportSegCli : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    if (!QDir(kT2).exists()) QSKIP("prostate_mri data not present under ../shared/data");
  }

  void exportsTheCandidatesOfADetection() {
    QTemporaryDir dir;
    const QString out = dir.filePath("detect");
    Run d = cli({"run", "prostate.detect", kStudy, "--out", out, "--quiet"});
    QVERIFY2(d.exitCode == 0, qPrintable(d.err));
    const QString seg = dir.filePath("candidates_seg.dcm");
    Run e = cli({"export", "seg", "--labels", out + "/candidate_labels.nii.gz", "--series", kT2, "--candidates",
                 out + "/candidates.json", "--out", seg});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QVERIFY2(e.out.contains("DICOM SEG with"), qPrintable(e.out));

    auto labels = volume::readVolume((out + "/candidate_labels.nii.gz").toStdString());
    QVERIFY(labels.ok());
    auto list = volume::listDicomSeries(kT2.toStdString());
    QVERIFY(list.ok() && list->size() == 1);
    auto grid = volume::readDicomSeries(list->front());
    QVERIFY(grid.ok());
    auto onGrid = volume::resampleToGrid(*labels, *grid, {volume::Interpolation::Nearest});
    QVERIFY(onGrid.ok());
    std::set<int> present;
    for (std::size_t i = 0; i < std::size_t(onGrid->voxelCount()); ++i)
      if (onGrid->value(i) > 0) present.insert(int(onGrid->value(i)));
    QVERIFY(!present.empty());

    auto c = volume::inspectDicomSeg(seg.toStdString());
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
    QCOMPARE(c->segmentLabels.size(), present.size());
    QCOMPARE(c->segmentLabels.front(), std::string("Candidate ") + std::to_string(*present.begin()));
    QCOMPARE(c->patientId, std::string("ProstateX-0000"));
    // Candidates are numbered 1..n, so segment numbers are the candidate ids.
    auto back = volume::readDicomSeg(seg.toStdString(), *grid);
    QVERIFY(back.ok());
    for (std::size_t i = 0; i < back->ints.size(); ++i)
      QCOMPARE(back->ints[i], std::int32_t(std::lround(onGrid->value(i))));
  }

  void badInputsExitThreeWithTheReason() {
    QTemporaryDir dir;
    Run noImages = cli({"export", "seg", "--labels", dir.filePath("x.nii.gz"), "--series", kStudy, "--out", dir.filePath("a.dcm")});
    QCOMPARE(noImages.exitCode, 3);
    QVERIFY2(noImages.err.contains("holds no DICOM images directly"), qPrintable(noImages.err));
    Run noLabels = cli({"export", "seg", "--labels", dir.filePath("missing.nii.gz"), "--series", kT2, "--out", dir.filePath("b.dcm")});
    QCOMPARE(noLabels.exitCode, 3);
    QVERIFY2(noLabels.err.contains("missing.nii.gz"), qPrintable(noLabels.err));
    QVERIFY(!QFile::exists(dir.filePath("a.dcm")) && !QFile::exists(dir.filePath("b.dcm")));
  }
};

QTEST_GUILESS_MAIN(TestExportSegCli)
#include "test_export_seg_cli.moc"
