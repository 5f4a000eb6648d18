// Sessions with an MRI study: the round trip of sequences, result volumes (exact voxels and geometry),
// lesion candidates with the reader's PI-RADS and comments, and the view; sessions written before studies
// existed still load; malformed study entries are refused with the file named; the case report lists the
// candidates with their PI-RADS category and comment.
//
// References: the values put in are the values expected back (exact equality); the old-format file is the
// schema-1 layout written out by hand as Loupe wrote it before this change (no "study" key).

#include <QtTest>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "session/Report.h"
#include "session/SessionFile.h"

using namespace loupe;
using namespace loupe::session;

namespace {

bool writeFile(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

Session studySession(const QString& dir) {
  Session s;
  s.title = QStringLiteral("Prostate MRI: case 7");
  s.createdAt = nowUtc();
  StudyRecord st;
  writeFile(dir + QStringLiteral("/case_t2w.nii.gz"), "not really a volume, but hashed");
  st.sequences.push_back(*describeStudySequence(QStringLiteral("t2w"), dir + QStringLiteral("/case_t2w.nii.gz")));
  QDir().mkpath(dir + QStringLiteral("/adc_dicom"));
  writeFile(dir + QStringLiteral("/adc_dicom/1.dcm"), "slice one");
  writeFile(dir + QStringLiteral("/adc_dicom/2.dcm"), "slice two");
  st.sequences.push_back(*describeStudySequence(QStringLiteral("adc"), dir + QStringLiteral("/adc_dicom")));

  const double c = std::cos(0.3), sn = std::sin(0.3);
  Volume like = Volume::floatVolume({7, 5, 3}, {0.5, 0.6, 3.0}, {-10.5, 22.25, 7.0}, {c, -sn, 0, sn, c, 0, 0, 0, 1});
  for (std::size_t i = 0; i < like.floats.size(); ++i) like.floats[i] = float(i) / 7.f;
  like.description = "lesion likelihood";
  Volume labels = like.sameGrid(VoxelType::Int32);
  labels.ints[3] = 1;
  labels.ints[40] = 2;
  st.volumes.push_back({QStringLiteral("likelihood"), QStringLiteral("Lesion likelihood"), std::make_shared<const Volume>(like), {}});
  st.volumes.push_back({QStringLiteral("candidate_labels"), QStringLiteral("Candidate labels"), std::make_shared<const Volume>(labels), {}});

  StudyCandidate a;
  a.id = 1;
  a.likelihood = 0.637;
  a.volumeMl = 0.307;
  a.maxDiameterMm = 15.3;
  a.centroidLps = {30.4, 31.9, -38.5};
  a.location = QStringLiteral("patient right, T2W slice 10");
  a.pirads = 4;
  a.comment = QStringLiteral("Focal low ADC, PZ 7 o'clock;\nupgrade if DCE positive — ≥ 1.5 cm");
  StudyCandidate b = a;
  b.id = 2;
  b.likelihood = 0.41;
  b.pirads.reset();
  b.comment.clear();
  st.candidates = {a, b};
  st.crosshair = {30.4, 31.9, -38.5};
  st.layout = QStringLiteral("planes");
  st.plane = QStringLiteral("coronal");
  st.sequence = QStringLiteral("adc");
  st.zoom = 2.5;
  st.windows = {{QStringLiteral("adc"), {0.0, 3000.0}}, {QStringLiteral("t2w"), {12.5, 900.0}}};
  s.study = std::move(st);
  return s;
}

}  // namespace

class TestStudySession : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void roundTripKeepsStudyAssessmentsAndVolumes() {
    QTemporaryDir dir;
    const Session s = studySession(dir.path());
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    auto saved = saveSession(s, path);
    QVERIFY2(saved, saved ? "" : saved.error().message.c_str());
    auto loaded = loadSession(path);
    QVERIFY2(loaded, loaded ? "" : loaded.error().message.c_str());
    QVERIFY(loaded->study);
    const StudyRecord& a = *s.study;
    const StudyRecord& b = *loaded->study;
    QCOMPARE(b.sequences.size(), std::size_t(2));
    QVERIFY(b.sequences == a.sequences);
    QVERIFY(!b.sequences[1].sha256.isEmpty());  // the DICOM folder's listing hash
    QCOMPARE(b.sequences[1].size, qint64(18));
    QVERIFY(b.candidates == a.candidates);
    QCOMPARE(b.candidates[0].pirads.value(), 4);
    QVERIFY(!b.candidates[1].pirads);
    QCOMPARE(b.crosshair, a.crosshair);
    QCOMPARE(b.layout, a.layout);
    QCOMPARE(b.plane, a.plane);
    QCOMPARE(b.sequence, a.sequence);
    QCOMPARE(b.zoom, a.zoom);
    QCOMPARE(b.windows.size(), a.windows.size());
    QCOMPARE(b.volumes.size(), std::size_t(2));
    for (std::size_t i = 0; i < 2; ++i) {
      const Volume& x = *a.volumes[i].volume;
      const Volume& y = *b.volumes[i].volume;
      QCOMPARE(b.volumes[i].id, a.volumes[i].id);
      QVERIFY(sameGeometry(x, y, 0.0));
      QCOMPARE(y.type, x.type);
      QVERIFY(y.floats == x.floats);
      QVERIFY(y.ints == x.ints);
    }
    QCOMPARE(b.volumes[0].volume->description, std::string("lesion likelihood"));
    // Saving again writes no new volume blobs and keeps exactly the referenced ones.
    QVERIFY(saveSession(*loaded, path));
    QCOMPARE(QDir(sidecarDir(path)).entryList({QStringLiteral("volume-*")}, QDir::Files).size(), 2);
  }

  void imageSessionsStayInTheOldFormat() {
    QTemporaryDir dir;
    Session s;
    s.title = QStringLiteral("photo case");
    const QString path = dir.filePath(QStringLiteral("photo.loupe"));
    QVERIFY(saveSession(s, path));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    QVERIFY(!root.contains(QStringLiteral("study")));
    QCOMPARE(root.value(QStringLiteral("schema")).toInt(), 1);
  }

  void sessionsFromBeforeStudiesStillLoad() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("old.loupe"));
    QVERIFY(writeFile(path, R"({
      "format": "loupe-session", "schema": 1, "title": "an old case", "created": "2026-11-20T10:00:00Z",
      "saved": "2026-11-20T10:05:00Z", "loupe_version": "0.1.0",
      "layers": [], "styles": [],
      "view": {"scale": 2.0, "centre": [10, 20], "fit": false, "compare": false, "show_original": false},
      "bookmarks": [{"id": "b1", "created": "2026-11-20T10:01:00Z", "title": "look here",
                     "view": {"scale": 1.0, "centre": [1, 2], "fit": true}, "task": "forgery.ela", "params": [],
                     "visible_layers": [], "status": "warning", "comment": "odd edge"}]
    })"));
    auto loaded = loadSession(path);
    QVERIFY2(loaded, loaded ? "" : loaded.error().message.c_str());
    QVERIFY(!loaded->study);
    QCOMPARE(loaded->title, QStringLiteral("an old case"));
    QCOMPARE(loaded->bookmarks.size(), std::size_t(1));
    QCOMPARE(loaded->bookmarks[0].comment, QStringLiteral("odd edge"));
  }

  void malformedStudyEntriesAreRefused_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("needle");
    QTest::newRow("pirads 7") << QStringLiteral("pirads") << QStringLiteral("PI-RADS 7");
    QTest::newRow("missing blob") << QStringLiteral("blob") << QStringLiteral("cannot read volume-");
    QTest::newRow("short blob") << QStringLiteral("short") << QStringLiteral("is damaged");
  }
  void malformedStudyEntriesAreRefused() {
    QFETCH(QString, key);
    QFETCH(QString, needle);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    QVERIFY(saveSession(studySession(dir.path()), path));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    f.close();
    QJsonObject study = root.value(QStringLiteral("study")).toObject();
    const QString blob = study.value(QStringLiteral("volumes")).toArray().at(0).toObject().value(QStringLiteral("data"))
                             .toObject().value(QStringLiteral("file")).toString();
    if (key == QLatin1String("pirads")) {
      QJsonArray cands = study.value(QStringLiteral("candidates")).toArray();
      QJsonObject c = cands.at(0).toObject();
      c[QStringLiteral("pirads")] = 7;
      cands[0] = c;
      study[QStringLiteral("candidates")] = cands;
      root[QStringLiteral("study")] = study;
      QVERIFY(writeFile(path, QJsonDocument(root).toJson()));
    } else if (key == QLatin1String("blob")) {
      QVERIFY(QFile::remove(QDir(sidecarDir(path)).filePath(blob)));
    } else {
      QVERIFY(writeFile(QDir(sidecarDir(path)).filePath(blob), "12345678"));
    }
    auto loaded = loadSession(path);
    QVERIFY(!loaded);
    const QString message = QString::fromStdString(loaded.error().message);
    QVERIFY2(message.contains(needle), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("case.loupe")), qPrintable(message));
  }

  void reportListsCandidatesWithPiradsAndComments() {
    QTemporaryDir dir;
    const Session s = studySession(dir.path());
    ReportOptions o;
    o.verifyInput = false;
    const QString html = reportHtml(s, o);
    QVERIFY(html.contains(QStringLiteral("<h2>MRI study</h2>")));
    QVERIFY(html.contains(QStringLiteral("Lesion candidates and reader assessment")));
    QVERIFY(html.contains(s.study->sequences[0].sha256));
    QVERIFY(html.contains(QStringLiteral("<td>T2W</td>")));
    // Candidate 1: likelihood, volume, diameter, location, PI-RADS 4 and the comment (escaped, line break kept).
    QVERIFY(html.contains(QStringLiteral("<td>1</td><td>0.637</td><td>0.307</td><td>15.3</td><td>30.4, 31.9, -38.5</td>")));
    QVERIFY(html.contains(QStringLiteral("<td><b>4</b></td>")));
    QVERIFY(html.contains(QStringLiteral("Focal low ADC, PZ 7 o&#x27;clock;<br>upgrade if DCE positive — ≥ 1.5 cm")) ||
            html.contains(QStringLiteral("Focal low ADC, PZ 7 o'clock;<br>upgrade if DCE positive — ≥ 1.5 cm")));
    QVERIFY(html.contains(QStringLiteral("<td>not assessed</td>")));
    // And the PDF path draws it too (text checked by test_report for image sessions).
    const QString pdf = dir.filePath(QStringLiteral("report.pdf"));
    QVERIFY(writeReport(s, pdf, o));
    QVERIFY(QFileInfo(pdf).size() > 1000);
  }
};

QTEST_MAIN(TestStudySession)
#include "test_study_session.moc"
