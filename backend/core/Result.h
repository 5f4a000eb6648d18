#pragma once
// Errors as values: every fallible backend call returns Result<T>.
// An Error carries a machine code (stable, for scripts and exit codes) and a message a user can act on.

#include <string>
#include <utility>
#include <variant>

namespace loupe {

enum class ErrorCode {
  InvalidArgument,   // a parameter or option has a bad value
  NotFound,          // a file, task or plugin does not exist
  Io,                // reading or writing failed
  UnsupportedFormat, // recognised but not supported (or not an image at all)
  CorruptData,       // the content is damaged (truncated, bad header)
  TooLarge,          // beyond a safety limit (pixels, memory)
  Cancelled,         // the user cancelled
  DeviceUnavailable, // CUDA requested but not present
  PluginError,       // a plugin failed to load or misbehaved
  ModelError,        // a model package is invalid or its outputs are wrong
  Internal,          // a bug: unexpected exception
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  static Error cancelled() { return {ErrorCode::Cancelled, "Cancelled by the user"}; }
  // "code: message", one line, for logs and the CLI.
  std::string toString() const;
  // Prefixes context: Error("No such file").withContext("Opening a.jpg") -> "Opening a.jpg: No such file".
  Error withContext(const std::string& context) const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace loupe
