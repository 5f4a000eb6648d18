// The 3-D view (widgets/VolumeView3D) in a real window under Xvfb (Mesa llvmpipe, OpenGL 3.2+ core):
// pixels are drawn for a sphere label volume, in the right place and colour; the surface's world bounds
// match the known ball in an oblique, anisotropic grid; the patient's left is on the screen's right in
// the default (anterior) view; the crosshair is drawn; mouse drags rotate and reset restores the view;
// an empty label volume leaves a clear, empty state; real data (mricron-data's Colin27 T1 and AAL atlas)
// renders with one surface per atlas label.
//
// References: ball centre/radius are chosen here (tests/volume3d/SyntheticVolumes.h); colours are the
// view's palette / the styles set here; the AAL label count is counted from the NIfTI voxels here.
#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <cmath>
#include <set>

#include "SyntheticVolumes.h"
#include "volume/VolumeIO.h"
#include "widgets/VolumeView3D.h"

using namespace loupe;
using loupe::widgets::VolumeView3D;

namespace {

const char* kCh2 = "/usr/share/mricron/templates/ch2.nii.gz";
const char* kAal = "/usr/share/mricron/templates/aal.nii.gz";

// Pixels close to `c` (each channel within `tol`).
struct Blob {
  int count = 0;
  double cx = 0, cy = 0;
};
Blob pixelsNear(const QImage& img, QColor c, int tol) {
  Blob b;
  const QImage im = img.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < im.height(); ++y) {
    const QRgb* row = reinterpret_cast<const QRgb*>(im.constScanLine(y));
    for (int x = 0; x < im.width(); ++x) {
      if (std::abs(qRed(row[x]) - c.red()) <= tol && std::abs(qGreen(row[x]) - c.green()) <= tol &&
          std::abs(qBlue(row[x]) - c.blue()) <= tol) {
        ++b.count;
        b.cx += x;
        b.cy += y;
      }
    }
  }
  if (b.count) {
    b.cx /= b.count;
    b.cy /= b.count;
  }
  return b;
}

// Pixels whose colour is strongly saturated (the background is a grey gradient, surfaces are coloured).
int saturatedPixels(const QImage& img) {
  int n = 0;
  const QImage im = img.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < im.height(); ++y) {
    const QRgb* row = reinterpret_cast<const QRgb*>(im.constScanLine(y));
    for (int x = 0; x < im.width(); ++x) {
      const int mx = std::max({qRed(row[x]), qGreen(row[x]), qBlue(row[x])});
      const int mn = std::min({qRed(row[x]), qGreen(row[x]), qBlue(row[x])});
      if (mx - mn > 60) ++n;
    }
  }
  return n;
}

int differingPixels(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
  if (x.size() != y.size()) return x.width() * x.height();
  int n = 0;
  for (int r = 0; r < x.height(); ++r) {
    const QRgb* p = reinterpret_cast<const QRgb*>(x.constScanLine(r));
    const QRgb* q = reinterpret_cast<const QRgb*>(y.constScanLine(r));
    for (int c = 0; c < x.width(); ++c)
      if (std::abs(qRed(p[c]) - qRed(q[c])) + std::abs(qGreen(p[c]) - qGreen(q[c])) + std::abs(qBlue(p[c]) - qBlue(q[c])) > 24)
        ++n;
  }
  return n;
}

VolumeView3D::LabelStyle solid(std::int32_t label, QColor c) {
  VolumeView3D::LabelStyle s;
  s.label = label;
  s.color = c;
  s.opacity = 1.0;
  return s;
}

// LOUPE_TEST_IMAGES=<folder>: keep the rendered pictures for a look.
void keep(const QImage& img, const QString& name) {
  const QString dir = qEnvironmentVariable("LOUPE_TEST_IMAGES");
  if (!dir.isEmpty()) img.save(dir + "/" + name + ".png");
}

}  // namespace

class TestVolumeView3D : public QObject {
  Q_OBJECT
  std::unique_ptr<VolumeView3D> view;

 private Q_SLOTS:
  void init() {
    view = std::make_unique<VolumeView3D>();
    view->resize(480, 360);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view.get()));
    view->grabRendered();  // makes the context
    if (!view->isReady()) QFAIL(qPrintable("no OpenGL 3.2 context (run under xvfb-run): " + view->lastError()));
  }
  void cleanup() { view.reset(); }

  void sphereSurfaceIsDrawnInItsColourAtTheCentre() {
    const QImage empty = view->grabRendered();
    keep(empty, "empty");
    QCOMPARE(saturatedPixels(empty), 0);
    const Volume grid = test::obliqueGrid();
    const Volume labels = test::ballLabels(grid, {{test::gridCentre(grid), 11.0, 1}});
    view->setLabelStyles(0, {solid(1, QColor(255, 40, 40))});
    view->setLabelSurfaces(labels);
    view->setCrosshairVisible(false);
    view->resetCamera();
    const QImage img = view->grabRendered();
    keep(img, "sphere");
    QCOMPARE(img.size(), QSize(480, 360) * view->devicePixelRatioF());
    QCOMPARE(view->surfaceCount(), 1);
    // Lit red: red clearly above green and blue. The ball is the only thing shown, centred by reset.
    int red = 0;
    double cx = 0, cy = 0;
    const QImage im = img.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < im.height(); ++y)
      for (int x = 0; x < im.width(); ++x) {
        const QRgb p = im.pixel(x, y);
        if (qRed(p) > 80 && qRed(p) > 2 * qGreen(p) + 20 && qRed(p) > 2 * qBlue(p) + 20) {
          ++red;
          cx += x;
          cy += y;
        }
      }
    QVERIFY2(red > im.width() * im.height() / 10, qPrintable(QString("%1 red pixels").arg(red)));
    cx /= red;
    cy /= red;
    QVERIFY2(std::abs(cx - im.width() / 2.0) < 0.05 * im.width() && std::abs(cy - im.height() / 2.0) < 0.05 * im.height(),
             qPrintable(QString("red centroid %1,%2").arg(cx).arg(cy)));
  }

  void surfaceBoundsAreTheBallsInWorldSpace() {
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    const double r = 11.0;
    view->setLabelSurfaces(test::ballLabels(grid, {{c, r, 4}}));
    QCOMPARE(view->surfaceLabels(), (std::vector<std::int32_t>{4}));
    const auto b = view->surfaceBounds(4);
    const double tol = test::halfVoxelDiagonal(grid);
    for (int d = 0; d < 3; ++d)
      QVERIFY2(std::abs(b[2 * d] - (c[d] - r)) < tol && std::abs(b[2 * d + 1] - (c[d] + r)) < tol,
               qPrintable(QString("axis %1: %2..%3, ball %4 +- %5").arg(d).arg(b[2 * d]).arg(b[2 * d + 1]).arg(c[d]).arg(r)));
    QCOMPARE(view->surfaceBounds(99), (std::array<double, 6>{0, 0, 0, 0, 0, 0}));
    // The scene holds the surface (no volume set): scene bounds are its bounds.
    QCOMPARE(view->sceneBounds(), b);
  }

  void patientLeftIsOnTheScreensRightInTheDefaultView() {
    // LPS: +x is the patient's left. Label 1 (green) on the patient's right, label 2 (blue) on the left.
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    view->setLabelStyles(0, {solid(1, QColor(0, 255, 0)), solid(2, QColor(0, 0, 255))});
    view->setLabelSurfaces(test::ballLabels(grid, {{{c[0] - 10, c[1], c[2]}, 5, 1}, {{c[0] + 10, c[1], c[2]}, 5, 2}}));
    view->setCrosshairVisible(false);
    view->resetCamera();
    const QImage img = view->grabRendered().convertToFormat(QImage::Format_RGB32);
    keep(img, "left-right");
    double gx = 0, bx = 0;
    int gn = 0, bn = 0;
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) {
        const QRgb p = img.pixel(x, y);
        if (qGreen(p) > 60 && qGreen(p) > 2 * qRed(p) + 20 && qGreen(p) > 2 * qBlue(p) + 20) gx += x, ++gn;
        if (qBlue(p) > 60 && qBlue(p) > 2 * qRed(p) + 20 && qBlue(p) > 2 * qGreen(p) + 20) bx += x, ++bn;
      }
    QVERIFY2(gn > 200 && bn > 200, qPrintable(QString("%1 green, %2 blue pixels").arg(gn).arg(bn)));
    QVERIFY2(gx / gn < img.width() / 2.0 && bx / bn > img.width() / 2.0,
             qPrintable(QString("right ball at x=%1, left ball at x=%2").arg(gx / gn).arg(bx / bn)));
  }

  void crosshairIsDrawn() {
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    view->setVolume(test::ballLabels(grid, {}));  // a volume of zeros: the scene's extent, nothing visible
    view->setVolumeMode(VolumeView3D::VolumeMode::Hidden);
    view->setCrosshairVisible(true);
    const QImage before = view->grabRendered();
    view->setCrosshair({c[0], c[1], c[2]});
    const QImage after = view->grabRendered();
    keep(after, "crosshair");
    const Blob yellow = pixelsNear(after, QColor(255, 217, 26), 60);
    QVERIFY2(yellow.count > 100, qPrintable(QString("%1 crosshair pixels").arg(yellow.count)));
    QCOMPARE(pixelsNear(before, QColor(255, 217, 26), 60).count, 0);
    view->setCrosshairVisible(false);
    QCOMPARE(pixelsNear(view->grabRendered(), QColor(255, 217, 26), 60).count, 0);
  }

  void mouseDragRotatesAndResetRestores() {
    const Volume grid = test::obliqueGrid();
    const Vec3 c = test::gridCentre(grid);
    // An elongated pair of balls: a rotation about the vertical axis changes the picture a lot.
    view->setLabelSurfaces(test::ballLabels(grid, {{{c[0] - 10, c[1], c[2]}, 5, 1}, {{c[0] + 10, c[1], c[2]}, 5, 2}}));
    view->resetCamera();
    const QImage start = view->grabRendered();
    QTest::mousePress(view.get(), Qt::LeftButton, Qt::NoModifier, QPoint(240, 180));
    for (int x = 250; x <= 400; x += 10) {
      QMouseEvent move(QEvent::MouseMove, QPointF(x, 180), view->mapToGlobal(QPointF(x, 180)), Qt::NoButton,
                       Qt::LeftButton, Qt::NoModifier);
      QApplication::sendEvent(view.get(), &move);
    }
    QTest::mouseRelease(view.get(), Qt::LeftButton, Qt::NoModifier, QPoint(400, 180));
    const QImage rotated = view->grabRendered();
    keep(start, "rotate-start");
    keep(rotated, "rotated");
    keep(view->grabRendered(), "rotated-again");
    QVERIFY2(differingPixels(start, rotated) > 2000, qPrintable(QString("%1").arg(differingPixels(start, rotated))));
    QTest::keyClick(view.get(), Qt::Key_R);
    QCOMPARE(differingPixels(start, view->grabRendered()), 0);
    // Wheel zooms in: the balls cover more pixels.
    const int before = saturatedPixels(view->grabRendered());
    QWheelEvent wheel(QPointF(240, 180), view->mapToGlobal(QPointF(240, 180)), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view.get(), &wheel);
    QVERIFY(saturatedPixels(view->grabRendered()) > before);
  }

  void emptyLabelVolumeClearsTheSurfaces() {
    const Volume grid = test::obliqueGrid();
    view->setLabelSurfaces(test::ballLabels(grid, {{test::gridCentre(grid), 8, 1}}));
    QCOMPARE(view->surfaceCount(), 1);
    view->setLabelSurfaces(test::ballLabels(grid, {}));  // all zero
    QCOMPARE(view->surfaceCount(), 0);
    QVERIFY(view->surfaceLabels().empty());
    view->setLabelSurfaces(Volume{});  // no voxels at all
    QCOMPARE(view->surfaceCount(), 0);
    QCOMPARE(view->sceneBounds(), (std::array<double, 6>{0, 0, 0, 0, 0, 0}));
    view->setCrosshair({1, 2, 3});  // nothing to span: no crosshair, no crash
    const QImage img = view->grabRendered();
    QVERIFY(!img.isNull());
    QCOMPARE(saturatedPixels(img), 0);
    QCOMPARE(pixelsNear(img, QColor(255, 217, 26), 60).count, 0);
  }

  void volumeRenderingAndSlicesDrawTheVolume() {
    const Volume grid = test::obliqueGrid();
    Volume v = test::ballLabels(grid, {{test::gridCentre(grid), 12, 1000}});
    v.type = VoxelType::Float32;
    v.floats.assign(v.ints.begin(), v.ints.end());
    v.ints.clear();
    const QImage background = view->grabRendered();
    view->setVolume(v);
    view->setCrosshairVisible(false);
    view->setVolumeMode(VolumeView3D::VolumeMode::Rendering);
    const QImage rendered = view->grabRendered();
    QVERIFY2(differingPixels(background, rendered) > 2000, "volume rendering drew nothing");
    view->setVolumeMode(VolumeView3D::VolumeMode::Slices);
    const QImage slices = view->grabRendered();
    keep(rendered, "volume-rendering");
    keep(slices, "volume-slices");
    QVERIFY2(differingPixels(background, slices) > 2000, "slices drew nothing");
    QVERIFY(differingPixels(rendered, slices) > 500);
    view->setVolumeMode(VolumeView3D::VolumeMode::Hidden);
    QVERIFY(differingPixels(background, view->grabRendered()) < 50);
    // The scene is the volume's world box: its corners.
    const auto b = view->sceneBounds();
    double lo = 1e9, hi = -1e9;
    for (const Vec3& c : grid.cornersWorld()) lo = std::min(lo, c[0]), hi = std::max(hi, c[0]);
    QVERIFY(std::abs(b[0] - lo) < 1e-6 && std::abs(b[1] - hi) < 1e-6);
  }

  void realAtlasGivesOneSurfacePerLabel() {
    if (!QFile::exists(kAal) || !QFile::exists(kCh2)) QSKIP("mricron-data is not installed");
    auto aal = volume::readVolume(kAal);
    QVERIFY2(aal.ok(), aal.ok() ? "" : aal.error().message.c_str());
    auto ch2 = volume::readVolume(kCh2);
    QVERIFY2(ch2.ok(), ch2.ok() ? "" : ch2.error().message.c_str());
    std::set<std::int32_t> labels;
    for (std::size_t i = 0; i < std::size_t(aal->voxelCount()); ++i)
      if (aal->value(i) != 0) labels.insert(std::int32_t(std::lround(aal->value(i))));
    QElapsedTimer t;
    t.start();
    view->setVolume(*ch2);
    view->setLabelSurfaces(*aal);
    const qint64 buildMs = t.elapsed();
    QCOMPARE(view->surfaceCount(), int(labels.size()));
    // Every surface lies inside the atlas' world box (+ one voxel).
    std::array<double, 6> box{1e9, -1e9, 1e9, -1e9, 1e9, -1e9};
    for (const Vec3& c : aal->cornersWorld())
      for (int d = 0; d < 3; ++d) box[2 * d] = std::min(box[2 * d], c[d]), box[2 * d + 1] = std::max(box[2 * d + 1], c[d]);
    for (std::int32_t l : view->surfaceLabels()) {
      const auto b = view->surfaceBounds(l);
      for (int d = 0; d < 3; ++d)
        QVERIFY(b[2 * d] >= box[2 * d] - aal->spacing[d] && b[2 * d + 1] <= box[2 * d + 1] + aal->spacing[d]);
    }
    t.restart();
    const QImage img = view->grabRendered();
    const qint64 renderMs = t.elapsed();
    keep(img, "aal");
    QVERIFY(saturatedPixels(img) > img.width() * img.height() / 20);
    qInfo("AAL: %d surfaces built in %lld ms (with ch2 upload), first frame %lld ms", view->surfaceCount(), buildMs,
          renderMs);
  }

  // Not a check: LOUPE_SCREENSHOT_DIR=<folder> writes the documentation's pictures of real data
  // (study-3d.png: the ProstateX T2W as slices with its lesion annotation; brain-3d.png: Colin27 + AAL).
  void screenshots() {
    const QString dir = qEnvironmentVariable("LOUPE_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("set LOUPE_SCREENSHOT_DIR to write the documentation screenshots");
    view->resize(900, 640);
    const QString t2 = QStringLiteral(LOUPE_SHARED_DATA_DIR
                                      "/prostate_mri/input/dcm/ProstateX/ProstateX-0000/07-07-2011/4.000000-t2tsetra-00702");
    const QString lesion = QStringLiteral(LOUPE_SHARED_DATA_DIR
                                          "/prostate_mri/input/annotations/ProstateX/ProstateX-0000_07-07-2011.nii.gz");
    if (QFile::exists(lesion)) {
      auto v = volume::readVolume(t2.toStdString());
      auto l = volume::readVolume(lesion.toStdString());
      QVERIFY(v.ok() && l.ok());
      view->setVolume(*v);
      view->setVolumeMode(VolumeView3D::VolumeMode::Slices);
      VolumeView3D::LabelStyle red = solid(1, QColor(230, 40, 40));
      red.opacity = 0.9;
      view->setLabelStyles(0, {red});
      view->setLabelSurfaces(*l);
      const auto b = view->surfaceBounds(1);
      view->setCrosshair({0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3]), 0.5 * (b[4] + b[5])});
      view->resetCamera();
      view->rotateView(-35, 30);  // from the patient's right, above: the axial plane and the lesion show
      QVERIFY(view->grabRendered().save(dir + "/study-3d.png"));
    }
    if (QFile::exists(kAal)) {
      auto ch2 = volume::readVolume(kCh2);
      auto aal = volume::readVolume(kAal);
      QVERIFY(ch2.ok() && aal.ok());
      view->setVolume(*ch2);
      view->setVolumeMode(VolumeView3D::VolumeMode::Rendering);
      view->setLabelStyles(0, {});
      view->setLabelSurfaces(*aal);
      view->setCrosshairVisible(false);
      view->resetCamera();
      QVERIFY(view->grabRendered().save(dir + "/brain-3d.png"));
    }
  }
};

QTEST_MAIN(TestVolumeView3D)
#include "test_volume_view3d.moc"
