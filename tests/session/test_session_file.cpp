// Session files: every layer kind comes back bit-identical, with the view, styles, run record and
// bookmarks; the input check tells a changed, moved or missing input apart; a save that fails or is
// interrupted at any point (a folder that cannot be written, an interruption between the steps, the
// writing process killed with SIGKILL at random moments) leaves the previous session readable and intact.
// Malformed files are refused with messages that name the file and the problem.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

#include "SessionTestUtil.h"
#include "session/LayerCodec.h"
#include "session/SessionFile.h"

using namespace loupe;
using namespace loupe::session;

namespace {

Session makeSession(float seed, int w = 48, int h = 32) {
  Session s;
  s.title = QStringLiteral("Case %1").arg(seed);
  s.createdAt = QStringLiteral("2026-11-27T03:00:00Z");
  s.savedAt = QStringLiteral("2026-11-27T03:30:00Z");
  s.loupeVersion = QStringLiteral("0.1.0");
  s.input = InputFile{QStringLiteral("/nowhere/photo.jpg"), QStringLiteral("photo.jpg"), QString(64, QLatin1Char('a')), 1234};
  RunRecord run;
  run.taskId = QStringLiteral("forgery.ela");
  run.taskTitle = QStringLiteral("Error Level Analysis");
  run.pluginId = QStringLiteral("forgery");
  run.pluginVersion = QStringLiteral("0.3.0");
  run.device = QStringLiteral("auto");
  run.deviceName = QStringLiteral("cpu (2 threads)");
  run.params = {{"quality", "90"}, {"colormap", "magma"}};
  run.seconds = 0.125;
  run.finishedAt = QStringLiteral("2026-11-27T03:10:00Z");
  run.models = {{QStringLiteral("focal-hrnet"), QStringLiteral("1.0.0"), QStringLiteral("/models/focal"),
                 QString(64, QLatin1Char('b')), {{QStringLiteral("model.pt"), QString(64, QLatin1Char('c'))}}}};
  s.run = run;
  auto set = std::make_shared<LayerSet>();
  set->layers = test::allKinds(w, h, seed);
  s.layers = set;
  LayerStyle heat{QStringLiteral("ela"), true, 0.6, -0.5f, 1.25f, QStringLiteral("jet"), {}, {}, {}};
  LayerStyle mask{QStringLiteral("mask"), false, 0.5, {}, {}, {}, QStringLiteral("outline"), std::array<std::uint8_t, 3>{255, 64, 64}, {}};
  LayerStyle zones{QStringLiteral("zones"), true, 1.0, {}, {}, {}, {}, {}, {{-1, false, {1, 2, 3}}, {2, true, {10, 200, 30}}}};
  s.styles = {mask, zones, heat};
  s.view = ViewState{3.75, 20.5, 11.25, false, true, false};
  s.bookmarks = {test::bookmark(QStringLiteral("Pasted logo"), BookmarkStatus::Warning, QStringLiteral("Error level\nstands out")),
                 test::bookmark(QStringLiteral("Sky"), BookmarkStatus::Ok, QString())};
  return s;
}

void verifySame(const Session& a, const Session& b) {
  QCOMPARE(b.title, a.title);
  QCOMPARE(b.createdAt, a.createdAt);
  QCOMPARE(b.loupeVersion, a.loupeVersion);
  QVERIFY(b.input.has_value());
  QCOMPARE(b.input->path, a.input->path);
  QCOMPARE(b.input->sha256, a.input->sha256);
  QCOMPARE(b.input->size, a.input->size);
  QVERIFY(b.run.has_value());
  QCOMPARE(b.run->taskId, a.run->taskId);
  QCOMPARE(b.run->pluginVersion, a.run->pluginVersion);
  QVERIFY(b.run->params == a.run->params);
  QCOMPARE(b.run->seconds, a.run->seconds);
  QCOMPARE(b.run->models.size(), a.run->models.size());
  QCOMPARE(b.run->models[0].manifestSha256, a.run->models[0].manifestSha256);
  QVERIFY(b.run->models[0].files == a.run->models[0].files);
  QVERIFY(b.hasLayers());
  QVERIFY(test::sameLayers(b.layers->layers, a.layers->layers));
  QVERIFY(b.styles == a.styles);
  QVERIFY(b.view == a.view);
  QCOMPARE(b.bookmarks.size(), a.bookmarks.size());
  for (std::size_t i = 0; i < a.bookmarks.size(); ++i) QVERIFY(b.bookmarks[i] == a.bookmarks[i]);
}

// Makes `dir` unwritable even for root (chattr +i) or, for other users, by its mode. False: not possible here.
bool setWritable(const QString& dir, bool writable) {
  if (::geteuid() == 0)
    return QProcess::execute(QStringLiteral("chattr"), {writable ? QStringLiteral("-i") : QStringLiteral("+i"), dir}) == 0;
  return QFile::setPermissions(dir, writable ? QFile::Permissions(0x7700) : QFile::Permissions(QFile::ReadOwner | QFile::ExeOwner));
}

// The child process of shouldSurviveAKilledWriter: saves two big sessions in turn until it is killed.
int runWriter(const QString& path) {
  const Session a = makeSession(1.f, 1200, 900), b = makeSession(2.f, 1200, 900);
  for (int i = 0;; ++i) {
    auto saved = saveSession(i % 2 ? b : a, path);
    if (!saved) return 3;
    if (i == 0) std::fprintf(stdout, "saved\n"), std::fflush(stdout);
  }
}

}  // namespace

class TestSessionFile : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldEncodeEveryLayerKindExactly() {
    for (const Layer& layer : test::allKinds(17, 9, 0.5f)) {
      const EncodedLayer enc = encodeLayer(layer);
      QCOMPARE(enc.blob.size(), expectedBlobSize(enc.meta));
      auto back = decodeLayer(enc.meta, enc.blob, QStringLiteral("test"));
      QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
      QVERIFY2(test::sameLayer(layer, *back), layer.id.c_str());
    }
  }

  void shouldRefuseLayerDataOfTheWrongSize() {
    const EncodedLayer enc = encodeLayer(test::heatmapLayer(4, 4, 0.f));
    auto back = decodeLayer(enc.meta, enc.blob.left(enc.blob.size() - 4), QStringLiteral("case.loupe, layer 'ela'"));
    QVERIFY(!back);
    QCOMPARE(back.error().code, ErrorCode::CorruptData);
    QVERIFY(QString::fromStdString(back.error().message).contains(QStringLiteral("layer 'ela'")));
  }

  void shouldRoundTripAWholeSession() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    const Session s = makeSession(0.f);
    auto saved = saveSession(s, path);
    QVERIFY2(saved.ok(), saved.ok() ? "" : saved.error().message.c_str());
    auto loaded = loadSession(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    verifySame(s, *loaded);
    // One data file per raster layer and per snapshot, named by content.
    const QStringList files = QDir(sidecarDir(path)).entryList(QDir::Files);
    QCOMPARE(files.filter(QStringLiteral("layer-")).size(), 3);
    QCOMPARE(files.filter(QStringLiteral("snapshot-")).size(), 2);
  }

  void shouldRemoveDataNoLongerUsedOnlyAfterSaving() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    QVERIFY(saveSession(makeSession(1.f), path).ok());
    const QStringList before = QDir(sidecarDir(path)).entryList(QDir::Files);
    QVERIFY(saveSession(makeSession(2.f), path).ok());  // other heatmap, mask, label map and bookmarks
    const QStringList after = QDir(sidecarDir(path)).entryList(QDir::Files);
    QCOMPARE(after.size(), 5);
    int kept = 0;
    for (const QString& f : before) kept += after.contains(f);
    // The label map and the two snapshots are the same in both (labels do not depend on the seed): kept;
    // the heatmap and the mask differ: written anew, the old ones removed.
    QCOMPARE(kept, 3);
    verifySame(makeSession(2.f), *loadSession(path));
  }

  void shouldKeepTheOldSessionWhenInterrupted_data() {
    QTest::addColumn<QString>("step");
    QTest::newRow("after the data files") << "data";
    QTest::newRow("before the session file") << "json";
  }
  void shouldKeepTheOldSessionWhenInterrupted() {
    QFETCH(QString, step);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    const Session old = makeSession(1.f);
    QVERIFY(saveSession(old, path).ok());
    auto saved = saveSession(makeSession(2.f), path, [&](const char* at) { return step != QLatin1String(at); });
    QVERIFY(!saved);
    auto loaded = loadSession(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    verifySame(old, *loaded);
  }

  void shouldKeepTheOldSessionWhenTheFolderCannotBeWritten() {
    QTemporaryDir dir;
    const QString folder = dir.filePath(QStringLiteral("case"));
    QVERIFY(QDir().mkpath(folder));
    const QString path = folder + QStringLiteral("/case.loupe");
    const Session old = makeSession(1.f);
    QVERIFY(saveSession(old, path).ok());
    // The session's folder turns read-only after the data folder exists: the new data can be written,
    // the new session file cannot.
    if (!setWritable(folder, false)) QSKIP("cannot make a folder read-only here (chattr/chmod)");
    auto saved = saveSession(makeSession(2.f), path);
    QVERIFY(setWritable(folder, true));
    QVERIFY(!saved);
    QCOMPARE(saved.error().code, ErrorCode::Io);
    QVERIFY2(QString::fromStdString(saved.error().message).contains(QStringLiteral("case.loupe")), saved.error().message.c_str());
    auto loaded = loadSession(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    verifySame(old, *loaded);
    QVERIFY(QDir(folder).entryList({QStringLiteral("*.loupe.*")}, QDir::Files | QDir::Hidden).isEmpty());  // no temp left
  }

  void shouldRefuseToSaveOverAFolder() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("taken.loupe"));
    QVERIFY(QDir().mkpath(path + QStringLiteral("/inside")));
    auto saved = saveSession(makeSession(1.f), path);
    QVERIFY(!saved);
    QVERIFY(QFileInfo(path).isDir());
  }

  void shouldSurviveAKilledWriter() {
    // A child process saves two ~10 MB sessions in turn; it is killed with SIGKILL at random moments.
    // Whatever moment: the file on disk loads, checks out (hashes) and is exactly one of the two.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("killed.loupe"));
    const Session a = makeSession(1.f, 1200, 900), b = makeSession(2.f, 1200, 900);
    auto* rng = QRandomGenerator::global();
    for (int round = 0; round < 6; ++round) {
      QProcess child;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert(QStringLiteral("LOUPE_SESSION_WRITER"), path);
      child.setProcessEnvironment(env);
      child.start(QCoreApplication::applicationFilePath(), {});
      QVERIFY(child.waitForStarted());
      QTRY_VERIFY_WITH_TIMEOUT(child.canReadLine() || QFileInfo::exists(path), 30000);
      QCOMPARE(child.state(), QProcess::Running);
      QTest::qWait(static_cast<int>(rng->bounded(20, 400)));
      ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
      QVERIFY(child.waitForFinished(10000));
      QCOMPARE(child.exitStatus(), QProcess::CrashExit);
      auto loaded = loadSession(path);
      QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
      const bool isA = test::sameLayers(loaded->layers->layers, a.layers->layers);
      const bool isB = test::sameLayers(loaded->layers->layers, b.layers->layers);
      QVERIFY(isA != isB);
      QCOMPARE(loaded->title, isA ? a.title : b.title);
    }
  }

  void shouldRefuseMalformedFiles_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not json") << QByteArray("{\"format\": \"loupe-session\", ") << "not a valid session file";
    QTest::newRow("other json") << QByteArray("{\"hello\": 1}") << "is not a Loupe session";
    QTest::newRow("newer schema") << QByteArray("{\"format\": \"loupe-session\", \"schema\": 99}") << "schema 99";
    QTest::newRow("missing data") << QByteArray("{\"format\": \"loupe-session\", \"schema\": 1, \"layers\": [{\"kind\": \"mask\", \"id\": \"m\", "
                                                "\"width\": 2, \"height\": 2, \"data\": {\"file\": \"layer-x.u8\", \"sha256\": \"00\"}}]}")
                                  << "cannot read layer-x.u8";
    QTest::newRow("escaping name") << QByteArray("{\"format\": \"loupe-session\", \"schema\": 1, \"layers\": [{\"kind\": \"mask\", \"id\": \"m\", "
                                                 "\"width\": 2, \"height\": 2, \"data\": {\"file\": \"../../etc/passwd\"}}]}")
                                   << "no valid data file name";
  }
  void shouldRefuseMalformedFiles() {
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bad.loupe"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();
    auto loaded = loadSession(path);
    QVERIFY(!loaded);
    const QString message = QString::fromStdString(loaded.error().message);
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("bad.loupe")), qPrintable(message));
  }

  void shouldDetectDamagedLayerData() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("case.loupe"));
    QVERIFY(saveSession(makeSession(1.f), path).ok());
    const QString blob = QDir(sidecarDir(path)).entryInfoList({QStringLiteral("layer-*.f32")}).first().filePath();
    QFile f(blob);
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(100);
    f.write("\x7f", 1);  // one byte flipped
    f.close();
    auto loaded = loadSession(path);
    QVERIFY(!loaded);
    QVERIFY2(QString::fromStdString(loaded.error().message).contains(QStringLiteral("is damaged")), loaded.error().message.c_str());
  }

  void shouldTellChangedMovedAndMissingInputsApart() {
    QTemporaryDir dir;
    const QString image = dir.filePath(QStringLiteral("evidence/photo.jpg"));
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("evidence"))));
    QFile f(image);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("pretend these are JPEG bytes");
    f.close();
    const QString sessionPath = dir.filePath(QStringLiteral("case.loupe"));
    auto in = describeInput(image, sessionPath);
    QVERIFY(in.ok());
    // SHA-256 of the bytes above, computed with Python: hashlib.sha256(b"pretend these are JPEG bytes").hexdigest()
    QCOMPARE(in->sha256, QStringLiteral("aea8219678329ac6ce57247690d2ed7c815f5851fa2f03c44b982e050ba284ee"));
    QCOMPARE(in->relativePath, QStringLiteral("evidence/photo.jpg"));
    QCOMPARE(checkInput(*in, sessionPath).state, InputCheck::State::Ok);

    // Moved: the whole case folder went elsewhere; the input is found beside the session.
    QTemporaryDir moved;
    QVERIFY(QDir().mkpath(moved.filePath(QStringLiteral("evidence"))));
    QVERIFY(QFile::copy(image, moved.filePath(QStringLiteral("evidence/photo.jpg"))));
    QVERIFY(QFile::remove(image));
    InputCheck check = checkInput(*in, moved.filePath(QStringLiteral("case.loupe")));
    QCOMPARE(check.state, InputCheck::State::Moved);
    QCOMPARE(check.path, moved.filePath(QStringLiteral("evidence/photo.jpg")));

    check = checkInput(*in, sessionPath);
    QCOMPARE(check.state, InputCheck::State::Missing);
    QVERIFY(check.message.contains(QStringLiteral("missing")));

    // Changed: same place, other bytes (one byte appended).
    QVERIFY(QFile::copy(moved.filePath(QStringLiteral("evidence/photo.jpg")), image));
    QVERIFY(f.open(QIODevice::Append));
    f.write("!");
    f.close();
    check = checkInput(*in, sessionPath);
    QCOMPARE(check.state, InputCheck::State::Changed);
    QVERIFY(check.message.contains(QStringLiteral("has changed")));
    QVERIFY(check.sha256 != in->sha256);
  }
};

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsSet("LOUPE_SESSION_WRITER")) {
    QGuiApplication app(argc, argv);  // the bookmarks' snapshots draw text
    return runWriter(qEnvironmentVariable("LOUPE_SESSION_WRITER"));
  }
  QGuiApplication app(argc, argv);
  TestSessionFile test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_session_file.moc"
