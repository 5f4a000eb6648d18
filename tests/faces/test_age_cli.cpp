// `loupe-cli train age` and `loupe-cli eval age --head / --features-out` end to end through the real binary on
// real UTKFace crops (../shared/data/faces_age, QSKIP when absent) with the real faceres model (QSKIP when
// scripts/setup has not installed it): cross-validation report, the feature cache (second run computes
// nothing), the package (and its tamper check), the embedding-view store (vectors.f32 checked against the
// --features CSV written by the other code path), and bad input with the documented exit codes.

#include "../support/CliRun.h"
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <cstring>

namespace {
using Run = loupe::test::CliRun;
Run cli(const QStringList& args) { return loupe::test::runCli(args, 600000); }

bool modelsInstalled() {
  return QFile::exists(QDir::homePath() + "/.local/share/loupe/models/faceres/loupe-model.json");
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

}  // namespace

class TestAgeCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString faces_;  // 60 UTKFace crops copied into the temporary folder (never into the repository)

 private Q_SLOTS:
  void initTestCase() {
    const QDir src(QStringLiteral(LOUPE_SHARED_DATA_DIR "/faces_age/UTKFace"));
    if (!src.exists()) return;
    faces_ = tmp_.filePath("faces");
    QDir().mkpath(faces_);
    // Every 7th file by name: ages across the whole range.
    const QStringList names = src.entryList({"*.jpg"}, QDir::Files, QDir::Name);
    int copied = 0;
    for (int i = 0; i < names.size() && copied < 60; i += 7, ++copied)
      QVERIFY(QFile::copy(src.filePath(names[i]), QDir(faces_).filePath(names[i])));
    QCOMPARE(copied, 60);
  }

  void trainCrossValidateCacheAndEvaluate() {
    if (!modelsInstalled()) QSKIP("model package faceres not installed (run scripts/setup)");
    if (faces_.isEmpty()) QSKIP("shared data faces_age (UTKFace) not present");
    const QString cache = tmp_.filePath("cache"), pkg = tmp_.filePath("head"), json = tmp_.filePath("train.json");
    const Run first = cli({"train", "age", "--images", faces_, "--crops", "--epochs", "150", "--folds", "3", "--out", pkg,
                           "--cache", cache, "--quiet", "--json", json, "--threads", "2"});
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    qInfo("%s", qPrintable(first.out));
    QVERIFY2(first.err.contains("0 from the cache, 60 computed"), qPrintable(first.err));
    QVERIFY(first.out.contains("3-fold cross-validation over 60 faces"));
    QVERIFY(first.out.contains("MAE per age band"));
    const auto j = readJson(json);
    QCOMPARE(j["faces"].toInt(), 60);
    QCOMPARE(j["folds"].toInt(), 3);
    // 40 training faces per fold and 150 epochs: the head must at least beat the training folds' median age
    // guessed for everyone (which is what a head that learnt nothing would output).
    QVERIFY2(j["head_mae_mean"].toDouble() < j["constant_mae_mean"].toDouble(), qPrintable(first.out));
    QVERIFY(j["pretrained_mae_mean"].toDouble() > 0);
    // The package: a native model package with its SHA-256s and the licence note about UTKFace.
    QFile manifest(pkg + "/loupe-model.json");
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    const auto m = QJsonDocument::fromJson(manifest.readAll()).object();
    QCOMPARE(m["format"].toString(), QString("native"));
    QCOMPARE(m["task"].toString(), QString("faces.age_head"));
    QVERIFY(m["licence"].toString().contains("non-commercial"));
    QVERIFY(m["provenance"].toString().contains("faceres"));
    QCOMPARE(m["files"].toObject().size(), 2);

    // Second run: every feature comes from the cache.
    const Run second = cli({"train", "age", "--images", faces_, "--crops", "--epochs", "2", "--out", tmp_.filePath("head2"),
                            "--cache", cache, "--quiet"});
    QVERIFY2(second.exitCode == 0, qPrintable(second.err));
    QVERIFY2(second.err.contains("60 from the cache, 0 computed"), qPrintable(second.err));

    // eval age with the head, the features CSV and the embedding-view folder, all from the cache. A file that
    // is not labelled joins the embedding view (no true age) but not the metrics.
    QVERIFY(QFile::copy(QDir(faces_).filePath(QDir(faces_).entryList({"*.jpg"}).first()), faces_ + "/holiday.jpg"));
    const QString view = tmp_.filePath("view"), csv = tmp_.filePath("features.csv");
    const Run eval = cli({"eval", "age", "--images", faces_, "--crops", "--head", pkg, "--cache", cache, "--quiet",
                          "--features", csv, "--features-out", view, "--json", tmp_.filePath("eval.json")});
    QVERIFY2(eval.exitCode == 0, qPrintable(eval.err));
    qInfo("%s", qPrintable(eval.out));
    QVERIFY(eval.out.contains("MAE (trained head age-head)"));
    QVERIFY(eval.out.contains("61 images from the cache, 0 computed"));  // holiday.jpg is a copy: same SHA-256
    const auto e = readJson(tmp_.filePath("eval.json"));
    QCOMPARE(e["faces"].toInt(), 60);
    QVERIFY(e["head_mae"].toDouble() > 0);
    // The embedding-view folder is an embedding store (backend/index: manifest.json, vectors.f32 N x D float32,
    // meta.csv) of the 1024-d features, with the head's 64-d embedding as a second store in age_embedding/.
    const auto store = readJson(view + "/manifest.json");
    QCOMPARE(store["count"].toInt(), 61);
    QCOMPARE(store["dim"].toInt(), 1024);
    QCOMPARE(readJson(view + "/age_embedding/manifest.json")["dim"].toInt(), 64);
    QCOMPARE(readJson(view + "/age_embedding/manifest.json")["count"].toInt(), 61);
    QFile raw(view + "/vectors.f32");
    QVERIFY(raw.open(QIODevice::ReadOnly));
    const QByteArray bytes = raw.readAll();
    QCOMPARE(bytes.size(), 61 * 1024 * 4);
    QVector<float> vectors(61 * 1024);
    std::memcpy(vectors.data(), bytes.constData(), size_t(bytes.size()));
    QFile meta(view + "/meta.csv");
    QVERIFY(meta.open(QIODevice::ReadOnly));
    const QStringList metaLines = QString::fromUtf8(meta.readAll()).trimmed().split('\n');
    QCOMPARE(metaLines.size(), 62);
    QCOMPARE(metaLines[0].trimmed(), QString("file,path,true_age,predicted_age,gender,true_gender,p_male,age_band,head_age"));
    // The unlabelled copy has no true age; the labelled rows carry their file-name age.
    bool sawHoliday = false;
    for (const QString& l : metaLines.mid(1)) {
      const QStringList c = l.trimmed().split(',');
      QCOMPARE(c.size(), 9);
      if (c[0] == "holiday.jpg") {
        sawHoliday = true;
        QVERIFY(c[2].isEmpty());
      } else {
        QCOMPARE(c[2], c[0].section('_', 0, 0));
      }
    }
    QVERIFY(sawHoliday);
    // Row for row, vectors.f32 holds the features the CSV (written as text by another code path) holds.
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList csvLines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
    QCOMPARE(csvLines.size(), 62);
    for (int r = 1; r <= 61; r += 15) {
      const QStringList c = csvLines[r].split(',');
      QCOMPARE(c[0], metaLines[r].split(',')[0]);
      for (int k = 0; k < 1024; k += 97)
        QVERIFY(std::abs(c[5 + k].toDouble() - vectors[(r - 1) * 1024 + k]) <= 1e-4 * (1 + std::abs(c[5 + k].toDouble())));
    }

    // faces.age with the head: the table gains head_age (the head's estimate from the same face's features).
    const QString astronaut = QStringLiteral("/usr/lib/python3/dist-packages/skimage/data/astronaut.png");
    if (QFile::exists(astronaut) && QFile::exists(QDir::homePath() + "/.local/share/loupe/models/blazeface/loupe-model.json")) {
      const Run run = cli({"run", "faces.age", astronaut, "--out", tmp_.filePath("run"), "--json", "--device", "cpu",
                           "--param", "age_head=" + pkg});
      QVERIFY2(run.exitCode == 0, qPrintable(run.err));
      QVERIFY2(run.out.contains("head_age"), qPrintable(run.out));
      const Run wrong = cli({"run", "faces.age", astronaut, "--out", tmp_.filePath("run2"), "--device", "cpu",
                             "--param", "age_head=" + tmp_.filePath("nothing")});
      QCOMPARE(wrong.exitCode, 4);
      QVERIFY2(wrong.err.contains("age_head"), qPrintable(wrong.err));
    }

    // A damaged package is refused before any work, naming the file.
    {
      QFile w(pkg + "/model.pt");
      QVERIFY(w.open(QIODevice::ReadWrite));
      w.seek(200);
      w.write("XXXX");
    }
    const Run tampered = cli({"eval", "age", "--images", faces_, "--crops", "--head", pkg, "--cache", cache, "--quiet"});
    QCOMPARE(tampered.exitCode, 3);
    QVERIFY2(tampered.err.contains("model.pt"), qPrintable(tampered.err));
  }

  void damagedCacheIsRebuilt() {
    if (!modelsInstalled()) QSKIP("model package faceres not installed (run scripts/setup)");
    if (faces_.isEmpty()) QSKIP("shared data faces_age (UTKFace) not present");
    const QString cache = tmp_.filePath("badcache");
    QDir().mkpath(cache);
    const QString small = tmp_.filePath("small");
    QDir().mkpath(small);
    const QStringList names = QDir(faces_).entryList({"*_*_*.jpg"}, QDir::Files, QDir::Name);
    for (int i = 0; i < 3; ++i) QVERIFY(QFile::copy(QDir(faces_).filePath(names[i]), QDir(small).filePath(names[i])));
    const Run a = cli({"eval", "age", "--images", small, "--crops", "--cache", cache, "--quiet"});
    QVERIFY2(a.exitCode == 0, qPrintable(a.err));
    const QStringList files = QDir(cache).entryList({"*.lff"});
    QCOMPARE(files.size(), 1);
    {
      QFile c(QDir(cache).filePath(files[0]));
      QVERIFY(c.open(QIODevice::ReadWrite));
      c.resize(c.size() - 100);  // truncated in the middle of a record
    }
    const Run b = cli({"eval", "age", "--images", small, "--crops", "--cache", cache, "--quiet"});
    QVERIFY2(b.exitCode == 0, qPrintable(b.err));
    QVERIFY2(b.err.contains("is truncated or damaged; it is rebuilt"), qPrintable(b.err));
    QVERIFY(b.out.contains("0 images from the cache, 3 computed"));
    QCOMPARE(a.out.section("MAE: ", 1, 1).section('\n', 0, 0), b.out.section("MAE: ", 1, 1).section('\n', 0, 0));
  }

  void badInput() {
    // Exit codes of app/host/ExitCodes.h: 2 usage, 3 bad input.
    const Run noOut = cli({"train", "age", "--images", tmp_.filePath("nothing")});
    QCOMPARE(noOut.exitCode, 2);
    QVERIFY2(noOut.err.contains("--out"), qPrintable(noOut.err));
    const Run missing = cli({"train", "age", "--images", tmp_.filePath("nothing"), "--out", tmp_.filePath("x")});
    QCOMPARE(missing.exitCode, 3);
    QVERIFY2(missing.err.contains("is not a folder"), qPrintable(missing.err));
    QDir().mkpath(tmp_.filePath("holidays"));
    QFile f(tmp_.filePath("holidays/beach.jpg"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a jpeg");
    f.close();
    const Run unlabelled = cli({"train", "age", "--images", tmp_.filePath("holidays"), "--out", tmp_.filePath("x")});
    QCOMPARE(unlabelled.exitCode, 3);
    QVERIFY2(unlabelled.err.contains("no labelled faces"), qPrintable(unlabelled.err));
    const Run badLoss = cli({"train", "age", "--images", tmp_.filePath("holidays"), "--out", tmp_.filePath("x"),
                             "--loss-param", "temperature=2"});
    QCOMPARE(badLoss.exitCode, 2);
    QVERIFY2(badLoss.err.contains("unknown parameter 'temperature'"), qPrintable(badLoss.err));
    const Run notAHead = cli({"eval", "age", "--images", tmp_.filePath("holidays"), "--head", tmp_.filePath("holidays")});
    QCOMPARE(notAHead.exitCode, 3);
    QVERIFY2(notAHead.err.contains("--head"), qPrintable(notAHead.err));
  }
};

QTEST_GUILESS_MAIN(TestAgeCli)
#include "test_age_cli.moc"
