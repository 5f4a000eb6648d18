#include "Study.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>

#include "VolumeIO.h"

namespace loupe::volume {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

struct Input {
  std::string label;  // shown in messages: a file path or a series description + folder
  std::string name;   // what the role is judged from
  std::string file;   // a volume file, or empty for a DICOM series
  DicomSeries series;
};

Result<void> collectFolder(const fs::path& folder, std::vector<Input>& inputs) {
  std::vector<fs::path> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) entries.push_back(e.path());
  if (ec) return Error{ErrorCode::Io, "Cannot list " + folder.string() + ": " + ec.message()};
  std::sort(entries.begin(), entries.end());
  bool otherFiles = false;
  for (const auto& p : entries) {
    if (fs::is_directory(p, ec)) {
      auto r = collectFolder(p, inputs);
      if (!r) return r;
    } else if (isVolumeFileName(p.string())) {
      inputs.push_back({p.string(), p.filename().string(), p.string(), {}});
    } else if (p.filename().string().front() != '.' && p.extension() != ".txt" && p.extension() != ".json") {
      otherFiles = true;
    }
  }
  if (otherFiles) {
    auto series = listDicomSeries(folder.string());
    if (!series) return series.error();
    for (auto& s : *series) {
      // The folder name often carries the protocol when the description is empty.
      const std::string name = s.description.empty() ? folder.filename().string() : s.description;
      inputs.push_back({"DICOM series '" + name + "' in " + folder.string(), name, {}, std::move(s)});
    }
  }
  return {};
}

}  // namespace

std::string sequenceRole(const std::string& nameIn) {
  const std::string full = lower(nameIn);
  const std::string name = lower(volumeStem(nameIn));
  // nnU-Net / picai_prep channel suffixes: _0000 = T2W, _0001 = ADC, _0002 = high-b DWI.
  static const std::regex channel(".*_000([0-2])$");
  std::smatch m;
  if (std::regex_match(name, m, channel)) return m[1] == "0" ? "t2w" : (m[1] == "1" ? "adc" : "dwi");
  if (has(full, "adc") || has(full, "apparent")) return "adc";
  if (has(full, "hbv") || has(full, "bval") || has(full, "dwi") || has(full, "diff") || has(full, "trace") ||
      std::regex_search(full, std::regex("b-?(800|1000|1400|1500|2000)")))
    return "dwi";
  if (has(full, "t2")) return "t2w";
  return "";
}

Result<Study> loadStudy(const std::vector<std::string>& paths, const CancelToken& cancel) {
  if (paths.empty()) return Error{ErrorCode::InvalidArgument, "No study given: name a folder or the sequence files"};
  std::vector<Input> inputs;
  std::error_code ec;
  for (const auto& p : paths) {
    if (!fs::exists(p, ec)) return Error{ErrorCode::NotFound, "No such file or folder: " + p};
    if (fs::is_directory(p, ec)) {
      auto r = collectFolder(p, inputs);
      if (!r) return r.error();
    } else if (isVolumeFileName(p)) {
      inputs.push_back({p, fs::path(p).filename().string(), p, {}});
    } else {
      return Error{ErrorCode::UnsupportedFormat,
                   p + " is not a volume file (.nii, .nii.gz, .mha, .mhd) or a folder of DICOM series"};
    }
  }
  if (inputs.empty())
    return Error{ErrorCode::NotFound, "No volumes found in " + paths.front() +
                                          " (looked for .nii, .nii.gz, .mha, .mhd files and DICOM series)"};
  Study study;
  study.path = paths.front();
  std::vector<std::string> labels;
  for (auto& in : inputs) {
    if (cancel.isCancelled()) return Error::cancelled();
    std::string role = sequenceRole(in.name);
    if (role.empty()) role = in.file.empty() ? in.name : volumeStem(in.file);
    auto v = in.file.empty() ? readDicomSeries(in.series) : readVolume(in.file, ReadOptions{{}, true});
    if (!v) return v.error();
    std::size_t same = study.sequences.size();
    for (std::size_t i = 0; i < study.sequences.size(); ++i)
      if (study.sequences[i].first == role) same = i;
    if (same == study.sequences.size()) {
      study.sequences.emplace_back(role, std::move(*v));
      labels.push_back(in.label);
      continue;
    }
    // Two candidates for one role: a full prostate protocol also has sagittal/coronal T2W. Detection works
    // on axial sequences, so the clearly more axial one wins (slice normal along z); otherwise refuse.
    Volume& old = study.sequences[same].second;
    const double axialOld = std::abs(old.direction[8]), axialNew = std::abs(v->direction[8]);
    if (std::abs(axialOld - axialNew) < 0.5) {
      return Error{ErrorCode::InvalidArgument, "Two inputs look like the " + role + " sequence: " + labels[same] + " and " +
                                                   in.label + ". Name the files of one study explicitly"};
    }
    const bool replace = axialNew > axialOld;
    const std::string kept = replace ? in.label : labels[same], dropped = replace ? labels[same] : in.label;
    if (replace) {
      old = std::move(*v);
      labels[same] = in.label;
    }
    old.warnings.push_back("took the axial " + kept + " as " + role + ", not " + dropped + " (not axial)");
  }
  return study;
}

}  // namespace loupe::volume
