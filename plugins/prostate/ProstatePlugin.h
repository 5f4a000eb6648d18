#pragma once

#include <QObject>

#include "sdk/Task.h"

namespace loupe::prostate {

class ProstatePlugin : public QObject, public sdk::TaskPlugin {
  Q_OBJECT
  Q_PLUGIN_METADATA(IID LOUPE_TASK_PLUGIN_IID FILE "prostate.json")
  Q_INTERFACES(loupe::sdk::TaskPlugin)

 public:
  std::unique_ptr<sdk::Task> createTask(const std::string& taskId) override;
};

}  // namespace loupe::prostate
