// Slice changes in the study window: three linked axial SliceViews (T2W, ADC, DWI; ADC and DWI resampled
// on the fly into the T2W grid), timed per slice change over many changes (median and max, ms):
//   loupe extract+compose  the three views' sampling + window/level + overlays (SliceView::renderSlice)
//   loupe with repaint     the same plus each view's paintEvent into a 512 x 512 pixmap (scaling, crosshair, text)
//   naive per-pixel        what a straightforward viewer does: per display pixel, index -> world -> source
//                          index by 3x3 matrix products, trilinear, window/level (same output, C++)
//   scipy map_coordinates  slice_view_peer.py: the same planes with NumPy affine + scipy.ndimage.map_coordinates
//                          (order 1), run by this program on the volumes it dumps, in the same run
// Usage: bench_slice_view [T2W ADC DWI | STUDY_FOLDER] [--changes N] [--no-peer]
// Default study: ProstateX-0000 (.mha) under ../shared/data/prostate_mri.

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPixmap>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "volume/Study.h"
#include "widgets/SliceLink.h"
#include "widgets/SliceView.h"

using namespace loupe;
using namespace loupe::widgets;

namespace {

struct Stats {
  double median = 0, max = 0, mean = 0;
};

Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  s.max = v.back();
  for (double x : v) s.mean += x / double(v.size());
  return s;
}

// The naive viewer: per display pixel, world = o + M i, source index = M_s^-1 (world - o_s), trilinear.
void naiveSlice(const Volume& ref, const SliceFrame& f, const Volume& src, int s, double lo, double hi, QImage& out) {
  const Mat3 m = ref.indexToWorldMatrix();
  const Mat3 inv = inverse3(src.indexToWorldMatrix());
  for (int v = 0; v < f.nv; ++v) {
    QRgb* row = reinterpret_cast<QRgb*>(out.scanLine(v));
    for (int u = 0; u < f.nu; ++u) {
      const Vec3 i = f.refIndex(u + 0.5, v + 0.5, s);
      const Vec3 d = mul3(m, i);
      const Vec3 w{ref.origin[0] + d[0], ref.origin[1] + d[1], ref.origin[2] + d[2]};
      const Vec3 x = mul3(inv, {w[0] - src.origin[0], w[1] - src.origin[1], w[2] - src.origin[2]});
      bool inside = true;
      for (int a = 0; a < 3; ++a) inside = inside && x[a] >= -0.5 && x[a] <= src.size[a] - 0.5;
      if (!inside) {
        row[u] = qRgb(0, 0, 0);
        continue;
      }
      double acc = 0;
      const double fr[3] = {x[0] - std::floor(x[0]), x[1] - std::floor(x[1]), x[2] - std::floor(x[2])};
      for (int c = 0; c < 8; ++c) {
        std::int64_t n[3];
        double wgt = 1;
        for (int a = 0; a < 3; ++a) {
          const bool up = (c >> a) & 1;
          n[a] = std::clamp<std::int64_t>(std::int64_t(std::floor(x[a])) + up, 0, src.size[a] - 1);
          wgt *= up ? fr[a] : 1 - fr[a];
        }
        acc += wgt * src.value(n[0], n[1], n[2]);
      }
      const int g = std::clamp(int(std::lround(255.0 * (acc - lo) / (hi - lo))), 0, 255);
      row[u] = qRgb(g, g, g);
    }
  }
}

bool dumpVolume(const Volume& v, const QString& dir, const QString& name, QJsonArray& index) {
  QFile f(dir + QLatin1Char('/') + name + QStringLiteral(".f32"));
  if (!f.open(QIODevice::WriteOnly)) return false;
  std::vector<float> data(static_cast<std::size_t>(v.voxelCount()));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = float(v.value(i));
  f.write(reinterpret_cast<const char*>(data.data()), qint64(data.size() * sizeof(float)));
  QJsonArray dir9;
  for (double d : v.direction) dir9.append(d);
  index.append(QJsonObject{{"name", name},
                           {"size", QJsonArray{double(v.size[0]), double(v.size[1]), double(v.size[2])}},
                           {"spacing", QJsonArray{v.spacing[0], v.spacing[1], v.spacing[2]}},
                           {"origin", QJsonArray{v.origin[0], v.origin[1], v.origin[2]}},
                           {"direction", dir9}});
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QStringList paths;
  int changes = 300;
  bool peer = true;
  const QStringList args = QCoreApplication::arguments().mid(1);
  for (int i = 0; i < args.size(); ++i) {
    if (args[i] == QLatin1String("--changes") && i + 1 < args.size()) changes = args[++i].toInt();
    else if (args[i] == QLatin1String("--no-peer")) peer = false;
    else paths << args[i];
  }
  if (paths.isEmpty()) {
    const QString d = QStringLiteral(LOUPE_SHARED_DATA_DIR "/prostate_mri/output-expected/mha/ProstateX/ProstateX-0000/");
    paths = {d + "ProstateX-0000_07-07-2011_t2w.mha", d + "ProstateX-0000_07-07-2011_adc.mha",
             d + "ProstateX-0000_07-07-2011_hbv.mha"};
  }
  std::vector<std::string> files;
  for (const QString& p : paths) files.push_back(QFile::encodeName(p).toStdString());
  QElapsedTimer load;
  load.start();
  auto study = volume::loadStudy(files);
  if (!study) {
    std::fprintf(stderr, "bench_slice_view: %s\n", study.error().message.c_str());
    return 3;
  }
  const double loadMs = load.nsecsElapsed() / 1e6;
  std::vector<std::pair<QString, std::shared_ptr<const Volume>>> seqs;
  for (const char* role : {"t2w", "adc", "dwi"})
    if (const Volume* v = study->find(role)) seqs.emplace_back(QString::fromLatin1(role), std::make_shared<const Volume>(*v));
  if (seqs.size() != 3 || seqs[0].first != QLatin1String("t2w")) {
    std::fprintf(stderr, "bench_slice_view: the study needs t2w, adc and dwi\n");
    return 3;
  }
  const auto ref = seqs[0].second;
  std::printf("study: %s (loaded in %.0f ms)\n", study->path.c_str(), loadMs);
  for (const auto& [role, v] : seqs)
    std::printf("  %-4s %lldx%lldx%lld voxels of %.3gx%.3gx%.3g mm\n", qPrintable(role), (long long)v->size[0],
                (long long)v->size[1], (long long)v->size[2], v->spacing[0], v->spacing[1], v->spacing[2]);

  SliceLink link;
  std::vector<std::unique_ptr<SliceView>> views;
  for (const auto& [role, v] : seqs) {
    auto view = std::make_unique<SliceView>();
    view->resize(512, 512);
    view->setLink(&link);
    view->setReference(ref);
    view->setImage(v, role);
    views.push_back(std::move(view));
  }
  // A likelihood-like heatmap overlay in the T2W grid on every view (as after Detect Lesions).
  Volume heat = ref->sameGrid(VoxelType::Float32);
  for (std::size_t i = 0; i < heat.floats.size(); ++i) heat.floats[i] = float((i * 2654435761u) % 1000) / 1000.f;
  SliceOverlay o;
  o.id = QStringLiteral("likelihood");
  o.title = QStringLiteral("likelihood");
  o.volume = std::make_shared<const Volume>(std::move(heat));
  o.rangeMin = 0.5f;
  for (auto& v : views) v->setOverlay(o);

  const int ns = views[0]->sliceCount();
  QPixmap canvas(512, 512);
  std::vector<double> extract, full, naive;
  for (int i = 0; i < changes; ++i) {
    const int s = (i * 7 + 1) % ns;  // every change lands on another slice
    QElapsedTimer t;
    t.start();
    views[0]->setSlice(s);
    for (auto& v : views) v->renderSlice();
    extract.push_back(t.nsecsElapsed() / 1e6);
    for (auto& v : views) v->render(&canvas);  // paintEvent: scaled raster, crosshair, text
    full.push_back(t.nsecsElapsed() / 1e6);
  }
  const SliceFrame f = views[0]->frame();
  QImage out(f.nu, f.nv, QImage::Format_RGB32);
  for (int i = 0; i < std::min(changes, 60); ++i) {
    const int s = (i * 7 + 1) % ns;
    QElapsedTimer t;
    t.start();
    for (std::size_t k = 0; k < seqs.size(); ++k)
      naiveSlice(*ref, f, *seqs[k].second, s, views[k]->windowLow(), views[k]->windowHigh(), out);
    naive.push_back(t.nsecsElapsed() / 1e6);
  }
  const Stats e = stats(extract), fu = stats(full), n = stats(naive);
  std::printf("\nslice change, 3 linked axial views (%dx%d display pixels each), ms:\n", f.nu, f.nv);
  std::printf("  %-34s median %7.2f  max %7.2f  (%zu changes)\n", "loupe extract+compose", e.median, e.max, extract.size());
  std::printf("  %-34s median %7.2f  max %7.2f  (%zu changes)\n", "loupe with repaint (512x512 each)", fu.median, fu.max, full.size());
  std::printf("  %-34s median %7.2f  max %7.2f  (%zu changes)\n", "naive per-pixel world->voxel (C++)", n.median, n.max, naive.size());

  if (!peer) return 0;
  QTemporaryDir dir;
  QJsonArray index;
  for (const auto& [role, v] : seqs)
    if (!dumpVolume(*v, dir.path(), role, index)) return 7;
  QJsonArray windows;
  for (auto& v : views) windows.append(QJsonArray{v->windowLow(), v->windowHigh()});
  QJsonObject job{{"volumes", index}, {"windows", windows}, {"changes", std::min(changes, 100)},
                  {"frame", QJsonObject{{"uAxis", f.uAxis}, {"vAxis", f.vAxis}, {"nAxis", f.nAxis}, {"flipU", f.flipU},
                                        {"flipV", f.flipV}}}};
  QFile jf(dir.filePath(QStringLiteral("job.json")));
  if (!jf.open(QIODevice::WriteOnly)) return 7;
  jf.write(QJsonDocument(job).toJson());
  jf.close();
  QProcess py;
  py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  py.start(QStringLiteral("/usr/bin/python3"),
           {QStringLiteral(LOUPE_SOURCE_DIR "/tests/bench/slice_view_peer.py"), dir.path()});
  if (!py.waitForFinished(600000) || py.exitCode() != 0) {
    std::fprintf(stderr, "slice_view_peer.py failed (needs python3-numpy and python3-scipy)\n");
    return 1;
  }
  const QJsonObject r = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
  std::printf("  %-34s median %7.2f  max %7.2f  (%d changes; scipy %s)\n", "scipy map_coordinates (order 1)",
              r.value("median_ms").toDouble(), r.value("max_ms").toDouble(), r.value("changes").toInt(),
              qPrintable(r.value("scipy").toString()));
  return 0;
}
