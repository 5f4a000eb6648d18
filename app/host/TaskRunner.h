#pragma once
// One run of one task on one input, as loupe-cli, `loupe --headless` and the GUI's jobs all do it:
// plan (task, parameters, device, input checked up front), execute (off the caller's thread if it
// likes, cancellable), write (layers to files plus result.json).

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "PluginHost.h"

namespace loupe::host {

struct RunRequest {
  std::string taskId;
  std::string inputPath;  // for tasks taking a study: a folder, or several files/folders separated by ','
  std::vector<std::pair<std::string, std::string>> params;  // "name", "value" texts
  std::string device = "auto";
};

// Which step failed: decides the CLI's exit code.
enum class RunStage { Usage, Device, Input, Plugin, Task, Output };

struct RunFailure {
  RunStage stage;
  Error error;
};

struct RunPlan {
  sdk::TaskSpec spec;
  std::string pluginId;
  std::string pluginVersion;
  sdk::ParamValues params;
  DeviceRequest device;
  std::string deviceName;  // resolved, e.g. "cpu"
  Image input;   // input kind "image"
  Study study;   // input kind "volume_study"
  std::unique_ptr<sdk::Task> task;
};

struct RunOutcome {
  std::vector<Layer> layers;
  std::vector<sdk::VolumeOutput> volumes;  // written as <id>.nii.gz
  double seconds = 0.0;
};

// Checks everything that can be checked before the work starts. On failure, `failure` says where.
Result<RunPlan> planRun(PluginHost& host, const RunRequest& request, RunStage* failedStage);

// Runs the plan's task; exceptions thrown by plugin code become errors, never crashes.
Result<RunOutcome> executeRun(RunPlan& plan, const CancelToken& cancel, const Progress& progress);

// The run as JSON (input hashes, parameters, device, timing, layers and the files they went to).
nlohmann::json describeRun(const RunPlan& plan, const RunOutcome& outcome,
                           const std::vector<std::vector<std::string>>& layerFiles = {});

// Writes every layer to `outDir` plus result.json; returns the description written.
Result<nlohmann::json> writeRun(const RunPlan& plan, const RunOutcome& outcome, const std::string& outDir);

std::string loupeVersion();

}  // namespace loupe::host
