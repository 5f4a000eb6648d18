#pragma once
// Shared by `loupe-cli eval age` and `loupe-cli train age`: labelled face folders (UTKFace names or a CSV)
// and faceres features taken in batches and cached on disk, so that training, cross-validation and
// evaluation of the same folder decode and run the network once.
//
// Cache: one file per feature setting (faceres package, crops or detection with margin/align/threshold)
// under --cache DIR (default: <Loupe cache>/face-features, next to the package cache), keyed by each image
// file's SHA-256: a renamed or copied image is still found, an edited one is recomputed. Records are
// written through a temporary file renamed into place, after every batch, so a cancelled run keeps what it
// computed.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Progress.h"
#include "core/Result.h"
#include "runtime/tfjs/FaceModels.h"

namespace loupe::cli::age {

struct Sample {
  std::string path, name;
  double age = -1;  // years; < 0 unknown
  int gender = -1;  // 0 male, 1 female, -1 unknown
  bool labelled() const { return age >= 0; }
};

// <age>_<gender>_<race>_<date>.jpg[.chip.jpg] (UTKFace), else nullopt.
std::optional<Sample> fromUtkName(const std::filesystem::path& p);
// CSV with a header naming filename (or file) and age, optionally gender (0 male, 1 female).
Result<std::map<std::string, std::pair<double, int>>> readLabels(const std::string& path);
// Image files (.jpg .jpeg .png .bmp .tif .tiff .webp, any case) directly in `folder`, sorted by name.
Result<std::vector<std::filesystem::path>> listImages(const std::string& folder);
// The images of `folder` with their truth (CSV first, then UTKFace names); unlabelled ones are kept only when
// `keepUnlabelled`, else counted in *unlabelled.
Result<std::vector<Sample>> listSamples(const std::string& folder, const std::string& labelsCsv, bool keepUnlabelled,
                                        int* unlabelled = nullptr);

struct ExtractOptions {
  bool crops = false;  // whole images are face crops: no detection
  runtime::tfjs::CropOptions crop;
  runtime::tfjs::DetectorOptions detector;
  int batch = 16;           // images per step and faces per faceres call
  std::string cacheDir;     // empty: defaultCacheDir()
  bool useCache = true;
  std::string device = "cpu";
};

// One image's outcome. With detection, the most confident face is the one kept (labelled folders hold one
// subject per image); `faces` says how many were found.
struct FaceRecord {
  enum class Status { Ok, NoFace, Unreadable } status = Status::Unreadable;
  std::string note;  // why not Ok
  double predictedAge = 0, male = 0;
  int faces = 0;
  float box[4] = {0, 0, 0, 0};  // x0, y0, x1, y1 of the kept face (detection only)
  std::vector<float> features;  // 1024-d
};

struct ExtractStats {
  int fromCache = 0, computed = 0, unreadable = 0, noFace = 0;
  double decodeSeconds = 0, detectSeconds = 0, ageSeconds = 0;
  int agedFaces = 0;
  std::string cacheFile;
  std::string featureModel, featureModelSha256, settings;  // for packages trained on these features
};

std::string defaultCacheDir();

// How eval age and train age get their features, as options: --crops, --margin, --no-align, --device,
// --cache, --no-cache.
struct FaceOptions {
  bool crops = false, align = true, noCache = false;
  double margin = 0.2;
  std::string device = "cpu", cache;
  ExtractOptions extract(int batch) const;
};
void addFaceOptions(CLI::App* app, FaceOptions& options, const std::string& deviceHelp = "auto, cpu, cuda or cuda:N");
// The exit code of a failed step of eval/train age: 130 cancelled, 2 a bad option value, 3 a missing file,
// 5 no device, 7 a write failed, else 4.
int exitFor(const Error& e);

// Features of every sample, in order. Unreadable images and images without a face are records with that
// status (and a note), not errors; errors are reserved for missing models, cancellation and broken caches
// that cannot be rewritten.
Result<std::vector<FaceRecord>> extractFeatures(const std::vector<Sample>& samples, const ExtractOptions& options,
                                                Progress progress, const CancelToken& cancel, ExtractStats* stats);

// Metrics of predicted against true ages (labelled samples with a prediction only).
struct AgeMetrics {
  int n = 0;
  double mae = 0, cs5 = 0, adultMae = 0, constantMae = 0, median = 0;
  int adults = 0;
  std::map<std::string, std::pair<double, int>> bands;  // "0-9" .. "80+": (sum of errors, count)
};
std::string ageBand(double age);
AgeMetrics ageMetrics(const std::vector<double>& truth, const std::vector<double>& predicted);

}  // namespace loupe::cli::age
