#include "Params.h"

#include <sstream>
#include <stdexcept>

namespace loupe::sdk {

std::string paramToString(const ParamValue& value) {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      std::ostringstream s;
      s << d;
      return s.str();
    }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(V{}, value);
}

namespace {
const ParamValue& get(const ParamValues& values, const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) throw std::out_of_range("Task parameter '" + name + "' is not set");
  return it->second;
}
}  // namespace

std::int64_t paramInt(const ParamValues& values, const std::string& name) {
  const auto& v = get(values, name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  throw std::invalid_argument("Task parameter '" + name + "' is not a number");
}

double paramFloat(const ParamValues& values, const std::string& name) {
  const auto& v = get(values, name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw std::invalid_argument("Task parameter '" + name + "' is not a number");
}

bool paramBool(const ParamValues& values, const std::string& name) {
  const auto& v = get(values, name);
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  throw std::invalid_argument("Task parameter '" + name + "' is not a boolean");
}

std::string paramString(const ParamValues& values, const std::string& name) {
  const auto& v = get(values, name);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  throw std::invalid_argument("Task parameter '" + name + "' is not text");
}

}  // namespace loupe::sdk
