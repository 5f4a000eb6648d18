#pragma once
// The radiologist's study window: an MRI study (T2W, ADC, high-b DWI; NIfTI/MetaImage files and/or DICOM
// series folders) shown in the T2W's world grid in linked SliceViews (crosshair, slice, zoom and pan shared
// in world space):
//   layout "sequences": every sequence side by side in one plane (T2W | ADC | DWI), plane chosen;
//   layout "planes":    one sequence in axial, sagittal and coronal views.
// A 3-D tab (VolumeView3D, VTK) when that view is built; it is created only when first shown, so
// offscreen sessions never need OpenGL.
// Detect Lesions runs prostate.detect through the plugin host (host::planRun + executeRun, the pipeline
// loupe-cli uses) off the GUI thread with progress and Cancel; its likelihood and candidate labels become
// overlays (opacity, outline/fill) and its candidates fill the CandidatesPanel, where the reader sets
// PI-RADS categories and comments. File > Save Session keeps the study (paths + SHA-256), the result
// volumes, the assessments and the view; File > Export Report writes the case report with them.

#include <QFutureWatcher>
#include <QMainWindow>
#include <QPointer>
#include <QStringList>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/CancelToken.h"
#include "core/Volume.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "session/Session.h"
#include "widgets/SliceGeometry.h"

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QProgressBar;
class QSlider;
class QTabWidget;
class QToolButton;
class QAction;

namespace loupe::widgets {
class SliceLink;
class SliceView;
}

namespace loupe::gui {

class CandidatesPanel;
class ErrorBanner;

class StudyWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum class Layout { Sequences, Planes };

  // `host` must be scanned and outlive the window.
  explicit StudyWindow(host::PluginHost& host, QWidget* parent = nullptr);
  ~StudyWindow() override;

  // Loads a study off the GUI thread (a folder, or files/series folders); studyLoaded(ok) follows.
  // Errors go to the banner.
  void openStudy(const QStringList& paths);
  // Same, waiting for the result (command line, tests).
  bool openStudyAndWait(const QStringList& paths);
  // Shows a study already in memory (e.g. made by a test). `paths` are what it was read from (may be empty).
  void setStudy(Study study, const QStringList& paths = {});
  const Study& study() const { return study_; }
  QStringList studyPaths() const { return paths_; }
  // The reference (T2W, else the first sequence) everything is shown in.
  std::shared_ptr<const Volume> reference() const { return reference_; }

  void setLayout(Layout layout, widgets::SlicePlane plane, const QString& sequence = {});
  Layout layoutMode() const { return layout_; }
  widgets::SlicePlane plane() const { return plane_; }
  QVector<widgets::SliceView*> views() const { return views_; }
  widgets::SliceLink* link() const { return link_; }
  // Window/level of a sequence in every view that shows it.
  void setSequenceWindow(const QString& role, double low, double high);
  std::optional<std::pair<double, double>> sequenceWindow(const QString& role) const;

  // ---- detection (prostate.detect)
  bool runDetection(const std::vector<std::pair<std::string, std::string>>& params = {});
  void cancelDetection();
  bool isDetecting() const { return detecting_; }
  // Shows result volumes (likelihood, candidate labels) as overlays and candidates in the panel.
  void showDetection(const std::vector<session::StudyVolume>& volumes, std::vector<session::StudyCandidate> candidates);
  // Adds a label map (zones, lesion annotation) read from a volume file as an overlay.
  bool addLabelMap(const QString& path);
  void setOverlayOpacity(double opacity);
  void setOverlayOutline(bool outline);
  // Moves every view to a world point (LPS mm): crosshair there, views centred on it.
  void jumpTo(const Vec3& world);

  CandidatesPanel* candidatesPanel() const { return candidates_; }
  ErrorBanner* banner() const { return banner_; }

  // ---- sessions
  session::Session toSession() const;
  bool saveSession(const QString& path);
  // Re-reads the study's files and restores volumes, assessments and view; false + banner on errors.
  bool openSession(const QString& path);
  bool exportReport(const QString& path);
  QString sessionPath() const { return sessionPath_; }

 Q_SIGNALS:
  void studyLoaded(bool ok);
  void detectionFinished(bool ok);

 private:
  struct DetectOutcome;
  void createActions();
  void rebuildViews();
  void applyOverlays(widgets::SliceView* view) const;
  void applyDefaultWindow(widgets::SliceView* view);
  void onDetectionDone();
  void updateSequenceChoices();
  void updateActions();
  void show3D();
  QString locationOf(const Vec3& world) const;
  std::vector<session::StudyCandidate> candidatesFrom(const std::vector<Layer>& layers) const;

  host::PluginHost& host_;
  Study study_;
  QStringList paths_;
  std::shared_ptr<const Volume> reference_;
  std::map<QString, std::shared_ptr<const Volume>> sequences_;  // role -> volume
  QStringList order_;                                          // roles in display order
  std::map<QString, std::pair<double, double>> windows_;
  std::vector<session::StudyVolume> results_;
  std::shared_ptr<const Volume> labelMap_;  // a zone/annotation map added by the user
  QString labelMapName_;
  std::optional<session::RunRecord> run_;
  QString sessionPath_;

  Layout layout_ = Layout::Sequences;
  widgets::SlicePlane plane_ = widgets::SlicePlane::Axial;
  QString planeSequence_;
  double overlayOpacity_ = 0.45;
  bool overlayOutline_ = true;
  bool showLikelihood_ = true, showCandidates_ = true, showLabelMap_ = true;

  widgets::SliceLink* link_ = nullptr;
  QVector<widgets::SliceView*> views_;
  QPointer<widgets::SliceView> focusView_;
  QTabWidget* tabs_ = nullptr;
  QWidget* grid_ = nullptr;
  QGridLayout* gridLayout_ = nullptr;
  QWidget* pane3D_ = nullptr;
  QWidget* view3D_ = nullptr;  // VolumeView3D, made on first show
  CandidatesPanel* candidates_ = nullptr;
  ErrorBanner* banner_ = nullptr;
  QComboBox* layoutCombo_ = nullptr;
  QComboBox* planeCombo_ = nullptr;
  QComboBox* sequenceCombo_ = nullptr;
  QComboBox* presetCombo_ = nullptr;
  QCheckBox* likelihoodCheck_ = nullptr;
  QCheckBox* candidatesCheck_ = nullptr;
  QCheckBox* outlineCheck_ = nullptr;
  QSlider* opacitySlider_ = nullptr;
  QAction* detectAction_ = nullptr;
  QAction* cancelAction_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* stage_ = nullptr;
  QLabel* readout_ = nullptr;

  QFutureWatcher<Result<Study>> loadWatcher_;
  QStringList loadingPaths_;
  std::unique_ptr<QFutureWatcher<std::shared_ptr<DetectOutcome>>> detectWatcher_;
  CancelToken detectCancel_;
  bool detecting_ = false;
  std::vector<std::pair<std::string, std::string>> detectParams_;
};

}  // namespace loupe::gui
