// CSV parsing for metadata: quoted fields with commas, quotes and line breaks, CRLF, a byte-order mark and
// blank lines, checked against Python's csv module reading the same bytes (run here when /usr/bin/python3
// is present); ragged rows, unclosed quotes and text after a closing quote are errors that name the line;
// numeric columns are inferred; metaToCsv output reads back identically (and identically in Python).
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include <fstream>

#include "index/Csv.h"

using namespace loupe;
using namespace loupe::index;

namespace {
const std::string kTricky =
    "\xEF\xBB\xBFpath,label,note,score\r\n"
    "a.png,shirt,\"comma, inside\",1.5\r\n"
    "\r\n"
    "\"b,c.png\",\"quo\"\"te\",\"two\nlines\",-2e3\r\n"
    "d.png,,plain,\n"
    "e.png,bag,\" padded \",7\n";

// Python's csv.reader on the file, as JSON rows (the reference).
QJsonArray pythonRows(const QString& path) {
  QProcess p;
  p.start("/usr/bin/python3", {"-c",
                               "import csv,json,sys\n"
                               "with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n"
                               "    print(json.dumps([r for r in csv.reader(f) if r]))\n",
                               path});
  if (!p.waitForFinished(30000) || p.exitCode() != 0) return {};
  return QJsonDocument::fromJson(p.readAllStandardOutput()).array();
}
}  // namespace

class TestCsvReader : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void parsesQuotedFieldsLikePython() {
    auto t = parseCsv(kTricky, "meta.csv");
    QVERIFY2(t.ok(), t.ok() ? "" : t.error().message.c_str());
    QCOMPARE(t->header, (std::vector<std::string>{"path", "label", "note", "score"}));
    QCOMPARE(t->rows.size(), std::size_t(4));
    QCOMPARE(t->rows[1], (std::vector<std::string>{"b,c.png", "quo\"te", "two\nlines", "-2e3"}));
    QCOMPARE(t->rows[2], (std::vector<std::string>{"d.png", "", "plain", ""}));
    QCOMPARE(t->rows[3][2], std::string(" padded "));
    // Lines where rows start: the blank line 3 is skipped, the two-line field moves the next row to line 6.
    QCOMPARE(t->lines, (std::vector<std::int64_t>{2, 4, 6, 7}));

    if (!QFile::exists("/usr/bin/python3")) QSKIP("python3 is not installed: no cross-check against Python's csv");
    QTemporaryDir dir;
    const QString path = dir.filePath("meta.csv");
    std::ofstream(path.toStdString(), std::ios::binary) << kTricky;
    const QJsonArray py = pythonRows(path);
    QCOMPARE(py.size(), 5);
    for (int r = 0; r < py.size(); ++r) {
      const auto& ours = r == 0 ? t->header : t->rows[std::size_t(r - 1)];
      const QJsonArray row = py[r].toArray();
      QCOMPARE(std::size_t(row.size()), ours.size());
      for (int c = 0; c < row.size(); ++c) QCOMPARE(row[c].toString().toStdString(), ours[std::size_t(c)]);
    }
  }

  void badCsvIsANamedError_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("ragged row") << QByteArray("a,b,c\n1,2,3\n4,5\n6,7,8\n") << "meta.csv line 3: 2 field(s), but the header has 3";
    QTest::newRow("extra field") << QByteArray("a,b\n1,2\n3,4,5\n") << "meta.csv line 3: 3 field(s), but the header has 2";
    QTest::newRow("ragged after a multi-line field") << QByteArray("a,b\n\"x\ny\",2\n3\n") << "meta.csv line 4: 1 field(s)";
    QTest::newRow("unclosed quote") << QByteArray("a,b\n1,\"open\n2,3\n") << "meta.csv line 2: a quoted field opens here and is never closed";
    QTest::newRow("text after quote") << QByteArray("a,b\n\"x\"y,2\n") << "meta.csv line 2: text after the closing quote";
    QTest::newRow("empty") << QByteArray("\n\n") << "meta.csv: empty CSV";
  }
  void badCsvIsANamedError() {
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    auto t = parseCsv(text.toStdString(), "meta.csv");
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::CorruptData);
    QVERIFY2(QString::fromStdString(t.error().message).startsWith(expected), t.error().message.c_str());
  }

  void readCsvNamesAMissingFile() {
    auto t = readCsv("/nonexistent/meta.csv");
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::NotFound);
    QVERIFY(t.error().message.find("/nonexistent/meta.csv") != std::string::npos);
  }

  void columnsAreTypedAndHeadersChecked() {
    auto t = parseCsv(kTricky, "meta.csv");
    QVERIFY(t.ok());
    auto meta = metaFromCsv(*t, "meta.csv");
    QVERIFY(meta.ok());
    QCOMPARE(meta->rows(), std::int64_t(4));
    QVERIFY(!meta->column("label")->numeric);
    const MetaColumn* score = meta->column("score");
    QVERIFY(score->numeric);
    QCOMPARE(score->numbers[0], 1.5);
    QCOMPARE(score->numbers[1], -2000.0);
    QVERIFY(std::isnan(score->numbers[2]));  // empty cell
    QCOMPARE(meta->cell(1, "path"), std::string("b,c.png"));
    // "nan" / "inf" / hex are not numbers here (they would hide broken cells).
    auto odd = parseCsv("x\nnan\n1\n", "m.csv");
    QVERIFY(!metaFromCsv(*odd, "m.csv")->column("x")->numeric);

    auto dup = parseCsv("a,a\n1,2\n", "dup.csv");
    auto dm = metaFromCsv(*dup, "dup.csv");
    QVERIFY(!dm.ok());
    QVERIFY(dm.error().message.find("'a' twice") != std::string::npos);
    auto unnamed = parseCsv("a,\n1,2\n", "u.csv");
    QVERIFY(!metaFromCsv(*unnamed, "u.csv").ok());
  }

  void writtenCsvReadsBack() {
    auto t = parseCsv(kTricky, "meta.csv");
    auto meta = metaFromCsv(*t, "meta.csv");
    const std::string written = metaToCsv(*meta);
    auto again = parseCsv(written, "written.csv");
    QVERIFY(again.ok());
    QCOMPARE(again->header, t->header);
    QCOMPARE(again->rows, t->rows);
    if (!QFile::exists("/usr/bin/python3")) QSKIP("python3 is not installed");
    QTemporaryDir dir;
    const QString path = dir.filePath("w.csv");
    std::ofstream(path.toStdString(), std::ios::binary) << written;
    const QJsonArray py = pythonRows(path);
    QCOMPARE(py.size(), 5);
    QCOMPARE(py[2].toArray()[2].toString(), QString("two\nlines"));
    QCOMPARE(py[2].toArray()[1].toString(), QString("quo\"te"));
    QCOMPARE(py[4].toArray()[2].toString(), QString(" padded "));
  }
};

QTEST_GUILESS_MAIN(TestCsvReader)
#include "test_csv_reader.moc"
