#include "ForgeryPlugin.h"

#include "ElaTask.h"

namespace loupe::forgery {

std::unique_ptr<sdk::Task> ForgeryPlugin::createTask(const std::string& taskId) {
  if (taskId == "forgery.ela") return std::make_unique<ElaTask>();
  return nullptr;
}

}  // namespace loupe::forgery
