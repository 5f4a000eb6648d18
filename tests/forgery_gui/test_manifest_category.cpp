// The optional per-task `category` of a manifest (the GUI's tool tree groups by it): accepted as a
// non-empty string, absent means none, anything else is refused with a message naming the field; and the
// forgery plugin's own manifest puts each of its tasks in the category the issue names.

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <map>

#include "sdk/Manifest.h"

using namespace loupe;

namespace {
QJsonObject manifestWithCategory(const QJsonValue& category) {
  QJsonObject task{{"id", "demo.run"}, {"title", "Run"}, {"inputs", QJsonArray{"image"}}, {"outputs", QJsonArray{"heatmap"}}};
  if (!category.isUndefined()) task["category"] = category;
  return QJsonObject{{"id", "demo"}, {"name", "Demo"}, {"version", "1.0.0"}, {"hostApi", sdk::kHostApiVersion},
                     {"tasks", QJsonArray{task}}};
}
}  // namespace

class TestManifestCategory : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void acceptsAStringAndDefaultsToNone() {
    auto with = sdk::parseManifest(manifestWithCategory(QStringLiteral("Compression")));
    QVERIFY2(with.ok(), with.ok() ? "" : with.error().message.c_str());
    QCOMPARE(with->tasks.at(0).category, std::string("Compression"));
    auto trimmed = sdk::parseManifest(manifestWithCategory(QStringLiteral("  Metadata & file ")));
    QVERIFY(trimmed.ok());
    QCOMPARE(trimmed->tasks.at(0).category, std::string("Metadata & file"));
    auto without = sdk::parseManifest(manifestWithCategory(QJsonValue(QJsonValue::Undefined)));
    QVERIFY(without.ok());
    QVERIFY(without->tasks.at(0).category.empty());
  }

  void refusesWhatIsNotANonEmptyString_data() {
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<QString>("message");
    QTest::newRow("number") << QJsonValue(3) << QStringLiteral("task demo.run.category: must be a string");
    QTest::newRow("array") << QJsonValue(QJsonArray{"a"}) << QStringLiteral("task demo.run.category: must be a string");
    QTest::newRow("null") << QJsonValue(QJsonValue::Null) << QStringLiteral("task demo.run.category: must be a string");
    QTest::newRow("empty") << QJsonValue(QStringLiteral(" ")) << QStringLiteral("task demo.run.category: must not be empty");
    QTest::newRow("long") << QJsonValue(QString(65, QLatin1Char('x')))
                          << QStringLiteral("task demo.run.category: must be at most 64 characters");
  }
  void refusesWhatIsNotANonEmptyString() {
    QFETCH(QJsonValue, value);
    QFETCH(QString, message);
    auto m = sdk::parseManifest(manifestWithCategory(value));
    QVERIFY(!m.ok());
    const QString got = QString::fromStdString(m.error().message);
    QVERIFY2(got.contains(message), qPrintable(got));
  }

  void forgeryTasksCarryTheirCategories() {
    QFile file(QStringLiteral(FORGERY_MANIFEST));
    QVERIFY2(file.open(QIODevice::ReadOnly), FORGERY_MANIFEST);
    auto m = sdk::parseManifest(QJsonDocument::fromJson(file.readAll()).object());
    QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
    const std::map<std::string, std::string> expected = {
        {"forgery.localize", "Localisation"},   {"forgery.ela", "Compression"},
        {"forgery.jpeg", "Compression"},        {"forgery.noise", "Noise"},
        {"forgery.metadata", "Metadata & file"}, {"forgery.hashes", "Metadata & file"},
        {"forgery.copymove", "Copy-move"}};
    QCOMPARE(m->tasks.size(), expected.size());
    for (const auto& t : m->tasks) {
      QVERIFY2(expected.count(t.id), t.id.c_str());
      QCOMPARE(t.category, expected.at(t.id));
    }
  }
};

QTEST_GUILESS_MAIN(TestManifestCategory)
#include "test_manifest_category.moc"
