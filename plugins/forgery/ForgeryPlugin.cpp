#include "ForgeryPlugin.h"

#include "ClassicTasks.h"
#include "ElaTask.h"
#include "LocalizeTask.h"

namespace loupe::forgery {

std::unique_ptr<sdk::Task> ForgeryPlugin::createTask(const std::string& taskId) {
  if (taskId == "forgery.ela") return std::make_unique<ElaTask>();
  if (taskId == "forgery.localize") return std::make_unique<LocalizeTask>();
  if (taskId == "forgery.noise") return std::make_unique<NoiseTask>();
  if (taskId == "forgery.jpeg") return std::make_unique<JpegTask>();
  if (taskId == "forgery.metadata") return std::make_unique<MetadataTask>();
  if (taskId == "forgery.hashes") return std::make_unique<HashesTask>();
  if (taskId == "forgery.copymove") return std::make_unique<CopyMoveTask>();
  return nullptr;
}

}  // namespace loupe::forgery
