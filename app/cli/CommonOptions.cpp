#include "CommonOptions.h"

#include <sys/resource.h>

#include <cstdlib>

#include "Command.h"
#include "host/ExitCodes.h"

namespace loupe::cli {

CLI::Option* addThreadsOption(CLI::App* app, int& threads) {
  return app->add_option("--threads", threads, "CPU threads (default: one per core)")->check(CLI::Range(1, 256));
}

CLI::Option* addQuietFlag(CLI::App* app, bool& quiet, bool shortToo, const std::string& help) {
  return app->add_flag(shortToo ? "--quiet,-q" : "--quiet", quiet, help);
}

CLI::Option* addDeviceOption(CLI::App* app, std::string& device, const std::string& help) {
  return app->add_option("--device", device, help)->capture_default_str();
}

CLI::Option* addJsonOption(CLI::App* app, std::string& json) {
  return app->add_option("--json", json, "Also write the numbers to this JSON file");
}

void addCheckpointOptions(CLI::App* app, bool& resume, bool& keepCheckpoint) {
  app->add_flag("--resume", resume, "Continue from PACKAGE_DIR/checkpoint.pt when it exists");
  app->add_flag("--keep-checkpoint", keepCheckpoint, "Keep checkpoint.pt after training");
}

Result<std::map<std::string, double>> parseLossParams(const std::vector<std::string>& pairs) {
  std::map<std::string, double> p;
  for (const auto& kv : pairs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Error{ErrorCode::InvalidArgument, "--loss-param " + kv + ": expected NAME=VALUE"};
    char* end = nullptr;
    const std::string v = kv.substr(eq + 1);
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end) return Error{ErrorCode::InvalidArgument, "--loss-param " + kv + ": the value must be a number"};
    p[kv.substr(0, eq)] = d;
  }
  return p;
}

int exitCodeFor(const Error& error, int otherwise) {
  if (error.code == ErrorCode::Cancelled) return host::Cancelled;
  if (error.code == ErrorCode::DeviceUnavailable) return host::NoDevice;
  return otherwise;
}

int trainingFailed(const Error& error, const std::string& checkpointPath) {
  if (error.code == ErrorCode::Cancelled)
    return fail(host::Cancelled, "cancelled; resume with --resume (checkpoint " + checkpointPath + ")");
  return fail(error.code == ErrorCode::InvalidArgument ? host::Usage : host::TaskFailed, error.message);
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace loupe::cli
