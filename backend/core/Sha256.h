#pragma once
// SHA-256 (FIPS 180-4), dependency-free so the Qt-free backend can verify files on any machine.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "Result.h"

namespace loupe {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::array<std::uint8_t, 32> finish();
  std::string finishHex();

  static std::string hex(const void* data, std::size_t size);
  // Streams the file in 1 MiB blocks.
  static Result<std::string> ofFile(const std::string& path);

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t bufLen_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace loupe
