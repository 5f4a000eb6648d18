// Manifest validation: every field checked, unknown keys rejected, messages name the field.
// Expected messages are the contract users see when a plugin is listed as broken.

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "sdk/Manifest.h"
#include "sdk/Task.h"

using namespace loupe;

namespace {
const char* kValid = R"({
  "id": "demo", "name": "Demo", "version": "1.2.3", "hostApi": 1, "description": "d",
  "tasks": [{
    "id": "demo.run", "title": "Run", "inputs": ["image"], "outputs": ["heatmap", "table"],
    "parameters": [
      {"id": "quality", "title": "Q", "type": "int", "default": 90, "min": 1, "max": 100},
      {"id": "gain", "title": "G", "type": "float", "default": 2.5, "min": 0.5},
      {"id": "fast", "title": "F", "type": "bool", "default": false},
      {"id": "map", "title": "M", "type": "choice", "default": "jet", "choices": ["jet", "gray"]},
      {"id": "label", "title": "L", "type": "string", "default": "x"}
    ]}]
})";

QJsonObject parse(const char* text) { return QJsonDocument::fromJson(text).object(); }

// Applies a JSON-pointer-like edit to the valid manifest: path "tasks/0/parameters/0/default".
QJsonObject edited(const QString& path, const QJsonValue& value, bool remove = false) {
  QJsonObject root = parse(kValid);
  const QStringList parts = path.split('/');
  std::function<QJsonValue(QJsonValue, int)> apply = [&](QJsonValue node, int i) -> QJsonValue {
    const QString key = parts[i];
    const bool last = i == parts.size() - 1;
    if (node.isArray()) {
      QJsonArray a = node.toArray();
      const int idx = key.toInt();
      if (last) { if (remove) a.removeAt(idx); else a[idx] = value; }
      else a[idx] = apply(a[idx], i + 1);
      return a;
    }
    QJsonObject o = node.toObject();
    if (last) { if (remove) o.remove(key); else o[key] = value; }
    else o[key] = apply(o[key], i + 1);
    return o;
  };
  return apply(root, 0).toObject();
}
}  // namespace

class TestManifest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldAcceptValidManifest() {
    auto m = sdk::parseManifest(parse(kValid));
    QVERIFY2(m.ok(), m.ok() ? "" : m.error().message.c_str());
    QCOMPARE(m->id, std::string("demo"));
    QCOMPARE(m->tasks.size(), std::size_t(1));
    const auto& t = m->tasks[0];
    QCOMPARE(t.params.size(), std::size_t(5));
    QCOMPARE(std::get<std::int64_t>(t.findParam("quality")->defaultValue), std::int64_t(90));
    QCOMPARE(*t.findParam("quality")->max, 100.0);
    QCOMPARE(std::get<double>(t.findParam("gain")->defaultValue), 2.5);
    QVERIFY(!t.findParam("gain")->max.has_value());
    QCOMPARE(t.findParam("map")->choices.size(), std::size_t(2));
  }

  void shouldRejectInvalidManifest_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<bool>("remove");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown top-level key") << "colour" << QJsonValue("red") << false << "unknown key 'colour'";
    QTest::newRow("missing id") << "id" << QJsonValue() << true << "missing required key 'id'";
    QTest::newRow("bad id") << "id" << QJsonValue("Demo-X") << false << "must match";
    QTest::newRow("bad version") << "version" << QJsonValue("1.2") << false << "MAJOR.MINOR.PATCH";
    QTest::newRow("wrong api") << "hostApi" << QJsonValue(2) << false << "built for host API 2";
    QTest::newRow("api not int") << "hostApi" << QJsonValue("1") << false << "hostApi: must be an integer";
    QTest::newRow("no tasks") << "tasks" << QJsonValue(QJsonArray()) << false << "tasks: must be a non-empty array";
    QTest::newRow("task id prefix") << "tasks/0/id" << QJsonValue("other.run") << false << "must be 'demo.<name>'";
    QTest::newRow("unknown input kind") << "tasks/0/inputs/0" << QJsonValue("movie") << false << "unknown kind 'movie'";
    QTest::newRow("unknown output kind") << "tasks/0/outputs/0" << QJsonValue("hologram") << false << "unknown kind 'hologram'";
    QTest::newRow("unknown task key") << "tasks/0/speed" << QJsonValue(1) << false << "unknown key 'speed'";
    QTest::newRow("default out of range") << "tasks/0/parameters/0/default" << QJsonValue(500) << false << "outside 1 .. 100";
    QTest::newRow("int default fractional") << "tasks/0/parameters/0/default" << QJsonValue(2.5) << false << "whole number";
    QTest::newRow("min above max") << "tasks/0/parameters/0/min" << QJsonValue(1000) << false << "min is greater than max";
    QTest::newRow("unknown type") << "tasks/0/parameters/1/type" << QJsonValue("complex") << false << "unknown type 'complex'";
    QTest::newRow("bool with range") << "tasks/0/parameters/2/min" << QJsonValue(0) << false << "only int and float";
    QTest::newRow("choice default not a choice") << "tasks/0/parameters/3/default" << QJsonValue("hsv") << false << "not one of: jet, gray";
    QTest::newRow("choice without choices") << "tasks/0/parameters/3/choices" << QJsonValue() << true << "non-empty array of strings";
    QTest::newRow("missing default") << "tasks/0/parameters/4/default" << QJsonValue() << true << "missing required key 'default'";
    QTest::newRow("duplicate parameter") << "tasks/0/parameters/1/id" << QJsonValue("quality") << false << "duplicate parameter id 'quality'";
  }
  void shouldRejectInvalidManifest() {
    QFETCH(QString, path);
    QFETCH(QJsonValue, value);
    QFETCH(bool, remove);
    QFETCH(QString, message);
    auto m = sdk::parseManifest(edited(path, value, remove));
    QVERIFY(!m.ok());
    QCOMPARE(m.error().code, ErrorCode::PluginError);
    QVERIFY2(QString::fromStdString(m.error().message).contains(message), m.error().message.c_str());
  }

  void shouldRequireLoupeInterfaceInPluginMetaData() {
    QJsonObject meta{{"IID", "org.other.Plugin/1"}, {"MetaData", parse(kValid)}};
    auto m = sdk::parsePluginMetaData(meta);
    QVERIFY(!m.ok());
    QVERIFY(QString::fromStdString(m.error().message).contains("not a Loupe task plugin"));
    meta["IID"] = LOUPE_TASK_PLUGIN_IID;
    QVERIFY(sdk::parsePluginMetaData(meta).ok());
    QVERIFY(!sdk::parsePluginMetaData(QJsonObject()).ok());
  }

  void shouldResolveParameterOverrides_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("error");  // empty = accepted
    QTest::newRow("int ok") << "quality" << "75" << "";
    QTest::newRow("int too high") << "quality" << "101" << "outside 1 .. 100";
    QTest::newRow("int not a number") << "quality" << "high" << "not a valid int value";
    QTest::newRow("int trailing junk") << "quality" << "75x" << "not a valid int value";
    QTest::newRow("float ok") << "gain" << "0.75" << "";
    QTest::newRow("float below min") << "gain" << "0.1" << "outside 0.5 .. inf";
    QTest::newRow("float nan") << "gain" << "nan" << "finite";
    QTest::newRow("bool yes") << "fast" << "yes" << "";
    QTest::newRow("bool junk") << "fast" << "maybe" << "not a valid bool value";
    QTest::newRow("choice ok") << "map" << "gray" << "";
    QTest::newRow("choice bad") << "map" << "hsv" << "not one of";
    QTest::newRow("unknown param") << "qualty" << "1" << "has no parameter 'qualty' (parameters: quality, gain";
  }
  void shouldResolveParameterOverrides() {
    QFETCH(QString, name);
    QFETCH(QString, text);
    QFETCH(QString, error);
    auto m = sdk::parseManifest(parse(kValid));
    QVERIFY(m.ok());
    auto r = m->tasks[0].resolve({{name.toStdString(), text.toStdString()}});
    if (error.isEmpty()) {
      QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
      QCOMPARE(QString::fromStdString(sdk::paramToString(r->at(name.toStdString()))).isEmpty(), false);
      QCOMPARE(r->size(), std::size_t(5));  // defaults kept for the others
    } else {
      QVERIFY(!r.ok());
      QVERIFY2(QString::fromStdString(r.error().message).contains(error), r.error().message.c_str());
    }
  }

  void shouldConvertTypedValues() {
    auto m = sdk::parseManifest(parse(kValid));
    auto r = m->tasks[0].resolve({{"quality", "75"}, {"gain", "3"}, {"fast", "on"}});
    QVERIFY(r.ok());
    QCOMPARE(sdk::paramInt(*r, "quality"), std::int64_t(75));
    QCOMPARE(sdk::paramFloat(*r, "gain"), 3.0);
    QCOMPARE(sdk::paramBool(*r, "fast"), true);
    QCOMPARE(sdk::paramString(*r, "map"), std::string("jet"));
  }
};

QTEST_GUILESS_MAIN(TestManifest)
#include "test_manifest.moc"
