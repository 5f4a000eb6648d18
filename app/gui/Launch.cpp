#include "Launch.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QPixmap>
#include <QScreen>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>

#include "EmbeddingWindow.h"
#include "ErrorBanner.h"
#include "GalleryWindow.h"
#include "MainWindow.h"
#include "SessionController.h"
#include "host/ExitCodes.h"
#include "host/PluginHost.h"
#include "host/TaskRunner.h"
#include "session/Report.h"
#include "session/SessionFile.h"
#include "widgets/Gallery.h"
#include "widgets/ImageView.h"
#ifdef LOUPE_HAVE_STUDY_WINDOW
#include <QJsonDocument>
#include <QJsonObject>

#include "StudyWindow.h"
#include "widgets/SliceGeometry.h"
#endif

#ifndef LOUPE_DEFAULT_IMAGE
#define LOUPE_DEFAULT_IMAGE ""
#endif

namespace loupe::gui {

namespace {

int fail(int code, const QString& message) {
  std::fprintf(stderr, "loupe: error: %s\n", qPrintable(message));
  return code;
}

CancelToken g_cancel;

void onInterrupt(int) {
  g_cancel.cancel();
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl+C ends the process at once
}

void setApplicationNames() {
  QCoreApplication::setOrganizationName(QStringLiteral("Loupe"));
  QCoreApplication::setApplicationName(QStringLiteral("loupe"));
  QCoreApplication::setApplicationVersion(QString::fromStdString(host::loupeVersion()));
}

// Parses argv and handles --help/--version; returns an exit code when there is nothing more to do.
std::optional<int> prepare(const QStringList& arguments, LaunchOptions& options) {
  QString help;
  auto parsed = parseCommandLine(arguments, &help);
  if (!parsed) return fail(host::Usage, QString::fromStdString(parsed.error().message) + QStringLiteral(" (see loupe --help)"));
  if (parsed->help) {
    std::fputs(qPrintable(help), stdout);
    return host::Ok;
  }
  if (parsed->version) {
    std::printf("loupe %s\n", host::loupeVersion().c_str());
    return host::Ok;
  }
  options = std::move(*parsed);
  return std::nullopt;
}

}  // namespace

QString defaultImagePath() { return QStringLiteral(LOUPE_DEFAULT_IMAGE); }

bool wantsHeadless(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!std::strcmp(a, "--headless") || !std::strcmp(a, "--help") || !std::strcmp(a, "-h") ||
        !std::strcmp(a, "--version") || !std::strcmp(a, "-v") || !std::strncmp(a, "--report", 8))
      return true;
  }
  return false;
}

bool wantsReport(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strncmp(argv[i], "--report", 8)) return true;
  return false;
}

Result<LaunchOptions> parseCommandLine(const QStringList& arguments, QString* helpText) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Loupe analysis workbench. Opens IMAGE (default: a sample photo) and runs a task on it."));
  const QCommandLineOption help = parser.addHelpOption();
  const QCommandLineOption version = parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("image"), QStringLiteral("Image to open."), QStringLiteral("[IMAGE]"));
  const QCommandLineOption task(QStringLiteral("task"), QStringLiteral("Task to run (default forgery.ela)."),
                                QStringLiteral("id"), QStringLiteral("forgery.ela"));
  const QCommandLineOption param(QStringLiteral("param"), QStringLiteral("Task parameter (repeatable)."),
                                 QStringLiteral("name=value"));
  const QCommandLineOption device(QStringLiteral("device"), QStringLiteral("auto, cpu, cuda or cuda:N."),
                                  QStringLiteral("device"), QStringLiteral("auto"));
  const QCommandLineOption headless(QStringLiteral("headless"),
                                    QStringLiteral("No window: run the task like loupe-cli and write its results."));
  const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("Folder for the results (with --headless)."),
                               QStringLiteral("dir"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QStringLiteral("Save the window as PNG once the task has run, then quit."),
                                      QStringLiteral("png"));
  const QCommandLineOption compare(QStringLiteral("compare"),
                                   QStringLiteral("Show the original and the result side by side, synchronized."));
  const QCommandLineOption zoom(QStringLiteral("zoom"),
                                QStringLiteral("Start at this zoom around the image centre (1 = 1:1; default: fit)."),
                                QStringLiteral("factor"));
  // Not "--session": QGuiApplication takes that one (X11 session management) before we see it.
  const QCommandLineOption session(QStringLiteral("open-session"),
                                   QStringLiteral("Open a saved session (image, results, view, bookmarks) instead of "
                                                  "IMAGE; an IMAGE ending in .loupe is opened as a session too."),
                                   QStringLiteral("file"));
  const QCommandLineOption report(QStringLiteral("report"),
                                  QStringLiteral("Write the case report of a session to --out (.pdf or .html); no window."),
                                  QStringLiteral("session"));
  const QCommandLineOption compareTask(
      QStringLiteral("compare-task"),
      QStringLiteral("Also run this task (e.g. forgery.ela:quality=75,amplification=30) into a second view, side by "
                     "side with the first result, synchronized."),
      QStringLiteral("id[:name=value,...]"));
  const QCommandLineOption gallery(QStringLiteral("gallery"),
                                   QStringLiteral("Show a folder of images, or a ranked list (path,score[,caption] "
                                                  "per line), as a gallery; --screenshot then shows the gallery."),
                                   QStringLiteral("dir|list"));
  const QCommandLineOption study(QStringLiteral("study"),
                                 QStringLiteral("Open an MRI study in the study window: the IMAGE arguments are its "
                                                "files (T2W, ADC, DWI) and/or DICOM series folders, or one study folder."));
  const QCommandLineOption detect(QStringLiteral("detect"),
                                  QStringLiteral("With --study: run prostate.detect (lesion candidates) once it is open."));
  const QCommandLineOption labelMap(QStringLiteral("label-map"),
                                    QStringLiteral("With --study: show this label volume (zones, annotation) over it."),
                                    QStringLiteral("file"));
  const QCommandLineOption layout(QStringLiteral("layout"),
                                  QStringLiteral("With --study: sequences (side by side, default) or planes (one "
                                                 "sequence in 3 planes)."),
                                  QStringLiteral("layout"));
  const QCommandLineOption plane(QStringLiteral("plane"),
                                 QStringLiteral("With --study: axial, sagittal or coronal (sequences layout), or the "
                                                "sequence t2w, adc, dwi (planes layout)."),
                                 QStringLiteral("plane"));
  parser.addOptions({task, param, device, headless, out, screenshot, compare, zoom, session, report, compareTask, gallery});
  parser.addOptions({study, detect, labelMap, layout, plane});
  const QCommandLineOption embeddings(
      QStringLiteral("embeddings"),
      QStringLiteral("Open the Embedding Explorer on an embedding store folder, a .npy matrix (with its .csv), a "
                     "Fashion-MNIST IDX folder or the word fashion-mnist (Debian's copy); --screenshot shows it."),
      QStringLiteral("path"));
  parser.addOption(embeddings);
  if (helpText) *helpText = parser.helpText();
  if (!parser.parse(arguments)) return Error{ErrorCode::InvalidArgument, parser.errorText().toStdString()};

  LaunchOptions o;
  o.help = parser.isSet(help);
  o.version = parser.isSet(version);
  const QStringList positional = parser.positionalArguments();
  if (parser.isSet(study)) {
    if (positional.isEmpty()) return Error{ErrorCode::InvalidArgument, "--study needs its files or a folder"};
    if (parser.isSet(headless))
      return Error{ErrorCode::InvalidArgument, "--study opens a window; use loupe-cli run prostate.detect for files"};
    o.study = positional;
    o.detect = parser.isSet(detect);
    o.labelMap = parser.value(labelMap);
    o.studyLayout = parser.value(layout);
    o.studyPlane = parser.value(plane);
    o.screenshot = parser.value(screenshot);
    o.params.clear();
    for (const QString& text : parser.values(param)) {
      const int eq = text.indexOf(QLatin1Char('='));
      if (eq <= 0) return Error{ErrorCode::InvalidArgument, "--param expects name=value, got '" + text.toStdString() + "'"};
      o.params.emplace_back(text.left(eq).toStdString(), text.mid(eq + 1).toStdString());
    }
    if (!o.studyLayout.isEmpty() && o.studyLayout != QLatin1String("sequences") && o.studyLayout != QLatin1String("planes"))
      return Error{ErrorCode::InvalidArgument, "--layout expects sequences or planes, got '" + o.studyLayout.toStdString() + "'"};
    return o;
  }
  if (parser.isSet(detect) || parser.isSet(labelMap) || parser.isSet(layout) || parser.isSet(plane))
    return Error{ErrorCode::InvalidArgument, "--detect, --label-map, --layout and --plane go with --study"};
  if (positional.size() > 1)
    return Error{ErrorCode::InvalidArgument, "expected at most one IMAGE, got " + std::to_string(positional.size())};
  if (!positional.isEmpty()) o.image = positional.first();
  o.taskId = parser.value(task);
  o.device = parser.value(device);
  o.deviceGiven = parser.isSet(device);
  o.session = parser.value(session);
  if (o.session.isEmpty() && o.image.endsWith(QLatin1String(".loupe"), Qt::CaseInsensitive)) {
    o.session = o.image;
    o.image.clear();
  }
  o.report = parser.value(report);
  o.headless = parser.isSet(headless);
  o.outDir = parser.value(out);
  o.screenshot = parser.value(screenshot);
  o.compare = parser.isSet(compare);
  if (parser.isSet(zoom)) {
    bool ok = false;
    o.zoom = parser.value(zoom).toDouble(&ok);
    if (!ok || !(o.zoom > 0) || o.zoom > 64)
      return Error{ErrorCode::InvalidArgument, "--zoom expects a factor in (0, 64], got '" + parser.value(zoom).toStdString() + "'"};
  }
  for (const QString& text : parser.values(param)) {
    const int eq = text.indexOf(QLatin1Char('='));
    if (eq <= 0) return Error{ErrorCode::InvalidArgument, "--param expects name=value, got '" + text.toStdString() + "'"};
    o.params.emplace_back(text.left(eq).toStdString(), text.mid(eq + 1).toStdString());
  }
  if (parser.isSet(compareTask)) {
    const QString spec = parser.value(compareTask);
    const int colon = spec.indexOf(QLatin1Char(':'));
    o.compareTask = colon < 0 ? spec : spec.left(colon);
    if (o.compareTask.isEmpty())
      return Error{ErrorCode::InvalidArgument, "--compare-task expects id[:name=value,...], got '" + spec.toStdString() + "'"};
    if (colon >= 0)
      for (const QString& text : spec.mid(colon + 1).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const int eq = text.indexOf(QLatin1Char('='));
        if (eq <= 0)
          return Error{ErrorCode::InvalidArgument, "--compare-task: expected name=value, got '" + text.toStdString() + "'"};
        o.compareParams.emplace_back(text.left(eq).trimmed().toStdString(), text.mid(eq + 1).trimmed().toStdString());
      }
  }
  o.gallery = parser.value(gallery);
  o.embeddings = parser.value(embeddings);
  if (o.headless && !o.embeddings.isEmpty())
    return Error{ErrorCode::InvalidArgument, "--embeddings opens a window; drop --headless (loupe-cli has the store commands)"};
  if (o.help || o.version) return o;
  if (o.headless && (!o.compareTask.isEmpty() || !o.gallery.isEmpty()))
    return Error{ErrorCode::InvalidArgument, "--compare-task and --gallery need a window; drop --headless"};
  if (!o.report.isEmpty()) {
    if (o.outDir.isEmpty()) return Error{ErrorCode::InvalidArgument, "--report needs --out REPORT.pdf or REPORT.html"};
    if (!o.image.isEmpty() || !o.session.isEmpty() || parser.isSet(screenshot))
      return Error{ErrorCode::InvalidArgument, "--report takes only a session file and --out"};
    return o;
  }
  if (!o.session.isEmpty() && !o.image.isEmpty())
    return Error{ErrorCode::InvalidArgument, "give either IMAGE or --open-session, not both"};
  if (o.headless && !o.session.isEmpty())
    return Error{ErrorCode::InvalidArgument, "a session needs a window; use --report SESSION --out FILE for files"};
  if (o.headless && o.outDir.isEmpty()) return Error{ErrorCode::InvalidArgument, "--headless needs --out DIR"};
  if (!o.headless && parser.isSet(out)) return Error{ErrorCode::InvalidArgument, "--out is only used with --headless"};
  if (o.headless && parser.isSet(screenshot))
    return Error{ErrorCode::InvalidArgument, "--screenshot needs a window; drop --headless"};
  if (o.headless && (o.compare || o.zoom > 0))
    return Error{ErrorCode::InvalidArgument, "--compare and --zoom need a window; drop --headless"};
  return o;
}

int runHeadless(const LaunchOptions& options) {
  host::PluginHost host;
  host.scan();
  host::RunRequest request;
  request.taskId = options.taskId.toStdString();
  request.inputPath = QFile::encodeName(options.image.isEmpty() ? defaultImagePath() : options.image).toStdString();
  request.params = options.params;
  request.device = options.device.toStdString();

  host::RunStage stage = host::RunStage::Usage;
  auto plan = host::planRun(host, request, &stage);
  if (!plan) return fail(host::exitCodeFor(stage, plan.error()), QString::fromStdString(plan.error().message));
  for (const auto& w : plan->input.source.warnings) std::fprintf(stderr, "loupe: warning: %s\n", w.c_str());

  std::signal(SIGINT, onInterrupt);
  auto outcome = host::executeRun(*plan, g_cancel, Progress());
  std::signal(SIGINT, SIG_DFL);
  if (!outcome)
    return fail(host::exitCodeFor(host::RunStage::Task, outcome.error()),
                QString::fromStdString(plan->spec.id + ": " + outcome.error().message));

  const std::string outDir = QFile::encodeName(options.outDir).toStdString();
  auto written = host::writeRun(*plan, *outcome, outDir);
  if (!written) return fail(host::OutputFailed, QString::fromStdString(written.error().message));
  std::printf("%s: %zu layer(s) for %s written to %s in %.2f s on %s\n", plan->spec.id.c_str(), outcome->layers.size(),
              request.inputPath.c_str(), outDir.c_str(), outcome->seconds, plan->deviceName.c_str());
  return host::Ok;
}

int runReport(const LaunchOptions& options) {
  auto loaded = session::loadSession(options.report);
  if (!loaded) return fail(host::BadInput, QString::fromStdString(loaded.error().message));
  session::ReportOptions report;
  report.sessionPath = QFileInfo(options.report).absoluteFilePath();
  auto written = session::writeReport(*loaded, options.outDir, report);
  if (!written)
    return fail(written.error().code == ErrorCode::InvalidArgument ? host::Usage : host::OutputFailed,
                QString::fromStdString(written.error().message));
  std::printf("report of %s written to %s\n", qPrintable(options.report), qPrintable(options.outDir));
  return host::Ok;
}

#ifdef LOUPE_HAVE_STUDY_WINDOW
namespace {

// True when `path` is a session file holding an MRI study (read as JSON only; loading follows in the window).
bool isStudySession(const QString& path) {
  QFile file(path);
  if (path.isEmpty() || !file.open(QIODevice::ReadOnly) || file.size() > (256LL << 20)) return false;
  return QJsonDocument::fromJson(file.readAll()).object().contains(QStringLiteral("study"));
}

// `loupe --study ...` and study sessions: the StudyWindow alone.
int runStudyWindow(const LaunchOptions& options) {
  host::PluginHost host;
  host.scan();
  StudyWindow window(host);
  if (!options.screenshot.isEmpty())
    window.resize(window.screen()->availableGeometry().size().boundedTo(QSize(1600, 1000)));
  window.show();
  QCoreApplication::processEvents();
  bool ok = options.session.isEmpty() ? window.openStudyAndWait(options.study) : window.openSession(options.session);
  if (ok && !options.labelMap.isEmpty()) ok = window.addLabelMap(options.labelMap);
  if (ok && (!options.studyLayout.isEmpty() || !options.studyPlane.isEmpty())) {
    const bool planes = options.studyLayout == QLatin1String("planes");
    const auto plane = widgets::slicePlaneFromName(options.studyPlane.toStdString());
    window.setLayout(planes ? StudyWindow::Layout::Planes : StudyWindow::Layout::Sequences,
                     plane.value_or(widgets::SlicePlane::Axial), planes ? options.studyPlane : QString());
  }
  const bool detecting = ok && options.detect && window.runDetection(options.params);
  if (!options.screenshot.isEmpty()) {
    const QString target = options.screenshot;
    auto shoot = [&window, target](bool good) {
      QTimer::singleShot(300, &window, [&window, target, good] {
        if (!window.grab().save(target, "PNG")) {
          QCoreApplication::exit(fail(host::OutputFailed, QStringLiteral("cannot write %1").arg(target)));
          return;
        }
        std::printf("screenshot saved to %s\n", qPrintable(target));
        QCoreApplication::exit(good ? host::Ok : host::TaskFailed);
      });
    };
    if (detecting) {
      QObject::connect(&window, &StudyWindow::detectionFinished, &window, shoot, Qt::SingleShotConnection);
      QTimer::singleShot(300'000, &window, [&window] { window.cancelDetection(); });  // never hang a docs build
    } else {
      shoot(ok && !options.detect);
    }
  }
  return QApplication::exec();
}

}  // namespace
#endif

namespace {

// `loupe --embeddings PATH`: the Embedding Explorer alone; with --screenshot, shot once the PCA is drawn.
int runEmbeddingWindow(const LaunchOptions& options) {
  EmbeddingWindow window;
  if (!options.screenshot.isEmpty())
    window.resize(window.screen()->availableGeometry().size().boundedTo(QSize(1600, 1000)));
  window.show();
  QString error;
  const bool opened = window.open(options.embeddings, &error);
  if (!opened && options.screenshot.isEmpty()) std::fprintf(stderr, "loupe: %s\n", qPrintable(error));
  if (!options.screenshot.isEmpty()) {
    const QString target = options.screenshot;
    auto shoot = [&window, target](bool good) {
      QTimer::singleShot(500, &window, [&window, target, good] {
        if (!window.snapshot().save(target, "PNG")) {
          QCoreApplication::exit(fail(host::OutputFailed, QStringLiteral("cannot write %1").arg(target)));
          return;
        }
        std::printf("screenshot saved to %s\n", qPrintable(target));
        QCoreApplication::exit(good ? host::Ok : host::BadInput);
      });
    };
    if (opened) QObject::connect(&window, &EmbeddingWindow::projectionFinished, &window, shoot, Qt::SingleShotConnection);
    else shoot(false);
  }
  return QApplication::exec();
}

}  // namespace

int runWindow(const LaunchOptions& options) {
  if (!options.embeddings.isEmpty()) return runEmbeddingWindow(options);
#ifdef LOUPE_HAVE_STUDY_WINDOW
  if (!options.study.isEmpty() || isStudySession(options.session)) return runStudyWindow(options);
#endif
  host::PluginHost host;
  host.scan();
  MainWindow window(host);
  if (!options.screenshot.isEmpty()) window.setRecoveryPromptEnabled(false);  // documentation shots
  if (options.deviceGiven) window.setDevice(options.device);
  bool ready = window.selectTask(options.taskId);
  if (ready && !options.params.empty()) ready = window.applyParameters(options.params);
  if (!options.screenshot.isEmpty())  // documentation shots: as large as the screen allows, up to 1600 x 1000
    window.resize(window.screen()->availableGeometry().size().boundedTo(QSize(1600, 1000)));
  window.show();

  const QString path = options.image.isEmpty() ? defaultImagePath() : options.image;
  bool opened = false;
  bool fromSession = false;
  if (!options.session.isEmpty()) {
    QCoreApplication::processEvents();  // lay the window out first: the session's zoom is for the final size
    fromSession = window.session()->open(options.session);
    opened = fromSession;
  } else if (options.image.isEmpty() && (path.isEmpty() || !QFileInfo::exists(path)))
    window.banner()->showWarning(QObject::tr("The sample photo %1 is not installed (python3-skimage). Open an image "
                                             "with File > Open or drop one on the window.").arg(path));
  else
    opened = window.openImage(path);
  if (options.compare && !fromSession) window.setCompare(true);
  if (opened && options.zoom > 0) {
    QCoreApplication::processEvents();  // lay the window out first: the zoom centres in the final view size
    const QSize size = window.view()->imageSize();
    window.view()->setView(options.zoom, QPointF(size.width() / 2.0, size.height() / 2.0));
  }
  // With --gallery the gallery is the point: no task runs at start.
  const bool started = opened && ready && !fromSession && options.gallery.isEmpty() && window.runSelectedTask();
  // The second view runs at the same time as the first (both are listed in the Jobs panel).
  const bool compareStarted =
      opened && !options.compareTask.isEmpty() && window.runCompareTask(options.compareTask, options.compareParams);
  GalleryWindow* gallery = options.gallery.isEmpty() ? nullptr : window.openGallery(options.gallery);
  if (gallery && !options.screenshot.isEmpty()) gallery->resize(1200, 780);

  if (!options.screenshot.isEmpty()) {
    const QString target = options.screenshot;
    QWidget* subject = gallery ? static_cast<QWidget*>(gallery) : &window;
    auto shoot = [&window, subject, target](bool ok) {
      // Let the layout settle and the last repaint land before grabbing.
      QTimer::singleShot(300, &window, [subject, target, ok] {
        if (!subject->grab().save(target, "PNG")) {
          QCoreApplication::exit(fail(host::OutputFailed, QStringLiteral("cannot write %1").arg(target)));
          return;
        }
        std::printf("screenshot saved to %s\n", qPrintable(target));
        if (!ok) fail(host::TaskFailed, QStringLiteral("the analysis did not finish; the screenshot shows why"));
        QCoreApplication::exit(ok ? host::Ok : host::TaskFailed);
      });
    };
    auto pending = std::make_shared<int>(int(started) + int(compareStarted));
    auto allOk = std::make_shared<bool>(true);
    auto oneDone = [pending, allOk, shoot](bool ok) {
      *allOk = *allOk && ok;
      if (--*pending == 0) shoot(*allOk);
    };
    if (gallery) {
      // Wait until the thumbnails on screen have arrived (or 60 s), checking every 50 ms.
      auto* poll = new QTimer(gallery);
      auto waited = std::make_shared<QElapsedTimer>();
      waited->start();
      QObject::connect(poll, &QTimer::timeout, gallery, [poll, gallery, waited, shoot] {
        const bool done = gallery->gallery()->visibleThumbnailsDone();
        if (!done && waited->elapsed() < 60'000) return;
        poll->stop();
        shoot(done);
      });
      poll->start(50);
    } else if (*pending > 0) {
      if (started) QObject::connect(&window, &MainWindow::runFinished, &window, oneDone, Qt::SingleShotConnection);
      if (compareStarted) QObject::connect(&window, &MainWindow::compareFinished, &window, oneDone, Qt::SingleShotConnection);
      QTimer::singleShot(300'000, &window, [&window] { window.cancelRun(); });  // never hang a docs build
    } else {
      shoot(fromSession || (!options.gallery.isEmpty() && gallery));
    }
  }
  return QApplication::exec();
}

int launch(int argc, char** argv) {
  if (wantsReport(argc, argv)) {
    // Fonts and PDF drawing need a QGuiApplication; the offscreen platform needs no display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    setApplicationNames();
    LaunchOptions options;
    if (auto code = prepare(QCoreApplication::arguments(), options)) return *code;
    return runReport(options);
  }
  if (wantsHeadless(argc, argv)) {
    QCoreApplication app(argc, argv);
    setApplicationNames();
    LaunchOptions options;
    if (auto code = prepare(QCoreApplication::arguments(), options)) return *code;
    if (!options.headless) return fail(host::Usage, QStringLiteral("--headless must be given as an option"));
    return runHeadless(options);
  }
  QApplication app(argc, argv);
  setApplicationNames();
  QApplication::setApplicationDisplayName(QStringLiteral("Loupe"));
  LaunchOptions options;
  if (auto code = prepare(QCoreApplication::arguments(), options)) return *code;
  return runWindow(options);
}

}  // namespace loupe::gui
