// loupe-cli report SESSION --out REPORT.html|REPORT.pdf [--no-verify]
// The case report of a saved session (app/session/Report.h): input file with SHA-256 (and whether the
// file on disk still matches), software and plugin versions, parameters, model package hashes, and
// every bookmark with its snapshot, status and comment.
//
// HTML is written here. A PDF needs fonts, i.e. a QGuiApplication, and loupe-cli runs on a
// QCoreApplication (it must work without any display or GUI stack), so for .pdf this command runs
// `loupe --report SESSION --out REPORT.pdf` from the same folder (an offscreen QGuiApplication, no
// display needed) and passes its exit code on. Exit codes: 0 ok, 2 usage, 3 bad session file, 7 cannot
// write the report.

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>

#include <cstdio>

#include "Command.h"
#include "host/ExitCodes.h"
#include "session/Report.h"
#include "session/SessionFile.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string session;
  std::string out;
  bool noVerify = false;
};
Options opt;

int runReport() {
  const QString sessionPath = QString::fromStdString(opt.session);
  const QString out = QString::fromStdString(opt.out);
  const QString suffix = QFileInfo(out).suffix().toLower();
  if (suffix != QLatin1String("pdf") && suffix != QLatin1String("html") && suffix != QLatin1String("htm"))
    return fail(host::Usage, opt.out + ": the report's name must end in .pdf or .html");
  auto loaded = session::loadSession(sessionPath);
  if (!loaded) return fail(host::BadInput, loaded.error().message);

  if (suffix == QLatin1String("pdf")) {
    const QString loupe = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("loupe"));
    if (!QFileInfo(loupe).isExecutable())
      return fail(host::Internal, "PDF reports are drawn by `loupe --report`, which is not installed beside loupe-cli (" +
                                      loupe.toStdString() + "); write .html instead");
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedChannels);
    child.start(loupe, {QStringLiteral("--report"), sessionPath, QStringLiteral("--out"), out});
    if (!child.waitForStarted()) return fail(host::Internal, "cannot start " + loupe.toStdString());
    child.waitForFinished(-1);
    return child.exitStatus() == QProcess::NormalExit ? child.exitCode() : host::Internal;
  }

  session::ReportOptions options;
  options.sessionPath = QFileInfo(sessionPath).absoluteFilePath();
  options.verifyInput = !opt.noVerify;
  auto written = session::writeReportHtml(*loaded, out, options);
  if (!written) return fail(host::OutputFailed, written.error().message);
  std::printf("report of %s written to %s\n", opt.session.c_str(), opt.out.c_str());
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  // `report` is a verb on its own: the group takes the options itself (no sub-subcommand).
  group.description("Write the case report (HTML or PDF) of a saved session");
  group.require_subcommand(0);
  group.add_option("session", opt.session, "Session file (.loupe)")->required();
  group.add_option("--out,-o", opt.out, "Report file: .html, or .pdf (drawn by `loupe --report`)")->required();
  group.add_flag("--no-verify", opt.noVerify, "Do not hash the input file again to say whether it still matches");
  return {&group, runReport};
}

}  // namespace
}  // namespace loupe::cli

LOUPE_CLI_COMMAND("report", loupe::cli::setup);
