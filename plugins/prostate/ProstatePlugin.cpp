#include "ProstatePlugin.h"

#include "DetectTask.h"

namespace loupe::prostate {

std::unique_ptr<sdk::Task> ProstatePlugin::createTask(const std::string& taskId) {
  if (taskId == "prostate.detect") return std::make_unique<DetectTask>();
  return nullptr;
}

}  // namespace loupe::prostate
