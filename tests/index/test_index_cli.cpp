// `loupe-cli index --recall` and `loupe-cli neighbours --recall` end to end (the real binary on a store made
// here from a .npy): the calibration is printed, saved in manifest.json (target, chosen efSearch, measured
// recall) and not redone when the target is unchanged; a new target recalibrates without a rebuild; an
// unreachable target says so with the best recall; neighbours prints the saved calibration and can
// recalibrate in memory without writing; bad targets are usage errors (exit 2).
#include <QtTest>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "../support/CliRun.h"
#include "../support/EmbeddingData.h"
#include "index/Npy.h"

using loupe::test::runCli;

namespace {
QJsonObject indexOf(const QString& store) {
  QFile f(store + "/manifest.json");
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object()["index"].toObject();
}
}  // namespace

class TestIndexCli : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void recallTargets() {
    QTemporaryDir dir;
    const QString store = dir.filePath("s");
    QVERIFY(loupe::index::writeNpyMatrix(dir.filePath("x.npy").toStdString(), loupe::test::clustered(3000, 32, 30, 5, 1.0)).ok());
    auto r = runCli({"embed", "--data", dir.filePath("x.npy"), "--out", store, "-q"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));

    r = runCli({"index", "--store", store, "--kind", "hnsw", "--hnsw-m", "8", "--ef-construction", "20", "--recall", "0.9"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("reaches recall@10"), qPrintable(r.out));
    auto ix = indexOf(store);
    auto cal = ix["calibration"].toObject();
    QCOMPARE(cal["target_recall"].toDouble(), 0.9);
    QVERIFY(cal["reached"].toBool());
    QVERIFY(cal["recall_lower_bound"].toDouble() >= 0.9);
    QCOMPARE(cal["parameter"].toString(), QString("ef_search"));
    QCOMPARE(ix["hnsw_ef_search"].toInt(), cal["value"].toInt());
    QVERIFY2(r.out.contains(QString("ef_search %1 reaches").arg(cal["value"].toInt())), qPrintable(r.out));
    const double seconds = cal["seconds"].toDouble();

    // Same target: nothing recomputed. A higher one: recalibrated, the same index file.
    r = runCli({"index", "--store", store, "--kind", "hnsw", "--recall", "0.9"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("nothing to do"), qPrintable(r.out));
    QCOMPARE(indexOf(store)["calibration"].toObject()["seconds"].toDouble(), seconds);
    const QString sha = indexOf(store)["sha256"].toString();
    r = runCli({"index", "--store", store, "--kind", "hnsw", "--recall", "0.98"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("recalibrated"), qPrintable(r.out));
    auto cal98 = indexOf(store)["calibration"].toObject();
    QCOMPARE(cal98["target_recall"].toDouble(), 0.98);
    QVERIFY(cal98["value"].toInt() > cal["value"].toInt());
    QCOMPARE(indexOf(store)["sha256"].toString(), sha);

    // neighbours: prints the saved calibration; --recall recalibrates in memory only.
    r = runCli({"neighbours", "--store", store, "--id", "5", "--k", "3"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("hnsw index: ef_search"), qPrintable(r.err));
    r = runCli({"neighbours", "--store", store, "--id", "5", "--k", "3", "--recall", "0.95", "--json"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("recalibrated in memory"), qPrintable(r.err));
    QCOMPARE(indexOf(store)["calibration"].toObject()["target_recall"].toDouble(), 0.98);
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array().size(), 3);

    // A hand-set efSearch (no --recall) is used as given and drops the calibration.
    r = runCli({"index", "--store", store, "--kind", "hnsw", "--ef-search", "50"});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(indexOf(store)["hnsw_ef_search"].toInt(), 50);
    QVERIFY(!indexOf(store).contains("calibration"));

    // Unreachable under the cap: said, with the best recall, and the index is still written.
    r = runCli({"index", "--store", store, "--kind", "hnsw", "--hnsw-m", "4", "--ef-construction", "8", "--recall", "1",
                "--max-ef-search", "16", "--force"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("is not reachable: the best found is"), qPrintable(r.out));
    QVERIFY(!indexOf(store)["calibration"].toObject()["reached"].toBool());

    QCOMPARE(runCli({"index", "--store", store, "--recall", "1.5"}).exitCode, 2);
    QCOMPARE(runCli({"neighbours", "--store", store, "--id", "1", "--recall", "-1"}).exitCode, 2);
  }
};

QTEST_GUILESS_MAIN(TestIndexCli)
#include "test_index_cli.moc"
