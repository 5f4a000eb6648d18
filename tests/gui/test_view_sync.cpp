// ViewSync: zooming and panning one view moves the others (same image coordinates for images of the
// same size, relative positions for different sizes); the cursor over one is a crosshair in the others.
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <cmath>
#include <memory>

#include "ViewTestUtil.h"
#include "widgets/ImageView.h"
#include "widgets/ViewSync.h"

using namespace loupe;
using namespace loupe::widgets;
using loupe::test::shot;

namespace {

const QColor kGrey(128, 128, 128);

bool near(QPointF a, QPointF b, double tol = 1e-9) { return std::abs(a.x() - b.x()) <= tol && std::abs(a.y() - b.y()) <= tol; }

void sendMouse(QWidget* w, QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(w, &e);
}

}  // namespace

class TestViewSync : public QObject {
  Q_OBJECT

  std::unique_ptr<ImageView> a_, b_;
  std::unique_ptr<ViewSync> sync_;

  bool setUp(const Image& left, const Image& right) {
    a_ = std::make_unique<ImageView>();
    b_ = std::make_unique<ImageView>();
    for (ImageView* v : {a_.get(), b_.get()}) v->resize(300, 200);
    a_->setImage(left);
    b_->setImage(right);
    a_->show();
    b_->show();
    if (!QTest::qWaitForWindowExposed(a_.get()) || !QTest::qWaitForWindowExposed(b_.get())) return false;
    sync_ = std::make_unique<ViewSync>();
    sync_->addView(a_.get());
    sync_->addView(b_.get());
    return true;
  }

 private Q_SLOTS:
  void cleanup() {
    sync_.reset();
    a_.reset();
    b_.reset();
  }

  void zoomAndPanInOneViewReproduceInTheOther() {
    QVERIFY(setUp(test::solidImage(600, 400, kGrey), test::solidImage(600, 400, Qt::white)));
    QCOMPARE(sync_->views().size(), 2);

    // Wheel over A, off-centre.
    QWheelEvent wheel(QPointF(70, 40), a_->mapToGlobal(QPoint(70, 40)), QPoint(), QPoint(0, 360), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(a_.get(), &wheel);
    QVERIFY(!a_->isFitMode());
    QCOMPARE(b_->scale(), a_->scale());
    QVERIFY(near(b_->viewCentre(), a_->viewCentre()));
    QVERIFY(near(b_->offset(), a_->offset()));  // same widget size: identical transforms

    // Drag in A.
    const QPointF before = b_->offset();
    sendMouse(a_.get(), QEvent::MouseButtonPress, {100, 100}, Qt::LeftButton, Qt::LeftButton);
    sendMouse(a_.get(), QEvent::MouseMove, {125, 90}, Qt::NoButton, Qt::LeftButton);
    sendMouse(a_.get(), QEvent::MouseButtonRelease, {125, 90}, Qt::LeftButton, Qt::NoButton);
    QVERIFY(near(b_->offset() - before, QPointF(25, -10)));
    QVERIFY(near(b_->offset(), a_->offset()));

    // And back from B to A.
    b_->setView(3.0, QPointF(420, 130));
    QCOMPARE(a_->scale(), 3.0);
    QVERIFY(near(a_->viewCentre(), QPointF(420, 130)));

    // Fit in one fits both.
    a_->fitToWindow();
    QVERIFY(b_->isFitMode());
    QCOMPARE(b_->scale(), b_->fitScale());

    // Same transform, same image point under the same screen pixel: drawn pixels line up.
    a_->setView(2.0, QPointF(300, 200));
    for (const QPointF p : {QPointF(0, 0), QPointF(150, 100), QPointF(299, 199)})
      QVERIFY(near(a_->transform().toImage(p), b_->transform().toImage(p)));
  }

  void imagesOfDifferentSizesMapByRelativePosition() {
    QVERIFY(setUp(test::solidImage(600, 400, kGrey), test::solidImage(300, 200, kGrey)));
    a_->setView(1.0, QPointF(450, 100));
    // B's image is half the size: twice the scale (the same on-screen size) and the centre at half.
    QCOMPARE(b_->scale(), 2.0);
    QVERIFY(near(b_->viewCentre(), QPointF(225, 50)));
    QCOMPARE(ViewSync::mapPosition(a_.get(), b_.get(), QPointF(600, 400)), QPointF(300, 200));
    QCOMPARE(ViewSync::mapPosition(b_.get(), a_.get(), QPointF(30, 20)), QPointF(60, 40));
  }

  void cursorShowsAsCrosshairInTheOtherViews() {
    QVERIFY(setUp(test::solidImage(600, 400, kGrey), test::solidImage(600, 400, kGrey)));
    a_->setView(1.0, QPointF(300, 200));
    const QImage plain = shot(*b_);
    QVERIFY(!b_->crosshair());

    sendMouse(a_.get(), QEvent::MouseMove, {100, 60}, Qt::NoButton, Qt::NoButton);
    const QPointF imagePos = a_->transform().toImage(QPointF(100, 60));
    QVERIFY(b_->crosshair());
    QVERIFY(near(*b_->crosshair(), imagePos));
    QVERIFY(!a_->crosshair());  // the source view shows its own cursor

    // B draws it through the same screen point: its vertical line at x = 100 and horizontal at y = 60.
    const QImage drawn = shot(*b_);
    const QPoint c = b_->transform().toWidget(imagePos).toPoint();
    QCOMPARE(c, QPoint(100, 60));
    QVERIFY(drawn.pixel(c.x(), c.y() + 30) != plain.pixel(c.x(), c.y() + 30));
    QVERIFY(drawn.pixel(c.x() - 40, c.y()) != plain.pixel(c.x() - 40, c.y()));
    QCOMPARE(drawn.pixel(c.x() + 20, c.y() + 20), plain.pixel(c.x() + 20, c.y() + 20));  // off the lines

    QEvent leave(QEvent::Leave);
    QCoreApplication::sendEvent(a_.get(), &leave);
    QVERIFY(!b_->crosshair());
    QCOMPARE(shot(*b_), plain);
  }

  void aThirdViewFollowsAndRemovedViewsStop() {
    QVERIFY(setUp(test::solidImage(600, 400, kGrey), test::solidImage(600, 400, kGrey)));
    a_->setView(1.5, QPointF(200, 150));
    ImageView c;
    c.resize(300, 200);
    c.setImage(test::solidImage(600, 400, kGrey));
    sync_->addView(&c);
    QCOMPARE(c.scale(), 1.5);
    QVERIFY(near(c.viewCentre(), QPointF(200, 150)));

    sync_->removeView(b_.get());
    a_->setView(4.0, QPointF(100, 100));
    QCOMPARE(c.scale(), 4.0);
    QCOMPARE(b_->scale(), 1.5);
    sync_->removeView(&c);
  }
};

QTEST_MAIN(TestViewSync)
#include "test_view_sync.moc"
