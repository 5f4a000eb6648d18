// loupe-cli eval age --images DIR [--labels CSV] [--crops] [--head PACKAGE] [--features-out DIR]: age and
// gender of labelled faces against the truth. UTKFace names (age_gender_race_*.jpg, gender 0 = male,
// 1 = female) carry the truth; a CSV (filename,age[,gender]) overrides them. Reports MAE, CS(5), error per
// age band, gender accuracy, the best constant guess (the median age, which minimises the MAE) and per-face /
// per-image latency. With --head, a trained age head (loupe-cli train age) is evaluated beside the
// pretrained one on the same faces. Features come through the shared batched, cached extraction (AgeData.h).
// --features-out DIR writes every face's 1024-d features (and the head's embedding) with metadata for the
// embedding view: DIR as an embedding store (backend/index; DIR/age_embedding for the head's embedding), or
// in builds without backend/index, DIR/vectors.npy + vectors.csv (and age_embedding.npy + .csv).

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "AgeData.h"
#include "Command.h"
#include "CommonOptions.h"
#include "core/Device.h"
#include "core/DeviceRequest.h"
#include "host/ExitCodes.h"
#include "train/AgeHead.h"
#ifdef LOUPE_HAVE_INDEX
#include "index/EmbeddingStore.h"
#endif

namespace loupe::cli {
namespace {
namespace fs = std::filesystem;

struct Options {
  std::string images, labels, json, features, head, featuresOut;
  age::FaceOptions face;
  bool quiet = false;
  int batch = 16, threads = 0, limit = 0;
} opt;

std::string f2(double v, const char* f = "%.2f") {
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

#ifndef LOUPE_HAVE_INDEX
// NumPy .npy v1.0: magic, version, little-endian header length, a dict padded with spaces to a multiple of 64
// bytes ending in a newline, then the raw little-endian float32 data, row-major.
bool writeNpy(const std::string& path, const std::vector<std::vector<float>>& rows, std::size_t dim) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows.size()) + ", " +
                       std::to_string(dim) + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path + ".partial", std::ios::binary | std::ios::trunc);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  const unsigned char le[2] = {static_cast<unsigned char>(len & 0xff), static_cast<unsigned char>(len >> 8)};
  out.write(reinterpret_cast<const char*>(le), 2);
  out << header;
  for (const auto& r : rows) out.write(reinterpret_cast<const char*>(r.data()), std::streamsize(dim * sizeof(float)));
  out.close();
  if (!out) return false;
  std::error_code ec;
  fs::rename(path + ".partial", path, ec);
  return !ec;
}

// RFC 4180 field: quoted when it holds a comma, quote or line break.
std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

#endif

void printMetrics(std::ostringstream& out, const age::AgeMetrics& m, const std::string& what) {
  out << "MAE" << what << ": " << f2(m.mae) << " years\n";
  out << "CS(5)" << what << ": " << f2(100.0 * m.cs5, "%.1f") << " %\n";
  if (m.adults) out << "MAE ages 16-70" << what << ": " << f2(m.adultMae) << " years (" << m.adults << " faces)\n";
}

int run() {
  installInterruptHandler();
  const CancelToken& cancel = interruptToken();
  std::error_code ec;
  if (!fs::is_directory(opt.images, ec)) return fail(host::BadInput, "--images " + opt.images + " is not a folder");
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  auto request = DeviceRequest::parse(opt.face.device);
  if (!request) return fail(host::Usage, request.error().message);
  auto device = resolveDevice(*request);
  if (!device) return fail(host::NoDevice, device.error().message);

  // The head first: a broken package should fail before minutes of feature extraction.
  std::optional<train::LoadedAgeHead> head;
  if (!opt.head.empty()) {
    auto h = train::loadAgeHeadPackage(opt.head, torch::kCPU);
    if (!h) return fail(host::BadInput, "--head " + opt.head + ": " + h.error().message);
    head = std::move(*h);
  }

  // Unlabelled images count only when their features are wanted (embedding view); metrics use labelled ones.
  int unlabelled = 0;
  auto listed = age::listSamples(opt.images, opt.labels, !opt.featuresOut.empty(), &unlabelled);
  if (!listed) return fail(host::BadInput, listed.error().message);
  std::vector<age::Sample> samples = std::move(*listed);
  if (opt.limit > 0 && int(samples.size()) > opt.limit) samples.resize(opt.limit);
  int labelled = 0;
  for (const auto& s : samples) labelled += s.labelled();
  if (samples.empty() || (labelled == 0 && opt.featuresOut.empty()))
    return fail(host::BadInput, opt.images + " holds no labelled faces (UTKFace names age_gender_race_*.jpg, or --labels CSV)");

  const age::ExtractOptions x = opt.face.extract(opt.batch);
  age::ExtractStats stats;
  Progress progress = terminalProgress(opt.quiet);
  auto records = age::extractFeatures(samples, x, progress, cancel, &stats);
  finishProgress();
  if (!records) return fail(age::exitFor(records.error()), records.error().message);

  const std::size_t n = samples.size();
  std::vector<double> truth(n, -1), pretrained(n, std::nan("")), headAge(n, std::nan(""));
  std::vector<std::size_t> withFace;
  for (std::size_t i = 0; i < n; ++i) {
    truth[i] = samples[i].age;
    if ((*records)[i].status == age::FaceRecord::Status::Ok) {
      pretrained[i] = (*records)[i].predictedAge;
      withFace.push_back(i);
    }
  }
  torch::Tensor headEmbedding;
  if (head && !withFace.empty()) {
    torch::Tensor feats = torch::empty({int64_t(withFace.size()), 1024});
    for (std::size_t k = 0; k < withFace.size(); ++k) {
      const auto& f = (*records)[withFace[k]].features;
      std::copy(f.begin(), f.end(), feats[int64_t(k)].data_ptr<float>());
    }
    auto p = train::predictAges(head->model, feats);
    if (!p) return fail(host::TaskFailed, p.error().message);
    for (std::size_t k = 0; k < withFace.size(); ++k) headAge[withFace[k]] = p->age[int64_t(k)].item<double>();
    headEmbedding = p->embedding;
  }

  const auto m = age::ageMetrics(truth, pretrained);
  int genderKnown = 0, genderRight = 0;
  for (std::size_t i : withFace) {
    if (samples[i].gender < 0) continue;
    ++genderKnown;
    genderRight += ((*records)[i].male >= 0.6) == (samples[i].gender == 0);
  }
  const int images = int(n) - stats.unreadable;
  std::ostringstream out;
  out << "faces evaluated: " << m.n << " of " << labelled << " labelled images"
      << (stats.unreadable ? " (" + std::to_string(stats.unreadable) + " unreadable)" : std::string())
      << (opt.face.crops ? " (--crops: whole images are face crops)"
                    : " (" + std::to_string(stats.noFace) + " without a detected face)")
      << "\n";
  if (!opt.featuresOut.empty() && unlabelled) out << "unlabelled images (features only): " << unlabelled << "\n";
  if (m.n > 0) {
    printMetrics(out, m, head ? " (pretrained faceres head)" : "");
    age::AgeMetrics mh;
    if (head) {
      mh = age::ageMetrics(truth, headAge);
      printMetrics(out, mh, " (trained head " + head->package.id + ")");
    }
    out << "constant guess (median age " << f2(m.median, "%.0f") << "): MAE " << f2(m.constantMae) << " years\n";
    if (genderKnown) out << "gender accuracy: " << f2(100.0 * genderRight / genderKnown, "%.1f") << " % (" << genderKnown << " faces)\n";
    out << "MAE per age band" << (head ? " (pretrained / trained head)" : "") << ":\n";
    for (const auto& [b, v] : m.bands) {
      out << "  " << b << ": " << f2(v.first / v.second);
      if (head) out << " / " << f2(mh.bands[b].first / mh.bands[b].second);
      out << " (" << v.second << ")\n";
    }
  } else {
    out << "no labelled face got a prediction: no metrics\n";
  }
  const int computedImages = std::max(stats.computed, 1);
  out << "features: " << stats.fromCache << " images from the cache, " << stats.computed << " computed\n";
  if (stats.computed > 0)
    out << "latency (" << (device->is_cuda() ? "CUDA" : "CPU, " + std::to_string(torch::get_num_threads()) + " threads")
        << ", computed images only): decode " << f2(1000.0 * stats.decodeSeconds / computedImages, "%.1f") << " ms/image"
        << (opt.face.crops ? std::string() : ", detection " + f2(1000.0 * stats.detectSeconds / computedImages, "%.1f") + " ms/image")
        << ", age+gender " << f2(1000.0 * stats.ageSeconds / std::max(stats.agedFaces, 1), "%.1f")
        << " ms/face (batches of up to " << opt.batch << " faces across images), end to end "
        << f2(1000.0 * (stats.decodeSeconds + stats.detectSeconds + stats.ageSeconds) / computedImages, "%.1f") << " ms/image\n";
  std::cout << out.str();

  if (!opt.features.empty()) {
    // One row per evaluated face: truth, prediction and the 1024-d pooled features.
    std::ofstream f(opt.features);
    if (!f) return fail(host::OutputFailed, "cannot write " + opt.features);
    f << "filename,age,gender,predicted_age,p_male";
    for (int k = 0; k < 1024; ++k) f << ",f" << k;
    f << "\n";
    for (std::size_t i : withFace) {
      f << samples[i].name << ',' << samples[i].age << ',' << samples[i].gender << ',' << pretrained[i] << ','
        << (*records)[i].male;
      for (float v : (*records)[i].features) f << ',' << v;
      f << '\n';
    }
    if (!f) return fail(host::OutputFailed, "cannot write " + opt.features);
  }
  if (!opt.featuresOut.empty()) {
    // For the embedding view: the faceres features of every face with a metadata row each (file, path, true
    // age when known, predicted age, gender, ...), and with --head the head's age embedding. As embedding
    // stores (backend/index) when this build has them, else as .npy + a .csv of the same name.
    fs::create_directories(opt.featuresOut, ec);
    if (!fs::is_directory(opt.featuresOut, ec)) return fail(host::OutputFailed, "cannot create " + opt.featuresOut);
    std::vector<std::vector<float>> rows;
    for (std::size_t i : withFace) rows.push_back((*records)[i].features);
    std::vector<std::string> columns = {"file", "path", "true_age", "predicted_age", "gender", "true_gender", "p_male", "age_band"};
    if (head) columns.push_back("head_age");
    std::vector<std::vector<std::string>> cells(columns.size());
    for (std::size_t i : withFace) {
      const auto& r = (*records)[i];
      std::vector<std::string> row = {samples[i].name, fs::absolute(samples[i].path).string(),
                                      samples[i].labelled() ? f2(samples[i].age, "%g") : "", f2(r.predictedAge, "%.2f"),
                                      r.male >= 0.6 ? "male" : "female",
                                      samples[i].gender == 0 ? "male" : samples[i].gender == 1 ? "female" : "",
                                      f2(r.male, "%.4f"), samples[i].labelled() ? age::ageBand(samples[i].age) : ""};
      if (head) row.push_back(f2(headAge[i], "%.2f"));
      for (std::size_t c = 0; c < columns.size(); ++c) cells[c].push_back(row[c]);
    }
    std::vector<std::vector<float>> headRows;
    const int64_t e = headEmbedding.defined() ? headEmbedding.size(1) : 0;
    for (int64_t k = 0; headEmbedding.defined() && k < headEmbedding.size(0); ++k)
      headRows.emplace_back(headEmbedding[k].data_ptr<float>(), headEmbedding[k].data_ptr<float>() + e);
    const fs::path dir(opt.featuresOut);
    std::string faceView, headView;
#ifdef LOUPE_HAVE_INDEX
    // DIR itself is the store of the features; DIR/age_embedding the store of the head's embedding.
    auto writeStore = [&](const std::vector<std::vector<float>>& vecs, int64_t dim, const fs::path& folder,
                          const std::string& modelId, const std::string& modelSha) -> Result<void> {
      torch::Tensor t = torch::empty({int64_t(vecs.size()), dim});
      for (std::size_t k = 0; k < vecs.size(); ++k) std::copy(vecs[k].begin(), vecs[k].end(), t[int64_t(k)].data_ptr<float>());
      index::MetaTable meta(int64_t(vecs.size()));
      for (std::size_t c = 0; c < columns.size(); ++c)
        if (auto ok = meta.setColumn(columns[c], cells[c]); !ok) return ok.error();
      index::StoreSource source;
      source.modelId = modelId;
      source.modelSha256 = modelSha;
      source.input = fs::absolute(opt.images).string();
      auto store = index::EmbeddingStore::create(t, std::move(meta), source);
      if (!store) return store.error();
      return store->save(folder.string(), cancel);
    };
    if (auto ok = writeStore(rows, 1024, dir, "faceres", stats.featureModelSha256); !ok)
      return fail(age::exitFor(ok.error()), "--features-out: " + ok.error().message);
    faceView = dir.string();
    if (head) {
      if (auto ok = writeStore(headRows, e, dir / "age_embedding", head->package.id, ""); !ok)
        return fail(age::exitFor(ok.error()), "--features-out: " + ok.error().message);
      headView = (dir / "age_embedding").string();
    }
#else
    std::ostringstream meta;
    for (std::size_t c = 0; c < columns.size(); ++c) meta << (c ? "," : "") << columns[c];
    meta << "\n";
    for (std::size_t r = 0; r < rows.size(); ++r) {
      for (std::size_t c = 0; c < columns.size(); ++c) meta << (c ? "," : "") << csvField(cells[c][r]);
      meta << "\n";
    }
    auto writeNpyCsv = [&](const std::vector<std::vector<float>>& vecs, std::size_t dim, const std::string& base) {
      if (!writeNpy((dir / (base + ".npy")).string(), vecs, dim)) return false;
      std::ofstream mf(dir / (base + ".csv"), std::ios::binary | std::ios::trunc);
      mf << meta.str();
      return bool(mf);
    };
    if (!writeNpyCsv(rows, 1024, "vectors")) return fail(host::OutputFailed, "cannot write " + (dir / "vectors.npy").string());
    faceView = (dir / "vectors.npy").string();
    if (head) {
      if (!writeNpyCsv(headRows, std::size_t(e), "age_embedding"))
        return fail(host::OutputFailed, "cannot write " + (dir / "age_embedding.npy").string());
      headView = (dir / "age_embedding.npy").string();
    }
#endif
    std::cout << "features for the embedding view: " << rows.size() << " faces; open with: loupe --embeddings " << faceView
              << "\n";
    if (head) std::cout << "the head's age embedding: loupe --embeddings " << headView << "\n";
  }
  if (!opt.json.empty()) {
    std::ofstream j(opt.json);
    if (!j) return fail(host::OutputFailed, "cannot write " + opt.json);
    j << "{\"faces\": " << m.n << ", \"mae\": " << m.mae << ", \"cs5\": " << m.cs5
      << ", \"constant_mae\": " << m.constantMae << ", \"gender_accuracy\": "
      << (genderKnown ? double(genderRight) / genderKnown : 0.0) << ", \"missed\": " << stats.noFace;
    if (head) {
      const auto mh = age::ageMetrics(truth, headAge);
      j << ", \"head_mae\": " << mh.mae << ", \"head_cs5\": " << mh.cs5;
    }
    j << ", \"from_cache\": " << stats.fromCache << ", \"computed\": " << stats.computed
      << ", \"ms_per_face\": " << 1000.0 * stats.ageSeconds / std::max(stats.agedFaces, 1)
      << ", \"ms_per_image\": " << 1000.0 * (stats.decodeSeconds + stats.detectSeconds + stats.ageSeconds) / computedImages
      << "}\n";
  }
  (void)images;
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("age", "Age and gender of labelled faces (UTKFace names or a CSV) against the truth");
  app->add_option("--images", opt.images, "Folder of face photos")->required();
  app->add_option("--labels", opt.labels, "CSV with columns filename, age [, gender (0 male, 1 female)]");
  app->add_option("--head", opt.head, "A trained age head package (loupe-cli train age), evaluated beside the pretrained one");
  age::addFaceOptions(app, opt.face);
  app->add_option("--batch", opt.batch, "Images per step and faces per faceres call")->check(CLI::Range(1, 1024));
  app->add_option("--threads", opt.threads, "CPU threads (default: LibTorch's)")->check(CLI::Range(1, 256));
  app->add_option("--limit", opt.limit, "Only the first N images")->check(CLI::Range(1, 10'000'000));
  addJsonOption(app, opt.json);
  app->add_option("--features", opt.features, "Write truth, prediction and the 1024-d features per face to this CSV");
  app->add_option("--features-out", opt.featuresOut,
                  "Folder for the embedding view: vectors.npy + meta.csv (and the head's embedding); unlabelled images "
                  "are included");
  addQuietFlag(app, opt.quiet);
  return {app, run};
}

LOUPE_CLI_COMMAND("eval", setup);

}  // namespace
}  // namespace loupe::cli
