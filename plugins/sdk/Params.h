#pragma once
// Typed task parameters.

#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace loupe::sdk {

using ParamValue = std::variant<bool, std::int64_t, double, std::string>;
using ParamValues = std::map<std::string, ParamValue>;

std::string paramToString(const ParamValue& value);

// Typed access with the numeric conversions a manifest allows (int <-> float).
std::int64_t paramInt(const ParamValues& values, const std::string& name);
double paramFloat(const ParamValues& values, const std::string& name);
bool paramBool(const ParamValues& values, const std::string& name);
std::string paramString(const ParamValues& values, const std::string& name);

}  // namespace loupe::sdk
