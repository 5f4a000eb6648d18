// The case report. HTML: parsed back with Python's html.parser (a real HTML parser, not a regex): the
// input's SHA-256, the software and plugin versions, the model package hashes, each bookmark's title,
// status, parameters and comment are in its text, and each bookmark's image is the snapshot's PNG, byte for
// byte. PDF: pdftotext (poppler-utils) finds the same text and pdfinfo counts 1 summary page + 1 page per
// bookmark. `loupe --report` writes both from a session file with no display and fails with the
// documented exit codes.
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "SessionTestUtil.h"
#include "host/TaskRunner.h"
#include "session/Report.h"
#include "session/SessionFile.h"

using namespace loupe;
using namespace loupe::session;

namespace {

// Text and <img> sources of an HTML file, by Python's standard html.parser.
const char* kParser = R"(
import sys, json
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.text = []; self.images = []; self.skip = 0
    def handle_starttag(self, tag, attrs):
        if tag in ('style', 'script'): self.skip += 1
        if tag == 'img': self.images.append(dict(attrs).get('src', ''))
    def handle_endtag(self, tag):
        if tag in ('style', 'script'): self.skip -= 1
    def handle_data(self, data):
        if not self.skip: self.text.append(data)
p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); p.close()
print(json.dumps({'text': ' '.join(' '.join(p.text).split()), 'images': p.images}))
)";

QString run(const QString& program, const QStringList& args, int* exitCode = nullptr) {
  QProcess p;
  p.start(program, args);
  if (!p.waitForFinished(60000)) return {};
  if (exitCode) *exitCode = p.exitCode();
  // pdftotext keeps the fonts' ligatures (U+FB01 "fi", U+FB02 "fl"): back to letters.
  return QString::fromUtf8(p.readAllStandardOutput()).replace(QChar(0xFB01), QStringLiteral("fi")).replace(QChar(0xFB02), QStringLiteral("fl"));
}

}  // namespace

class TestReport : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString imagePath_;
  QString sessionPath_;
  Session session_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    imagePath_ = tmp_.filePath(QStringLiteral("evidence.png"));
    QFile image(imagePath_);
    QVERIFY(image.open(QIODevice::WriteOnly));
    image.write(test::snapshotPng(64, 48, QStringLiteral("evidence")));
    image.close();
    sessionPath_ = tmp_.filePath(QStringLiteral("case.loupe"));
    auto input = describeInput(imagePath_, sessionPath_);
    QVERIFY(input.ok());
    session_.title = QStringLiteral("Case 2026-118: logo on invoice");
    session_.createdAt = QStringLiteral("2026-11-27T03:00:00Z");
    session_.loupeVersion = QString::fromStdString(host::loupeVersion());
    session_.input = *input;
    RunRecord run;
    run.taskId = QStringLiteral("forgery.ela");
    run.taskTitle = QStringLiteral("Error Level Analysis");
    run.pluginId = QStringLiteral("forgery");
    run.pluginVersion = QStringLiteral("0.3.1");
    run.device = QStringLiteral("auto");
    run.deviceName = QStringLiteral("cpu (2 threads)");
    run.params = {{"quality", "87"}, {"amplification", "20"}};
    run.seconds = 0.42;
    run.finishedAt = QStringLiteral("2026-11-27T03:10:00Z");
    // A model package folder as tools/export writes them; its hashes are read from loupe-model.json.
    const QString package = tmp_.filePath(QStringLiteral("focal-hrnet"));
    QVERIFY(QDir().mkpath(package));
    QFile manifest(package + QStringLiteral("/loupe-model.json"));
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.write(R"({"schema": 1, "id": "focal-hrnet", "version": "1.0.0", "files": {"model.pt": ")" + QByteArray(64, 'd') + R"("}})");
    manifest.close();
    run.models = modelsInParams({{"model", package.toStdString()}, {"quality", "87"}});
    QCOMPARE(run.models.size(), std::size_t(1));
    QCOMPARE(run.models[0].id, QStringLiteral("focal-hrnet"));
    session_.run = run;
    auto layers = std::make_shared<LayerSet>();
    layers->layers = {test::heatmapLayer(64, 48, 0.f)};
    session_.layers = layers;
    session_.bookmarks = {
        test::bookmark(QStringLiteral("Pasted logo"), BookmarkStatus::Warning, QStringLiteral("Error level of the logo is 3x its surroundings")),
        test::bookmark(QStringLiteral("Signature block"), BookmarkStatus::ToCheck, QStringLiteral("Compare with the original scan")),
        test::bookmark(QStringLiteral("Header"), BookmarkStatus::Ok, QStringLiteral("Consistent <b>not bold</b> & fine"))};
    QVERIFY(saveSession(session_, sessionPath_).ok());
  }

  void shouldListHashesVersionsAndBookmarksInHtml() {
    if (QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty()) QSKIP("python3 is not installed");
    const QString out = tmp_.filePath(QStringLiteral("report.html"));
    ReportOptions options;
    options.sessionPath = sessionPath_;
    auto written = writeReportHtml(session_, out, options);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().message.c_str());
    const QString json = run(QStringLiteral("python3"), {QStringLiteral("-c"), QString::fromLatin1(kParser), out});
    const QJsonObject parsed = QJsonDocument::fromJson(json.toUtf8()).object();
    const QString text = parsed.value("text").toString();
    QVERIFY2(!text.isEmpty(), qPrintable(json.left(200)));
    QVERIFY(text.contains(session_.title));
    QVERIFY(text.contains(session_.input->sha256));
    QVERIFY(text.contains(QStringLiteral("matches the file on disk")));
    QVERIFY(text.contains(QStringLiteral("Loupe %1").arg(QString::fromStdString(host::loupeVersion()))));
    QVERIFY(text.contains(QStringLiteral("forgery version 0.3.1")));
    QVERIFY(text.contains(QStringLiteral("focal-hrnet")));
    QVERIFY(text.contains(QString(64, QLatin1Char('d'))));                 // model.pt's hash
    QVERIFY(text.contains(session_.run->models[0].manifestSha256));       // loupe-model.json's hash
    for (const Bookmark& b : session_.bookmarks) {
      QVERIFY(text.contains(b.title));
      QVERIFY2(text.contains(b.comment), qPrintable(b.comment));  // escaped in HTML, plain text again
      QVERIFY(text.contains(statusTitle(b.status)));
    }
    QVERIFY(text.contains(QStringLiteral("quality 85")));  // the bookmarks' parameters
    const QJsonArray images = parsed.value("images").toArray();
    QCOMPARE(images.size(), 3);
    for (int i = 0; i < 3; ++i) {
      const QString src = images.at(i).toString();
      QVERIFY(src.startsWith(QStringLiteral("data:image/png;base64,")));
      QCOMPARE(QByteArray::fromBase64(src.mid(22).toLatin1()), session_.bookmarks[static_cast<std::size_t>(i)].snapshotPng);
    }
  }

  void shouldSayWhenTheInputChanged() {
    Session changed = session_;
    changed.input->sha256 = QString(64, QLatin1Char('0'));
    ReportOptions options;
    options.sessionPath = sessionPath_;
    const QString html = reportHtml(changed, options);
    QVERIFY(html.contains(QStringLiteral("CHANGED")));
    QVERIFY(html.contains(session_.input->sha256));  // what the file hashes to now
  }

  void shouldWriteAPdfWithOnePagePerBookmark() {
    if (QStandardPaths::findExecutable(QStringLiteral("pdftotext")).isEmpty()) QSKIP("poppler-utils is not installed");
    const QString out = tmp_.filePath(QStringLiteral("report.pdf"));
    ReportOptions options;
    options.sessionPath = sessionPath_;
    auto written = writeReportPdf(session_, out, options);
    QVERIFY2(written.ok(), written.ok() ? "" : written.error().message.c_str());
    if (qEnvironmentVariableIsSet("LOUPE_REPORT_KEEP"))  // to look at it: LOUPE_REPORT_KEEP=/some/dir
      QFile::copy(out, QDir(qEnvironmentVariable("LOUPE_REPORT_KEEP")).filePath(QStringLiteral("report.pdf")));
    const QString info = run(QStringLiteral("pdfinfo"), {out});
    const auto pages = QRegularExpression(QStringLiteral("Pages:\\s+(\\d+)")).match(info);
    QVERIFY2(pages.hasMatch(), qPrintable(info));
    QCOMPARE(pages.captured(1).toInt(), 1 + 3);
    const QString text = run(QStringLiteral("pdftotext"), {QStringLiteral("-raw"), out, QStringLiteral("-")});
    QVERIFY2(text.contains(session_.input->sha256), qPrintable(text.left(2000)));
    QVERIFY(text.contains(session_.title));
    for (const Bookmark& b : session_.bookmarks) QVERIFY2(text.contains(b.comment), qPrintable(b.comment));
    // Page 3 is the second bookmark.
    const QString page3 = run(QStringLiteral("pdftotext"), {QStringLiteral("-f"), QStringLiteral("3"), QStringLiteral("-l"),
                                                            QStringLiteral("3"), QStringLiteral("-raw"), out, QStringLiteral("-")});
    QVERIFY(page3.contains(QStringLiteral("Bookmark 2: Signature block")));
    QVERIFY(page3.contains(QStringLiteral("Compare with the original scan")));
    // The snapshot is embedded as an image.
    const QString images = run(QStringLiteral("pdfimages"), {QStringLiteral("-list"), out});
    QVERIFY2(images.count(QStringLiteral(" image ")) >= 3, qPrintable(images));
  }

  void shouldWriteReportsFromTheCommandLine() {
    if (QStandardPaths::findExecutable(QStringLiteral("pdfinfo")).isEmpty()) QSKIP("poppler-utils is not installed");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));  // `loupe --report` picks offscreen itself
    env.remove(QStringLiteral("DISPLAY"));
    auto loupe = [&](const QStringList& args, QString* err = nullptr) {
      QProcess p;
      p.setProcessEnvironment(env);
      p.start(QStringLiteral(LOUPE_EXECUTABLE), args);
      p.waitForFinished(60000);
      if (err) *err = QString::fromUtf8(p.readAllStandardError());
      return p.exitCode();
    };
    const QString pdf = tmp_.filePath(QStringLiteral("cli.pdf"));
    QString err;
    QCOMPARE(loupe({QStringLiteral("--report"), sessionPath_, QStringLiteral("--out"), pdf}, &err), 0);
    QVERIFY2(run(QStringLiteral("pdfinfo"), {pdf}).contains(QRegularExpression(QStringLiteral("Pages:\\s+4"))), qPrintable(err));
    const QString html = tmp_.filePath(QStringLiteral("cli.html"));
    QCOMPARE(loupe({QStringLiteral("--report"), sessionPath_, QStringLiteral("--out"), html}), 0);
    QVERIFY(QFile(html).size() > 1000);
    // Exit codes: bad input 3 (no such session), usage 2 (unknown report format), 2 (no --out).
    QCOMPARE(loupe({QStringLiteral("--report"), tmp_.filePath(QStringLiteral("none.loupe")), QStringLiteral("--out"), pdf}, &err), 3);
    QVERIFY(err.contains(QStringLiteral("none.loupe")));
    QCOMPARE(loupe({QStringLiteral("--report"), sessionPath_, QStringLiteral("--out"), tmp_.filePath(QStringLiteral("r.docx"))}, &err), 2);
    QVERIFY(err.contains(QStringLiteral(".pdf or .html")));
    QCOMPARE(loupe({QStringLiteral("--report"), sessionPath_}), 2);
  }

  void shouldWriteReportsWithLoupeCli() {
    if (QStandardPaths::findExecutable(QStringLiteral("pdfinfo")).isEmpty()) QSKIP("poppler-utils is not installed");
    auto cli = [&](const QStringList& args, QString* err = nullptr) {
      QProcess p;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.remove(QStringLiteral("QT_QPA_PLATFORM"));
      env.remove(QStringLiteral("DISPLAY"));
      p.setProcessEnvironment(env);
      p.start(QStringLiteral(LOUPE_CLI_EXECUTABLE), args);
      p.waitForFinished(60000);
      if (err) *err = QString::fromUtf8(p.readAllStandardError());
      return p.exitCode();
    };
    const QString html = tmp_.filePath(QStringLiteral("loupe-cli.html"));
    QString err;
    QCOMPARE(cli({QStringLiteral("report"), sessionPath_, QStringLiteral("--out"), html}, &err), 0);
    QFile f(html);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY(text.contains(session_.input->sha256));
    QVERIFY(text.contains(QStringLiteral("Compare with the original scan")));
    const QString pdf = tmp_.filePath(QStringLiteral("loupe-cli.pdf"));
    QCOMPARE(cli({QStringLiteral("report"), sessionPath_, QStringLiteral("--out"), pdf}, &err), 0);
    QVERIFY2(run(QStringLiteral("pdfinfo"), {pdf}).contains(QRegularExpression(QStringLiteral("Pages:\\s+4"))), qPrintable(err));
    QCOMPARE(cli({QStringLiteral("report"), tmp_.filePath(QStringLiteral("none.loupe")), QStringLiteral("--out"), html}, &err), 3);
    QCOMPARE(cli({QStringLiteral("report"), sessionPath_}, &err), 2);
  }
};

QTEST_MAIN(TestReport)
#include "test_report.moc"
