// DICOM SEG export (backend/volume/DicomSeg) read back with DCMTK and checked with dciodvfy:
// a synthetic oblique MR series written here with DCMTK (so the right answer is known: slice positions,
// orientation, SOP instance UIDs), label balls on its grid -> SEG -> segment count and names, one frame per
// (segment, slice holding it) at the source slice's position with a derivation reference to that slice,
// shared orientation/pixel spacing, the source series referenced; the label map read back is identical
// voxel for voxel. Labels on another grid and empty label maps are refused. The real ProstateX T2W series
// (../shared/data/prostate_mri, skipped when absent) with its lesion annotation round-trips too.
#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmseg/segdoc.h>

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <set>

#include "volume/DicomSeg.h"
#include "volume/Resample.h"
#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

Mat3 oblique() {
  // Rotation about x by 20 degrees, then about z by 25 degrees: rows/columns not along the world axes.
  const double a = 0.349, b = 0.436;
  const Mat3 rx{1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)};
  const Mat3 rz{std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b), 0, 0, 0, 1};
  Mat3 m{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) m[r * 3 + c] += rz[r * 3 + k] * rx[k * 3 + c];
  return m;
}

std::string ds(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

// Writes `grid` (float voxels) as an MR Image Storage series, one file per slice, with DCMTK.
// Returns the SOP Instance UID of each slice k.
std::vector<std::string> writeSeries(const Volume& grid, const QString& folder, std::string& seriesUid) {
  char study[100], series[100], frame[100];
  dcmGenerateUniqueIdentifier(study, SITE_STUDY_UID_ROOT);
  dcmGenerateUniqueIdentifier(series, SITE_SERIES_UID_ROOT);
  dcmGenerateUniqueIdentifier(frame, SITE_INSTANCE_UID_ROOT);
  seriesUid = series;
  std::vector<std::string> sops;
  const Mat3& d = grid.direction;
  const std::string iop = ds(d[0]) + "\\" + ds(d[3]) + "\\" + ds(d[6]) + "\\" + ds(d[1]) + "\\" + ds(d[4]) + "\\" + ds(d[7]);
  for (std::int64_t k = 0; k < grid.size[2]; ++k) {
    DcmFileFormat ff;
    DcmDataset* ds_ = ff.getDataset();
    char sop[100];
    dcmGenerateUniqueIdentifier(sop, SITE_INSTANCE_UID_ROOT);
    sops.push_back(sop);
    const Vec3 p = grid.indexToWorld({0, 0, double(k)});
    ds_->putAndInsertString(DCM_SOPClassUID, UID_MRImageStorage);
    ds_->putAndInsertString(DCM_SOPInstanceUID, sop);
    ds_->putAndInsertString(DCM_StudyInstanceUID, study);
    ds_->putAndInsertString(DCM_SeriesInstanceUID, series);
    ds_->putAndInsertString(DCM_FrameOfReferenceUID, frame);
    ds_->putAndInsertString(DCM_PatientName, "Synthetic^Oblique");
    ds_->putAndInsertString(DCM_PatientID, "LOUPE-TEST-1");
    ds_->putAndInsertString(DCM_PatientBirthDate, "19700101");
    ds_->putAndInsertString(DCM_PatientSex, "M");
    ds_->putAndInsertString(DCM_StudyDate, "20260101");
    ds_->putAndInsertString(DCM_StudyTime, "120000");
    ds_->putAndInsertString(DCM_StudyID, "1");
    ds_->putAndInsertString(DCM_AccessionNumber, "A1");
    ds_->putAndInsertString(DCM_ReferringPhysicianName, "");
    ds_->putAndInsertString(DCM_Modality, "MR");
    ds_->putAndInsertString(DCM_SeriesNumber, "4");
    ds_->putAndInsertString(DCM_SeriesDescription, "t2_tse_tra synthetic");
    ds_->putAndInsertString(DCM_InstanceNumber, std::to_string(k + 1).c_str());
    ds_->putAndInsertString(DCM_ImagePositionPatient, (ds(p[0]) + "\\" + ds(p[1]) + "\\" + ds(p[2])).c_str());
    ds_->putAndInsertString(DCM_ImageOrientationPatient, iop.c_str());
    ds_->putAndInsertString(DCM_PixelSpacing, (ds(grid.spacing[1]) + "\\" + ds(grid.spacing[0])).c_str());
    ds_->putAndInsertString(DCM_SliceThickness, ds(grid.spacing[2]).c_str());
    ds_->putAndInsertUint16(DCM_Rows, Uint16(grid.size[1]));
    ds_->putAndInsertUint16(DCM_Columns, Uint16(grid.size[0]));
    ds_->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds_->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds_->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds_->putAndInsertUint16(DCM_BitsStored, 16);
    ds_->putAndInsertUint16(DCM_HighBit, 15);
    ds_->putAndInsertUint16(DCM_PixelRepresentation, 0);
    std::vector<Uint16> px(std::size_t(grid.size[0] * grid.size[1]));
    for (std::int64_t j = 0; j < grid.size[1]; ++j)
      for (std::int64_t i = 0; i < grid.size[0]; ++i)
        px[std::size_t(j * grid.size[0] + i)] = Uint16(grid.floats[grid.offset(i, j, k)]);
    ds_->putAndInsertUint16Array(DCM_PixelData, px.data(), unsigned(px.size()));
    const QString file = folder + QString("/slice%1.dcm").arg(k, 3, 10, QChar('0'));
    if (ff.saveFile(file.toStdString().c_str(), EXS_LittleEndianExplicit).bad()) return {};
  }
  return sops;
}

Volume syntheticGrid() {
  Volume v = Volume::floatVolume({40, 32, 12}, {0.7, 0.6, 3.0}, {-20.5, 14.25, -31.0}, oblique());
  for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float(100 + (i * 7) % 900);
  return v;
}

Volume balls(const Volume& grid) {
  Volume l = grid.sameGrid(VoxelType::Int32);
  const Vec3 c = grid.indexToWorld({20, 16, 6});
  const struct { Vec3 at; double r; int label; } bs[] = {
      {{c[0] - 6, c[1], c[2]}, 4.0, 1}, {{c[0] + 6, c[1] + 2, c[2] + 3}, 5.0, 2}, {{c[0], c[1] - 5, c[2] - 8}, 3.5, 3}};
  for (std::int64_t k = 0; k < l.size[2]; ++k)
    for (std::int64_t j = 0; j < l.size[1]; ++j)
      for (std::int64_t i = 0; i < l.size[0]; ++i) {
        const Vec3 w = l.indexToWorld({double(i), double(j), double(k)});
        for (const auto& b : bs)
          if (std::hypot(w[0] - b.at[0], w[1] - b.at[1], w[2] - b.at[2]) <= b.r) l.ints[l.offset(i, j, k)] = b.label;
      }
  return l;
}

// dciodvfy's "Error" lines (it prints warnings and errors on stderr); empty when clean.
QStringList dciodvfyErrors(const QString& file, QString& all) {
  QProcess p;
  p.start("dciodvfy", {file});
  p.waitForFinished(60000);
  all = QString::fromLocal8Bit(p.readAllStandardError() + p.readAllStandardOutput());
  QStringList errors;
  for (const QString& line : all.split('\n'))
    if (line.startsWith("Error")) errors << line;
  return errors;
}

}  // namespace

class TestDicomSeg : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void writesAndReadsBackASyntheticObliqueSeries() {
    QTemporaryDir dir;
    QVERIFY(QDir().mkpath(dir.filePath("t2")));
    const Volume grid = syntheticGrid();
    std::string seriesUid;
    const std::vector<std::string> sops = writeSeries(grid, dir.filePath("t2"), seriesUid);
    QCOMPARE(int(sops.size()), 12);
    auto list = volume::listDicomSeries(dir.filePath("t2").toStdString());
    QVERIFY2(list.ok() && list->size() == 1, list.ok() ? "not one series" : list.error().message.c_str());
    auto read = volume::readDicomSeries(list->front());
    QVERIFY2(read.ok(), read.ok() ? "" : read.error().message.c_str());
    QVERIFY(sameGeometry(*read, grid, 1e-4));  // the loader sees the grid the series was written with

    const Volume labels = balls(grid);
    std::map<int, std::set<std::int64_t>> slicesOf;  // the reference: which slices hold each label
    for (std::int64_t k = 0; k < labels.size[2]; ++k)
      for (std::int64_t j = 0; j < labels.size[1]; ++j)
        for (std::int64_t i = 0; i < labels.size[0]; ++i)
          if (int l = labels.ints[labels.offset(i, j, k)]) slicesOf[l].insert(k);
    QCOMPARE(int(slicesOf.size()), 3);
    std::size_t expectedFrames = 0;
    for (const auto& [l, ks] : slicesOf) expectedFrames += ks.size();

    volume::DicomSegOptions options;
    options.segments = {{2, "Candidate 2", "likelihood 0.61, 0.5 mL", {0, 114, 178}}};
    const std::string out = dir.filePath("seg/candidates.dcm").toStdString();
    auto written = volume::writeDicomSeg(labels, list->front(), out, options);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().message.c_str());
    QCOMPARE(written->segments, 3);
    QCOMPARE(std::size_t(written->frames), expectedFrames);

    // dcmseg reads it as a segmentation with three segments.
    DcmSegmentation* seg = nullptr;
    QVERIFY(DcmSegmentation::loadFile(out.c_str(), seg).good() && seg);
    QCOMPARE(int(seg->getNumberOfSegments()), 3);
    QCOMPARE(seg->getNumberOfFrames(), expectedFrames);
    delete seg;

    // Frame by frame, with plain dcmdata (not the writer's code path).
    auto c = volume::inspectDicomSeg(out);
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
    QCOMPARE(c->rows, 32);
    QCOMPARE(c->columns, 40);
    QCOMPARE(c->segmentLabels, (std::vector<std::string>{"Candidate 1", "Candidate 2", "Candidate 3"}));
    QCOMPARE(c->referencedSeriesUid, seriesUid);
    for (int i = 0; i < 3; ++i) {
      QVERIFY(std::abs(c->orientation[i] - grid.direction[i * 3]) < 1e-6);
      QVERIFY(std::abs(c->orientation[3 + i] - grid.direction[i * 3 + 1]) < 1e-6);
    }
    QVERIFY(std::abs(c->pixelSpacing[0] - 0.6) < 1e-9 && std::abs(c->pixelSpacing[1] - 0.7) < 1e-9);
    std::map<int, std::set<std::int64_t>> framesOf;
    for (std::size_t f = 0; f < c->framePosition.size(); ++f) {
      const Vec3 idx = grid.worldToIndex(c->framePosition[f]);
      const std::int64_t k = std::llround(idx[2]);
      QVERIFY2(std::abs(idx[0]) < 1e-4 && std::abs(idx[1]) < 1e-4 && std::abs(idx[2] - double(k)) < 1e-4,
               qPrintable(QString("frame %1 off the source slices").arg(f)));
      QCOMPARE(c->frameSourceSopInstance[f], sops[std::size_t(k)]);  // derived from the slice it lies on
      framesOf[c->frameSegment[f]].insert(k);
    }
    QCOMPARE(framesOf, slicesOf);

    auto back = volume::readDicomSeg(out, grid);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QVERIFY(back->ints == labels.ints);

    if (QStandardPaths::findExecutable("dciodvfy").isEmpty()) {
      qInfo("dciodvfy (dicom3tools) not installed: IOD check skipped");
    } else {
      QString log;
      const QStringList errors = dciodvfyErrors(QString::fromStdString(out), log);
      QVERIFY2(errors.isEmpty(), qPrintable(log));
    }
  }

  void refusesLabelsOnAnotherGridAndEmptyLabels() {
    QTemporaryDir dir;
    QVERIFY(QDir().mkpath(dir.filePath("t2")));
    const Volume grid = syntheticGrid();
    std::string seriesUid;
    QVERIFY(!writeSeries(grid, dir.filePath("t2"), seriesUid).empty());
    auto list = volume::listDicomSeries(dir.filePath("t2").toStdString());
    QVERIFY(list.ok() && list->size() == 1);
    Volume shifted = balls(grid);
    shifted.origin[0] += 1.0;
    auto r = volume::writeDicomSeg(shifted, list->front(), dir.filePath("a.dcm").toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("not on the source series' grid") != std::string::npos, r.error().message.c_str());
    auto e = volume::writeDicomSeg(grid.sameGrid(VoxelType::Int32), list->front(), dir.filePath("b.dcm").toStdString());
    QVERIFY(!e.ok());
    QVERIFY2(e.error().message.find("no labelled voxel") != std::string::npos, e.error().message.c_str());
    QVERIFY(!QFile::exists(dir.filePath("a.dcm")) && !QFile::exists(dir.filePath("b.dcm")));
    auto notSeg = volume::inspectDicomSeg(dir.filePath("t2/slice000.dcm").toStdString());
    QVERIFY(!notSeg.ok());
    QVERIFY2(notSeg.error().message.find("not a DICOM Segmentation") != std::string::npos, notSeg.error().message.c_str());
  }

  void realProstateXSeriesRoundTrips() {
    const QString t2 = QStringLiteral(LOUPE_SHARED_DATA_DIR
                                      "/prostate_mri/input/dcm/ProstateX/ProstateX-0000/07-07-2011/4.000000-t2tsetra-00702");
    const QString annotation = QStringLiteral(LOUPE_SHARED_DATA_DIR
                                              "/prostate_mri/input/annotations/ProstateX/ProstateX-0000_07-07-2011.nii.gz");
    if (!QDir(t2).exists() || !QFile::exists(annotation)) QSKIP("prostate_mri data not present under ../shared/data");
    auto list = volume::listDicomSeries(t2.toStdString());
    QVERIFY(list.ok() && list->size() == 1);
    auto grid = volume::readDicomSeries(list->front());
    QVERIFY(grid.ok());
    auto lesion = volume::readVolume(annotation.toStdString());
    QVERIFY2(lesion.ok(), lesion.ok() ? "" : lesion.error().message.c_str());
    // The annotation is on the T2W grid up to float rounding in the NIfTI header: put it on the series' grid.
    auto onGrid = volume::resampleToGrid(*lesion, *grid, {volume::Interpolation::Nearest});
    QVERIFY2(onGrid.ok(), onGrid.ok() ? "" : onGrid.error().message.c_str());
    Volume labels = onGrid->sameGrid(VoxelType::Int32);
    for (std::size_t i = 0; i < labels.ints.size(); ++i) labels.ints[i] = onGrid->value(i) > 0.5 ? 1 : 0;
    QTemporaryDir dir;
    const std::string out = dir.filePath("lesion_seg.dcm").toStdString();
    auto written = volume::writeDicomSeg(labels, list->front(), out);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().message.c_str());
    QCOMPARE(written->segments, 1);
    auto back = volume::readDicomSeg(out, *grid);
    QVERIFY(back.ok());
    QVERIFY(back->ints == labels.ints);
    auto c = volume::inspectDicomSeg(out);
    QVERIFY(c.ok());
    QCOMPARE(c->patientId, std::string("ProstateX-0000"));
    if (!QStandardPaths::findExecutable("dciodvfy").isEmpty()) {
      QString log;
      const QStringList errors = dciodvfyErrors(QString::fromStdString(out), log);
      QVERIFY2(errors.isEmpty(), qPrintable(errors.join('\n')));
    }
  }
};

QTEST_GUILESS_MAIN(TestDicomSeg)
#include "test_dicom_seg.moc"
