// PluginHost: manifests are read without loading code, broken plugins are listed with the reason,
// loading is lazy, and misbehaving plugin code never takes the host down.

#include <QtTest>

#include "host/PluginHost.h"
#include "host/TaskRunner.h"

using namespace loupe;
using host::PluginRecord;

class TestPluginHost : public QObject {
  Q_OBJECT

  const PluginRecord* byFile(const host::PluginHost& h, const QString& fileName) {
    for (const auto& p : h.plugins())
      if (QFileInfo(p->path).fileName() == fileName) return p.get();
    return nullptr;
  }

  std::unique_ptr<host::PluginHost> makeHost() {
    auto h = std::make_unique<host::PluginHost>();
    h->setSearchPaths({FIXTURE_PLUGIN_DIR, LOUPE_PLUGIN_DIR});
    h->scan();
    return h;
  }

 private Q_SLOTS:
  void shouldListValidPluginsWithoutLoadingThem() {
    auto h = makeHost();
    const auto* forgery = byFile(*h, "libloupe_forgery.so");
    QVERIFY(forgery);
    QCOMPARE(forgery->state, PluginRecord::State::Discovered);
    QVERIFY(!forgery->loader->isLoaded());
    QVERIFY(h->findTask("forgery.ela").spec);
    QCOMPARE(h->findTask("forgery.ela").spec->title, std::string("Error Level Analysis"));
  }

  void shouldMarkBrokenPluginsWithReason_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("reason");
    QTest::newRow("wrong host API") << "libfixture_wrong_api.so" << "built for host API 99, this Loupe provides API 1";
    QTest::newRow("default out of range") << "libfixture_broken_manifest.so" << "default: quality = 500 is outside 1 .. 100";
    QTest::newRow("not a plugin") << "libfixture_not_a_plugin.so" << "not a Qt plugin";
  }
  void shouldMarkBrokenPluginsWithReason() {
    QFETCH(QString, file);
    QFETCH(QString, reason);
    auto h = makeHost();
    const auto* p = byFile(*h, file);
    QVERIFY2(p, qPrintable(file));
    QCOMPARE(p->state, PluginRecord::State::Invalid);
    QVERIFY2(QString::fromStdString(p->error).contains(reason), p->error.c_str());
    // Invalid plugins contribute no tasks.
    for (const auto& t : h->tasks()) QVERIFY(t.plugin != p);
  }

  void shouldReportMissingLibraryWhenLoading() {
    auto h = makeHost();
    const auto* p = byFile(*h, "libfixture_missing_dep.so");
    QVERIFY(p);
    QCOMPARE(p->state, PluginRecord::State::Discovered);  // its manifest is fine
    auto task = h->createTask("fixture_missing_dep.throws");
    QVERIFY(!task.ok());
    QCOMPARE(task.error().code, ErrorCode::PluginError);
    QVERIFY2(QString::fromStdString(task.error().message).contains("libloupe_fixture_dep.so"), task.error().message.c_str());
    QCOMPARE(p->state, PluginRecord::State::Failed);
    // Asking again gives the same reason and still no crash.
    QVERIFY(!h->createTask("fixture_missing_dep.throws").ok());
    // Other plugins keep working.
    QVERIFY(h->createTask("forgery.ela").ok());
  }

  void shouldLoadLazilyOnFirstTask() {
    auto h = makeHost();
    const auto* forgery = byFile(*h, "libloupe_forgery.so");
    auto task = h->createTask("forgery.ela");
    QVERIFY(task.ok());
    QCOMPARE(forgery->state, PluginRecord::State::Loaded);
    QVERIFY(forgery->loader->isLoaded());
  }

  void shouldRefuseUnknownAndUndeliveredTasks() {
    auto h = makeHost();
    auto unknown = h->createTask("forgery.nothing");
    QVERIFY(!unknown.ok());
    QCOMPARE(unknown.error().code, ErrorCode::NotFound);
    QVERIFY(QString::fromStdString(unknown.error().message).contains("forgery.ela"));  // lists what exists
    auto missing = h->createTask("fixture_throws.missing");
    QVERIFY(!missing.ok());
    QVERIFY(QString::fromStdString(missing.error().message).contains("does not provide it"));
  }

  void shouldTurnPluginExceptionIntoError() {
    auto h = makeHost();
    QTemporaryDir dir;
    // A small real image file as input.
    const QString input = dir.filePath("in.png");
    {
      QImage img(16, 16, QImage::Format_RGB888);
      img.fill(Qt::gray);
      QVERIFY(img.save(input));
    }
    host::RunRequest req;
    req.taskId = "fixture_throws.throws";
    req.inputPath = input.toStdString();
    req.device = "cpu";
    host::RunStage stage{};
    auto plan = host::planRun(*h, req, &stage);
    QVERIFY2(plan.ok(), plan.ok() ? "" : plan.error().message.c_str());
    auto out = host::executeRun(*plan, CancelToken{}, Progress{});
    QVERIFY(!out.ok());
    QCOMPARE(out.error().code, ErrorCode::Internal);
    QVERIFY(QString::fromStdString(out.error().message).contains("fixture plugin exploded"));
  }

  void shouldRejectLayerKindsTheManifestDoesNotDeclare() {
    auto h = makeHost();
    QTemporaryDir dir;
    const QString input = dir.filePath("in.png");
    {
      QImage img(8, 4, QImage::Format_RGB888);
      img.fill(Qt::gray);
      QVERIFY(img.save(input));
    }
    host::RunRequest req;
    req.taskId = "fixture_throws.wrong_kind";
    req.inputPath = input.toStdString();
    req.device = "cpu";
    auto plan = host::planRun(*h, req, nullptr);
    QVERIFY2(plan.ok(), plan.ok() ? "" : plan.error().message.c_str());
    auto out = host::executeRun(*plan, CancelToken{}, Progress{});
    QVERIFY(!out.ok());
    QCOMPARE(out.error().code, ErrorCode::Internal);
    const QString message = QString::fromStdString(out.error().message);
    QVERIFY2(message.contains("mask") && message.contains("surprise") && message.contains("does not declare"),
             qPrintable(message));
  }

  void shouldIgnoreDuplicatePluginIds() {
    host::PluginHost h;
    QTemporaryDir a, b;
    QVERIFY(QFile::copy(QString(LOUPE_PLUGIN_DIR) + "/libloupe_forgery.so", a.filePath("libloupe_forgery.so")));
    QVERIFY(QFile::copy(QString(LOUPE_PLUGIN_DIR) + "/libloupe_forgery.so", b.filePath("libloupe_forgery_copy.so")));
    h.setSearchPaths({a.path(), b.path()});
    h.scan();
    QCOMPARE(h.plugins().size(), std::size_t(2));
    QCOMPARE(h.plugins()[0]->state, PluginRecord::State::Discovered);
    QCOMPARE(h.plugins()[1]->state, PluginRecord::State::Invalid);
    QVERIFY(QString::fromStdString(h.plugins()[1]->error).contains("another plugin with id 'forgery'"));
    QCOMPARE(h.tasks().size(), h.plugins()[0]->manifest.tasks.size());  // the first copy's tasks only
  }

  void shouldSurviveEmptyOrMissingFolders() {
    host::PluginHost h;
    h.setSearchPaths({"/nonexistent/loupe/plugins", QDir::tempPath() + "/loupe-empty-does-not-exist"});
    h.scan();
    QVERIFY(h.plugins().empty());
    auto t = h.createTask("forgery.ela");
    QVERIFY(!t.ok());
    QVERIFY(QString::fromStdString(t.error().message).contains("no plugins found"));
  }
};

QTEST_GUILESS_MAIN(TestPluginHost)
#include "test_plugin_host.moc"
