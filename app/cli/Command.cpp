#include "Command.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include "ProgressBar.h"

namespace loupe::cli {

std::vector<RegisteredCommand>& registeredCommands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}

bool registerCommand(const char* group, CommandSetup setup) {
  registeredCommands().push_back({group, setup});
  return true;
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "loupe-cli: error: %s\n", message.c_str());
  return code;
}

CancelToken& interruptToken() {
  static CancelToken token;
  return token;
}

namespace {
void onInterrupt(int) {
  interruptToken().cancel();
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl+C ends the process at once
}

std::unique_ptr<ProgressBar>& bar() {
  static std::unique_ptr<ProgressBar> instance;
  return instance;
}
}  // namespace

void installInterruptHandler() {
  (void)interruptToken();
  std::signal(SIGINT, onInterrupt);
}

Progress terminalProgress(bool quiet) {
  bar() = std::make_unique<ProgressBar>(stderr, !quiet && isatty(STDERR_FILENO));
  ProgressBar* b = bar().get();
  return Progress([b](double f, const std::string& s) { b->update(f, s); });
}

void finishProgress() {
  if (bar()) bar()->finish();
}

}  // namespace loupe::cli
