#include "FacesPlugin.h"

#include "AgeTask.h"

namespace loupe::faces {

std::unique_ptr<sdk::Task> FacesPlugin::createTask(const std::string& taskId) {
  if (taskId == "faces.age") return std::make_unique<AgeTask>();
  return nullptr;
}

}  // namespace loupe::faces
