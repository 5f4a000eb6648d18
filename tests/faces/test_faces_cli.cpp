// faces.age and `eval age` end to end through the real loupe-cli: real photos, real models (QSKIP when
// scripts/setup has not installed them), documented exit codes. astronaut.png holds one face (a woman,
// face centre about (225, 125), located by eye); rocket.jpg holds none.

#include "../support/CliRun.h"
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "TestFiles.h"

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 300000); }

bool modelsInstalled() {
  return QFile::exists(QDir::homePath() + "/.local/share/loupe/models/blazeface/loupe-model.json") &&
         QFile::exists(QDir::homePath() + "/.local/share/loupe/models/faceres/loupe-model.json");
}

QJsonObject layer(const QJsonObject& result, const QString& id) {
  for (const auto& l : result["layers"].toArray())
    if (l.toObject()["id"].toString() == id) return l.toObject();
  return {};
}
}  // namespace

class TestFacesCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private Q_SLOTS:
  void astronautGetsOneLabelledFace() {
    if (!modelsInstalled()) QSKIP("model packages blazeface/faceres not installed (run scripts/setup)");
    const QString photo = loupe::test::debianPhoto("astronaut.png");
    if (photo.isEmpty()) QSKIP("python3-skimage sample photos not installed");
    const QString out = tmp_.filePath("astronaut");
    const Run r = cli({"run", "faces.age", photo, "--out", out, "--json", "--device", "cpu"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto result = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const auto table = layer(result, "faces_table");
    QVERIFY2(!table.isEmpty(), qPrintable(r.out));
    const QString text = QJsonDocument(table).toJson(QJsonDocument::Compact);
    qInfo("%s", qPrintable(text));
    QVERIFY(text.contains("\"female\""));
    QVERIFY(!layer(result, "faces").isEmpty());
    QVERIFY(!layer(result, "landmarks").isEmpty());
    // The boxes file carries the "age NN, F 0.xx" label.
    bool labelled = false;
    for (const QString& f : QDir(out).entryList({"faces*"})) {
      QFile file(QDir(out).filePath(f));
      if (file.open(QIODevice::ReadOnly)) labelled |= QString::fromUtf8(file.readAll()).contains(QRegularExpression("age \\d+, F 0\\.\\d\\d"));
    }
    QVERIFY2(labelled, qPrintable(QDir(out).entryList().join(", ")));
  }

  void noFaceIsARowNotAnError() {
    if (!modelsInstalled()) QSKIP("model packages blazeface/faceres not installed (run scripts/setup)");
    // skimage's rocket.jpg (a rocket on its launch pad) has no face.
    const QString photo = loupe::test::debianPhoto("rocket.jpg");
    if (photo.isEmpty()) QSKIP("python3-skimage sample photos not installed");
    const QString out = tmp_.filePath("rocket");
    const Run r = cli({"run", "faces.age", photo, "--out", out, "--json", "--device", "cpu"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const auto table = layer(QJsonDocument::fromJson(r.out.toUtf8()).object(), "faces_table");
    QVERIFY(QJsonDocument(table).toJson().contains("no face found"));
  }

  void evalAgeOnUtkFaceCrops() {
    if (!modelsInstalled()) QSKIP("model packages blazeface/faceres not installed (run scripts/setup)");
    const QString dir = QStringLiteral(LOUPE_SHARED_DATA_DIR "/faces_age/UTKFace");
    if (!QDir(dir).exists()) QSKIP("shared data faces_age (UTKFace) not present");
    const QString json = tmp_.filePath("eval.json");
    const QString features = tmp_.filePath("features.csv");
    const Run r = cli({"eval", "age", "--images", dir, "--crops", "--limit", "40", "--quiet", "--json", json,
                       "--features", features});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    qInfo("%s", qPrintable(r.out));
    QVERIFY(r.out.contains("MAE: "));
    QVERIFY(r.out.contains("CS(5): "));
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto o = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(o["faces"].toInt(), 40);
    // The first 40 files by name are ages 1-116 in UTKFace order; the model must beat the best constant.
    QVERIFY(o["mae"].toDouble() < o["constant_mae"].toDouble());
    QVERIFY(o["gender_accuracy"].toDouble() > 0.6);
    // The features file: a header and 40 rows of 5 + 1024 values.
    QFile csv(features);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const auto lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 41);
    QCOMPARE(lines[0].split(',').size(), 5 + 1024);
    QCOMPARE(lines[1].split(',').size(), 5 + 1024);
  }

  void evalAgeRefusesBadInput() {
    const Run missing = cli({"eval", "age", "--images", tmp_.filePath("nope")});
    QCOMPARE(missing.exitCode, 3);
    QVERIFY(missing.err.startsWith("loupe-cli: error: "));
    QDir().mkpath(tmp_.filePath("unlabelled"));
    QFile f(tmp_.filePath("unlabelled/holiday.jpg"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a jpeg");
    f.close();
    const Run none = cli({"eval", "age", "--images", tmp_.filePath("unlabelled")});
    QCOMPARE(none.exitCode, 3);
    QVERIFY2(none.err.contains("no labelled faces"), qPrintable(none.err));
  }
};

QTEST_GUILESS_MAIN(TestFacesCli)
#include "test_faces_cli.moc"
