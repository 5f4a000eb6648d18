#include "DeviceRequest.h"

#include <cctype>

namespace loupe {

Result<DeviceRequest> DeviceRequest::parse(const std::string& text) {
  std::string s;
  for (char c : text) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  DeviceRequest r;
  if (s.empty() || s == "auto") return r;
  if (s == "cpu") { r.kind = Kind::Cpu; return r; }
  if (s == "cuda" || s == "gpu") { r.kind = Kind::Cuda; return r; }
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.size() < 9) {
    const std::string n = s.substr(5);
    bool digits = true;
    for (char c : n) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) { r.kind = Kind::Cuda; r.index = std::stoi(n); return r; }
  }
  return Error{ErrorCode::InvalidArgument, "Unknown device '" + text + "' (use auto, cpu, cuda or cuda:N)"};
}

std::string DeviceRequest::toString() const {
  switch (kind) {
    case Kind::Auto: return "auto";
    case Kind::Cpu: return "cpu";
    case Kind::Cuda: return "cuda:" + std::to_string(index);
  }
  return "auto";
}

}  // namespace loupe
