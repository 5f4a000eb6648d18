// SliceView on the offscreen platform: window/level mapping and presets, right-drag windowing, linked
// navigation (wheel, click, zoom) across views of different sequences and planes, a marker voxel under the
// crosshair in two geometries, label/heatmap overlays, and the real Colin27 brain with the AAL atlas
// (Debian's mricron-data) as image and label overlay.
//
// References: grey levels are 255 * (v - low) / (high - low) worked out by hand; percentiles are numpy's
// linear percentile of 1..1000 (np.percentile(np.arange(1, 1001), [1, 99]) = 10.99, 990.01); overlay colours
// come from core/Colormap and the label's own colour; the AAL label under the crosshair is read from the
// atlas file independently (Volume::worldToIndex, nearest voxel).

#include <QtTest>

#include <QFile>
#include <memory>

#include "volume/VolumeIO.h"
#include "widgets/SliceLink.h"
#include "widgets/SliceView.h"

using namespace loupe;
using namespace loupe::widgets;

namespace {

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons,
               Qt::KeyboardModifiers mods = Qt::NoModifier) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, mods);
  QCoreApplication::sendEvent(w, &e);
}

void sendWheel(QWidget* w, QPointF pos, int steps, Qt::KeyboardModifiers mods = Qt::NoModifier) {
  QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, 120 * steps), Qt::NoButton, mods, Qt::NoScrollPhase, false);
  QCoreApplication::sendEvent(w, &e);
}

std::shared_ptr<const Volume> ramp(std::array<std::int64_t, 3> n, Vec3 spacing, Vec3 origin, Mat3 dir = identity3()) {
  Volume v = Volume::floatVolume(n, spacing, origin, dir);
  for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float(i % 1000);
  return std::make_shared<const Volume>(std::move(v));
}

}  // namespace

class TestSliceView : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void windowLevelMapsLinearly() {
    Volume v = Volume::floatVolume({4, 1, 1});
    v.floats = {50.f, 150.f, 200.f, 400.f};
    auto vol = std::make_shared<const Volume>(v);
    SliceView view;
    view.resize(200, 200);
    view.setReference(vol);
    view.setImage(vol, QStringLiteral("test"));
    view.setInterpolation(SliceInterpolation::Nearest);
    view.setWindow(100, 300);
    const QImage& img = view.sliceImage();
    QCOMPARE(img.size(), QSize(4, 1));
    QCOMPARE(qGray(img.pixel(0, 0)), 0);    // below the window
    QVERIFY(std::abs(qGray(img.pixel(1, 0)) - 64) <= 1);   // 255 * 50 / 200 = 63.75
    QVERIFY(std::abs(qGray(img.pixel(2, 0)) - 128) <= 1);  // 127.5
    QCOMPARE(qGray(img.pixel(3, 0)), 255);  // above
  }

  void presetsUseNumpyPercentilesAndFixedAdcRange() {
    Volume v = Volume::floatVolume({1000, 2, 1});
    for (int i = 0; i < 1000; ++i) v.floats[std::size_t(i)] = float(i + 1);  // row 2 stays 0 (background)
    auto vol = std::make_shared<const Volume>(v);
    SliceView view;
    view.setReference(vol);
    view.setImage(vol, QStringLiteral("x"));
    QVERIFY(view.applyPreset(QStringLiteral("auto")));
    QVERIFY(std::abs(view.windowLow() - 10.99) < 1e-3);
    QVERIFY(std::abs(view.windowHigh() - 990.01) < 1e-3);
    QVERIFY(view.applyPreset(QStringLiteral("adc")));
    QCOMPARE(view.windowLow(), 0.0);
    QCOMPARE(view.windowHigh(), 3000.0);
    QVERIFY(view.applyPreset(QStringLiteral("full")));
    QCOMPARE(view.windowLow(), 0.0);
    QCOMPARE(view.windowHigh(), 1000.0);
    QVERIFY(!view.applyPreset(QStringLiteral("nonsense")));
  }

  void rightDragWidensAndShiftsTheWindow() {
    auto vol = ramp({64, 64, 4}, {1, 1, 1}, {0, 0, 0});
    SliceView view;
    view.resize(300, 300);
    view.setReference(vol);
    view.setImage(vol, QStringLiteral("x"));
    view.setWindow(200, 400);
    QSignalSpy spy(&view, &SliceView::windowChanged);
    sendMouse(&view, QEvent::MouseButtonPress, {150, 150}, Qt::RightButton, Qt::RightButton);
    sendMouse(&view, QEvent::MouseMove, {210, 150}, Qt::NoButton, Qt::RightButton);
    QVERIFY(view.windowHigh() - view.windowLow() > 200);  // right: wider
    QVERIFY(std::abs((view.windowHigh() + view.windowLow()) / 2 - 300.0) < 1e-9);
    sendMouse(&view, QEvent::MouseMove, {210, 100}, Qt::NoButton, Qt::RightButton);
    QVERIFY((view.windowHigh() + view.windowLow()) / 2 < 300.0);  // up: lower level, brighter
    sendMouse(&view, QEvent::MouseButtonRelease, {210, 100}, Qt::RightButton, Qt::NoButton);
    QVERIFY(spy.count() >= 2);
  }

  void linkedViewsFollowWheelClickAndZoom() {
    // T2W-like reference (0.5 x 0.5 x 3 mm) and an ADC-like volume (2 x 2 x 3 mm, shifted), axial both,
    // plus a sagittal view of the reference: all on one link.
    auto t2 = ramp({96, 96, 12}, {0.5, 0.5, 3.0}, {-24, -24, -18});
    auto adc = ramp({30, 30, 14}, {2.0, 2.0, 3.0}, {-29, -31, -21});
    SliceLink link;
    SliceView a, b, s;
    for (SliceView* v : {&a, &b, &s}) {
      v->resize(300, 300);
      v->setLink(&link);
      v->setReference(t2);
    }
    a.setImage(t2, QStringLiteral("T2W"));
    b.setImage(adc, QStringLiteral("ADC"));
    s.setImage(t2, QStringLiteral("T2W"));
    s.setPlane(SlicePlane::Sagittal);
    QCOMPARE(a.slice(), 6);
    QCOMPARE(b.slice(), 6);

    const double zBefore = link.crosshair()[2];
    sendWheel(&a, {150, 150}, 2);
    QCOMPARE(a.slice(), 8);
    QCOMPARE(b.slice(), 8);  // same plane of the same reference grid
    QCOMPARE(link.crosshair()[2], zBefore + 2 * 3.0);
    QTest::keyClick(&b, Qt::Key_PageDown);
    QCOMPARE(a.slice(), 7);

    // A click in the ADC view moves the crosshair; the sagittal view goes to that x.
    const QPointF click(200, 120);
    const auto world = b.widgetToWorld(click);
    QVERIFY(world);
    sendMouse(&b, QEvent::MouseButtonPress, click, Qt::LeftButton, Qt::LeftButton);
    sendMouse(&b, QEvent::MouseButtonRelease, click, Qt::LeftButton, Qt::NoButton);
    for (int i = 0; i < 2; ++i) QVERIFY(std::abs(link.crosshair()[i] - (*world)[i]) < 1e-9);
    const double expectSlice = std::round((link.crosshair()[0] - t2->origin[0]) / t2->spacing[0]);
    QCOMPARE(s.slice(), int(expectSlice));
    // The crosshair is drawn where the click was, in both axial views.
    QVERIFY((a.worldToWidget(link.crosshair()) - click).manhattanLength() < 1e-6);
    QVERIFY((b.worldToWidget(link.crosshair()) - click).manhattanLength() < 1e-6);

    const double before = a.pixelsPerMm();
    sendWheel(&a, {150, 150}, 1, Qt::ControlModifier);
    QCOMPARE(link.zoom(), 1.25);
    QVERIFY(std::abs(a.pixelsPerMm() - before * 1.25) < 1e-9);
    QCOMPARE(b.pixelsPerMm(), a.pixelsPerMm());
    // Panning one view (middle drag) pans the other by the same millimetres.
    const QPointF p0 = b.worldToWidget(link.crosshair());
    sendMouse(&a, QEvent::MouseButtonPress, {150, 150}, Qt::MiddleButton, Qt::MiddleButton);
    sendMouse(&a, QEvent::MouseMove, {170, 140}, Qt::NoButton, Qt::MiddleButton);
    sendMouse(&a, QEvent::MouseButtonRelease, {170, 140}, Qt::MiddleButton, Qt::NoButton);
    const QPointF p1 = b.worldToWidget(link.crosshair());
    QVERIFY(std::abs((p1 - p0).x() - 20) < 1e-6);
    QVERIFY(std::abs((p1 - p0).y() + 10) < 1e-6);
  }

  void markerShowsUnderTheCrosshairInTwoGeometries() {
    // Oblique, anisotropic reference; the second volume has other spacing and direction and is built so
    // that its voxel (5, 7, 2) sits exactly at the reference voxel centre P = (20, 15, 3).
    const double c = std::cos(0.4), sn = std::sin(0.4);
    const Mat3 rot{c, -sn, 0, sn, c, 0, 0, 0, 1};
    Volume ref = Volume::floatVolume({48, 40, 8}, {0.7, 0.5, 3.0}, {3, -7, 11}, rot);
    ref.floats[ref.offset(20, 15, 3)] = 900.f;
    const Vec3 p = ref.indexToWorld({20, 15, 3});
    const double c2 = std::cos(-0.25), s2 = std::sin(-0.25);
    const Mat3 rot2{1, 0, 0, 0, c2, -s2, 0, s2, c2};
    Volume other = Volume::floatVolume({16, 18, 9}, {2.2, 1.9, 2.5}, {0, 0, 0}, rot2);
    const Vec3 step = mul3(other.indexToWorldMatrix(), {5, 7, 2});
    other.origin = {p[0] - step[0], p[1] - step[1], p[2] - step[2]};
    other.floats[other.offset(5, 7, 2)] = 900.f;
    auto r = std::make_shared<const Volume>(ref);
    auto o = std::make_shared<const Volume>(other);

    SliceLink link;
    SliceView a, b;
    for (SliceView* v : {&a, &b}) {
      v->resize(400, 400);
      v->setLink(&link);
      v->setReference(r);
      v->setInterpolation(SliceInterpolation::Linear);
    }
    a.setImage(r, QStringLiteral("ref"));
    b.setImage(o, QStringLiteral("other"));
    for (SliceView* v : {&a, &b}) v->setWindow(0, 900);
    link.setCrosshair(p);
    QCOMPARE(a.slice(), 3);
    QCOMPARE(a.imageValueAt(p).value(), 900.0);
    QCOMPARE(b.imageValueAt(p).value(), 900.0);
    QVERIFY(b.readoutAt(p).contains(QStringLiteral("other 900 [5 7 2]")));
    for (SliceView* v : {&a, &b}) {
      // The crosshair's widget position maps back to P ...
      const auto back = v->widgetToWorld(v->worldToWidget(p));
      QVERIFY(back);
      for (int i = 0; i < 3; ++i) QVERIFY(std::abs((*back)[i] - p[i]) < 1e-6);
      // ... and the brightest display pixel of the slice is the one under it.
      const QImage& img = v->sliceImage();
      const Vec3 d = v->frame().display(r->worldToIndex(p));
      const QPoint px{int(d[0]), int(d[1])};
      QCOMPARE(qGray(img.pixel(px)), 255);
      int brightest = 0;
      for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) brightest += qGray(img.pixel(x, y)) == 255 ? 1 : 0;
      QCOMPARE(brightest, 1);
    }
  }

  void overlaysFillOutlineAndHeatmap() {
    auto base = std::make_shared<const Volume>(Volume::floatVolume({20, 20, 3}));
    Volume lab = Volume::intVolume({20, 20, 3});
    for (int y = 5; y < 10; ++y)
      for (int x = 5; x < 10; ++x) lab.ints[lab.offset(x, y, 1)] = 3;
    Volume heat = Volume::floatVolume({20, 20, 3});
    heat.floats[heat.offset(15, 15, 1)] = 0.75f;
    SliceView view;
    view.resize(200, 200);
    view.setReference(base);
    view.setImage(base, QStringLiteral("zero"));
    view.setWindow(0, 1);  // the base is black
    view.setSlice(1);
    SliceOverlay labels;
    labels.id = QStringLiteral("zones");
    labels.title = QStringLiteral("zone");
    labels.kind = SliceOverlay::Kind::Labels;
    labels.volume = std::make_shared<const Volume>(lab);
    labels.opacity = 0.5;
    labels.labels = {{3, "peripheral", std::array<std::uint8_t, 3>{200, 100, 0}, true}};
    view.setOverlay(labels);
    QImage img = view.sliceImage();
    QCOMPARE(img.pixel(7, 7), qRgb(100, 50, 0));  // filled: half of (200, 100, 0) over black
    QCOMPARE(img.pixel(5, 5), qRgb(100, 50, 0));
    labels.outline = true;
    labels.fill = false;
    view.setOverlay(labels);
    img = view.sliceImage();
    QCOMPARE(img.pixel(5, 5), qRgb(200, 100, 0));  // edge: opaque label colour
    QCOMPARE(img.pixel(7, 7), qRgb(0, 0, 0));      // inside: not filled
    labels.labels[0].visible = false;
    view.setOverlay(labels);
    QCOMPARE(view.sliceImage().pixel(5, 5), qRgb(0, 0, 0));

    SliceOverlay h;
    h.id = QStringLiteral("likelihood");
    h.title = QStringLiteral("likelihood");
    h.volume = std::make_shared<const Volume>(heat);
    h.opacity = 1.0;
    h.colormap = Colormap::Magma;
    h.rangeMin = 0.f;
    h.rangeMax = 1.f;
    view.setOverlay(h);
    img = view.sliceImage();
    const auto expect = colormapColor(Colormap::Magma, 0.75f);
    QCOMPARE(img.pixel(15, 15), qRgb(expect[0], expect[1], expect[2]));
    QCOMPARE(img.pixel(14, 15), qRgb(0, 0, 0));  // 0 <= rangeMin: not drawn
    QVERIFY(view.readoutAt(base->indexToWorld({15, 15, 1})).contains(QStringLiteral("likelihood 0.750")));
  }

  void colin27WithAalAtlas() {
    const QString ch2 = QStringLiteral("/usr/share/mricron/templates/ch2.nii.gz");
    const QString aal = QStringLiteral("/usr/share/mricron/templates/aal.nii.gz");
    if (!QFile::exists(ch2) || !QFile::exists(aal)) QSKIP("mricron-data (ch2.nii.gz, aal.nii.gz) not installed");
    auto t1 = volume::readVolume(ch2.toStdString());
    auto atlas = volume::readVolume(aal.toStdString());
    QVERIFY2(t1, t1 ? "" : t1.error().message.c_str());
    QVERIFY2(atlas, atlas ? "" : atlas.error().message.c_str());
    QCOMPARE(atlas->type, VoxelType::Int32);
    auto brain = std::make_shared<const Volume>(std::move(*t1));
    auto labels = std::make_shared<const Volume>(std::move(*atlas));
    SliceLink link;
    SliceView axial, coronal;
    for (SliceView* v : {&axial, &coronal}) {
      v->resize(400, 400);
      v->setLink(&link);
      v->setReference(brain);
      v->setImage(brain, QStringLiteral("T1"));
      SliceOverlay o;
      o.id = QStringLiteral("aal");
      o.title = QStringLiteral("AAL");
      o.kind = SliceOverlay::Kind::Labels;
      o.volume = labels;
      o.opacity = 1.0;
      v->setOverlay(o);
    }
    coronal.setPlane(SlicePlane::Coronal);
    // A point inside a labelled region: the first voxel with a label, searched from the atlas centre.
    Vec3 point{};
    std::int32_t expected = 0;
    for (std::int64_t k = labels->size[2] / 2, found = 0; !found && k < labels->size[2]; ++k)
      for (std::int64_t j = labels->size[1] / 3; !found && j < labels->size[1]; ++j)
        for (std::int64_t i = labels->size[0] / 3; !found && i < labels->size[0]; ++i)
          if ((expected = labels->ints[labels->offset(i, j, k)]) > 0) {
            point = labels->indexToWorld({double(i), double(j), double(k)});
            found = 1;
          }
    QVERIFY(expected > 0);
    link.setCrosshair(point);
    QVERIFY(axial.readoutAt(point).contains(QStringLiteral("AAL %1").arg(expected)));
    // The overlay colour at the crosshair's display pixel is that label's palette colour, in both planes.
    for (SliceView* v : {&axial, &coronal}) {
      const Vec3 d = v->frame().display(brain->worldToIndex(point));
      const QRgb got = v->sliceImage().pixel(int(d[0]), int(d[1]));
      SliceView probe;  // the same label drawn alone over black gives the colour to expect
      Volume one = Volume::intVolume({1, 1, 1});
      one.ints[0] = expected;
      auto onev = std::make_shared<const Volume>(one);
      probe.setReference(onev);
      probe.setImage(std::make_shared<const Volume>(Volume::floatVolume({1, 1, 1})), QStringLiteral("zero"));
      SliceOverlay o = *v->overlay(QStringLiteral("aal"));
      o.volume = onev;
      probe.setOverlay(o);
      QCOMPARE(got, probe.sliceImage().pixel(0, 0));
    }
    // Changing slice renders quickly (a 181 x 217 slice; loose bound for a loaded 2-core machine).
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 20; ++i) {
      axial.stepSlice(i % 2 ? -1 : 1);
      axial.renderSlice();
    }
    QVERIFY2(t.elapsed() < 20 * 50, qPrintable(QStringLiteral("%1 ms for 20 slices").arg(t.elapsed())));
  }
};

QTEST_MAIN(TestSliceView)
#include "test_slice_view.moc"
