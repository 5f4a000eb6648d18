#include "ModelPackage.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ZipArchive.h"
#include "core/Sha256.h"

namespace loupe::runtime {
namespace fs = std::filesystem;
using nlohmann::json;

const char* modelFormatName(ModelFormat f) {
  switch (f) {
    case ModelFormat::TorchScript: return "torchscript";
    case ModelFormat::Onnx: return "onnx";
    case ModelFormat::Native: return "native";
    case ModelFormat::Tfjs: return "tfjs";
  }
  return "?";
}

std::string ModelPackage::entryPath() const { return (fs::path(folder) / entry).string(); }

namespace {

Error bad(const std::string& field, const std::string& what) {
  return {ErrorCode::ModelError, std::string(kModelManifestName) + ": " + field + ": " + what};
}

Result<void> onlyKeys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return it.key() == a; })) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return bad(where.empty() ? it.key() : where + "." + it.key(), "unknown key (allowed: " + list + ")");
    }
  }
  return {};
}

std::string join(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

Result<std::string> getString(const json& obj, const std::string& where, const char* key, bool required,
                              const std::vector<std::string>& allowed = {}) {
  if (!obj.contains(key)) {
    if (required) return bad(join(where, key), "missing");
    return std::string();
  }
  const json& v = obj.at(key);
  if (!v.is_string()) return bad(join(where, key), "must be a string");
  std::string s = v.get<std::string>();
  if (required && s.empty()) return bad(join(where, key), "must not be empty");
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return bad(join(where, key), "'" + s + "' is not one of: " + list);
  }
  return s;
}

Result<double> getNumber(const json& obj, const std::string& where, const char* key, double fallback) {
  if (!obj.contains(key)) return fallback;
  const json& v = obj.at(key);
  if (!v.is_number()) return bad(join(where, key), "must be a number");
  return v.get<double>();
}

Result<int> getPositiveInt(const json& obj, const std::string& where, const char* key, bool required) {
  if (!obj.contains(key)) {
    if (required) return bad(join(where, key), "missing");
    return 0;
  }
  const json& v = obj.at(key);
  if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > 1'000'000)
    return bad(join(where, key), "must be a positive integer");
  return static_cast<int>(v.get<long long>());
}

Result<std::vector<double>> getNumbers(const json& obj, const std::string& where, const char* key) {
  std::vector<double> out;
  if (!obj.contains(key)) return out;
  const json& v = obj.at(key);
  if (!v.is_array()) return bad(join(where, key), "must be an array of numbers");
  for (const auto& e : v) {
    if (!e.is_number()) return bad(join(where, key), "must be an array of numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

Result<SizePolicy> parseSize(const json& obj, const std::string& where) {
  SizePolicy s;
  if (!obj.is_object()) return bad(where, "must be an object");
  if (auto ok = onlyKeys(obj, where, {"policy", "width", "height", "depth", "multiple", "overlap"}); !ok) return ok.error();
  auto policy = getString(obj, where, "policy", true, {"any", "fixed", "multiple_of", "sliding_window"});
  if (!policy) return policy.error();
  if (*policy == "any") return s;
  if (*policy == "multiple_of") {
    s.kind = SizePolicy::Kind::MultipleOf;
    auto m = getPositiveInt(obj, where, "multiple", true);
    if (!m) return m.error();
    s.multiple = *m;
    return s;
  }
  s.kind = *policy == "fixed" ? SizePolicy::Kind::Fixed : SizePolicy::Kind::SlidingWindow;
  auto w = getPositiveInt(obj, where, "width", true);
  if (!w) return w.error();
  auto h = getPositiveInt(obj, where, "height", true);
  if (!h) return h.error();
  auto d = getPositiveInt(obj, where, "depth", false);
  if (!d) return d.error();
  s.width = *w;
  s.height = *h;
  s.depth = *d;
  if (s.kind == SizePolicy::Kind::SlidingWindow) {
    auto o = getNumber(obj, where, "overlap", 0.25);
    if (!o) return o.error();
    if (*o < 0.0 || *o >= 1.0) return bad(where + ".overlap", "must be in [0, 1)");
    s.overlap = *o;
  }
  return s;
}

// Non-image inputs: token ids for text encoders, or plain vectors.
Result<InputSpec> parseNonImageInput(const json& obj, const std::string& kind) {
  const std::string where = "input";
  InputSpec in;
  in.kind = kind;
  in.layout.clear();
  in.channels = 0;
  in.colorOrder.clear();
  in.scale = 1.0;
  if (kind == "tokens") {
    if (auto ok = onlyKeys(obj, where, {"kind", "context_length", "vocab_size", "tokenizer", "dtype"}); !ok) return ok.error();
    auto ctx = getPositiveInt(obj, where, "context_length", true);
    if (!ctx) return ctx.error();
    auto vocab = getPositiveInt(obj, where, "vocab_size", true);
    if (!vocab) return vocab.error();
    auto tok = getString(obj, where, "tokenizer", false);
    if (!tok) return tok.error();
    auto dtype = getString(obj, where, "dtype", false, {"int64"});
    if (!dtype) return dtype.error();
    in.contextLength = *ctx;
    in.vocabSize = *vocab;
    in.tokenizer = *tok;
    in.dtype = "int64";
    return in;
  }
  if (auto ok = onlyKeys(obj, where, {"kind", "dims", "dtype"}); !ok) return ok.error();
  if (!obj.contains("dims")) return bad("input.dims", "missing");
  if (!obj["dims"].is_array() || obj["dims"].empty()) return bad("input.dims", "must be a non-empty array of positive integers");
  for (const auto& d : obj["dims"]) {
    if (!d.is_number_integer() || d.get<long long>() <= 0 || d.get<long long>() > 1'000'000)
      return bad("input.dims", "must be a non-empty array of positive integers");
    in.dims.push_back(static_cast<int>(d.get<long long>()));
  }
  auto dtype = getString(obj, where, "dtype", false, {"float32"});
  if (!dtype) return dtype.error();
  return in;
}

Result<InputSpec> parseInput(const json& obj) {
  const std::string where = "input";
  InputSpec in;
  if (!obj.is_object()) return bad(where, "must be an object");
  auto kind = getString(obj, where, "kind", false, {"image", "tokens", "vectors"});
  if (!kind) return kind.error();
  if (*kind == "tokens" || *kind == "vectors") return parseNonImageInput(obj, *kind);
  if (auto ok = onlyKeys(obj, where, {"kind", "layout", "channels", "color_order", "size", "dtype", "scale", "mean", "std"}); !ok)
    return ok.error();
  auto layout = getString(obj, where, "layout", true, {"NCHW", "NCDHW", "NHWC"});
  if (!layout) return layout.error();
  in.layout = *layout;
  auto channels = getPositiveInt(obj, where, "channels", true);
  if (!channels) return channels.error();
  in.channels = *channels;
  auto order = getString(obj, where, "color_order", false, {"rgb", "bgr", "gray", "any"});
  if (!order) return order.error();
  in.colorOrder = order->empty() ? (in.channels == 1 ? "gray" : "rgb") : *order;
  if (obj.contains("size")) {
    auto size = parseSize(obj.at("size"), "input.size");
    if (!size) return size.error();
    in.size = *size;
    if (in.size.kind == SizePolicy::Kind::Fixed || in.size.kind == SizePolicy::Kind::SlidingWindow) {
      if ((in.layout == "NCDHW") != (in.size.depth > 0))
        return bad("input.size.depth", in.layout == "NCDHW" ? "required for NCDHW" : "only for NCDHW");
    }
  }
  auto dtype = getString(obj, where, "dtype", false, {"float32", "float16", "bfloat16", "uint8"});
  if (!dtype) return dtype.error();
  if (!dtype->empty()) in.dtype = *dtype;
  auto scale = getNumber(obj, where, "scale", 1.0 / 255.0);
  if (!scale) return scale.error();
  in.scale = *scale;
  auto mean = getNumbers(obj, where, "mean");
  if (!mean) return mean.error();
  in.mean = *mean;
  auto stdv = getNumbers(obj, where, "std");
  if (!stdv) return stdv.error();
  in.std = *stdv;
  for (const auto* v : {&in.mean, &in.std})
    if (!v->empty() && static_cast<int>(v->size()) != in.channels)
      return bad(v == &in.mean ? "input.mean" : "input.std",
                 "has " + std::to_string(v->size()) + " values for " + std::to_string(in.channels) + " channels");
  for (double s : in.std)
    if (s <= 0.0) return bad("input.std", "values must be positive");
  return in;
}

const std::vector<std::string>& outputKinds() {
  static const std::vector<std::string> k = {"logits", "probabilities", "heatmap", "per_pixel_features",
                                             "embedding", "boxes", "polylines", "volume"};
  return k;
}

}  // namespace

Result<ModelPackage> parseModelManifest(const std::string& jsonText, const std::string& folder) {
  json doc;
  try {
    doc = json::parse(jsonText);
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::ModelError, std::string(kModelManifestName) + " is not valid JSON: " + e.what()};
  }
  if (!doc.is_object()) return bad("(top level)", "must be a JSON object");
  if (auto ok = onlyKeys(doc, "", {"schema", "id", "name", "version", "task", "format", "entry", "files", "input",
                                   "outputs", "labels", "precisions", "licence", "citation", "provenance",
                                   "description"});
      !ok)
    return ok.error();
  ModelPackage p;
  p.folder = folder;
  if (!doc.contains("schema")) return bad("schema", "missing");
  if (!doc["schema"].is_number_integer()) return bad("schema", "must be an integer");
  p.schema = doc["schema"].get<int>();
  if (p.schema != kModelSchemaVersion)
    return bad("schema", "version " + std::to_string(p.schema) + " is not supported (this Loupe reads " +
                             std::to_string(kModelSchemaVersion) + ")");
  for (auto [key, target, required] : {std::tuple{"id", &p.id, true}, {"name", &p.name, false},
                                       {"version", &p.version, true}, {"task", &p.task, true},
                                       {"entry", &p.entry, true}, {"licence", &p.licence, true},
                                       {"citation", &p.citation, false}, {"provenance", &p.provenance, true},
                                       {"description", &p.description, false}}) {
    auto v = getString(doc, "", key, required);
    if (!v) return v.error();
    *target = *v;
  }
  auto format = getString(doc, "", "format", true, {"torchscript", "onnx", "native", "tfjs"});
  if (!format) return format.error();
  p.format = *format == "torchscript" ? ModelFormat::TorchScript
             : *format == "onnx"      ? ModelFormat::Onnx
             : *format == "tfjs"      ? ModelFormat::Tfjs
                                      : ModelFormat::Native;

  if (!doc.contains("files")) return bad("files", "missing");
  if (!doc["files"].is_object() || doc["files"].empty())
    return bad("files", "must be an object mapping each file name to its sha256");
  for (auto it = doc["files"].begin(); it != doc["files"].end(); ++it) {
    const std::string& name = it.key();
    const fs::path rel(name);
    if (rel.is_absolute() || name.find("..") != std::string::npos || name.empty())
      return bad("files." + name, "must be a plain relative path inside the package");
    if (!it.value().is_string()) return bad("files." + name, "sha256 must be a string");
    std::string sha = it.value().get<std::string>();
    std::transform(sha.begin(), sha.end(), sha.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
      return bad("files." + name, "sha256 must be 64 hex digits");
    p.files.push_back({name, sha});
  }
  if (std::none_of(p.files.begin(), p.files.end(), [&](const PackageFile& f) { return f.path == p.entry; }))
    return bad("entry", "'" + p.entry + "' is not listed in files");

  if (!doc.contains("input")) return bad("input", "missing");
  auto input = parseInput(doc["input"]);
  if (!input) return input.error();
  p.input = *input;
  if (!p.input.tokenizer.empty() &&
      std::none_of(p.files.begin(), p.files.end(), [&](const PackageFile& f) { return f.path == p.input.tokenizer; }))
    return bad("input.tokenizer", "'" + p.input.tokenizer + "' is not listed in files");

  if (!doc.contains("outputs")) return bad("outputs", "missing");
  if (!doc["outputs"].is_array() || doc["outputs"].empty()) return bad("outputs", "must be a non-empty array");
  std::set<std::string> names;
  for (std::size_t i = 0; i < doc["outputs"].size(); ++i) {
    const json& o = doc["outputs"][i];
    const std::string where = "outputs[" + std::to_string(i) + "]";
    if (!o.is_object()) return bad(where, "must be an object");
    if (auto ok = onlyKeys(o, where, {"name", "kind", "shape"}); !ok) return ok.error();
    OutputSpec out;
    auto name = getString(o, where, "name", true);
    if (!name) return name.error();
    out.name = *name;
    if (!names.insert(out.name).second) return bad(where + ".name", "duplicate output '" + out.name + "'");
    auto kind = getString(o, where, "kind", true, outputKinds());
    if (!kind) return kind.error();
    out.kind = *kind;
    if (o.contains("shape")) {
      if (!o["shape"].is_array()) return bad(where + ".shape", "must be an array of integers (-1 = any)");
      for (const auto& d : o["shape"]) {
        if (!d.is_number_integer() || d.get<long>() < -1 || d.get<long>() == 0)
          return bad(where + ".shape", "must be an array of positive integers or -1");
        out.shape.push_back(d.get<long>());
      }
    }
    p.outputs.push_back(out);
  }
  if (doc.contains("labels")) {
    if (!doc["labels"].is_array()) return bad("labels", "must be an array of strings");
    for (const auto& l : doc["labels"]) {
      if (!l.is_string()) return bad("labels", "must be an array of strings");
      p.labels.push_back(l.get<std::string>());
    }
  }
  if (doc.contains("precisions")) {
    if (!doc["precisions"].is_array() || doc["precisions"].empty()) return bad("precisions", "must be a non-empty array");
    p.precisions.clear();
    for (const auto& l : doc["precisions"]) {
      if (!l.is_string() || (l != "float32" && l != "float16" && l != "bfloat16"))
        return bad("precisions", "entries must be float32, float16 or bfloat16");
      p.precisions.push_back(l.get<std::string>());
    }
  }
  return p;
}

WeightFileKind sniffWeightFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return WeightFileKind::Unknown;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0);
  unsigned char head[4] = {};
  in.read(reinterpret_cast<char*>(head), 4);
  if (in.gcount() < 2) return WeightFileKind::Unknown;
  if (head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) return WeightFileKind::PythonPickle;  // legacy torch.save
  const bool zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
  if (!zip) return fs::path(path).extension() == ".onnx" ? WeightFileKind::Onnx : WeightFileKind::Unknown;
  // A zip: TorchScript archives have <root>/code/ and constants.pkl; torch.save() checkpoints only data.pkl.
  // Scan the central directory for entry names (no decompression, nothing executed).
  const std::streamoff tail = std::min<std::streamoff>(size, 65536 + 22);
  std::string buf(static_cast<std::size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(buf.data(), tail);
  const auto eocd = buf.rfind(std::string("PK\x05\x06", 4));
  if (eocd == std::string::npos || eocd + 22 > buf.size()) return WeightFileKind::Unknown;
  auto le32 = [](const unsigned char* p) { return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24; };
  auto le16 = [](const unsigned char* p) { return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8; };
  const auto* e = reinterpret_cast<const unsigned char*>(buf.data() + eocd);
  const std::uint32_t cdSize = le32(e + 12), cdOffset = le32(e + 16);
  std::string cd;
  if (static_cast<std::streamoff>(cdOffset) + cdSize <= size && cdSize < (64u << 20)) {
    cd.resize(cdSize);
    in.clear();
    in.seekg(cdOffset);
    in.read(cd.data(), cdSize);
  } else {
    cd = buf;  // zip64 or damaged: scan what the tail holds
  }
  bool code = false, constants = false, data = false;
  for (std::size_t i = 0; i + 46 <= cd.size();) {
    const auto* c = reinterpret_cast<const unsigned char*>(cd.data() + i);
    if (le32(c) != 0x02014b50) break;
    const std::uint32_t n = le16(c + 28), extra = le16(c + 30), comment = le16(c + 32);
    const std::string name = cd.substr(i + 46, n);
    if (name.find("/code/") != std::string::npos) code = true;
    if (name.size() >= 13 && name.compare(name.size() - 13, 13, "constants.pkl") == 0) constants = true;
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, "data.pkl") == 0) data = true;
    i += 46 + n + extra + comment;
  }
  if (code && constants) return WeightFileKind::TorchScript;
  if (data) return WeightFileKind::TorchCheckpoint;
  return WeightFileKind::Unknown;
}

std::string pickleRefusal(const std::string& path) {
  return fs::path(path).filename().string() +
         " is a pickled PyTorch checkpoint (torch.save). Loupe never unpickles Python objects, because loading "
         "a pickle can run arbitrary code. Export the model to TorchScript instead: build the network in Python, "
         "load the state dict, then torch.jit.trace(model, example_input).save('model.pt') (scripts for the "
         "supported papers are in tools/export/).";
}

std::string packageCacheDir() {
  fs::path base;
  if (const char* c = std::getenv("LOUPE_CACHE_DIR"); c && *c) base = c;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) base = fs::path(x) / "loupe";
  else if (const char* h = std::getenv("HOME"); h && *h) base = fs::path(h) / ".cache" / "loupe";
  else base = fs::temp_directory_path() / "loupe-cache";
  return (base / "packages").string();
}

namespace {

// The folder inside the archive that holds the manifest: "" (root) or "name/" (one top folder).
Result<std::string> manifestPrefix(const ZipArchive& zip) {
  if (zip.find(kModelManifestName)) return std::string();
  std::string prefix;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    const std::string top = slash == std::string::npos ? std::string() : e.name.substr(0, slash + 1);
    if (top.empty() || (!prefix.empty() && top != prefix)) {
      prefix.clear();
      break;
    }
    prefix = top;
  }
  if (prefix.empty() || !zip.find(prefix + kModelManifestName))
    return Error{ErrorCode::ModelError, fs::path(zip.path()).filename().string() + " holds no " + kModelManifestName +
                                            " (at its root or in a single top folder)"};
  return prefix;
}

Result<ModelPackage> openZippedPackage(const fs::path& zipPath, bool verifyFiles) {
  const std::string name = zipPath.filename().string();
  auto zip = ZipArchive::open(zipPath.string());
  if (!zip) return zip.error();
  auto prefix = manifestPrefix(*zip);
  if (!prefix) return prefix.error();
  if (!verifyFiles) {  // manifest only, read in memory
    auto text = zip->readAll(*zip->find(*prefix + kModelManifestName));
    if (!text) return text.error();
    auto p = parseModelManifest(*text, zipPath.string());
    if (!p) return p.error().withContext(name);
    p->archive = zipPath.string();
    return p;
  }
  auto sha = Sha256::ofFile(zipPath.string());
  if (!sha) return sha.error();
  std::error_code ec;
  const fs::path cache = fs::path(packageCacheDir());
  const fs::path unpacked = cache / *sha;
  if (!fs::is_directory(unpacked, ec)) {
    // Unpack beside the final place, then rename: a crash or a second process never sees half a package.
    fs::create_directories(cache, ec);
    if (ec) return Error{ErrorCode::Io, "Cannot create the package cache " + cache.string() + ": " + ec.message()};
    const fs::path partial = cache / (*sha + ".partial-" + std::to_string(std::hash<std::string>{}(zipPath.string())) +
                                      "-" + std::to_string(reinterpret_cast<std::uintptr_t>(&ec)));
    fs::remove_all(partial, ec);
    if (auto ok = zip->extractTo(partial.string()); !ok) {
      fs::remove_all(partial, ec);
      return ok.error();
    }
    fs::rename(partial / *prefix, unpacked, ec);
    if (ec && !fs::is_directory(unpacked)) {
      const std::string why = ec.message();
      fs::remove_all(partial, ec);
      return Error{ErrorCode::Io, "Cannot move the unpacked " + name + " into " + unpacked.string() + ": " + why};
    }
    fs::remove_all(partial, ec);
  }
  auto p = openModelPackage(unpacked.string(), true);
  if (!p) {
    Error e = p.error();
    // Name the zip, not the cache folder, so the user knows which file is bad.
    const std::string cacheName = unpacked.filename().string();
    if (e.message.rfind(cacheName + ":", 0) == 0) e.message = name + e.message.substr(cacheName.size());
    else e = e.withContext(name);
    return e;
  }
  p->archive = zipPath.string();
  return p;
}

bool looksLikeZip(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  in.read(head, 4);
  return in.gcount() == 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5);
}

}  // namespace

Result<ModelPackage> openModelPackage(const std::string& folder, bool verifyFiles) {
  std::error_code ec;
  const fs::path dir = fs::absolute(folder, ec).lexically_normal();
  if (!fs::is_directory(dir, ec)) {
    if (fs::is_regular_file(dir, ec) && (dir.extension() == ".zip" || looksLikeZip(dir)))
      return openZippedPackage(dir, verifyFiles);
    if (fs::exists(dir, ec))
      return Error{ErrorCode::UnsupportedFormat, folder + " is neither a package folder nor a .zip of one"};
    return Error{ErrorCode::NotFound, "No model package folder at " + folder};
  }
  const fs::path manifest = dir / kModelManifestName;
  std::ifstream in(manifest);
  if (!in) return Error{ErrorCode::ModelError, folder + " has no " + kModelManifestName};
  std::stringstream text;
  text << in.rdbuf();
  auto p = parseModelManifest(text.str(), dir.string());
  if (!p) return p.error().withContext(dir.filename().string());
  if (!verifyFiles) return p;

  for (const auto& f : p->files) {
    const fs::path file = dir / f.path;
    if (!fs::is_regular_file(file, ec))
      return Error{ErrorCode::ModelError, dir.filename().string() + ": listed file " + f.path + " is missing"};
    auto sha = Sha256::ofFile(file.string());
    if (!sha) return sha.error();
    if (*sha != f.sha256)
      return Error{ErrorCode::ModelError, dir.filename().string() + ": " + f.path + " has sha256 " + sha->substr(0, 12) +
                                              "..., the manifest says " + f.sha256.substr(0, 12) +
                                              "... (file damaged or replaced)"};
  }
  const std::string entry = p->entryPath();
  const WeightFileKind kind = sniffWeightFile(entry);
  if (kind == WeightFileKind::PythonPickle || kind == WeightFileKind::TorchCheckpoint)
    return Error{ErrorCode::ModelError, pickleRefusal(entry)};
  if (p->format == ModelFormat::TorchScript && kind != WeightFileKind::TorchScript)
    return Error{ErrorCode::ModelError, p->entry + " is not a TorchScript archive (format says torchscript)"};
  return p;
}

Result<void> checkPackageTask(const ModelPackage& package, const std::string& taskId) {
  if (package.task != taskId)
    return Error{ErrorCode::ModelError, "Model " + package.id + " is for task " + package.task + ", not " + taskId};
  return {};
}

std::vector<std::string> defaultModelSearchPaths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("LOUPE_MODEL_PATH")) {
    std::stringstream s(env);
    std::string part;
    while (std::getline(s, part, ':'))
      if (!part.empty()) paths.push_back(part);
  }
  if (const char* home = std::getenv("HOME")) paths.push_back(std::string(home) + "/.local/share/loupe/models");
  paths.push_back("/usr/share/loupe/models");
  return paths;
}

std::vector<PackageListing> listModelPackages(const std::vector<std::string>& searchPaths) {
  std::vector<PackageListing> out;
  std::set<std::string> seen;
  for (const auto& root : searchPaths) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root, ec))
      if ((e.is_directory() && fs::exists(e.path() / kModelManifestName)) ||
          (e.is_regular_file() && e.path().extension() == ".zip"))
        dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      const std::string canonical = fs::weakly_canonical(d, ec).string();
      if (!seen.insert(canonical).second) continue;
      out.push_back({canonical, openModelPackage(canonical, false)});
    }
  }
  return out;
}

}  // namespace loupe::runtime
