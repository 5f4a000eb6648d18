#pragma once
// Finds plugins, validates their manifests without loading them, and loads a library only when one of
// its tasks is first used. A plugin that fails at any step is kept in the list with the reason, so the
// user can see why; it never takes the application down.

#include <QPluginLoader>
#include <QString>
#include <QStringList>

#include <memory>
#include <string>
#include <vector>

#include "sdk/Manifest.h"
#include "sdk/Task.h"

namespace loupe::host {

struct PluginRecord {
  enum class State { Invalid, Discovered, Loaded, Failed };
  QString path;
  State state = State::Invalid;
  std::string error;  // why Invalid or Failed
  sdk::Manifest manifest;
  std::unique_ptr<QPluginLoader> loader;
  sdk::TaskPlugin* instance = nullptr;
};
const char* pluginStateName(PluginRecord::State state);

struct TaskRef {
  const sdk::TaskSpec* spec = nullptr;
  const PluginRecord* plugin = nullptr;
};

class PluginHost {
 public:
  PluginHost();
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Folders searched by scan(): LOUPE_PLUGIN_PATH (colon-separated), then the build and install
  // layouts beside the running executable.
  static QStringList defaultSearchPaths();
  void setSearchPaths(const QStringList& paths);
  QStringList searchPaths() const { return paths_; }

  // Reads every shared library's metadata in the search paths (no plugin code runs).
  void scan();

  const std::vector<std::unique_ptr<PluginRecord>>& plugins() const { return plugins_; }
  std::vector<TaskRef> tasks() const;  // tasks of valid plugins, in plugin then manifest order
  TaskRef findTask(const std::string& taskId) const;

  // Loads the owning plugin if needed and creates the task.
  Result<std::unique_ptr<sdk::Task>> createTask(const std::string& taskId);

 private:
  Result<void> load(PluginRecord& record);
  QStringList paths_;
  std::vector<std::unique_ptr<PluginRecord>> plugins_;
};

}  // namespace loupe::host
