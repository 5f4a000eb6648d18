#pragma once
// Options and outcomes that many loupe-cli commands share, spelled once: the same flag has the same name,
// range and help text in every command, and the same error maps to the same exit code (host/ExitCodes.h).

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/Result.h"

namespace loupe::cli {

// --threads N (1..256; 0, the default, leaves one thread per core).
CLI::Option* addThreadsOption(CLI::App* app, int& threads);
// --quiet (and -q where `shortToo`): no progress bar; commands that print a summary skip it as well.
CLI::Option* addQuietFlag(CLI::App* app, bool& quiet, bool shortToo = false, const std::string& help = "No progress bar");
// --device auto|cpu|cuda|cuda:N.
CLI::Option* addDeviceOption(CLI::App* app, std::string& device, const std::string& help = "auto, cpu, cuda or cuda:N");
// --json FILE: the command's numbers as JSON.
CLI::Option* addJsonOption(CLI::App* app, std::string& json);
// Training commands: --resume and --keep-checkpoint for PACKAGE_DIR/checkpoint.pt.
void addCheckpointOptions(CLI::App* app, bool& resume, bool& keepCheckpoint);

// --loss-param NAME=VALUE (repeatable) as a name -> number map; the message names the bad argument.
Result<std::map<std::string, double>> parseLossParams(const std::vector<std::string>& pairs);

// The exit code of a failed step: Cancelled (130) when the user cancelled, NoDevice (5) when the device is
// missing, `otherwise` for anything else.
int exitCodeFor(const Error& error, int otherwise);
// A failed training run: cancelled -> 130 with how to resume from `checkpointPath`; a bad option value
// (InvalidArgument) -> Usage (2); anything else -> TaskFailed (4). Prints the message.
int trainingFailed(const Error& error, const std::string& checkpointPath);

// User + system CPU time of this process so far (on a shared machine the wall time alone says little).
double cpuSeconds();

}  // namespace loupe::cli
