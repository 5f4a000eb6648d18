#include "Report.h"

#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QTextDocument>
#include <QUrl>

#include "SessionFile.h"
#include "host/TaskRunner.h"

namespace loupe::session {

namespace {

QString esc(const QString& s) { return s.toHtmlEscaped(); }
QString esc(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }

QString statusColour(BookmarkStatus s) {
  switch (s) {
    case BookmarkStatus::Ok: return QStringLiteral("#1b7f3a");
    case BookmarkStatus::ToCheck: return QStringLiteral("#9a6700");
    case BookmarkStatus::Warning: return QStringLiteral("#b42318");
  }
  return QStringLiteral("#000");
}

QString row(const QString& key, const QString& valueHtml) {
  return QStringLiteral("<tr><th align=\"left\" valign=\"top\">%1</th><td>%2</td></tr>\n").arg(esc(key), valueHtml);
}

QString hashCell(const QString& sha) { return QStringLiteral("<code>%1</code>").arg(esc(sha)); }

QString paramsTable(const ParamTexts& params) {
  if (params.empty()) return QStringLiteral("<p>(defaults)</p>");
  QString html = QStringLiteral("<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>parameter</th><th>value</th></tr>");
  for (const auto& [k, v] : params) html += QStringLiteral("<tr><td>%1</td><td>%2</td></tr>").arg(esc(k), esc(v));
  return html + QStringLiteral("</table>");
}

QString viewText(const ViewState& v) {
  if (v.fit) return QStringLiteral("whole image (fit to window)");
  return QStringLiteral("zoom %1 %, centre x %2, y %3")
      .arg(v.scale * 100.0, 0, 'f', v.scale < 0.1 ? 1 : 0)
      .arg(v.centreX, 0, 'f', 0)
      .arg(v.centreY, 0, 'f', 0);
}

QString layerSize(const Layer& layer) {
  return std::visit(
      [](const auto& p) -> QString {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Table>) return QStringLiteral("%1 rows").arg(p.rows.size());
        else return QStringLiteral("%1 \u00d7 %2").arg(p.width).arg(p.height);
      },
      layer.payload);
}

QString mm3(const std::array<double, 3>& v) {
  return QStringLiteral("%1, %2, %3").arg(v[0], 0, 'f', 1).arg(v[1], 0, 'f', 1).arg(v[2], 0, 'f', 1);
}

// The MRI study: its sequences with their hashes, and every lesion candidate with the reader's PI-RADS
// category and comment.
QString studyHtml(const StudyRecord& st) {
  QString h = QStringLiteral("<h2>MRI study</h2>\n");
  h += QStringLiteral("<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>sequence</th><th>file or "
                      "DICOM folder</th><th>SHA-256</th></tr>\n");
  for (const StudySequence& q : st.sequences)
    h += QStringLiteral("<tr><td>%1</td><td><code>%2</code></td><td>%3</td></tr>\n")
             .arg(esc(q.role.toUpper()), esc(QDir::toNativeSeparators(q.path)), hashCell(q.sha256));
  h += QStringLiteral("</table>\n");
  h += QStringLiteral("<h3>Lesion candidates and reader assessment</h3>\n");
  if (st.candidates.empty()) {
    h += QStringLiteral("<p>No lesion candidates.</p>\n");
    return h;
  }
  h += QStringLiteral("<p class=\"meta\">Locations are world coordinates in mm (LPS: x to the patient's left, y to "
                      "posterior, z to superior).</p>\n");
  h += QStringLiteral("<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>#</th><th>likelihood</th>"
                      "<th>volume (mL)</th><th>largest diameter (mm)</th><th>location (LPS mm)</th><th>where</th>"
                      "<th>PI-RADS</th><th>comment</th></tr>\n");
  for (const StudyCandidate& c : st.candidates) {
    const QString pirads = c.pirads ? QStringLiteral("<b>%1</b>").arg(*c.pirads) : QStringLiteral("not assessed");
    h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td><td>%7</td><td>%8</td></tr>\n")
             .arg(c.id)
             .arg(c.likelihood, 0, 'f', 3)
             .arg(c.volumeMl, 0, 'f', 3)
             .arg(c.maxDiameterMm, 0, 'f', 1)
             .arg(mm3(c.centroidLps), esc(c.location), pirads,
                  c.comment.isEmpty() ? QString() : esc(c.comment).replace(QLatin1Char('\n'), QStringLiteral("<br>")));
  }
  return h + QStringLiteral("</table>\n");
}

const char* kStyle =
    "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #1d1d1f; }\n"
    "h1 { font-size: 18pt; margin-bottom: 2px; }\n"
    "h2 { font-size: 13pt; margin-top: 12px; margin-bottom: 4px; }\n"
    "h3 { font-size: 11pt; }\n"
    "th { text-align: left; padding-right: 12px; color: #444; font-weight: bold; }\n"
    "table.grid { border-collapse: collapse; }\n"
    "table.grid td, table.grid th { border: 1px solid #bbb; padding: 3px 6px; }\n"
    "code { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt; }\n"
    ".meta { color: #555; }\n"
    ".bookmark { page-break-before: always; }\n"
    ".comment { background: #f4f4f6; padding: 6px; }\n";

}  // namespace

QString reportHtml(const Session& s, const ReportOptions& options) {
  const QString inputName = s.input ? QFileInfo(s.input->path).fileName() : QString();
  const QString title = !s.title.isEmpty() ? s.title
                        : !inputName.isEmpty() ? QStringLiteral("Analysis of %1").arg(inputName)
                                               : QStringLiteral("Loupe case");
  QString h;
  h += QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%1</title><style>%2</style></head><body>\n")
           .arg(esc(title), QString::fromLatin1(kStyle));
  h += QStringLiteral("<h1>%1</h1>\n<p class=\"meta\">Case report generated %2 by Loupe %3</p>\n")
           .arg(esc(title), esc(nowUtc()), esc(host::loupeVersion()));

  h += QStringLiteral("<h2>Case</h2>\n<table cellspacing=\"0\" cellpadding=\"2\">\n");
  h += row(QStringLiteral("Title"), esc(title));
  if (!options.sessionPath.isEmpty())
    h += row(QStringLiteral("Session file"), QStringLiteral("<code>%1</code>").arg(esc(QDir::toNativeSeparators(QFileInfo(options.sessionPath).absoluteFilePath()))));
  if (!s.createdAt.isEmpty()) h += row(QStringLiteral("Created"), esc(s.createdAt));
  if (!s.savedAt.isEmpty()) h += row(QStringLiteral("Saved"), esc(s.savedAt));
  h += row(QStringLiteral("Software"), QStringLiteral("Loupe %1 (report); session saved by Loupe %2")
                                           .arg(esc(host::loupeVersion()), esc(s.loupeVersion.isEmpty() ? QStringLiteral("?") : s.loupeVersion)));
  h += QStringLiteral("</table>\n");

  h += QStringLiteral("<h2>Input files</h2>\n");
  if (!s.input && s.study) {
    h += QStringLiteral("<p>The MRI study's sequences (below).</p>\n");
  } else if (!s.input) {
    h += QStringLiteral("<p>No input file.</p>\n");
  } else {
    QString state = QStringLiteral("not checked");
    if (options.verifyInput) {
      const InputCheck check = checkInput(*s.input, options.sessionPath);
      switch (check.state) {
        case InputCheck::State::Ok: state = QStringLiteral("<span style=\"color:#1b7f3a\">matches the file on disk</span>"); break;
        case InputCheck::State::Moved:
          state = QStringLiteral("<span style=\"color:#1b7f3a\">matches (file found at %1)</span>").arg(esc(check.path));
          break;
        case InputCheck::State::Changed:
          state = QStringLiteral("<span style=\"color:#b42318\"><b>CHANGED</b>: the file on disk now hashes to %1</span>").arg(hashCell(check.sha256));
          break;
        case InputCheck::State::Missing: state = QStringLiteral("<span style=\"color:#b42318\"><b>missing</b> on this computer</span>"); break;
      }
    }
    h += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\">\n");
    h += row(QStringLiteral("File"), QStringLiteral("<code>%1</code>").arg(esc(QDir::toNativeSeparators(s.input->path))));
    h += row(QStringLiteral("Size"), QStringLiteral("%1 bytes").arg(s.input->size));
    h += row(QStringLiteral("SHA-256"), hashCell(s.input->sha256));
    h += row(QStringLiteral("Check"), state);
    h += QStringLiteral("</table>\n");
  }

  h += QStringLiteral("<h2>Analysis</h2>\n");
  if (!s.run) {
    h += QStringLiteral("<p>No task was run.</p>\n");
  } else {
    const RunRecord& r = *s.run;
    h += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\">\n");
    h += row(QStringLiteral("Task"), QStringLiteral("%1 (<code>%2</code>)").arg(esc(r.taskTitle), esc(r.taskId)));
    h += row(QStringLiteral("Plugin"), QStringLiteral("<code>%1</code> version %2").arg(esc(r.pluginId), esc(r.pluginVersion)));
    h += row(QStringLiteral("Device"), QStringLiteral("%1 (requested: %2)").arg(esc(r.deviceName), esc(r.device)));
    h += row(QStringLiteral("Finished"), QStringLiteral("%1, %2 s").arg(esc(r.finishedAt)).arg(r.seconds, 0, 'f', 2));
    h += QStringLiteral("</table>\n<h3>Parameters</h3>\n") + paramsTable(r.params);
    h += QStringLiteral("<h3>Model packages</h3>\n");
    if (r.models.empty()) {
      h += QStringLiteral("<p>None: this task used no model package.</p>\n");
    } else {
      h += QStringLiteral("<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>package</th><th>version</th><th>file</th><th>SHA-256</th></tr>\n");
      for (const ModelRef& m : r.models) {
        h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>loupe-model.json</td><td>%3</td></tr>\n").arg(esc(m.id), esc(m.version), hashCell(m.manifestSha256));
        for (const auto& [file, sha] : m.files)
          h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td></tr>\n").arg(esc(m.id), esc(m.version), esc(file), hashCell(sha));
      }
      h += QStringLiteral("</table>\n");
    }
    if (s.hasLayers()) {
      h += QStringLiteral("<h3>Results</h3>\n<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>layer</th><th>kind</th><th>size</th></tr>\n");
      for (const Layer& l : s.layers->layers)
        h += QStringLiteral("<tr><td>%1 (<code>%2</code>)</td><td>%3</td><td>%4</td></tr>\n")
                 .arg(esc(l.title), esc(l.id), esc(l.kind()), layerSize(l));
      h += QStringLiteral("</table>\n");
    }
  }

  if (s.study) h += studyHtml(*s.study);

  h += QStringLiteral("<h2>Bookmarks</h2>\n");
  if (s.bookmarks.empty()) {
    h += QStringLiteral("<p>No bookmarks.</p>\n");
  } else {
    h += QStringLiteral("<table class=\"grid\" cellspacing=\"0\" cellpadding=\"3\"><tr><th>#</th><th>bookmark</th><th>status</th></tr>\n");
    for (std::size_t i = 0; i < s.bookmarks.size(); ++i) {
      const Bookmark& b = s.bookmarks[i];
      h += QStringLiteral("<tr><td>%1</td><td>%2</td><td><span style=\"color:%3\">%4</span></td></tr>\n")
               .arg(i + 1)
               .arg(esc(b.title), statusColour(b.status), esc(statusTitle(b.status)));
    }
    h += QStringLiteral("</table>\n");
  }
  for (std::size_t i = 0; i < s.bookmarks.size(); ++i) {
    const Bookmark& b = s.bookmarks[i];
    h += QStringLiteral("<h2 class=\"bookmark\">Bookmark %1: %2</h2>\n").arg(i + 1).arg(esc(b.title));
    if (!b.snapshotPng.isEmpty()) {
      const QImage image = QImage::fromData(b.snapshotPng, "PNG");
      const int width = std::min(640, image.isNull() ? 640 : image.width());
      const QString src = options.embedImages
                              ? QStringLiteral("data:image/png;base64,") + QString::fromLatin1(b.snapshotPng.toBase64())
                              : QStringLiteral("snapshot-%1.png").arg(i + 1);
      h += QStringLiteral("<p><img src=\"%1\" width=\"%2\" alt=\"view of bookmark %3\"></p>\n").arg(src).arg(width).arg(i + 1);
    }
    h += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\">\n");
    h += row(QStringLiteral("Status"), QStringLiteral("<b><span style=\"color:%1\">%2</span></b>").arg(statusColour(b.status), esc(statusTitle(b.status))));
    h += row(QStringLiteral("Created"), esc(b.createdAt));
    h += row(QStringLiteral("Tool"), QStringLiteral("<code>%1</code>").arg(esc(b.taskId.isEmpty() ? QStringLiteral("(none)") : b.taskId)));
    h += row(QStringLiteral("View"), esc(viewText(b.view)));
    h += row(QStringLiteral("Visible layers"), esc(b.visibleLayers.isEmpty() ? QStringLiteral("none (original image)") : b.visibleLayers.join(QStringLiteral(", "))));
    h += QStringLiteral("</table>\n<h3>Parameters</h3>\n") + paramsTable(b.params);
    h += QStringLiteral("<h3>Comment</h3>\n<p class=\"comment\">%1</p>\n")
             .arg(b.comment.isEmpty() ? QStringLiteral("(no comment)") : esc(b.comment).replace(QLatin1Char('\n'), QStringLiteral("<br>")));
  }
  h += QStringLiteral("</body></html>\n");
  return h;
}

Result<void> writeReportHtml(const Session& session, const QString& outPath, const ReportOptions& options) {
  ReportOptions o = options;
  o.embedImages = true;
  const QByteArray bytes = reportHtml(session, o).toUtf8();
  QSaveFile file(outPath);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
    return Error{ErrorCode::Io, QStringLiteral("cannot write the report %1: %2").arg(QDir::toNativeSeparators(outPath), file.errorString()).toStdString()};
  return {};
}

Result<void> writeReportPdf(const Session& session, const QString& outPath, const ReportOptions& options) {
  if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
    return Error{ErrorCode::Internal, "PDF reports need a QGuiApplication (fonts); use `loupe --headless --report`"};
  ReportOptions o = options;
  o.embedImages = false;
  QTextDocument doc;
  doc.setDefaultFont(QFont(QStringLiteral("DejaVu Sans"), 10));
  for (std::size_t i = 0; i < session.bookmarks.size(); ++i) {
    const QImage image = QImage::fromData(session.bookmarks[i].snapshotPng, "PNG");
    if (!image.isNull()) doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("snapshot-%1.png").arg(i + 1)), image);
  }
  doc.setHtml(reportHtml(session, o));

  // Written next to the target, then renamed: a failed export never leaves half a PDF under the name.
  QSaveFile file(outPath);
  if (!file.open(QIODevice::WriteOnly))
    return Error{ErrorCode::Io, QStringLiteral("cannot write the report %1: %2").arg(QDir::toNativeSeparators(outPath), file.errorString()).toStdString()};
  {
    QPdfWriter writer(&file);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter);  // QTextDocument::print adds 2 cm
    writer.setResolution(300);
    writer.setTitle(session.title.isEmpty() ? QStringLiteral("Loupe case report") : session.title);
    writer.setCreator(QStringLiteral("Loupe %1").arg(QString::fromStdString(host::loupeVersion())));
    doc.print(&writer);
  }
  if (!file.commit())
    return Error{ErrorCode::Io, QStringLiteral("cannot write the report %1: %2").arg(QDir::toNativeSeparators(outPath), file.errorString()).toStdString()};
  return {};
}

Result<void> writeReport(const Session& session, const QString& outPath, const ReportOptions& options) {
  const QString suffix = QFileInfo(outPath).suffix().toLower();
  if (suffix == QLatin1String("pdf")) return writeReportPdf(session, outPath, options);
  if (suffix == QLatin1String("html") || suffix == QLatin1String("htm")) return writeReportHtml(session, outPath, options);
  return Error{ErrorCode::InvalidArgument,
               QStringLiteral("%1: the report's name must end in .pdf or .html").arg(outPath).toStdString()};
}

}  // namespace loupe::session
