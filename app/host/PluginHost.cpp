#include "PluginHost.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibrary>

#include <set>

namespace loupe::host {

const char* pluginStateName(PluginRecord::State state) {
  switch (state) {
    case PluginRecord::State::Invalid: return "invalid";
    case PluginRecord::State::Discovered: return "available";
    case PluginRecord::State::Loaded: return "loaded";
    case PluginRecord::State::Failed: return "failed";
  }
  return "?";
}

PluginHost::PluginHost() : paths_(defaultSearchPaths()) {}

PluginHost::~PluginHost() {
  // Instances belong to their loaders; Qt unloads libraries at exit. Unloading here could pull code
  // out from under objects that outlive the host (tasks kept by a finished job), so we don't.
  for (auto& p : plugins_) p->instance = nullptr;
}

QStringList PluginHost::defaultSearchPaths() {
  QStringList paths;
  const QString env = qEnvironmentVariable("LOUPE_PLUGIN_PATH");
  for (const QString& p : env.split(QLatin1Char(':'), Qt::SkipEmptyParts)) paths << p;
  if (QCoreApplication::instance()) {
    const QDir exe(QCoreApplication::applicationDirPath());
    paths << exe.absoluteFilePath(QStringLiteral("../lib/plugins"))         // build tree
          << exe.absoluteFilePath(QStringLiteral("../lib/loupe/plugins"));  // installed
  }
  return paths;
}

void PluginHost::setSearchPaths(const QStringList& paths) { paths_ = paths; }

void PluginHost::scan() {
  plugins_.clear();
  std::set<QString> seenFiles;
  std::set<std::string> seenIds;
  for (const QString& dirPath : paths_) {
    QDir dir(dirPath);
    if (!dir.exists()) continue;
    const auto entries = dir.entryInfoList(QDir::Files | QDir::Readable, QDir::Name);
    for (const QFileInfo& fi : entries) {
      if (!QLibrary::isLibrary(fi.fileName())) continue;
      const QString canonical = fi.canonicalFilePath();
      if (!seenFiles.insert(canonical).second) continue;
      auto rec = std::make_unique<PluginRecord>();
      rec->path = canonical;
      rec->loader = std::make_unique<QPluginLoader>(canonical);
      auto manifest = sdk::parsePluginMetaData(rec->loader->metaData());
      if (!manifest) {
        rec->state = PluginRecord::State::Invalid;
        rec->error = manifest.error().message;
      } else if (!seenIds.insert(manifest->id).second) {
        rec->state = PluginRecord::State::Invalid;
        rec->manifest = *manifest;
        rec->error = "another plugin with id '" + manifest->id + "' was found first; this one is ignored";
      } else {
        rec->state = PluginRecord::State::Discovered;
        rec->manifest = std::move(*manifest);
      }
      plugins_.push_back(std::move(rec));
    }
  }
}

std::vector<TaskRef> PluginHost::tasks() const {
  std::vector<TaskRef> out;
  for (const auto& p : plugins_) {
    if (p->state == PluginRecord::State::Invalid) continue;
    for (const auto& t : p->manifest.tasks) out.push_back({&t, p.get()});
  }
  return out;
}

TaskRef PluginHost::findTask(const std::string& taskId) const {
  for (const auto& ref : tasks())
    if (ref.spec->id == taskId) return ref;
  return {};
}

Result<void> PluginHost::load(PluginRecord& record) {
  if (record.state == PluginRecord::State::Loaded) return {};
  if (record.state != PluginRecord::State::Discovered)
    return Error{ErrorCode::PluginError, "plugin " + record.manifest.id + " cannot be used: " + record.error};
  QObject* object = record.loader->instance();
  if (!object) {
    record.state = PluginRecord::State::Failed;
    record.error = "library failed to load: " + record.loader->errorString().toStdString();
    return Error{ErrorCode::PluginError, "plugin " + record.manifest.id + ": " + record.error};
  }
  auto* plugin = qobject_cast<sdk::TaskPlugin*>(object);
  if (!plugin) {
    record.state = PluginRecord::State::Failed;
    record.error = "library does not implement the Loupe TaskPlugin interface";
    return Error{ErrorCode::PluginError, "plugin " + record.manifest.id + ": " + record.error};
  }
  record.instance = plugin;
  record.state = PluginRecord::State::Loaded;
  return {};
}

Result<std::unique_ptr<sdk::Task>> PluginHost::createTask(const std::string& taskId) {
  TaskRef ref = findTask(taskId);
  if (!ref.spec) {
    std::string known;
    for (const auto& t : tasks()) known += (known.empty() ? "" : ", ") + t.spec->id;
    return Error{ErrorCode::NotFound, "Unknown task '" + taskId + "'" + (known.empty() ? " (no plugins found)" : " (available: " + known + ")")};
  }
  auto& record = const_cast<PluginRecord&>(*ref.plugin);
  if (auto ok = load(record); !ok) return ok.error();
  std::unique_ptr<sdk::Task> task;
  try {
    task = record.instance->createTask(taskId);
  } catch (const std::exception& e) {
    return Error{ErrorCode::PluginError, "plugin " + record.manifest.id + " failed to create " + taskId + ": " + e.what()};
  }
  if (!task)
    return Error{ErrorCode::PluginError, "plugin " + record.manifest.id + " declares " + taskId + " but does not provide it"};
  return task;
}

}  // namespace loupe::host
