#pragma once
// What `loupe` does with its command line:
//   loupe [IMAGE] [--task ID] [--param name=value]... [--device D] [--headless --out DIR] [--screenshot PNG]
//         [--compare] [--zoom F] [--compare-task ID[:name=value,...]] [--gallery DIR|LIST]
//   loupe --embeddings STORE|FILE.npy|IDX-DIR|fashion-mnist [--screenshot PNG]   (the Embedding Explorer)
//   loupe CASE.loupe | --open-session CASE.loupe [--screenshot PNG]      (a saved session)
//   loupe --report SESSION --out REPORT.pdf|.html
//   loupe --study T2W ADC DWI | --study FOLDER [--detect] [--label-map FILE] [--layout sequences|planes]
//         [--plane axial|sagittal|coronal|t2w|adc|dwi] [--screenshot PNG]       (an MRI study, StudyWindow)
// With --headless it runs the same pipeline as loupe-cli (plan, execute, write) without any window.
// --compare-task runs a second task (or the same task with other parameters) into a second view, side by
// side with the first result; --gallery shows a folder or a ranked list as a gallery window.
// A session (image, layers, view, bookmarks) is restored instead of running a task; --report writes a
// session's case report without a window (an offscreen QGuiApplication draws the PDF).

#include <QString>
#include <QStringList>

#include <string>
#include <utility>
#include <vector>

#include "core/Result.h"

namespace loupe::gui {

struct LaunchOptions {
  QString image;  // empty: the default photo
  QString taskId = QStringLiteral("forgery.ela");
  std::vector<std::pair<std::string, std::string>> params;
  QString device = QStringLiteral("auto");
  bool deviceGiven = false;  // --device on the command line (else Settings decide)
  bool headless = false;
  QString outDir;
  QString screenshot;
  bool compare = false;  // original and result side by side
  double zoom = 0.0;     // > 0: start at this zoom around the image centre (1 = 1:1); 0: fit
  QString session;       // a session file to open instead of IMAGE
  QString report;        // a session file whose report goes to --out
  QString compareTask;   // a second task for the second view ("" = none)
  std::vector<std::pair<std::string, std::string>> compareParams;
  QString gallery;       // a folder or a ranked list shown as a gallery
  QString embeddings;    // an embedding set (store folder, .npy, IDX folder, "fashion-mnist") in the explorer
  QStringList study;     // --study: an MRI study's files and/or DICOM folders (or one folder) for the StudyWindow
  bool detect = false;   // --detect: run prostate.detect once the study is open
  QString labelMap;      // --label-map: a label volume (zones, annotation) shown over the study
  QString studyLayout;   // --layout sequences|planes
  QString studyPlane;    // --plane axial|sagittal|coronal (sequences layout) or the sequence (planes layout)
  bool help = false;
  bool version = false;
};

// The photo opened when no IMAGE is given (LOUPE_DEFAULT_IMAGE, set by the build).
QString defaultImagePath();
// Parses `arguments` (argv, program name first). Usage errors come back as InvalidArgument.
Result<LaunchOptions> parseCommandLine(const QStringList& arguments, QString* helpText = nullptr);
// True when argv asks for --headless (or --report): then no QApplication (and no display) may be created.
bool wantsHeadless(int argc, char** argv);
// True when argv asks for --report: a QGuiApplication on the offscreen platform draws the PDF.
bool wantsReport(int argc, char** argv);

// Both expect the application object to exist already; they return the process exit code.
int runHeadless(const LaunchOptions& options);
int runReport(const LaunchOptions& options);
int runWindow(const LaunchOptions& options);

// main(): creates QCoreApplication or QApplication, parses, and runs one of the above.
int launch(int argc, char** argv);

}  // namespace loupe::gui
