#include "Result.h"

namespace loupe {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid-argument";
    case ErrorCode::NotFound: return "not-found";
    case ErrorCode::Io: return "io";
    case ErrorCode::UnsupportedFormat: return "unsupported-format";
    case ErrorCode::CorruptData: return "corrupt-data";
    case ErrorCode::TooLarge: return "too-large";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::DeviceUnavailable: return "device-unavailable";
    case ErrorCode::PluginError: return "plugin-error";
    case ErrorCode::ModelError: return "model-error";
    case ErrorCode::Internal: return "internal";
  }
  return "internal";
}

std::string Error::toString() const { return std::string(errorCodeName(code)) + ": " + message; }

Error Error::withContext(const std::string& context) const { return {code, context + ": " + message}; }

}  // namespace loupe
