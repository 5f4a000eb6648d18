// `loupe --headless --out DIR` runs the loupe-cli pipeline without a window, and without a display.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "TestFiles.h"

class TestLoupeHeadless : public QObject {
  Q_OBJECT

 private:
  static QProcessEnvironment noDisplay() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    return env;
  }

  static int runLoupe(const QStringList& args, QString* out, QString* err) {
    QProcess p;
    p.setProcessEnvironment(noDisplay());
    p.start(QStringLiteral(LOUPE_EXECUTABLE), args);
    if (!p.waitForFinished(30'000)) {
      p.kill();
      p.waitForFinished();
      return -1;
    }
    if (out) *out = QString::fromUtf8(p.readAllStandardOutput());
    if (err) *err = QString::fromUtf8(p.readAllStandardError());
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
  }

 private Q_SLOTS:
  void shouldWriteElaResultsWithoutDisplay() {
    const QString rocket = loupe::test::debianPhoto("rocket.jpg");
    if (rocket.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString outDir = dir.filePath(QStringLiteral("out"));
    QString out, err;
    const int code = runLoupe({rocket, QStringLiteral("--headless"), QStringLiteral("--out"), outDir}, &out, &err);
    QVERIFY2(code == 0, qPrintable(QStringLiteral("exit %1: %2").arg(code).arg(err)));
    QCOMPARE(out.count(QLatin1Char('\n')), 1);  // a one-line summary
    QVERIFY2(out.startsWith(QStringLiteral("forgery.ela: 2 layer(s)")), qPrintable(out));

    QVERIFY(QFile::exists(outDir + QStringLiteral("/ela.png")));
    QFile json(outDir + QStringLiteral("/result.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(result.value(QStringLiteral("task")).toString(), QStringLiteral("forgery.ela"));
    QCOMPARE(result.value(QStringLiteral("input")).toObject().value(QStringLiteral("path")).toString(), rocket);
  }

  void shouldPassParametersLikeTheCli() {
    const QString rocket = loupe::test::debianPhoto("rocket.jpg");
    if (rocket.isEmpty()) QSKIP("python3-skimage's rocket.jpg is not installed");
    QTemporaryDir dir;
    QString err;
    QCOMPARE(runLoupe({rocket, QStringLiteral("--headless"), QStringLiteral("--out"), dir.path(), QStringLiteral("--param"),
                       QStringLiteral("quality=70"), QStringLiteral("--device"), QStringLiteral("cpu")},
                      nullptr, &err),
             0);
    QFile json(dir.filePath(QStringLiteral("result.json")));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(result.value(QStringLiteral("parameters")).toObject().value(QStringLiteral("quality")).toInt(), 70);
    QCOMPARE(result.value(QStringLiteral("device")).toString(), QStringLiteral("cpu"));
  }

  void shouldFailWithOneLineMessage_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing input") << QStringList{QStringLiteral("/nonexistent/photo.jpg")} << 3
                                   << QStringLiteral("No such file");
    QTest::newRow("unknown task") << QStringList{QStringLiteral("--task"), QStringLiteral("nope.nothing")} << 2
                                  << QStringLiteral("Unknown task");
    QTest::newRow("bad parameter") << QStringList{QStringLiteral("--param"), QStringLiteral("quality=500")} << 2
                                   << QStringLiteral("quality");
  }

  void shouldFailWithOneLineMessage() {
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    if (loupe::test::debianPhoto("rocket.jpg").isEmpty()) QSKIP("the default photo (rocket.jpg) is not installed");
    QTemporaryDir dir;
    QString err;
    const int code = runLoupe(args + QStringList{QStringLiteral("--headless"), QStringLiteral("--out"), dir.path()}, nullptr, &err);
    QCOMPARE(code, exitCode);
    QCOMPARE(err.count(QLatin1Char('\n')), 1);
    QVERIFY2(err.startsWith(QStringLiteral("loupe: error: ")) && err.contains(message), qPrintable(err));
  }

  void shouldRefuseHeadlessWithoutOut() {
    QString err;
    QCOMPARE(runLoupe({QStringLiteral("--headless")}, nullptr, &err), 2);
    QVERIFY2(err.contains(QStringLiteral("--out")), qPrintable(err));
  }
};

QTEST_GUILESS_MAIN(TestLoupeHeadless)
#include "test_loupe_headless.moc"
