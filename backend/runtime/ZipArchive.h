#pragma once
// A small, careful reader for zipped model packages: the central directory is the source of truth,
// every local header is cross-checked against it, data is CRC-32 checked while it streams, and
// anything Loupe does not need (zip64, encryption, multi-disk archives, symbolic links, methods other
// than stored/deflated) is refused with a message that says so. Entry names that could escape the
// extraction folder (absolute, `..`, backslashes, drive letters) are refused before anything is written.
// Deflate needs zlib (LOUPE_HAVE_ZLIB); without it, stored entries still work.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"

namespace loupe::runtime {

struct ZipEntry {
  std::string name;                  // as stored, '/'-separated
  std::uint16_t method = 0;          // 0 stored, 8 deflated
  std::uint32_t crc32 = 0;
  std::uint64_t compressedSize = 0;
  std::uint64_t size = 0;            // uncompressed
  std::uint64_t localHeaderOffset = 0;
  bool directory = false;
};

struct ZipLimits {
  std::uint64_t maxEntrySize = 8ull << 30;   // one uncompressed file
  std::uint64_t maxTotalSize = 16ull << 30;  // all files together
  std::size_t maxEntries = 10000;
};

class ZipArchive {
 public:
  // Reads and checks the central directory (nothing is decompressed yet).
  static Result<ZipArchive> open(const std::string& path, const ZipLimits& limits = {});

  const std::string& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;

  // Streams one entry's bytes to `sink` in chunks; fails on a CRC mismatch, a size mismatch or bad data.
  using Sink = std::function<Result<void>(const char* data, std::size_t size)>;
  Result<void> read(const ZipEntry& entry, const Sink& sink, const CancelToken& cancel = {}) const;
  // The whole entry in memory (for small files such as the manifest).
  Result<std::string> readAll(const ZipEntry& entry) const;
  // Writes every entry under `folder` (created), checking each one; reports progress by bytes.
  Result<void> extractTo(const std::string& folder, const CancelToken& cancel = {}, Progress progress = {}) const;

 private:
  std::string path_;
  std::vector<ZipEntry> entries_;
  std::uint64_t fileSize_ = 0;
};

// CRC-32 (ISO 3309, the zip/PNG polynomial), incremental: crc = crc32Update(crc, data, n), starting at 0.
std::uint32_t crc32Update(std::uint32_t crc, const void* data, std::size_t size);

// Whether `name` is a safe relative path to write under an extraction folder; the reason when not.
Result<void> checkEntryName(const std::string& name);

}  // namespace loupe::runtime
