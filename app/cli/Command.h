#pragma once
// Subcommands that live in their own file under app/cli/commands/ and register themselves, grouped
// under a verb: `loupe-cli eval forgery`, `loupe-cli train embeddings`, ... A new command is one new
// file with LOUPE_CLI_COMMAND("eval", setupFn); main.cpp and CMake need no change.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"

namespace loupe::cli {

// What a command's setup hands back: its CLI11 subcommand and what to run when the user picked it.
struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Adds the command's subcommand (options bound to state the setup owns, e.g. a static struct) to
// the group and returns it.
using CommandSetup = Subcommand (*)(CLI::App& group);

struct RegisteredCommand {
  std::string group;  // "eval", "train", ...
  CommandSetup setup;
};

std::vector<RegisteredCommand>& registeredCommands();
bool registerCommand(const char* group, CommandSetup setup);

// Helpers every command shares with main.cpp.
// Prints "loupe-cli: error: <message>" and returns `code`.
int fail(int code, const std::string& message);
// Cancelled by Ctrl+C (the first one; a second ends the process).
CancelToken& interruptToken();
void installInterruptHandler();
// A progress sink that draws a bar on stderr when it is a terminal and `quiet` is false.
// Call finishProgress() before printing anything else.
Progress terminalProgress(bool quiet);
void finishProgress();

}  // namespace loupe::cli

#define LOUPE_CLI_CONCAT_INNER(a, b) a##b
#define LOUPE_CLI_CONCAT(a, b) LOUPE_CLI_CONCAT_INNER(a, b)
#define LOUPE_CLI_COMMAND(group, setup) \
  static const bool LOUPE_CLI_CONCAT(loupeCliCommand_, __LINE__) = ::loupe::cli::registerCommand(group, setup)
