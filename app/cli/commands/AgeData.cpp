#include "AgeData.h"

#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unordered_map>

#include "core/Device.h"
#include "core/DeviceRequest.h"
#include "core/Sha256.h"
#include "host/ExitCodes.h"
#include "io/ImageReader.h"
#include "runtime/ModelPackage.h"

namespace loupe::cli::age {
namespace fs = std::filesystem;
namespace tf = runtime::tfjs;
using Clock = std::chrono::steady_clock;

std::optional<Sample> fromUtkName(const fs::path& p) {
  const std::string n = p.filename().string();
  int age = -1, gender = -1;
  char sep1 = 0, sep2 = 0;
  std::istringstream in(n);
  if (!(in >> age >> sep1 >> gender >> sep2) || sep1 != '_' || sep2 != '_' || age < 0 || age > 130) return std::nullopt;
  return Sample{p.string(), n, double(age), gender == 0 || gender == 1 ? gender : -1};
}

Result<std::map<std::string, std::pair<double, int>>> readLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::NotFound, "Cannot open the labels file " + path};
  std::map<std::string, std::pair<double, int>> out;
  std::string line;
  int col = -1, ageCol = -1, genderCol = -1, lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> f;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) f.push_back(cell);
    if (lineNo == 1) {
      for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "filename" || f[i] == "file") col = int(i);
        if (f[i] == "age") ageCol = int(i);
        if (f[i] == "gender") genderCol = int(i);
      }
      if (col < 0 || ageCol < 0)
        return Error{ErrorCode::InvalidArgument, path + ": the first line must name the columns filename and age "
                                                        "(optional: gender, 0 = male, 1 = female)"};
      continue;
    }
    if (f.empty()) continue;
    if (int(f.size()) <= std::max(col, ageCol))
      return Error{ErrorCode::InvalidArgument, path + ":" + std::to_string(lineNo) + ": too few columns"};
    char* end = nullptr;
    const double age = std::strtod(f[ageCol].c_str(), &end);
    if (end == f[ageCol].c_str() || age < 0 || age > 130)
      return Error{ErrorCode::InvalidArgument,
                   path + ":" + std::to_string(lineNo) + ": age '" + f[ageCol] + "' is not a number of years"};
    int gender = -1;
    if (genderCol >= 0 && genderCol < int(f.size()) && (f[genderCol] == "0" || f[genderCol] == "1"))
      gender = std::stoi(f[genderCol]);
    out[f[col]] = {age, gender};
  }
  return out;
}

Result<std::vector<fs::path>> listImages(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::NotFound, folder + " is not a folder"};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    static const char* known[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
    if (e.is_regular_file() && std::any_of(std::begin(known), std::end(known), [&](const char* k) { return ext == k; }))
      files.push_back(e.path());
  }
  if (ec) return Error{ErrorCode::Io, "Cannot list " + folder + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<Sample>> listSamples(const std::string& folder, const std::string& labelsCsv, bool keepUnlabelled,
                                        int* unlabelled) {
  std::map<std::string, std::pair<double, int>> labels;
  if (!labelsCsv.empty()) {
    auto l = readLabels(labelsCsv);
    if (!l) return l.error();
    labels = std::move(*l);
  }
  auto files = listImages(folder);
  if (!files) return files.error();
  std::vector<Sample> samples;
  int missing = 0;
  for (const auto& p : *files) {
    const auto it = labels.find(p.filename().string());
    if (it != labels.end()) {
      samples.push_back({p.string(), p.filename().string(), it->second.first, it->second.second});
    } else if (auto s = fromUtkName(p)) {
      samples.push_back(*s);
    } else {
      ++missing;
      if (keepUnlabelled) samples.push_back({p.string(), p.filename().string(), -1, -1});
    }
  }
  if (unlabelled) *unlabelled = missing;
  return samples;
}

std::string defaultCacheDir() { return (fs::path(runtime::packageCacheDir()).parent_path() / "face-features").string(); }

namespace {

constexpr char kMagic[8] = {'L', 'F', 'F', 'E', 'A', 'T', '0', '1'};

// The cache file: magic, uint32 feature dimension, then records: 64 hex chars (file SHA-256), int32 status,
// int32 faces, float32 age, male, box[4], then dim float32 features (status Ok only). Little-endian as
// written by this machine (x86-64 and ARM64 Linux both are).
struct CacheEntry {
  FaceRecord record;
};

bool readCache(const std::string& path, std::unordered_map<std::string, FaceRecord>& out, std::string* problem) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return true;  // no cache yet
  char magic[8];
  std::uint32_t dim = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 || !in.read(reinterpret_cast<char*>(&dim), 4) || dim > 65536) {
    *problem = "not a Loupe face-feature cache";
    return false;
  }
  while (true) {
    char sha[64];
    if (!in.read(sha, 64)) break;
    std::int32_t status = 0, faces = 0;
    float v[6];
    FaceRecord r;
    if (!in.read(reinterpret_cast<char*>(&status), 4) || !in.read(reinterpret_cast<char*>(&faces), 4) ||
        !in.read(reinterpret_cast<char*>(v), sizeof v) || status < 0 || status > 1) {
      *problem = "truncated or damaged";
      return false;
    }
    r.status = status == 0 ? FaceRecord::Status::Ok : FaceRecord::Status::NoFace;
    r.faces = faces;
    r.predictedAge = v[0];
    r.male = v[1];
    std::copy(v + 2, v + 6, r.box);
    if (r.status == FaceRecord::Status::Ok) {
      r.features.resize(dim);
      if (!in.read(reinterpret_cast<char*>(r.features.data()), std::streamsize(dim) * 4)) {
        *problem = "truncated or damaged";
        return false;
      }
    } else {
      r.note = "no face found";
    }
    out[std::string(sha, 64)] = std::move(r);
  }
  return true;
}

Result<void> writeCache(const std::string& path, const std::unordered_map<std::string, FaceRecord>& entries) {
  std::uint32_t dim = 0;
  for (const auto& [k, r] : entries)
    if (r.status == FaceRecord::Status::Ok) dim = static_cast<std::uint32_t>(r.features.size());
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{ErrorCode::Io, "Cannot write the feature cache " + tmp};
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&dim), 4);
    for (const auto& [sha, r] : entries) {
      if (r.status == FaceRecord::Status::Unreadable) continue;
      if (r.status == FaceRecord::Status::Ok && r.features.size() != dim) continue;
      const std::int32_t status = r.status == FaceRecord::Status::Ok ? 0 : 1, faces = r.faces;
      const float v[6] = {float(r.predictedAge), float(r.male), r.box[0], r.box[1], r.box[2], r.box[3]};
      out.write(sha.data(), 64);
      out.write(reinterpret_cast<const char*>(&status), 4);
      out.write(reinterpret_cast<const char*>(&faces), 4);
      out.write(reinterpret_cast<const char*>(v), sizeof v);
      if (status == 0) out.write(reinterpret_cast<const char*>(r.features.data()), std::streamsize(dim) * 4);
    }
    out.close();
    if (!out) return Error{ErrorCode::Io, "Cannot write the feature cache " + tmp + " (disk full?)"};
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot rename " + tmp + ": " + ec.message()};
  return {};
}

std::string fmt(const char* f, double v) {
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

Result<std::vector<FaceRecord>> extractFeatures(const std::vector<Sample>& samples, const ExtractOptions& opt,
                                                Progress progress, const CancelToken& cancel, ExtractStats* statsOut) {
  ExtractStats stats;
  auto request = DeviceRequest::parse(opt.device);
  if (!request) return request.error();
  auto device = resolveDevice(*request);
  if (!device) return device.error();

  // Models: their manifests' hashes name the cache, so features of another model version never mix in.
  auto ageDir = tf::findFaceModel("faceres");
  if (!ageDir) return ageDir.error();
  auto ageManifest = Sha256::ofFile((fs::path(*ageDir) / runtime::kModelManifestName).string());
  if (!ageManifest) return ageManifest.error();
  std::string settings = "faceres=" + *ageManifest;
  std::optional<tf::BlazeFace> detector;
  if (opt.crops) {
    settings += ";crops";
  } else {
    auto detDir = tf::findFaceModel("blazeface");
    if (!detDir) return detDir.error();
    auto detManifest = Sha256::ofFile((fs::path(*detDir) / runtime::kModelManifestName).string());
    if (!detManifest) return detManifest.error();
    settings += ";blazeface=" + *detManifest + ";margin=" + fmt("%.4f", opt.crop.margin) +
                ";align=" + (opt.crop.align ? "1" : "0") + ";min_score=" + fmt("%.4f", opt.detector.minScore) +
                ";iou=" + fmt("%.4f", opt.detector.iouThreshold);
  }
  stats.featureModel = "faceres";
  stats.featureModelSha256 = *ageManifest;
  stats.settings = opt.crops ? "crops: whole images resized to 224x224"
                             : "detection: BlazeFace (min_score " + fmt("%.2f", opt.detector.minScore) +
                                   "), most confident face, margin " + fmt("%.2f", opt.crop.margin) +
                                   (opt.crop.align ? ", eyes levelled" : ", not aligned");

  std::unordered_map<std::string, FaceRecord> cache;
  std::string cachePath;
  if (opt.useCache) {
    const std::string dir = opt.cacheDir.empty() ? defaultCacheDir() : opt.cacheDir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir, ec)) return Error{ErrorCode::Io, "Cannot create the feature cache folder " + dir};
    cachePath = (fs::path(dir) / (Sha256::hex(settings.data(), settings.size()).substr(0, 24) + ".lff")).string();
    std::string problem;
    if (!readCache(cachePath, cache, &problem)) {
      std::cerr << "loupe-cli: warning: the feature cache " << cachePath << " is " << problem
                << "; it is rebuilt\n";
      cache.clear();
    }
    stats.cacheFile = cachePath;
  }

  std::optional<tf::FaceRes> ager;
  auto models = [&]() -> Result<void> {
    if (ager) return {};
    auto a = tf::FaceRes::open(*ageDir, *device);
    if (!a) return a.error();
    ager = std::move(*a);
    if (!opt.crops) {
      auto detDir = tf::findFaceModel("blazeface");
      if (!detDir) return detDir.error();
      auto d = tf::BlazeFace::open(*detDir, *device);
      if (!d) return d.error();
      detector = std::move(*d);
    }
    return {};
  };

  std::vector<FaceRecord> records(samples.size());
  const std::size_t step = static_cast<std::size_t>(std::max(1, opt.batch));
  bool cacheDirty = false;
  for (std::size_t start = 0; start < samples.size(); start += step) {
    if (cancel.isCancelled()) return Error::cancelled();
    const std::size_t end = std::min(samples.size(), start + step);
    std::vector<Image> images;
    std::vector<std::size_t> index;
    std::vector<std::string> shas;
    auto t0 = Clock::now();
    for (std::size_t i = start; i < end; ++i) {
      auto sha = Sha256::ofFile(samples[i].path);
      if (!sha) {
        records[i].note = sha.error().message;
        ++stats.unreadable;
        continue;
      }
      if (opt.useCache) {
        const auto hit = cache.find(*sha);
        if (hit != cache.end()) {
          records[i] = hit->second;
          ++stats.fromCache;
          if (records[i].status == FaceRecord::Status::NoFace) ++stats.noFace;
          continue;
        }
      }
      auto img = io::loadImage(samples[i].path);
      if (!img) {
        records[i].status = FaceRecord::Status::Unreadable;
        records[i].note = img.error().message;
        ++stats.unreadable;
        std::cerr << "loupe-cli: warning: skipping " << samples[i].name << ": " << img.error().message << "\n";
        continue;
      }
      images.push_back(std::move(*img));
      index.push_back(i);
      shas.push_back(*sha);
    }
    stats.decodeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
    if (!images.empty()) {
      if (auto ok = models(); !ok) return ok.error();
      std::vector<std::vector<tf::FaceDetection>> faces(images.size());
      Result<std::vector<std::vector<tf::AgeGender>>> est = std::vector<std::vector<tf::AgeGender>>{};
      if (opt.crops) {
        // The whole image is the face (resized as the HSE authors did): one batch of this step's crops.
        auto t2 = Clock::now();
        auto r = ager->predictCrops(images, cancel);
        if (!r) return r.error();
        stats.ageSeconds += std::chrono::duration<double>(Clock::now() - t2).count();
        est->resize(images.size());
        for (std::size_t k = 0; k < images.size(); ++k) {
          tf::FaceDetection d;
          d.x1 = float(images[k].width());
          d.y1 = float(images[k].height());
          faces[k] = {d};
          (*est)[k] = {std::move((*r)[k])};
        }
      } else {
        auto t1 = Clock::now();
        for (std::size_t k = 0; k < images.size(); ++k) {
          auto found = detector->detect(images[k], opt.detector, cancel);
          if (!found) return found.error().withContext(samples[index[k]].name);
          records[index[k]].faces = int(found->size());
          if (!found->empty()) faces[k] = {found->front()};  // the most confident face
        }
        auto t2 = Clock::now();
        stats.detectSeconds += std::chrono::duration<double>(t2 - t1).count();
        // Faces of all images of this step through faceres in stacked batches.
        est = ager->predictFaceSets(images, faces, opt.crop, opt.batch, cancel);
        if (!est) return est.error();
        stats.ageSeconds += std::chrono::duration<double>(Clock::now() - t2).count();
      }
      for (std::size_t k = 0; k < images.size(); ++k) {
        FaceRecord& r = records[index[k]];
        if (faces[k].empty()) {
          r.status = FaceRecord::Status::NoFace;
          r.note = "no face found";
          ++stats.noFace;
        } else {
          const auto& e = (*est)[k].front();
          r.status = FaceRecord::Status::Ok;
          r.faces = std::max(r.faces, 1);
          r.predictedAge = e.age;
          r.male = e.male;
          r.features = e.features;
          r.box[0] = faces[k].front().x0;
          r.box[1] = faces[k].front().y0;
          r.box[2] = faces[k].front().x1;
          r.box[3] = faces[k].front().y1;
          ++stats.agedFaces;
        }
        ++stats.computed;
        if (opt.useCache) {
          cache[shas[k]] = r;
          cacheDirty = true;
        }
      }
      if (opt.useCache && cacheDirty) {
        if (auto ok = writeCache(cachePath, cache); !ok) return ok.error();
        cacheDirty = false;
      }
    }
    progress.report(double(end) / samples.size(), "Faces " + std::to_string(end) + " / " + std::to_string(samples.size()));
  }
  if (statsOut) *statsOut = stats;
  return records;
}

std::string ageBand(double age) {
  if (age < 10) return "0-9";
  if (age >= 80) return "80+";
  const int lo = int(age) / 10 * 10;
  return std::to_string(lo) + "-" + std::to_string(lo + 9);
}

AgeMetrics ageMetrics(const std::vector<double>& truth, const std::vector<double>& predicted) {
  AgeMetrics m;
  std::vector<double> t;
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] >= 0 && std::isfinite(predicted[i])) t.push_back(truth[i]);
  if (t.empty()) return m;
  std::sort(t.begin(), t.end());
  m.median = t.size() % 2 ? t[t.size() / 2] : (t[t.size() / 2 - 1] + t[t.size() / 2]) / 2;
  int within5 = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || !std::isfinite(predicted[i])) continue;
    const double err = std::abs(predicted[i] - truth[i]);
    m.mae += err;
    m.constantMae += std::abs(m.median - truth[i]);
    within5 += err <= 5.0;
    ++m.n;
    if (truth[i] >= 16 && truth[i] <= 70) {
      m.adultMae += err;
      ++m.adults;
    }
    auto& b = m.bands[ageBand(truth[i])];
    b.first += err;
    ++b.second;
  }
  m.mae /= m.n;
  m.constantMae /= m.n;
  m.cs5 = double(within5) / m.n;
  if (m.adults) m.adultMae /= m.adults;
  return m;
}

ExtractOptions FaceOptions::extract(int batch) const {
  ExtractOptions x;
  x.crops = crops;
  x.crop.margin = static_cast<float>(margin);
  x.crop.align = align;
  x.batch = batch;
  x.cacheDir = cache;
  x.useCache = !noCache;
  x.device = device;
  return x;
}

void addFaceOptions(CLI::App* app, FaceOptions& o, const std::string& deviceHelp) {
  app->add_flag("--crops", o.crops, "Images are already face crops: skip detection");
  app->add_option("--margin", o.margin, "Crop margin per side, fraction of the face box")->check(CLI::Range(0.0, 1.0));
  app->add_flag("!--no-align", o.align, "Do not rotate crops to level the eyes");
  app->add_option("--device", o.device, deviceHelp);
  app->add_option("--cache", o.cache, "Feature cache folder (default: ~/.cache/loupe/face-features)");
  app->add_flag("--no-cache", o.noCache, "Neither read nor write the feature cache");
}

int exitFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::Cancelled: return host::Cancelled;
    case ErrorCode::InvalidArgument: return host::Usage;
    case ErrorCode::NotFound: return host::BadInput;
    case ErrorCode::DeviceUnavailable: return host::NoDevice;
    case ErrorCode::Io: return host::OutputFailed;
    default: return host::TaskFailed;
  }
}

}  // namespace loupe::cli::age
