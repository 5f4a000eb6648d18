// Runs the built loupe-cli as a child process for the CLI tests (header-only; LOUPE_BINARY_DIR comes from
// loupe_add_test). Include as "../support/CliRun.h".
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

namespace loupe::test {

struct CliRun {
  int exitCode = -1;  // -1: did not finish within the timeout, -2: crashed
  QString out, err;
};

inline CliRun runCli(const QStringList& args, int timeoutMs = 600000) {
  QProcess p;
  p.start(QStringLiteral(LOUPE_BINARY_DIR "/bin/loupe-cli"), args);
  CliRun r;
  if (!p.waitForFinished(timeoutMs)) return r;
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

}  // namespace loupe::test
