// loupe-cli eval age --images DIR [--labels CSV] [--crops]: age and gender of labelled faces against the
// truth. UTKFace names (age_gender_race_*.jpg, gender 0 = male, 1 = female) carry the truth; a CSV
// (filename,age[,gender]) overrides them. Reports MAE, CS(5), error per age band, gender accuracy, the
// best constant guess (the median age, which minimises the MAE) and per-face / per-image latency.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "Command.h"
#include "core/Device.h"
#include "core/DeviceRequest.h"
#include "host/ExitCodes.h"
#include "io/ImageReader.h"
#include "runtime/tfjs/FaceModels.h"

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;
namespace tf = runtime::tfjs;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string images, labels, device = "cpu", json, features;
  bool crops = false, align = true, quiet = false;
  double margin = 0.2;
  int batch = 16, threads = 0, limit = 0;
} opt;

struct Sample {
  std::string path, name;
  double age = 0;
  int gender = -1;  // 0 male, 1 female, -1 unknown
};

std::optional<Sample> fromUtkName(const fs::path& p) {
  // <age>_<gender>_<race>_<date>.jpg[.chip.jpg]
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
      return Error{ErrorCode::InvalidArgument, path + ":" + std::to_string(lineNo) + ": age '" + f[ageCol] + "' is not a number of years"};
    int gender = -1;
    if (genderCol >= 0 && genderCol < int(f.size()) && (f[genderCol] == "0" || f[genderCol] == "1")) gender = std::stoi(f[genderCol]);
    out[f[col]] = {age, gender};
  }
  return out;
}

std::string band(double age) {
  if (age < 10) return "0-9";
  if (age >= 80) return "80+";
  const int lo = int(age) / 10 * 10;
  return std::to_string(lo) + "-" + std::to_string(lo + 9);
}

std::string f2(double v, const char* f = "%.2f") {
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  if (!fs::is_directory(opt.images)) return fail(host::BadInput, "--images " + opt.images + " is not a folder");
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  auto request = DeviceRequest::parse(opt.device);
  if (!request) return fail(host::Usage, request.error().message);
  auto device = resolveDevice(*request);
  if (!device) return fail(host::NoDevice, device.error().message);

  std::map<std::string, std::pair<double, int>> labels;
  if (!opt.labels.empty()) {
    auto l = readLabels(opt.labels);
    if (!l) return fail(host::BadInput, l.error().message);
    labels = std::move(*l);
  }
  std::vector<Sample> samples;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(opt.images)) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".JPG")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int unlabelled = 0;
  for (const auto& p : files) {
    if (!labels.empty()) {
      const auto it = labels.find(p.filename().string());
      if (it != labels.end()) {
        samples.push_back({p.string(), p.filename().string(), it->second.first, it->second.second});
        continue;
      }
    }
    if (auto s = fromUtkName(p)) samples.push_back(*s);
    else ++unlabelled;
  }
  if (opt.limit > 0 && int(samples.size()) > opt.limit) samples.resize(opt.limit);
  if (samples.empty())
    return fail(host::BadInput, opt.images + " holds no labelled faces (UTKFace names age_gender_race_*.jpg, or --labels CSV)");

  auto ageDir = tf::findFaceModel("faceres");
  if (!ageDir) return fail(host::BadInput, ageDir.error().message);
  auto ager = tf::FaceRes::open(*ageDir, *device);
  if (!ager) return fail(host::TaskFailed, ager.error().message);
  std::optional<tf::BlazeFace> detector;
  if (!opt.crops) {
    auto detDir = tf::findFaceModel("blazeface");
    if (!detDir) return fail(host::BadInput, detDir.error().message);
    auto d = tf::BlazeFace::open(*detDir, *device);
    if (!d) return fail(host::TaskFailed, d.error().message);
    detector = std::move(*d);
  }
  tf::CropOptions crop;
  crop.margin = static_cast<float>(opt.margin);
  crop.align = opt.align;

  Progress progress = terminalProgress(opt.quiet);
  std::vector<double> predicted(samples.size(), std::nan("")), male(samples.size(), std::nan(""));
  std::vector<std::vector<float>> features(opt.features.empty() ? 0 : samples.size());
  int unreadable = 0, missed = 0;
  double decodeS = 0, detectS = 0, ageS = 0;
  int agedFaces = 0;
  // Warm-up run so that one-time allocations do not count in the latency.
  {
    Image warm(224, 224, ColorOrder::RGB);
    std::fill(warm.data(), warm.data() + warm.byteSize(), std::uint8_t(100));
    (void)ager->predictCrops({warm});
    if (detector) (void)detector->detect(warm);
  }
  for (std::size_t start = 0; start < samples.size(); start += static_cast<std::size_t>(opt.batch)) {
    if (cancel.isCancelled()) return fail(host::Cancelled, "cancelled");
    const std::size_t end = std::min(samples.size(), start + static_cast<std::size_t>(opt.batch));
    std::vector<Image> images;
    std::vector<std::size_t> index;
    auto t0 = Clock::now();
    for (std::size_t i = start; i < end; ++i) {
      auto img = io::loadImage(samples[i].path);
      if (!img) {
        ++unreadable;
        std::cerr << "loupe-cli: warning: skipping " << samples[i].name << ": " << img.error().message << "\n";
        continue;
      }
      images.push_back(std::move(*img));
      index.push_back(i);
    }
    decodeS += std::chrono::duration<double>(Clock::now() - t0).count();
    if (opt.crops) {
      auto t1 = Clock::now();
      auto r = ager->predictCrops(images, cancel);
      if (!r) return fail(r.error().code == ErrorCode::Cancelled ? host::Cancelled : host::TaskFailed, r.error().message);
      ageS += std::chrono::duration<double>(Clock::now() - t1).count();
      agedFaces += int(r->size());
      for (std::size_t k = 0; k < r->size(); ++k) {
        predicted[index[k]] = (*r)[k].age;
        male[index[k]] = (*r)[k].male;
        if (!features.empty()) features[index[k]] = std::move((*r)[k].features);
      }
    } else {
      for (std::size_t k = 0; k < images.size(); ++k) {
        auto t1 = Clock::now();
        auto faces = detector->detect(images[k], {}, cancel);
        if (!faces) return fail(host::TaskFailed, faces.error().message);
        auto t2 = Clock::now();
        detectS += std::chrono::duration<double>(t2 - t1).count();
        if (faces->empty()) {
          ++missed;
          continue;
        }
        // The most confident face is the labelled one.
        auto r = ager->predictFaces(images[k], {faces->front()}, crop, cancel);
        if (!r) return fail(host::TaskFailed, r.error().message);
        ageS += std::chrono::duration<double>(Clock::now() - t2).count();
        ++agedFaces;
        predicted[index[k]] = r->front().age;
        male[index[k]] = r->front().male;
        if (!features.empty()) features[index[k]] = std::move(r->front().features);
      }
    }
    progress.report(double(end) / samples.size(), "Faces " + std::to_string(end) + " / " + std::to_string(samples.size()));
  }
  finishProgress();

  // Metrics over the faces that got a prediction.
  std::vector<double> truth;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (!std::isnan(predicted[i])) truth.push_back(samples[i].age);
  if (truth.empty()) return fail(host::TaskFailed, "no face got a prediction (no face found in any image?)");
  std::vector<double> sorted = truth;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                          : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  double sumErr = 0, sumConst = 0, adultErr = 0;
  int within5 = 0, n = 0, adults = 0, genderKnown = 0, genderRight = 0;
  std::map<std::string, std::pair<double, int>> bands;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (std::isnan(predicted[i])) continue;
    const double err = std::abs(predicted[i] - samples[i].age);
    sumErr += err;
    sumConst += std::abs(median - samples[i].age);
    within5 += err <= 5.0;
    ++n;
    if (samples[i].age >= 16 && samples[i].age <= 70) {
      adultErr += err;
      ++adults;
    }
    auto& b = bands[band(samples[i].age)];
    b.first += err;
    ++b.second;
    if (samples[i].gender >= 0) {
      ++genderKnown;
      genderRight += (male[i] >= 0.6) == (samples[i].gender == 0);
    }
  }
  const int images = int(samples.size()) - unreadable;
  std::ostringstream out;
  out << "faces evaluated: " << n << " of " << samples.size() << " labelled images"
      << (unreadable ? " (" + std::to_string(unreadable) + " unreadable)" : std::string())
      << (opt.crops ? " (--crops: whole images are face crops)" : " (" + std::to_string(missed) + " without a detected face)")
      << "\n";
  out << "MAE: " << f2(sumErr / n) << " years\n";
  out << "CS(5): " << f2(100.0 * within5 / n, "%.1f") << " %\n";
  if (adults) out << "MAE ages 16-70: " << f2(adultErr / adults) << " years (" << adults << " faces)\n";
  out << "constant guess (median age " << f2(median, "%.0f") << "): MAE " << f2(sumConst / n) << " years\n";
  if (genderKnown) out << "gender accuracy: " << f2(100.0 * genderRight / genderKnown, "%.1f") << " % (" << genderKnown << " faces)\n";
  out << "MAE per age band:\n";
  for (const auto& [b, v] : bands) out << "  " << b << ": " << f2(v.first / v.second) << " (" << v.second << ")\n";
  out << "latency (" << (device->is_cuda() ? "CUDA" : "CPU, " + std::to_string(torch::get_num_threads()) + " threads")
      << "): decode " << f2(1000.0 * decodeS / std::max(images, 1), "%.1f") << " ms/image";
  if (!opt.crops) out << ", detection " << f2(1000.0 * detectS / std::max(images, 1), "%.1f") << " ms/image";
  out << ", age+gender " << f2(1000.0 * ageS / std::max(agedFaces, 1), "%.1f") << " ms/face"
      << (opt.crops ? " (batches of " + std::to_string(opt.batch) + ")" : std::string(" (one face per call)"))
      << ", end to end " << f2(1000.0 * (decodeS + detectS + ageS) / std::max(images, 1), "%.1f") << " ms/image\n";
  std::cout << out.str();
  if (!opt.features.empty()) {
    // One row per evaluated face: truth, prediction and the 1024-d pooled features (for an embedding view
    // coloured by age, or for training a head on frozen features).
    std::ofstream f(opt.features);
    if (!f) return fail(host::OutputFailed, "cannot write " + opt.features);
    f << "filename,age,gender,predicted_age,p_male";
    for (int k = 0; k < 1024; ++k) f << ",f" << k;
    f << "\n";
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (features[i].empty()) continue;
      f << samples[i].name << ',' << samples[i].age << ',' << samples[i].gender << ',' << predicted[i] << ',' << male[i];
      for (float v : features[i]) f << ',' << v;
      f << '\n';
    }
    if (!f) return fail(host::OutputFailed, "cannot write " + opt.features);
  }
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
    j << "{\"faces\": " << n << ", \"mae\": " << sumErr / n << ", \"cs5\": " << double(within5) / n
      << ", \"constant_mae\": " << sumConst / n << ", \"gender_accuracy\": "
      << (genderKnown ? double(genderRight) / genderKnown : 0.0) << ", \"missed\": " << missed
      << ", \"ms_per_face\": " << 1000.0 * ageS / std::max(agedFaces, 1)
      << ", \"ms_per_image\": " << 1000.0 * (decodeS + detectS + ageS) / std::max(images, 1) << "}\n";
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("age", "Age and gender of labelled faces (UTKFace names or a CSV) against the truth");
  app->add_option("--images", opt.images, "Folder of face photos")->required();
  app->add_option("--labels", opt.labels, "CSV with columns filename, age [, gender (0 male, 1 female)]");
  app->add_flag("--crops", opt.crops, "Images are already face crops: skip detection");
  app->add_option("--margin", opt.margin, "Crop margin per side, fraction of the face box")->check(CLI::Range(0.0, 1.0));
  app->add_flag("!--no-align", opt.align, "Do not rotate crops to level the eyes");
  app->add_option("--device", opt.device, "auto, cpu, cuda or cuda:N");
  app->add_option("--batch", opt.batch, "Faces per batch with --crops")->check(CLI::Range(1, 1024));
  app->add_option("--threads", opt.threads, "CPU threads (default: LibTorch's)")->check(CLI::Range(1, 256));
  app->add_option("--limit", opt.limit, "Only the first N labelled images")->check(CLI::Range(1, 10'000'000));
  app->add_option("--json", opt.json, "Also write the numbers to this JSON file");
  app->add_option("--features", opt.features, "Write truth, prediction and the 1024-d features per face to this CSV");
  app->add_flag("--quiet", opt.quiet, "No progress bar");
  return {app, run};
}

LOUPE_CLI_COMMAND("eval", setup);

}  // namespace
}  // namespace loupe::cli
