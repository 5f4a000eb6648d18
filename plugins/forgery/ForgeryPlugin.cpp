#include "ForgeryPlugin.h"

#include "ElaTask.h"
#include "LocalizeTask.h"

namespace loupe::forgery {

std::unique_ptr<sdk::Task> ForgeryPlugin::createTask(const std::string& taskId) {
  if (taskId == "forgery.ela") return std::make_unique<ElaTask>();
  if (taskId == "forgery.localize") return std::make_unique<LocalizeTask>();
  return nullptr;
}

}  // namespace loupe::forgery
