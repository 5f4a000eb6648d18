#pragma once
// The plugin manifest: what a plugin offers, read from the library's embedded JSON (Q_PLUGIN_METADATA)
// before the library is loaded. Validation is strict: unknown keys, wrong types, out-of-range defaults
// and malformed ids are rejected with a message naming the field.

#include <QJsonObject>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "Params.h"
#include "core/Result.h"

namespace loupe::sdk {

// Bumped when the Task/TaskPlugin interfaces change incompatibly.
constexpr int kHostApiVersion = 1;

const std::vector<std::string>& inputKindNames();  // image, image_pair, volume_study, image_set

struct ParamSpec {
  enum class Type { Int, Float, Bool, Choice, String };
  std::string id;
  std::string title;
  std::string description;
  Type type = Type::Float;
  ParamValue defaultValue;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> choices;  // Choice only
};
const char* paramTypeName(ParamSpec::Type type);

struct TaskSpec {
  std::string id;  // "<plugin>.<task>"
  std::string title;
  std::string description;
  // Optional group in tool trees (GUI), e.g. "Compression"; empty: listed directly under its plugin.
  std::string category;
  std::vector<std::string> inputs;   // input kinds accepted
  std::vector<std::string> outputs;  // layer kinds returned
  std::vector<ParamSpec> params;

  const ParamSpec* findParam(const std::string& id) const;
  ParamValues defaults() const;
  // Defaults overridden by "name=value" texts (CLI --param, session files); each value is parsed and
  // range-checked against its spec.
  Result<ParamValues> resolve(const std::vector<std::pair<std::string, std::string>>& overrides) const;
  // Checks one typed value against its spec (GUI editors, sessions).
  Result<void> check(const std::string& name, const ParamValue& value) const;
};

struct Manifest {
  std::string id;
  std::string name;
  std::string version;
  std::string description;
  int hostApi = 0;
  std::vector<TaskSpec> tasks;
};

// `pluginMetaData` is QPluginLoader::metaData(): {"IID": ..., "MetaData": {manifest}, ...}.
Result<Manifest> parsePluginMetaData(const QJsonObject& pluginMetaData);
// The manifest object itself.
Result<Manifest> parseManifest(const QJsonObject& manifest);

}  // namespace loupe::sdk
