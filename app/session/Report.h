#pragma once
// The case report of a session, as HTML (one self-contained file, snapshots embedded as data: URIs) or
// PDF (A4, drawn by QTextDocument into a QPdfWriter; no WebEngine). It lists the case title, when it was
// made and by which Loupe, the input file with its SHA-256 (and whether the file on disk still matches),
// the task with its plugin version, device and parameters, the model packages the task used with their
// hashes, the layers, and every bookmark on its own page with its snapshot, tool, parameters, visible
// layers, status and comment. For an MRI study: its sequences with their hashes and each lesion candidate
// with the reader's PI-RADS category and comment.

#include <QString>

#include "Session.h"
#include "core/Result.h"

namespace loupe::session {

struct ReportOptions {
  QString sessionPath;  // shown in the report and used to find the input again; may be empty
  bool embedImages = true;  // data: URIs (HTML file); false: "snapshot-<n>.png" resource names (QTextDocument)
  bool verifyInput = true;  // hash the input file now and say whether it still matches
};

QString reportHtml(const Session& session, const ReportOptions& options);
Result<void> writeReportHtml(const Session& session, const QString& outPath, const ReportOptions& options);
// Needs a QGuiApplication (fonts); `loupe --headless --report` makes an offscreen one.
Result<void> writeReportPdf(const Session& session, const QString& outPath, const ReportOptions& options);
// By the suffix of `outPath`: .pdf or .html/.htm.
Result<void> writeReport(const Session& session, const QString& outPath, const ReportOptions& options);

}  // namespace loupe::session
