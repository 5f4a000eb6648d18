#include "Manifest.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <set>

#include "Task.h"
#include "core/Layer.h"

namespace loupe::sdk {
namespace {

Error bad(const std::string& where, const std::string& what) {
  return {ErrorCode::PluginError, "manifest: " + where + ": " + what};
}

Result<void> onlyKeys(const QJsonObject& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string key = it.key().toStdString();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return bad(where, "unknown key '" + key + "' (allowed: " + list + ")");
    }
  }
  return {};
}

Result<std::string> str(const QJsonObject& obj, const std::string& where, const char* key, bool required = true) {
  const auto v = obj.value(key);
  if (v.isUndefined()) {
    if (required) return bad(where, "missing required key '" + std::string(key) + "'");
    return std::string();
  }
  if (!v.isString()) return bad(where + "." + key, "must be a string");
  const std::string s = v.toString().toStdString();
  if (required && s.empty()) return bad(where + "." + key, "must not be empty");
  return s;
}

bool validId(const std::string& id) {
  static const QRegularExpression re("^[a-z][a-z0-9_]*$");
  return re.match(QString::fromStdString(id)).hasMatch();
}

Result<std::vector<std::string>> kindList(const QJsonObject& obj, const std::string& where, const char* key,
                                          const std::vector<std::string>& vocabulary) {
  const auto v = obj.value(key);
  if (v.isUndefined()) return bad(where, "missing required key '" + std::string(key) + "'");
  if (!v.isArray() || v.toArray().isEmpty()) return bad(where + "." + key, "must be a non-empty array of strings");
  std::vector<std::string> out;
  for (const auto& e : v.toArray()) {
    if (!e.isString()) return bad(where + "." + key, "must contain only strings");
    const std::string k = e.toString().toStdString();
    if (std::find(vocabulary.begin(), vocabulary.end(), k) == vocabulary.end()) {
      std::string list;
      for (const auto& a : vocabulary) list += (list.empty() ? "" : ", ") + a;
      return bad(where + "." + key, "unknown kind '" + k + "' (known: " + list + ")");
    }
    out.push_back(k);
  }
  return out;
}

Result<ParamSpec> parseParam(const QJsonObject& obj, const std::string& where) {
  if (auto ok = onlyKeys(obj, where, {"id", "title", "description", "type", "default", "min", "max", "choices"}); !ok)
    return ok.error();
  ParamSpec p;
  auto id = str(obj, where, "id");
  if (!id) return id.error();
  p.id = *id;
  if (!validId(p.id)) return bad(where + ".id", "'" + p.id + "' must match [a-z][a-z0-9_]*");
  const std::string at = where + "(" + p.id + ")";
  auto title = str(obj, at, "title");
  if (!title) return title.error();
  p.title = *title;
  auto desc = str(obj, at, "description", false);
  if (!desc) return desc.error();
  p.description = *desc;
  auto type = str(obj, at, "type");
  if (!type) return type.error();
  static const std::map<std::string, ParamSpec::Type> types = {{"int", ParamSpec::Type::Int},
                                                               {"float", ParamSpec::Type::Float},
                                                               {"bool", ParamSpec::Type::Bool},
                                                               {"choice", ParamSpec::Type::Choice},
                                                               {"string", ParamSpec::Type::String}};
  auto t = types.find(*type);
  if (t == types.end()) return bad(at + ".type", "unknown type '" + *type + "' (int, float, bool, choice, string)");
  p.type = t->second;

  const bool numeric = p.type == ParamSpec::Type::Int || p.type == ParamSpec::Type::Float;
  for (const char* key : {"min", "max"}) {
    const auto v = obj.value(key);
    if (v.isUndefined()) continue;
    if (!numeric) return bad(at + "." + key, "only int and float parameters have a range");
    if (!v.isDouble()) return bad(at + "." + key, "must be a number");
    if (p.type == ParamSpec::Type::Int && v.toDouble() != std::floor(v.toDouble()))
      return bad(at + "." + key, "must be a whole number for an int parameter");
    (std::string(key) == "min" ? p.min : p.max) = v.toDouble();
  }
  if (p.min && p.max && *p.min > *p.max) return bad(at, "min is greater than max");

  const auto choices = obj.value("choices");
  if (p.type == ParamSpec::Type::Choice) {
    if (!choices.isArray() || choices.toArray().isEmpty())
      return bad(at + ".choices", "a choice parameter needs a non-empty array of strings");
    for (const auto& c : choices.toArray()) {
      if (!c.isString()) return bad(at + ".choices", "must contain only strings");
      p.choices.push_back(c.toString().toStdString());
    }
  } else if (!choices.isUndefined()) {
    return bad(at + ".choices", "only choice parameters have choices");
  }

  const auto d = obj.value("default");
  if (d.isUndefined()) return bad(at, "missing required key 'default'");
  switch (p.type) {
    case ParamSpec::Type::Int:
      if (!d.isDouble() || d.toDouble() != std::floor(d.toDouble())) return bad(at + ".default", "must be a whole number");
      p.defaultValue = static_cast<std::int64_t>(d.toDouble());
      break;
    case ParamSpec::Type::Float:
      if (!d.isDouble()) return bad(at + ".default", "must be a number");
      p.defaultValue = d.toDouble();
      break;
    case ParamSpec::Type::Bool:
      if (!d.isBool()) return bad(at + ".default", "must be true or false");
      p.defaultValue = d.toBool();
      break;
    case ParamSpec::Type::Choice:
    case ParamSpec::Type::String:
      if (!d.isString()) return bad(at + ".default", "must be a string");
      p.defaultValue = d.toString().toStdString();
      break;
  }
  TaskSpec probe;
  probe.params.push_back(p);
  if (auto ok = probe.check(p.id, p.defaultValue); !ok) return bad(at + ".default", ok.error().message);
  return p;
}

Result<TaskSpec> parseTask(const QJsonObject& obj, const std::string& where, const std::string& pluginId) {
  if (auto ok = onlyKeys(obj, where, {"id", "title", "description", "category", "inputs", "outputs", "parameters"});
      !ok)
    return ok.error();
  TaskSpec t;
  auto id = str(obj, where, "id");
  if (!id) return id.error();
  t.id = *id;
  const std::string prefix = pluginId + ".";
  if (t.id.rfind(prefix, 0) != 0 || !validId(t.id.substr(prefix.size())))
    return bad(where + ".id", "'" + t.id + "' must be '" + prefix + "<name>' with name matching [a-z][a-z0-9_]*");
  const std::string at = "task " + t.id;
  auto title = str(obj, at, "title");
  if (!title) return title.error();
  t.title = *title;
  auto desc = str(obj, at, "description", false);
  if (!desc) return desc.error();
  t.description = *desc;
  const auto category = obj.value("category");
  if (!category.isUndefined()) {
    if (!category.isString()) return bad(at + ".category", "must be a string");
    t.category = category.toString().trimmed().toStdString();
    if (t.category.empty()) return bad(at + ".category", "must not be empty (leave the key out instead)");
    if (t.category.size() > 64) return bad(at + ".category", "must be at most 64 characters");
  }
  auto inputs = kindList(obj, at, "inputs", inputKindNames());
  if (!inputs) return inputs.error();
  t.inputs = *inputs;
  auto outputs = kindList(obj, at, "outputs", layerKindNames());
  if (!outputs) return outputs.error();
  t.outputs = *outputs;
  const auto params = obj.value("parameters");
  if (!params.isUndefined()) {
    if (!params.isArray()) return bad(at + ".parameters", "must be an array");
    std::set<std::string> seen;
    int i = 0;
    for (const auto& p : params.toArray()) {
      const std::string pw = at + ".parameters[" + std::to_string(i++) + "]";
      if (!p.isObject()) return bad(pw, "must be an object");
      auto spec = parseParam(p.toObject(), pw);
      if (!spec) return spec.error();
      if (!seen.insert(spec->id).second) return bad(pw, "duplicate parameter id '" + spec->id + "'");
      t.params.push_back(std::move(*spec));
    }
  }
  return t;
}

}  // namespace

const std::vector<std::string>& inputKindNames() {
  static const std::vector<std::string> kinds = {"image", "image_pair", "volume_study", "image_set"};
  return kinds;
}

const char* paramTypeName(ParamSpec::Type type) {
  switch (type) {
    case ParamSpec::Type::Int: return "int";
    case ParamSpec::Type::Float: return "float";
    case ParamSpec::Type::Bool: return "bool";
    case ParamSpec::Type::Choice: return "choice";
    case ParamSpec::Type::String: return "string";
  }
  return "?";
}

const ParamSpec* TaskSpec::findParam(const std::string& name) const {
  for (const auto& p : params)
    if (p.id == name) return &p;
  return nullptr;
}

ParamValues TaskSpec::defaults() const {
  ParamValues v;
  for (const auto& p : params) v[p.id] = p.defaultValue;
  return v;
}

Result<void> TaskSpec::check(const std::string& name, const ParamValue& value) const {
  const ParamSpec* p = findParam(name);
  if (!p) return Error{ErrorCode::InvalidArgument, "Task " + id + " has no parameter '" + name + "'"};
  const auto range = [&](double x) -> Result<void> {
    if (!std::isfinite(x)) return Error{ErrorCode::InvalidArgument, name + " must be a finite number"};
    if ((p->min && x < *p->min) || (p->max && x > *p->max)) {
      std::string r = (p->min ? paramToString(ParamValue(*p->min)) : "-inf") + " .. " +
                      (p->max ? paramToString(ParamValue(*p->max)) : "inf");
      return Error{ErrorCode::InvalidArgument, name + " = " + paramToString(value) + " is outside " + r};
    }
    return {};
  };
  switch (p->type) {
    case ParamSpec::Type::Int:
      if (!std::holds_alternative<std::int64_t>(value)) return Error{ErrorCode::InvalidArgument, name + " must be a whole number"};
      return range(static_cast<double>(std::get<std::int64_t>(value)));
    case ParamSpec::Type::Float:
      if (std::holds_alternative<std::int64_t>(value)) return range(static_cast<double>(std::get<std::int64_t>(value)));
      if (!std::holds_alternative<double>(value)) return Error{ErrorCode::InvalidArgument, name + " must be a number"};
      return range(std::get<double>(value));
    case ParamSpec::Type::Bool:
      if (!std::holds_alternative<bool>(value)) return Error{ErrorCode::InvalidArgument, name + " must be true or false"};
      return {};
    case ParamSpec::Type::Choice: {
      if (!std::holds_alternative<std::string>(value)) return Error{ErrorCode::InvalidArgument, name + " must be text"};
      const auto& s = std::get<std::string>(value);
      if (std::find(p->choices.begin(), p->choices.end(), s) == p->choices.end()) {
        std::string list;
        for (const auto& c : p->choices) list += (list.empty() ? "" : ", ") + c;
        return Error{ErrorCode::InvalidArgument, name + " = " + s + " is not one of: " + list};
      }
      return {};
    }
    case ParamSpec::Type::String:
      if (!std::holds_alternative<std::string>(value)) return Error{ErrorCode::InvalidArgument, name + " must be text"};
      return {};
  }
  return {};
}

Result<ParamValues> TaskSpec::resolve(const std::vector<std::pair<std::string, std::string>>& overrides) const {
  ParamValues values = defaults();
  for (const auto& [name, text] : overrides) {
    const ParamSpec* p = findParam(name);
    if (!p) {
      std::string list;
      for (const auto& q : params) list += (list.empty() ? "" : ", ") + q.id;
      return Error{ErrorCode::InvalidArgument,
                   "Task " + id + " has no parameter '" + name + "'" + (list.empty() ? "" : " (parameters: " + list + ")")};
    }
    ParamValue v;
    try {
      std::size_t used = 0;
      switch (p->type) {
        case ParamSpec::Type::Int: {
          const long long x = std::stoll(text, &used);
          if (used != text.size()) throw std::invalid_argument(text);
          v = static_cast<std::int64_t>(x);
          break;
        }
        case ParamSpec::Type::Float: {
          const double x = std::stod(text, &used);
          if (used != text.size()) throw std::invalid_argument(text);
          v = x;
          break;
        }
        case ParamSpec::Type::Bool:
          if (text == "true" || text == "1" || text == "yes" || text == "on") v = true;
          else if (text == "false" || text == "0" || text == "no" || text == "off") v = false;
          else throw std::invalid_argument(text);
          break;
        case ParamSpec::Type::Choice:
        case ParamSpec::Type::String: v = text; break;
      }
    } catch (const std::exception&) {
      return Error{ErrorCode::InvalidArgument,
                   name + " = '" + text + "' is not a valid " + paramTypeName(p->type) + " value"};
    }
    if (auto ok = check(name, v); !ok) return ok.error();
    values[name] = v;
  }
  return values;
}

Result<Manifest> parseManifest(const QJsonObject& obj) {
  if (auto ok = onlyKeys(obj, "plugin", {"id", "name", "version", "hostApi", "description", "tasks"}); !ok)
    return ok.error();
  Manifest m;
  auto id = str(obj, "plugin", "id");
  if (!id) return id.error();
  m.id = *id;
  if (!validId(m.id)) return bad("plugin.id", "'" + m.id + "' must match [a-z][a-z0-9_]*");
  const std::string at = "plugin " + m.id;
  auto name = str(obj, at, "name");
  if (!name) return name.error();
  m.name = *name;
  auto version = str(obj, at, "version");
  if (!version) return version.error();
  m.version = *version;
  static const QRegularExpression semver("^\\d+\\.\\d+\\.\\d+$");
  if (!semver.match(QString::fromStdString(m.version)).hasMatch())
    return bad(at + ".version", "'" + m.version + "' must be MAJOR.MINOR.PATCH");
  auto desc = str(obj, at, "description", false);
  if (!desc) return desc.error();
  m.description = *desc;
  const auto api = obj.value("hostApi");
  if (api.isUndefined()) return bad(at, "missing required key 'hostApi'");
  if (!api.isDouble() || api.toDouble() != std::floor(api.toDouble())) return bad(at + ".hostApi", "must be an integer");
  m.hostApi = api.toInt();
  if (m.hostApi != kHostApiVersion)
    return Error{ErrorCode::PluginError, "plugin " + m.id + " was built for host API " + std::to_string(m.hostApi) +
                                             ", this Loupe provides API " + std::to_string(kHostApiVersion)};
  const auto tasks = obj.value("tasks");
  if (tasks.isUndefined()) return bad(at, "missing required key 'tasks'");
  if (!tasks.isArray() || tasks.toArray().isEmpty()) return bad(at + ".tasks", "must be a non-empty array");
  std::set<std::string> seen;
  int i = 0;
  for (const auto& t : tasks.toArray()) {
    const std::string tw = at + ".tasks[" + std::to_string(i++) + "]";
    if (!t.isObject()) return bad(tw, "must be an object");
    auto spec = parseTask(t.toObject(), tw, m.id);
    if (!spec) return spec.error();
    if (!seen.insert(spec->id).second) return bad(tw, "duplicate task id '" + spec->id + "'");
    m.tasks.push_back(std::move(*spec));
  }
  return m;
}

Result<Manifest> parsePluginMetaData(const QJsonObject& pluginMetaData) {
  if (pluginMetaData.isEmpty())
    return Error{ErrorCode::PluginError, "not a Qt plugin (no embedded metadata)"};
  const QString iid = pluginMetaData.value("IID").toString();
  if (iid != QLatin1String(LOUPE_TASK_PLUGIN_IID))
    return Error{ErrorCode::PluginError, "not a Loupe task plugin (interface '" + iid.toStdString() + "', expected '" +
                                             LOUPE_TASK_PLUGIN_IID + "')"};
  const auto meta = pluginMetaData.value("MetaData");
  if (!meta.isObject() || meta.toObject().isEmpty())
    return Error{ErrorCode::PluginError, "manifest is missing or is not a JSON object"};
  return parseManifest(meta.toObject());
}

}  // namespace loupe::sdk
