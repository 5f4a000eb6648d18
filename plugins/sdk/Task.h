#pragma once
// The plugin interface. A plugin library exports one TaskPlugin (a thin factory); the host creates a Task
// per run. Tasks are backend logic: no widgets, usable from loupe and loupe-cli alike. They see only
// values, a CancelToken and a Progress, and return layers or an Error.

#include <QtPlugin>

#include <memory>
#include <string>
#include <vector>

#include "Params.h"
#include "core/CancelToken.h"
#include "core/DeviceRequest.h"
#include "core/Image.h"
#include "core/Layer.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::sdk {

struct TaskInput {
  Image image;  // input kind "image"
  Study study;  // input kind "volume_study": named sequences ("t2w", "adc", "dwi", ...), each in its own geometry
};

// A 3-D result (e.g. a likelihood or a detection map in the T2W's geometry). Layers are 2-D; volumes travel
// beside them: the host writes each as NIfTI (<id>.nii.gz) and lists it in result.json.
struct VolumeOutput {
  std::string id;
  std::string title;
  Volume volume;
};

struct TaskContext {
  CancelToken cancel;
  Progress progress;
  DeviceRequest device;  // already checked by the host to be available
  std::vector<VolumeOutput> volumes;  // tasks append their volume results here
};

class Task {
 public:
  virtual ~Task() = default;
  virtual Result<std::vector<Layer>> run(const TaskInput& input, const ParamValues& params, TaskContext& context) = 0;
};

class TaskPlugin {
 public:
  virtual ~TaskPlugin() = default;
  // nullptr for an id the plugin's manifest does not declare.
  virtual std::unique_ptr<Task> createTask(const std::string& taskId) = 0;
};

}  // namespace loupe::sdk

#define LOUPE_TASK_PLUGIN_IID "org.loupe.TaskPlugin/1"
Q_DECLARE_INTERFACE(loupe::sdk::TaskPlugin, LOUPE_TASK_PLUGIN_IID)
