// loupe-cli eval prostate --pred DIR --labels DIR [--min-overlap 0.1] [--softmax] [--out report.json]
// PI-CAI's evaluation (picai_eval's definitions, backend/analysis/PicaiMetrics.h): lesion-level average
// precision, patient-level AUROC (patient score = max of the detection map) and the PI-CAI score
// (AUROC + AP) / 2; a candidate hits a lesion when their IoU >= --min-overlap.
//
// Cases are the label files (.nii.gz, .nii, .mha, .mhd; an optional "_label" postfix is ignored); each
// needs a prediction in --pred named <case>_detection_map.<ext> or <case>.<ext>. Predictions are detection
// maps (connected candidates of constant likelihood) unless --softmax is given: then they are likelihood
// volumes and candidates are extracted first the PI-CAI way (dynamic thresholding). A prediction on
// another grid than its label is resampled into the label's grid (nearest neighbour) and the report says so.

#include <QDir>
#include <QFileInfo>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "Command.h"
#include "analysis/DetectionMap.h"
#include "analysis/PicaiMetrics.h"
#include "host/ExitCodes.h"
#include "volume/Resample.h"
#include "volume/VolumeIO.h"

namespace loupe::cli {
namespace {

struct Options {
  std::string predDir, labelsDir, outPath;
  double minOverlap = 0.1;
  bool softmax = false;
  bool quiet = false;
};
Options opt;

std::string stripPostfix(const std::string& stem, const std::string& postfix) {
  if (stem.size() > postfix.size() && stem.compare(stem.size() - postfix.size(), postfix.size(), postfix) == 0)
    return stem.substr(0, stem.size() - postfix.size());
  return stem;
}

std::string findPrediction(const QDir& dir, const std::string& caseId) {
  const auto entries = dir.entryInfoList(QDir::Files, QDir::Name);
  for (const char* postfix : {"_detection_map", ""})
    for (const auto& e : entries) {
      const std::string path = e.absoluteFilePath().toStdString();
      if (volume::isVolumeFileName(path) && volume::volumeStem(path) == caseId + postfix) return path;
    }
  return {};
}

std::string num(double v) {
  if (std::isnan(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

int evalProstate() {
  const QDir labels(QString::fromStdString(opt.labelsDir)), preds(QString::fromStdString(opt.predDir));
  if (!labels.exists()) return fail(host::BadInput, "No such folder: " + opt.labelsDir);
  if (!preds.exists()) return fail(host::BadInput, "No such folder: " + opt.predDir);
  if (!(opt.minOverlap > 0 && opt.minOverlap <= 1)) return fail(host::Usage, "--min-overlap must be in (0, 1]");
  std::vector<analysis::CaseEvaluation> cases;
  nlohmann::json perCase = nlohmann::json::object();
  const CancelToken& cancel = interruptToken();
  for (const auto& e : labels.entryInfoList(QDir::Files, QDir::Name)) {
    if (cancel.isCancelled()) return fail(host::Cancelled, "Cancelled");
    const std::string labelPath = e.absoluteFilePath().toStdString();
    if (!volume::isVolumeFileName(labelPath)) continue;
    const std::string id = stripPostfix(volume::volumeStem(labelPath), "_label");
    const std::string predPath = findPrediction(preds, id);
    if (predPath.empty())
      return fail(host::BadInput, "No prediction for case " + id + " in " + opt.predDir + " (expected " + id +
                                      "_detection_map.nii.gz or " + id + ".nii.gz, .nii, .mha)");
    auto label = volume::readVolume(labelPath);
    if (!label) return fail(host::BadInput, label.error().message);
    auto pred = volume::readVolume(predPath, {{}, true});
    if (!pred) return fail(host::BadInput, pred.error().message);
    std::vector<std::string> notes;
    if (pred->size != label->size) {
      auto r = volume::resampleToGrid(*pred, *label, {volume::Interpolation::Nearest, 0.f}, cancel);
      if (!r) return fail(host::BadInput, "Case " + id + ": " + r.error().message);
      *pred = std::move(*r);
      notes.push_back("prediction resampled into the label's grid (nearest neighbour)");
    }
    if (opt.softmax) {
      auto d = analysis::extractLesionCandidates(*pred, {}, cancel);
      if (!d) return fail(host::BadInput, "Case " + id + ": " + d.error().message);
      *pred = std::move(d->map);
    }
    auto c = analysis::evaluateCase(*pred, *label, opt.minOverlap);
    if (!c) return fail(host::BadInput, "Case " + id + " (" + predPath + "): " + c.error().message);
    c->id = id;
    nlohmann::json lesions = nlohmann::json::array();
    int tp = 0, fp = 0;
    for (const auto& l : c->lesions) {
      lesions.push_back({l.isLesion, l.confidence, l.overlap});
      tp += l.isLesion && l.confidence > 0;
      fp += !l.isLesion;
    }
    perCase[id] = {{"prediction", predPath}, {"label", labelPath}, {"lesion_results", lesions},
                   {"case_pred", c->caseConfidence}, {"case_target", c->caseTarget}, {"num_lesions", c->numLesions},
                   {"num_candidates", c->numCandidates}, {"notes", notes}};
    if (!opt.quiet) {
      std::printf("%-32s lesions %d  candidates %d  hits %d  false positives %d  patient score %s%s\n", id.c_str(),
                  c->numLesions, c->numCandidates, tp, fp, num(c->caseConfidence).c_str(),
                  notes.empty() ? "" : ("  (" + notes.front() + ")").c_str());
    }
    cases.push_back(std::move(*c));
  }
  if (cases.empty()) return fail(host::BadInput, "No label volumes (.nii.gz, .nii, .mha, .mhd) in " + opt.labelsDir);
  const analysis::PicaiMetrics m = analysis::summarise(cases);
  std::printf("cases %d  lesions %d  AP %s  AUROC %s  PI-CAI score %s\n", m.numCases, m.numLesions, num(m.ap).c_str(),
              num(m.auroc).c_str(), num(m.score).c_str());
  if (std::isnan(m.ap)) std::printf("note: AP is undefined without lesions in the labels\n");
  if (std::isnan(m.auroc)) std::printf("note: AUROC needs cases with and without lesions\n");
  if (!opt.outPath.empty()) {
    auto finite = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
    nlohmann::json doc = {{"AP", finite(m.ap)}, {"auroc", finite(m.auroc)}, {"score", finite(m.score)},
                          {"num_cases", m.numCases}, {"num_lesions", m.numLesions}, {"min_overlap", opt.minOverlap},
                          {"softmax_input", opt.softmax}, {"cases", perCase}};
    std::ofstream out(opt.outPath);
    out << doc.dump(2) << "\n";
    if (!out) return fail(host::OutputFailed, "Cannot write " + opt.outPath);
  }
  return host::Ok;
}

Subcommand setup(CLI::App& group) {
  auto* app = group.add_subcommand("prostate", "PI-CAI metrics of detection maps against lesion labels (AP, AUROC, score)");
  app->add_option("--pred", opt.predDir, "Folder of detection maps (<case>_detection_map.nii.gz or <case>.nii.gz)")->required();
  app->add_option("--labels", opt.labelsDir, "Folder of binary lesion labels (<case>.nii.gz, optional _label)")->required();
  app->add_option("--min-overlap", opt.minOverlap, "IoU a candidate needs with a lesion to hit it")->capture_default_str();
  app->add_flag("--softmax", opt.softmax, "Predictions are likelihood volumes: extract PI-CAI candidates first");
  app->add_option("--out,-o", opt.outPath, "Write the report (metrics, per-case lesion results) as JSON");
  app->add_flag("--quiet,-q", opt.quiet, "Only the summary");
  return {app, evalProstate};
}

}  // namespace

LOUPE_CLI_COMMAND("eval", setup);

}  // namespace loupe::cli
