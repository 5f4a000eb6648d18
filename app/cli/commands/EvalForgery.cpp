// loupe-cli eval forgery --images DIR --masks DIR [--task ID]... [--param k=v]... [--out report.json]
// Runs forgery tasks on every image of a folder through the same plan/execute path as `loupe-cli run`,
// matches ground-truth masks by file stem and reports per image and mean: pixel F1 (binary, at the
// operating point), FOCAL's macro F1, IoU, pixel AUC, and the image-level AUC (metrics:
// backend/analysis/ForgeryMetrics.h).
//
// What is scored, for any task of the forgery plugin:
//   - the first heatmap layer, normalised to its own display range: s = clamp((v - min) / (max - min), 0, 1)
//     (forgery.localize: the probability itself; forgery.ela: the error in grey levels over
//     255 / amplification, the fraction of the colour map the pixel reaches);
//     a task with a mask but no heatmap (forgery.copymove) is scored on its mask, s = 0 or 1;
//   - the binary prediction: the task's mask layer when it returns one, else s >= --threshold;
//   - the image score: the table row "image_score" when the task reports one, else the mean of s (a high
//     percentile would not do: maps drawn over their own 1st-99th percentile saturate it on every image).

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "Command.h"
#include "CommonOptions.h"
#include "analysis/ForgeryMetrics.h"
#include "core/Device.h"
#include "host/ExitCodes.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "io/ImageReader.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string imagesDir, masksDir, outPath, device = "auto";
  std::vector<std::string> tasks;
  std::vector<std::string> params;
  std::vector<std::string> pluginDirs;
  double threshold = 0.5;
  bool pristineWithoutMask = false;
  bool quiet = false;
  int threads = 0;
};
Options opt;

const std::set<std::string> kImageSuffixes = {"jpg", "jpeg", "png", "tif", "tiff", "bmp", "webp"};
const std::vector<std::string> kMaskSuffixes = {"", "_gt", "_mask", "_GT"};

bool isImageFile(const QFileInfo& f) { return f.isFile() && kImageSuffixes.count(f.suffix().toLower().toStdString()); }

// The ground-truth mask of `image`: a file in `masksDir` whose stem is the image's stem, optionally
// followed by _gt / _mask, any image suffix; never the image itself.
QString findMask(const QFileInfo& image, const QDir& masksDir) {
  const auto entries = masksDir.entryInfoList(QDir::Files, QDir::Name);
  for (const auto& suffix : kMaskSuffixes)
    for (const auto& e : entries)
      if (isImageFile(e) && e.completeBaseName() == image.completeBaseName() + QString::fromStdString(suffix) &&
          e.canonicalFilePath() != image.canonicalFilePath())
        return e.filePath();
  return {};
}

// Binary mask: a pixel is forged when any colour channel is above half range (FOCAL's thresholding > 127).
Result<std::vector<std::uint8_t>> loadMask(const std::string& path, int& width, int& height) {
  auto img = io::loadImage(path);
  if (!img) return img.error();
  const Image m = img->toU8();
  width = m.width();
  height = m.height();
  const int ch = m.channels();
  const bool alpha = m.order() == ColorOrder::GrayAlpha || m.order() == ColorOrder::RGBA || m.order() == ColorOrder::BGRA;
  const int colour = alpha ? ch - 1 : ch;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(width) * height, 0);
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* row = m.row<std::uint8_t>(y);
    for (int x = 0; x < width; ++x) {
      bool on = false;
      for (int c = 0; c < colour; ++c) on |= row[x * ch + c] > 127;
      out[static_cast<std::size_t>(y) * width + x] = on;
    }
  }
  return out;
}

double meanOf(const std::vector<float>& v) {
  double sum = 0.0;
  for (float x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
std::string cell(double v) {
  if (!std::isfinite(v)) return "   -  ";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%6.3f", v);
  return buf;
}

struct ImageScore {
  std::string name;
  std::string error;
  bool forged = false;
  double f1 = NAN, focalF1 = NAN, iou = NAN, pixelAuc = NAN, score = NAN, seconds = 0.0;
};

int evalForgery() {
  using namespace std::chrono;
  const QDir imagesDir(QString::fromStdString(opt.imagesDir)), masksDir(QString::fromStdString(opt.masksDir));
  if (!imagesDir.exists()) return fail(host::Usage, "--images: no such folder: " + opt.imagesDir);
  if (!masksDir.exists()) return fail(host::Usage, "--masks: no such folder: " + opt.masksDir);
  if (!(opt.threshold >= 0.0 && opt.threshold <= 1.0)) return fail(host::Usage, "--threshold must lie in [0, 1]");
  if (opt.tasks.empty()) opt.tasks = {"forgery.localize"};
  if (opt.threads < 0) return fail(host::Usage, "--threads must be positive");
  configureThreads(opt.threads);

  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& text : opt.params) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return fail(host::Usage, "--param expects name=value, got '" + text + "'");
    params.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }

  host::PluginHost pluginHost;
  QStringList paths;
  for (const auto& d : opt.pluginDirs) paths << QString::fromStdString(d);
  pluginHost.setSearchPaths(paths + host::PluginHost::defaultSearchPaths());
  pluginHost.scan();
  // Each --param goes to the tasks that declare it; one that no task declares is a usage error.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> taskParams;
  for (const auto& t : opt.tasks) {
    const auto ref = pluginHost.findTask(t);
    if (!ref.spec) return fail(host::Usage, "Unknown task '" + t + "' (see `loupe-cli tasks`)");
    if (t.rfind("forgery.", 0) != 0) return fail(host::Usage, "'" + t + "' is not a task of the forgery plugin");
  }
  for (const auto& p : params) {
    bool used = false;
    for (const auto& t : opt.tasks)
      if (pluginHost.findTask(t).spec->findParam(p.first)) {
        taskParams[t].push_back(p);
        used = true;
      }
    if (!used) return fail(host::Usage, "No chosen task has a parameter '" + p.first + "'");
  }

  // Images: every image file that is not itself some image's mask.
  std::vector<QFileInfo> images;
  std::set<QString> maskFiles;
  for (const auto& f : imagesDir.entryInfoList(QDir::Files, QDir::Name))
    if (isImageFile(f)) images.push_back(f);
  std::map<QString, QString> maskOf;
  for (const auto& f : images) {
    const QString m = findMask(f, masksDir);
    maskOf[f.filePath()] = m;
    if (!m.isEmpty()) maskFiles.insert(QFileInfo(m).canonicalFilePath());
  }
  images.erase(std::remove_if(images.begin(), images.end(),
                              [&](const QFileInfo& f) { return maskFiles.count(f.canonicalFilePath()) > 0; }),
               images.end());
  if (images.empty()) return fail(host::BadInput, "No images (jpg, png, tif, bmp, webp) in " + opt.imagesDir);

  nlohmann::json report = {{"images", opt.imagesDir}, {"masks", opt.masksDir}, {"threshold", opt.threshold},
                           {"loupe", host::loupeVersion()}, {"tasks", nlohmann::json::array()}};
  Progress progress = terminalProgress(opt.quiet);
  const double totalSteps = static_cast<double>(images.size() * opt.tasks.size());
  int step = 0;
  int evaluated = 0;
  std::vector<std::string> summaryLines;

  for (const auto& taskId : opt.tasks) {
    std::vector<ImageScore> rows;
    for (const auto& f : images) {
      if (interruptToken().isCancelled()) {
        finishProgress();
        return fail(host::Cancelled, "Cancelled");
      }
      ImageScore row;
      row.name = f.fileName().toStdString();
      Progress slice = progress.slice(step / totalSteps, (step + 1) / totalSteps);
      ++step;
      slice.report(0.0, taskId + ": " + row.name);

      // Ground truth first: a missing or unreadable mask is this image's error, not the run's.
      std::vector<std::uint8_t> truth;
      int mw = 0, mh = 0;
      const QString maskPath = maskOf[f.filePath()];
      bool maskKnown = true;
      if (maskPath.isEmpty()) {
        if (opt.pristineWithoutMask) {
          maskKnown = false;  // size taken from the prediction
        } else {
          row.error = "no mask named " + f.completeBaseName().toStdString() + "[_gt|_mask].<image suffix> in " +
                      opt.masksDir + " (use --pristine-without-mask if images without masks are authentic)";
          rows.push_back(row);
          continue;
        }
      } else {
        auto m = loadMask(maskPath.toStdString(), mw, mh);
        if (!m) {
          row.error = "mask " + maskPath.toStdString() + ": " + m.error().message;
          rows.push_back(row);
          continue;
        }
        truth = std::move(*m);
      }

      host::RunRequest req;
      req.taskId = taskId;
      req.inputPath = f.filePath().toStdString();
      req.params = taskParams[taskId];
      req.device = opt.device;
      host::RunStage stage = host::RunStage::Usage;
      auto plan = host::planRun(pluginHost, req, &stage);
      if (!plan) {
        if (stage == host::RunStage::Usage || stage == host::RunStage::Device || stage == host::RunStage::Plugin) {
          finishProgress();
          return fail(host::exitCodeFor(stage, plan.error()), plan.error().message);
        }
        row.error = plan.error().message;
        rows.push_back(row);
        continue;
      }
      auto outcome = host::executeRun(*plan, interruptToken(), slice);
      if (!outcome) {
        if (outcome.error().code == ErrorCode::Cancelled) {
          finishProgress();
          return fail(host::Cancelled, "Cancelled");
        }
        row.error = taskId + ": " + outcome.error().message;
        rows.push_back(row);
        continue;
      }
      row.seconds = outcome->seconds;

      const Heatmap* heat = nullptr;
      const Mask* mask = nullptr;
      double tableScore = NAN;
      for (const auto& layer : outcome->layers) {
        if (!heat) heat = std::get_if<Heatmap>(&layer.payload);
        if (!mask) mask = std::get_if<Mask>(&layer.payload);
        if (const auto* t = std::get_if<Table>(&layer.payload))
          for (const auto& r : t->rows)
            if (r.size() >= 2 && r[0] == "image_score") tableScore = std::atof(r[1].c_str());
      }
      // A task with a mask but no heatmap (copy-move) is scored on its mask: s = 0 / 1.
      Heatmap fromMask;
      if (!heat && mask) {
        fromMask.width = mask->width;
        fromMask.height = mask->height;
        fromMask.values.assign(mask->values.begin(), mask->values.end());
        heat = &fromMask;
      }
      if (!heat) {
        row.error = taskId + " returned neither a heatmap nor a mask to score";
        rows.push_back(row);
        continue;
      }
      if (!maskKnown) {
        mw = heat->width;
        mh = heat->height;
        truth.assign(static_cast<std::size_t>(mw) * mh, 0);
      }
      if (heat->width != mw || heat->height != mh) {
        row.error = "mask " + maskPath.toStdString() + " is " + std::to_string(mw) + "x" + std::to_string(mh) +
                    " but the image is " + std::to_string(heat->width) + "x" + std::to_string(heat->height);
        rows.push_back(row);
        continue;
      }
      const float lo = heat->rangeMin, span = heat->rangeMax - heat->rangeMin;
      std::vector<float> s(heat->values.size());
      for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = span > 0 ? std::clamp((heat->values[i] - lo) / span, 0.f, 1.f) : 0.f;
      std::vector<std::uint8_t> pred;
      if (mask && mask->width == mw && mask->height == mh) {
        pred = mask->values;
      } else {
        pred.resize(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) pred[i] = s[i] >= opt.threshold;
      }
      const auto c = analysis::confusion(pred, truth);
      row.forged = c.tp + c.fn > 0;
      row.f1 = analysis::binaryF1(c);
      row.focalF1 = analysis::macroF1(c);
      row.iou = analysis::intersectionOverUnion(c);
      row.pixelAuc = analysis::rocAuc(s, truth);
      row.score = std::isfinite(tableScore) ? tableScore : meanOf(s);
      rows.push_back(row);
      ++evaluated;
    }

    // Summary for this task.
    std::vector<double> f1, focal, iou, pauc, secs;
    std::vector<float> scores;
    std::vector<std::uint8_t> labels;
    int failed = 0;
    nlohmann::json perImage = nlohmann::json::array();
    for (const auto& r : rows) {
      if (!r.error.empty()) {
        ++failed;
        perImage.push_back({{"image", r.name}, {"error", r.error}});
        continue;
      }
      f1.push_back(r.f1);
      focal.push_back(r.focalF1);
      iou.push_back(r.iou);
      pauc.push_back(r.pixelAuc);
      secs.push_back(r.seconds);
      scores.push_back(static_cast<float>(r.score));
      labels.push_back(r.forged);
      perImage.push_back({{"image", r.name}, {"forged", r.forged}, {"f1", number(r.f1)}, {"focal_f1", number(r.focalF1)},
                          {"iou", number(r.iou)}, {"pixel_auc", number(r.pixelAuc)}, {"image_score", number(r.score)},
                          {"seconds", r.seconds}});
    }
    const double imageAuc = analysis::rocAuc(scores, labels);
    const nlohmann::json mean = {{"f1", number(analysis::meanOfFinite(f1))},
                                 {"focal_f1", number(analysis::meanOfFinite(focal))},
                                 {"iou", number(analysis::meanOfFinite(iou))},
                                 {"pixel_auc", number(analysis::meanOfFinite(pauc))},
                                 {"image_auc", number(imageAuc)},
                                 {"seconds", number(analysis::meanOfFinite(secs))}};
    report["tasks"].push_back({{"task", taskId}, {"params", taskParams[taskId]}, {"evaluated", rows.size() - failed},
                               {"failed", failed}, {"mean", mean}, {"per_image", perImage}});

    char line[256];
    std::snprintf(line, sizeof line, "%-20s %4zu %6s %6s %6s %6s %6s %5d", taskId.c_str(), rows.size() - failed,
                  cell(analysis::meanOfFinite(f1)).c_str(), cell(analysis::meanOfFinite(focal)).c_str(),
                  cell(analysis::meanOfFinite(iou)).c_str(), cell(analysis::meanOfFinite(pauc)).c_str(),
                  cell(imageAuc).c_str(), failed);
    summaryLines.push_back(line);
    if (!opt.quiet) {
      finishProgress();
      std::printf("== %s\n%-44s %6s %6s %6s %6s %6s %7s\n", taskId.c_str(), "image", "F1", "F1foc", "IoU", "pAUC",
                  "score", "seconds");
      for (const auto& r : rows) {
        if (!r.error.empty()) {
          std::printf("%-44s error: %s\n", r.name.c_str(), r.error.c_str());
          continue;
        }
        std::printf("%-44s %6s %6s %6s %6s %6s %7.2f\n", r.name.c_str(), cell(r.f1).c_str(), cell(r.focalF1).c_str(),
                    cell(r.iou).c_str(), cell(r.pixelAuc).c_str(), cell(r.score).c_str(), r.seconds);
      }
    }
  }
  finishProgress();
  std::printf("\n%-20s %4s %6s %6s %6s %6s %6s %5s\n", "task (mean)", "n", "F1", "F1foc", "IoU", "pAUC", "imgAUC",
              "fail");
  for (const auto& l : summaryLines) std::printf("%s\n", l.c_str());

  if (!opt.outPath.empty()) {
    std::ofstream out(opt.outPath);
    out << report.dump(2) << "\n";
    if (!out) return fail(host::OutputFailed, "Cannot write the report to " + opt.outPath);
  }
  if (evaluated == 0) return fail(host::TaskFailed, "No image could be evaluated (see the errors above)");
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("forgery", "Score forgery tasks against ground-truth masks (F1, IoU, AUC)");
  app->add_option("--images", opt.imagesDir, "Folder of images to analyse")->required();
  app->add_option("--masks", opt.masksDir, "Folder of ground-truth masks (matched by stem, optional _gt/_mask)")
      ->required();
  app->add_option("--task", opt.tasks, "Forgery task to score (repeatable; default forgery.localize)");
  app->add_option("--param,-p", opt.params, "name=value for every chosen task that has the parameter (repeatable)");
  app->add_option("--out,-o", opt.outPath, "Write the full report (per image and mean) as JSON");
  app->add_option("--threshold", opt.threshold,
                  "Operating point on the normalised heatmap for tasks without a mask layer")
      ->capture_default_str();
  app->add_flag("--pristine-without-mask", opt.pristineWithoutMask,
                "Images without a mask are authentic (empty ground truth) instead of an error");
  addDeviceOption(app, opt.device);
  app->add_option("--threads", opt.threads, "CPU threads (default: one per core)");
  app->add_option("--plugin-dir", opt.pluginDirs, "Extra folder to search for plugins");
  app->add_flag("--quiet,-q", opt.quiet, "Only the summary");
  return {app, evalForgery};
}

}  // namespace

LOUPE_CLI_COMMAND("eval", setup);

}  // namespace loupe::cli
