// DICOM series and studies on the ProstateX test files of picai_prep (../shared/data/prostate_mri; skipped
// without them): listing series with descriptions, picking by description, mixed folders and missing
// slices, and a study whose DICOM and MetaImage copies (the latter made by picai_prep from the same
// DICOM) must agree on geometry.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "volume/Study.h"
#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

QString dataDir() { return QStringLiteral(LOUPE_SHARED_DATA_DIR "/prostate_mri"); }
QString studyDicom() { return dataDir() + "/input/dcm/ProstateX/ProstateX-0000/07-07-2011"; }
QString t2Folder() { return studyDicom() + "/4.000000-t2tsetra-00702"; }
QString adcFolder() { return studyDicom() + "/7.000000-ep2ddifftraDYNDISTADC-48780"; }

bool copyFiles(const QString& from, const QString& to, int skipIndex = -1) {
  const QStringList files = QDir(from).entryList(QDir::Files, QDir::Name);
  for (int i = 0; i < files.size(); ++i) {
    if (i == skipIndex) continue;
    if (!QFile::copy(from + "/" + files[i], to + "/" + QFileInfo(from).fileName().left(1) + files[i])) return false;
  }
  return true;
}

}  // namespace

class TestDicomStudy : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    const QString name = QString::fromLatin1(QTest::currentTestFunction());
    if (name != "axialWinsOverSagittal" && name != "roles" && !QDir(studyDicom()).exists())
      QSKIP("prostate_mri data not present under ../shared/data");
  }

  void listsAndReadsOneSeries() {
    auto list = volume::listDicomSeries(t2Folder().toStdString());
    QVERIFY2(list.ok(), list.ok() ? "" : list.error().message.c_str());
    QCOMPARE(int(list->size()), 1);
    QCOMPARE(int(list->front().files.size()), 19);
    auto v = volume::readVolume(t2Folder().toStdString());
    QVERIFY2(v.ok(), v.ok() ? "" : v.error().message.c_str());
    QCOMPARE(v->size[2], std::int64_t(19));
    QVERIFY(!v->description.empty());
    // picai_prep converted the same DICOM to MetaImage with SimpleITK: the geometry must agree.
    const QString mha = dataDir() + "/output-expected/mha/ProstateX/ProstateX-0000/ProstateX-0000_07-07-2011_t2w.mha";
    if (QFile::exists(mha)) {
      auto m = volume::readVolume(mha.toStdString());
      QVERIFY(m.ok());
      QCOMPARE(m->size, v->size);
      for (int i = 0; i < 3; ++i) {
        QVERIFY(std::abs(m->spacing[i] - v->spacing[i]) < 1e-3);
        QVERIFY(std::abs(m->origin[i] - v->origin[i]) < 1e-2);
      }
      for (int i = 0; i < 9; ++i) QVERIFY(std::abs(m->direction[i] - v->direction[i]) < 1e-4);
      double diff = 0;
      for (std::size_t i = 0; i < v->floats.size(); ++i) diff = std::max(diff, std::abs(double(v->floats[i]) - m->value(i)));
      QVERIFY2(diff < 1e-3, qPrintable(QString("voxel difference %1").arg(diff)));
    }
  }

  void mixedFolderListsSeriesAndPicksByDescription() {
    QTemporaryDir dir;
    QVERIFY(copyFiles(t2Folder(), dir.path()) && copyFiles(adcFolder(), dir.path()));
    auto r = volume::readVolume(dir.path().toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("2 DICOM series") != std::string::npos, r.error().message.c_str());
    auto list = volume::listDicomSeries(dir.path().toStdString());
    QVERIFY(list.ok());
    QCOMPARE(int(list->size()), 2);
    std::string adcDescription;
    for (const auto& s : *list)
      if (volume::sequenceRole(s.description) == "adc") adcDescription = s.description;
    QVERIFY2(!adcDescription.empty(), "no series description names the ADC");
    // Both messages list the descriptions.
    QVERIFY(r.error().message.find(adcDescription) != std::string::npos);
    auto adc = volume::readVolume(dir.path().toStdString(), {"adc", false});
    QVERIFY2(adc.ok(), adc.ok() ? "" : adc.error().message.c_str());
    QCOMPARE(adc->description, adcDescription);
    auto none = volume::readVolume(dir.path().toStdString(), {"flair", false});
    QVERIFY(!none.ok());
    QCOMPARE(none.error().code, ErrorCode::NotFound);
  }

  void missingSlice() {
    QTemporaryDir dir;
    // Files are not named in slice order, so drop files until one from the middle of the stack is gone.
    auto full = volume::listDicomSeries(t2Folder().toStdString());
    QVERIFY(full.ok());
    auto v = volume::readDicomSeries(full->front());
    QVERIFY(v.ok());
    volume::DicomSeries s = full->front();
    // listDicomSeries sorts along the normal: removing entry 9 removes an inner slice.
    s.files.erase(s.files.begin() + 9);
    auto r = volume::readDicomSeries(s);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("missing slices") != std::string::npos, r.error().message.c_str());
    QVERIFY2(r.error().message.find("1 missing") != std::string::npos, r.error().message.c_str());
  }

  void mixedOrientationInOneSeries() {
    // One slice of the T2W series re-labelled as sagittal (ImageOrientationPatient (0020,0037) rewritten in
    // place, same length, explicit VR little endian) - a reformat mixed into the series: refused.
    QTemporaryDir dir;
    QVERIFY(copyFiles(t2Folder(), dir.path()));
    const QStringList files = QDir(dir.path()).entryList(QDir::Files, QDir::Name);
    QFile f(dir.path() + "/" + files[5]);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QByteArray bytes = f.readAll();
    const int at = bytes.indexOf(QByteArray("\x20\x00\x37\x00" "DS", 6));
    QVERIFY(at > 0);
    const int len = quint8(bytes[at + 6]) | (quint8(bytes[at + 7]) << 8);
    QByteArray value("0\\1\\0\\0\\0\\-1");
    QVERIFY(value.size() <= len);
    value.append(QByteArray(len - value.size(), ' '));
    bytes.replace(at + 8, len, value);
    QVERIFY(f.seek(0));
    QCOMPARE(f.write(bytes), qint64(bytes.size()));
    f.close();
    auto r = volume::readVolume(dir.path().toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("mixes slice orientations") != std::string::npos, r.error().message.c_str());
  }

  void studyFromDicomFolderAndFromFiles() {
    auto s = volume::loadStudy({studyDicom().toStdString()});
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    QCOMPARE(int(s->sequences.size()), 3);
    QVERIFY(s->find("t2w") && s->find("adc") && s->find("dwi"));
    QCOMPARE(s->find("t2w")->size[2], std::int64_t(19));
    const QString mhaDir = dataDir() + "/output-expected/mha/ProstateX/ProstateX-0000";
    if (QDir(mhaDir).exists()) {
      auto m = volume::loadStudy({mhaDir.toStdString()});
      QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
      QVERIFY(m->find("t2w") && m->find("adc") && m->find("dwi"));
      QCOMPARE(m->find("adc")->size, s->find("adc")->size);
    }
    // Two studies in one folder: refused, naming both files.
    QTemporaryDir two;
    const QString nn = dataDir() + "/output-expected/nnUNet_raw_data/Task100_test/imagesTr";
    for (const QString& f : QDir(nn).entryList(QDir::Files)) {
      QVERIFY(QFile::copy(nn + "/" + f, two.filePath(f)));
      QVERIFY(QFile::copy(nn + "/" + f, two.filePath("copy_" + f)));
    }
    auto dup = volume::loadStudy({two.path().toStdString()});
    QVERIFY(!dup.ok());
    QVERIFY2(dup.error().message.find("Two inputs") != std::string::npos, dup.error().message.c_str());
  }

  void axialWinsOverSagittal() {
    // Made here (no data needed): an axial and a sagittal T2W (slice normal along x) in one folder.
    QTemporaryDir dir;
    const Mat3 sagittal{0, 0, 1, 1, 0, 0, 0, 1, 0};  // index x -> world y, y -> z, z (slices) -> x
    QVERIFY(volume::writeVolume(Volume::floatVolume({8, 8, 4}, {0.5, 0.5, 3}), dir.filePath("a_t2w_tra.nii.gz").toStdString()).ok());
    QVERIFY(volume::writeVolume(Volume::floatVolume({8, 8, 5}, {0.5, 0.5, 3}, {0, 0, 0}, sagittal),
                                dir.filePath("b_t2w_sag.nii.gz").toStdString()).ok());
    QVERIFY(volume::writeVolume(Volume::floatVolume({4, 4, 4}), dir.filePath("c_adc.nii.gz").toStdString()).ok());
    auto s = volume::loadStudy({dir.path().toStdString()});
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    QCOMPARE(int(s->sequences.size()), 2);
    QCOMPARE(s->find("t2w")->size[2], std::int64_t(4));  // the axial one
    QCOMPARE(int(s->find("t2w")->warnings.size()), 1);
    QVERIFY2(s->find("t2w")->warnings[0].find("b_t2w_sag") != std::string::npos, s->find("t2w")->warnings[0].c_str());
  }

  void roles() {
    QCOMPARE(volume::sequenceRole("ProstateX-0000_07-07-2011_t2w.mha"), std::string("t2w"));
    QCOMPARE(volume::sequenceRole("ProstateX-0000_07-07-2011_hbv.mha"), std::string("dwi"));
    QCOMPARE(volume::sequenceRole("ep2ddifftraDYNDISTADC"), std::string("adc"));
    QCOMPARE(volume::sequenceRole("ep2ddifftraDYNDISTCALCBVAL"), std::string("dwi"));
    QCOMPARE(volume::sequenceRole("t2_tse_tra"), std::string("t2w"));
    QCOMPARE(volume::sequenceRole("case_0001.nii.gz"), std::string("adc"));
    QCOMPARE(volume::sequenceRole("localizer"), std::string());
  }
};

QTEST_GUILESS_MAIN(TestDicomStudy)
#include "test_dicom_study.moc"
