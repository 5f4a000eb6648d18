#pragma once
// A Loupe session (the case file): the input by path and SHA-256, the task run with its parameters and
// plugin version, the layers it returned (stored exactly, not re-run), how they were shown (order,
// visibility, opacity, colour map and range, mask style, label colours), the view (zoom, centre, compare
// mode) and the analyst's bookmarks; for an MRI study its sequences, result volumes and the reader's
// PI-RADS categories and comments per lesion candidate. Plain values; SessionFile.h reads and writes them.

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/Layer.h"
#include "core/Volume.h"

namespace loupe::session {

// Bumped when the file layout changes incompatibly; older files are read, newer ones refused.
constexpr int kSchemaVersion = 1;
// "name=value" texts, as the CLI, the parameter form and the host's RunRequest use them.
using ParamTexts = std::vector<std::pair<std::string, std::string>>;

enum class BookmarkStatus { Ok, ToCheck, Warning };
const char* statusName(BookmarkStatus status);  // "ok", "to_check", "warning" (file)
QString statusTitle(BookmarkStatus status);     // "OK", "To check", "Warning" (people)
std::optional<BookmarkStatus> statusFromName(const QString& name);

struct ViewState {
  double scale = 1.0;                      // screen pixels per image pixel
  double centreX = 0.0, centreY = 0.0;     // image point at the view centre
  bool fit = true;                         // fit to window (scale/centre then only informative)
  bool compare = false;                    // original and result side by side
  bool showOriginal = false;               // layers hidden (Space)

  bool operator==(const ViewState& o) const;
};

struct InputFile {
  QString path;          // absolute, as opened
  QString relativePath;  // to the session file's folder (found again when both moved together)
  QString sha256;        // of the file's bytes
  qint64 size = 0;
};

// A model package a run used (read from a parameter that names a package folder).
struct ModelRef {
  QString id;
  QString version;
  QString path;
  QString manifestSha256;                      // of loupe-model.json
  std::vector<std::pair<QString, QString>> files;  // weight file -> sha256, as the package lists them
};

struct RunRecord {
  QString taskId;
  QString taskTitle;
  QString pluginId;
  QString pluginVersion;
  QString device;      // as requested: auto, cpu, cuda:0
  QString deviceName;  // as resolved
  ParamTexts params;
  double seconds = 0.0;
  QString finishedAt;  // ISO 8601 UTC
  std::vector<ModelRef> models;
};

// The layers of a run, shared by the session and its autosaves (never copied). `blobSha` caches the
// SHA-256 of each raster layer's data file once computed (empty: not yet, or no data file).
struct LayerSet {
  std::vector<Layer> layers;
  mutable std::vector<std::string> blobSha;
};

struct LabelStyle {
  std::int32_t value = 0;
  bool visible = true;
  std::array<std::uint8_t, 3> colour{};

  bool operator==(const LabelStyle& o) const { return value == o.value && visible == o.visible && colour == o.colour; }
};

// How one drawn layer looked. Fields that do not apply to its kind stay empty.
struct LayerStyle {
  QString id;
  bool visible = true;
  double opacity = 1.0;
  std::optional<float> rangeMin, rangeMax;         // heatmap
  QString colormap;                                // heatmap
  QString maskStyle;                               // mask: "fill" or "outline"
  std::optional<std::array<std::uint8_t, 3>> maskColour;
  std::vector<LabelStyle> labels;                  // label map

  bool operator==(const LayerStyle& o) const;
};

struct Bookmark {
  QString id;         // unique in the session
  QString createdAt;  // ISO 8601 UTC
  QString title;
  ViewState view;
  QString taskId;
  ParamTexts params;
  QStringList visibleLayers;  // ids of the layers shown
  BookmarkStatus status = BookmarkStatus::ToCheck;
  QString comment;
  QByteArray snapshotPng;  // the view as it looked, PNG bytes

  bool operator==(const Bookmark& o) const;
};

// ---- MRI studies (prostate): optional, absent from image sessions and from files written before studies
// existed (those load unchanged). Stored under the JSON key "study"; volumes as raw blobs in the sidecar.

// One sequence of the study as opened: a volume file, or a DICOM series folder.
struct StudySequence {
  QString role;    // "t2w", "adc", "dwi" or the file stem
  QString path;    // absolute
  QString sha256;  // a file's SHA-256; a folder: SHA-256 of its sorted "name sha256" lines (empty: unknown)
  qint64 size = 0; // bytes (a folder: all its files)

  bool operator==(const StudySequence& o) const;
};

// A result volume kept with the session (e.g. the lesion likelihood and candidate labels in the T2W grid).
struct StudyVolume {
  QString id;     // "likelihood", "candidate_labels", ... as the task named it
  QString title;
  std::shared_ptr<const Volume> volume;
  mutable std::string blobSha;  // cached SHA-256 of the stored voxels (empty: not computed yet)
};

// A lesion candidate with the reader's assessment.
struct StudyCandidate {
  int id = 0;                        // its value in the candidate label volume
  double likelihood = 0.0;
  double volumeMl = 0.0;
  double maxDiameterMm = 0.0;
  std::array<double, 3> centroidLps{0, 0, 0};  // world mm (LPS)
  QString location;                  // for people, e.g. "patient right, peripheral zone"
  std::optional<int> pirads;         // PI-RADS 1-5 set by the reader; empty: not assessed
  QString comment;

  bool operator==(const StudyCandidate& o) const;
};

struct StudyRecord {
  std::vector<StudySequence> sequences;
  std::vector<StudyVolume> volumes;
  std::vector<StudyCandidate> candidates;
  // How the study was shown: crosshair (LPS mm), layout ("sequences" or "planes"), plane, sequence, zoom.
  std::array<double, 3> crosshair{0, 0, 0};
  QString layout;
  QString plane;
  QString sequence;
  double zoom = 1.0;
  std::vector<std::pair<QString, std::pair<double, double>>> windows;  // sequence role -> (low, high)
};

struct Session {
  int schemaVersion = kSchemaVersion;
  QString title;      // case title
  QString createdAt;  // ISO 8601 UTC
  QString savedAt;
  QString loupeVersion;  // of the Loupe that saved it
  QString autosaveOf;    // recovery files: the session file the work belonged to (empty: never saved)
  std::optional<InputFile> input;
  std::optional<RunRecord> run;
  std::shared_ptr<const LayerSet> layers;  // the run's layers as the task returned them
  std::vector<LayerStyle> styles;          // drawn layers, bottom to top
  ViewState view;
  std::vector<Bookmark> bookmarks;
  std::optional<StudyRecord> study;  // an MRI study instead of (or beside) the image input

  bool hasLayers() const { return layers && !layers->layers.empty(); }
};

// Now as ISO 8601 UTC with seconds ("2026-11-27T04:01:02Z").
QString nowUtc();
// Model packages named by a run's parameters: every value that is a folder holding loupe-model.json.
std::vector<ModelRef> modelsInParams(const ParamTexts& params);

}  // namespace loupe::session
