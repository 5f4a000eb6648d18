#include "ZipArchive.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#ifdef LOUPE_HAVE_ZLIB
#include <zlib.h>
#endif

namespace loupe::runtime {
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50,
                        kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kChunk = 1 << 20;

std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

Error corrupt(const std::string& path, const std::string& what) {
  return {ErrorCode::CorruptData, fs::path(path).filename().string() + ": " + what};
}
Error unsupported(const std::string& path, const std::string& what) {
  return {ErrorCode::UnsupportedFormat, fs::path(path).filename().string() + ": " + what};
}

const std::array<std::uint32_t, 256>& crcTable() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return table;
}

bool readAt(std::ifstream& in, std::uint64_t offset, void* dst, std::size_t n) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  return static_cast<std::size_t>(in.gcount()) == n;
}

}  // namespace

std::uint32_t crc32Update(std::uint32_t crc, const void* data, std::size_t size) {
  const auto& t = crcTable();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

Result<void> checkEntryName(const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Error{ErrorCode::CorruptData, "entry '" + name + "' " + why + "; refusing to extract it"};
  };
  if (name.empty()) return bad("has an empty name");
  if (name.find('\0') != std::string::npos) return bad("contains a NUL byte");
  if (name.find('\\') != std::string::npos) return bad("contains a backslash");
  if (name.front() == '/') return bad("is an absolute path");
  if (name.size() >= 2 && name[1] == ':') return bad("starts with a drive letter");
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, end - start);
    if (part == "..") return bad("escapes the package folder (..)");
    if (part.empty() && end != name.size()) return bad("has an empty path component");
    start = end + 1;
  }
  return {};
}

Result<ZipArchive> ZipArchive::open(const std::string& path, const ZipLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::NotFound, "Cannot open " + path};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (size < 22) return corrupt(path, "too short to be a zip archive (" + std::to_string(size) + " bytes)");

  // End of central directory: the last 22 bytes plus an optional comment of up to 65535 bytes.
  const std::uint64_t tailSize = std::min<std::uint64_t>(size, 22 + 65535);
  std::string tail(tailSize, '\0');
  if (!readAt(in, size - tailSize, tail.data(), tailSize)) return Error{ErrorCode::Io, "Cannot read " + path};
  std::size_t eocd = std::string::npos;
  for (std::size_t i = tailSize - 22 + 1; i-- > 0;) {
    const auto* p = reinterpret_cast<const unsigned char*>(tail.data() + i);
    if (le32(p) == kEndSig && i + 22 + le16(p + 20) == tailSize) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos)
    return corrupt(path, "no end-of-central-directory record (not a zip archive, or truncated)");
  const auto* e = reinterpret_cast<const unsigned char*>(tail.data() + eocd);
  if (eocd >= 20 && le32(e - 20) == kZip64LocatorSig)
    return unsupported(path, "is a zip64 archive, which Loupe does not read (packages must stay under 4 GiB per file)");
  const std::uint16_t disk = le16(e + 4), cdDisk = le16(e + 6), entriesHere = le16(e + 8), entriesTotal = le16(e + 10);
  const std::uint32_t cdSize = le32(e + 12), cdOffset = le32(e + 16);
  if (entriesTotal == 0xFFFF || cdSize == 0xFFFFFFFFu || cdOffset == 0xFFFFFFFFu)
    return unsupported(path, "is a zip64 archive, which Loupe does not read (packages must stay under 4 GiB per file)");
  if (disk != 0 || cdDisk != 0 || entriesHere != entriesTotal)
    return unsupported(path, "spans several disks (split archive); join it into one file");
  const std::uint64_t eocdOffset = size - tailSize + eocd;
  if (std::uint64_t(cdOffset) + cdSize > eocdOffset)
    return corrupt(path, "the central directory lies outside the file (truncated or damaged)");
  if (entriesTotal > limits.maxEntries)
    return Error{ErrorCode::TooLarge, path + " has " + std::to_string(entriesTotal) + " entries (limit " +
                                          std::to_string(limits.maxEntries) + ")"};

  std::string cd(cdSize, '\0');
  if (!readAt(in, cdOffset, cd.data(), cdSize)) return Error{ErrorCode::Io, "Cannot read " + path};
  ZipArchive z;
  z.path_ = path;
  z.fileSize_ = size;
  std::set<std::string> names;
  std::uint64_t total = 0;
  std::size_t pos = 0;
  for (std::uint32_t k = 0; k < entriesTotal; ++k) {
    if (pos + 46 > cd.size()) return corrupt(path, "central directory ends early (entry " + std::to_string(k + 1) + ")");
    const auto* c = reinterpret_cast<const unsigned char*>(cd.data() + pos);
    if (le32(c) != kCentralSig) return corrupt(path, "bad central directory record " + std::to_string(k + 1));
    const std::uint16_t madeBy = le16(c + 4), flags = le16(c + 8), method = le16(c + 10);
    const std::uint16_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen = le16(c + 32);
    const std::uint16_t diskStart = le16(c + 34);
    const std::uint32_t external = le32(c + 38);
    if (pos + 46 + nameLen + extraLen + commentLen > cd.size())
      return corrupt(path, "central directory record " + std::to_string(k + 1) + " runs past its end");
    ZipEntry entry;
    entry.name = cd.substr(pos + 46, nameLen);
    entry.method = method;
    entry.crc32 = le32(c + 16);
    entry.compressedSize = le32(c + 20);
    entry.size = le32(c + 24);
    entry.localHeaderOffset = le32(c + 42);
    pos += 46 + std::size_t(nameLen) + extraLen + commentLen;

    if (entry.compressedSize == 0xFFFFFFFFu || entry.size == 0xFFFFFFFFu || entry.localHeaderOffset == 0xFFFFFFFFu)
      return unsupported(path, "entry '" + entry.name + "' uses zip64 sizes, which Loupe does not read");
    if (auto ok = checkEntryName(entry.name); !ok) return ok.error().withContext(fs::path(path).filename().string());
    if (flags & 0x1) return unsupported(path, "entry '" + entry.name + "' is encrypted");
    if (diskStart != 0) return unsupported(path, "entry '" + entry.name + "' starts on another disk");
    const std::uint32_t unixMode = external >> 16;
    if ((madeBy >> 8) == 3 && (unixMode & 0170000) == 0120000)
      return unsupported(path, "entry '" + entry.name + "' is a symbolic link; packages hold plain files only");
    entry.directory = entry.name.back() == '/';
    if (!entry.directory && method != 0 && method != 8)
      return unsupported(path, "entry '" + entry.name + "' uses compression method " + std::to_string(method) +
                                   " (only stored and deflated are read)");
    if (!names.insert(entry.name).second) return corrupt(path, "entry '" + entry.name + "' appears twice");
    if (entry.size > limits.maxEntrySize)
      return Error{ErrorCode::TooLarge, path + ": entry '" + entry.name + "' would unpack to " +
                                            std::to_string(entry.size) + " bytes (limit " +
                                            std::to_string(limits.maxEntrySize) + ")"};
    total += entry.size;
    if (total > limits.maxTotalSize)
      return Error{ErrorCode::TooLarge, path + " would unpack to more than " + std::to_string(limits.maxTotalSize) + " bytes"};
    if (entry.method == 0 && entry.compressedSize != entry.size)
      return corrupt(path, "stored entry '" + entry.name + "' has different packed and unpacked sizes");
    if (entry.localHeaderOffset + 30 + entry.compressedSize > cdOffset)
      return corrupt(path, "entry '" + entry.name + "' lies outside the archive's data (truncated or damaged)");
    z.entries_.push_back(std::move(entry));
  }
  return z;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Result<void> ZipArchive::read(const ZipEntry& entry, const Sink& sink, const CancelToken& cancel) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Error{ErrorCode::NotFound, "Cannot open " + path_};
  unsigned char local[30];
  if (!readAt(in, entry.localHeaderOffset, local, 30) || le32(local) != kLocalSig)
    return corrupt(path_, "bad local header for '" + entry.name + "'");
  const std::uint16_t nameLen = le16(local + 26), extraLen = le16(local + 28);
  std::string localName(nameLen, '\0');
  if (!readAt(in, entry.localHeaderOffset + 30, localName.data(), nameLen) || localName != entry.name)
    return corrupt(path_, "local header of '" + entry.name + "' names another file");
  if (le16(local + 8) != entry.method) return corrupt(path_, "local header of '" + entry.name + "' disagrees on the method");
  const std::uint64_t dataStart = entry.localHeaderOffset + 30 + nameLen + extraLen;
  if (dataStart + entry.compressedSize > fileSize_) return corrupt(path_, "'" + entry.name + "' is truncated");

  in.clear();
  in.seekg(static_cast<std::streamoff>(dataStart));
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, std::max<std::uint64_t>(entry.compressedSize, 1))));
  std::uint32_t crc = 0;
  std::uint64_t produced = 0, remaining = entry.compressedSize;
  auto emit = [&](const char* p, std::size_t n) -> Result<void> {
    produced += n;
    if (produced > entry.size) return corrupt(path_, "'" + entry.name + "' unpacks to more bytes than its header says");
    crc = crc32Update(crc, p, n);
    return sink(p, n);
  };

  if (entry.method == 0) {
    while (remaining > 0) {
      if (cancel.isCancelled()) return Error::cancelled();
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
      in.read(buf.data(), static_cast<std::streamsize>(n));
      if (static_cast<std::size_t>(in.gcount()) != n) return corrupt(path_, "'" + entry.name + "' is truncated");
      if (auto ok = emit(buf.data(), n); !ok) return ok;
      remaining -= n;
    }
  } else {
#ifdef LOUPE_HAVE_ZLIB
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return Error{ErrorCode::Internal, "zlib inflateInit2 failed"};
    struct End {
      z_stream* s;
      ~End() { inflateEnd(s); }
    } end{&zs};
    std::vector<char> out(kChunk);
    int status = Z_OK;
    while (status != Z_STREAM_END) {
      if (cancel.isCancelled()) return Error::cancelled();
      if (zs.avail_in == 0) {
        if (remaining == 0) return corrupt(path_, "'" + entry.name + "': deflate data ends early");
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
        in.read(buf.data(), static_cast<std::streamsize>(n));
        if (static_cast<std::size_t>(in.gcount()) != n) return corrupt(path_, "'" + entry.name + "' is truncated");
        remaining -= n;
        zs.next_in = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_in = static_cast<uInt>(n);
      }
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      status = inflate(&zs, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
        return corrupt(path_, "'" + entry.name + "': bad deflate data (" + (zs.msg ? zs.msg : "zlib error") + ")");
      const std::size_t n = out.size() - zs.avail_out;
      if (status == Z_BUF_ERROR && n == 0 && zs.avail_in != 0)
        return corrupt(path_, "'" + entry.name + "': bad deflate data");
      if (n > 0)
        if (auto ok = emit(out.data(), n); !ok) return ok;
    }
#else
    return unsupported(path_, "'" + entry.name + "' is deflated but this Loupe was built without zlib; store the "
                                  "files uncompressed (zip -0) or unzip the package into a folder");
#endif
  }
  if (produced != entry.size)
    return corrupt(path_, "'" + entry.name + "' unpacks to " + std::to_string(produced) + " bytes, its header says " +
                              std::to_string(entry.size));
  if (crc != entry.crc32) return corrupt(path_, "'" + entry.name + "' fails its CRC-32 check (damaged archive)");
  return {};
}

Result<std::string> ZipArchive::readAll(const ZipEntry& entry) const {
  std::string out;
  out.reserve(static_cast<std::size_t>(entry.size));
  auto ok = read(entry, [&](const char* p, std::size_t n) -> Result<void> {
    out.append(p, n);
    return {};
  });
  if (!ok) return ok.error();
  return out;
}

Result<void> ZipArchive::extractTo(const std::string& folder, const CancelToken& cancel, Progress progress) const {
  std::error_code ec;
  const fs::path root = fs::path(folder);
  fs::create_directories(root, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot create " + folder + ": " + ec.message()};
  std::uint64_t total = 0, done = 0;
  for (const auto& e : entries_) total += e.size;
  for (const auto& e : entries_) {
    if (auto ok = checkEntryName(e.name); !ok) return ok;  // checked on open too; never write outside root
    const fs::path target = root / fs::path(e.name);
    if (e.directory) {
      fs::create_directories(target, ec);
      if (ec) return Error{ErrorCode::Io, "Cannot create " + target.string() + ": " + ec.message()};
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Error{ErrorCode::Io, "Cannot create " + target.parent_path().string() + ": " + ec.message()};
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!out) return Error{ErrorCode::Io, "Cannot write " + target.string()};
    auto ok = read(e, [&](const char* p, std::size_t n) -> Result<void> {
      out.write(p, static_cast<std::streamsize>(n));
      if (!out) return Error{ErrorCode::Io, "Cannot write " + target.string() + " (disk full?)"};
      done += n;
      if (total > 0) progress.report(static_cast<double>(done) / total, "Unpacking " + e.name);
      return {};
    }, cancel);
    if (!ok) return ok;
  }
  return {};
}

}  // namespace loupe::runtime
