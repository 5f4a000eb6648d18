// LayerList: rows follow the stack (top first) with visibility checkboxes; reordering changes which
// layer's colour wins on screen; the opacity slider, heatmap range/colour map and per-label visibility
// edit the drawn pixels; export writes files that read back with the drawn colours and the float values.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QListWidget>
#include <QSignalSpy>
#include <QSlider>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <memory>

#include "ViewTestUtil.h"
#include "io/ImageReader.h"
#include "widgets/ImageView.h"
#include "widgets/LayerList.h"
#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"
#include "widgets/VectorLayers.h"

using namespace loupe;
using namespace loupe::widgets;
using loupe::test::blend;
using loupe::test::mapColour;
using loupe::test::shot;

namespace {

constexpr int kW = 100, kH = 50;  // in a 400 x 200 view: image pixel (x, y) is centred at screen (4x+2, 4y+2)
const QColor kGrey(128, 128, 128), kRed(255, 0, 0), kBlue(0, 0, 255);

QPoint centreOf(int x, int y) { return {4 * x + 2, 4 * y + 2}; }

}  // namespace

class TestLayerList : public QObject {
  Q_OBJECT

  std::unique_ptr<LayerStack> stack_;
  std::unique_ptr<ImageView> view_;
  std::unique_ptr<LayerList> list_;
  QTemporaryDir tmp_;

  template <class T> T* child(const char* name) { return list_->findChild<T*>(QString::fromLatin1(name)); }
  QListWidget* rows() { return child<QListWidget>("layerRows"); }

  // Bottom: a red square over x < 50; top: a blue one over 25 <= x < 75 (both opaque fills).
  void addTwoMasks() {
    stack_->add(std::make_shared<MaskLayer>("red", "Red", test::rectMask(kW, kH, QRect(0, 0, 50, 50)), kRed));
    stack_->add(std::make_shared<MaskLayer>("blue", "Blue", test::rectMask(kW, kH, QRect(25, 0, 50, 50)), kBlue));
  }

 private Q_SLOTS:
  void init() {
    stack_ = std::make_unique<LayerStack>();
    view_ = std::make_unique<ImageView>();
    view_->setLayers(stack_.get());
    view_->setLegendVisible(false);
    view_->resize(4 * kW, 4 * kH);
    view_->setImage(test::solidImage(kW, kH, kGrey));
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
    list_ = std::make_unique<LayerList>();
    list_->setLayers(stack_.get());
    list_->setImageSize({kW, kH});
    list_->resize(280, 420);
    list_->show();
    QVERIFY(QTest::qWaitForWindowExposed(list_.get()));
  }

  void cleanup() {
    list_.reset();
    view_.reset();
    stack_.reset();
  }

  void rowsListLayersTopFirstWithVisibility() {
    addTwoMasks();
    QCOMPARE(rows()->count(), 2);
    QCOMPARE(rows()->item(0)->text(), QStringLiteral("Blue"));
    QCOMPARE(rows()->item(1)->text(), QStringLiteral("Red"));
    QCOMPARE(rows()->item(0)->checkState(), Qt::Checked);

    rows()->item(0)->setCheckState(Qt::Unchecked);  // hide Blue
    QVERIFY(!stack_->at(1)->isVisible());
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(35, 10)), kRed, 0);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(60, 10)), kGrey, 0);

    stack_->setVisible(1, true);  // and the other way: the stack updates the row
    QCOMPARE(rows()->item(0)->checkState(), Qt::Checked);
    stack_->remove(0);
    QCOMPARE(rows()->count(), 1);
  }

  void reorderingChangesWhichColourWins() {
    addTwoMasks();
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(35, 10)), kBlue, 0);  // Blue on top

    rows()->setCurrentRow(1);  // Red
    QCOMPARE(list_->currentIndex(), 0);
    auto* raise = child<QToolButton>("raiseLayerButton");
    auto* lower = child<QToolButton>("lowerLayerButton");
    QVERIFY(raise->isEnabled());
    QVERIFY(!lower->isEnabled());
    QTest::mouseClick(raise, Qt::LeftButton);
    QCOMPARE(stack_->at(1)->id(), QStringLiteral("red"));
    QCOMPARE(rows()->item(0)->text(), QStringLiteral("Red"));
    QCOMPARE(list_->currentIndex(), 1);  // the selection follows the layer
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(35, 10)), kRed, 0);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(10, 10)), kRed, 0);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(60, 10)), kBlue, 0);

    QVERIFY(!raise->isEnabled());
    QTest::mouseClick(lower, Qt::LeftButton);
    QCOMPARE(stack_->at(0)->id(), QStringLiteral("red"));
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(35, 10)), kBlue, 0);
    QVERIFY(!list_->lowerCurrent());  // already at the bottom
  }

  void opacitySliderBlendsTheSelectedLayer() {
    addTwoMasks();
    list_->setCurrentIndex(1);  // Blue
    auto* slider = child<QSlider>("opacitySlider");
    QVERIFY(slider);
    QCOMPARE(slider->value(), 100);
    slider->setValue(40);
    QCOMPARE(stack_->at(1)->opacity(), 0.4);
    const QImage img = shot(*view_);
    COMPARE_COLOUR(img.pixelColor(centreOf(35, 10)), blend(kRed, kBlue, 0.4), 1);
    COMPARE_COLOUR(img.pixelColor(centreOf(60, 10)), blend(kGrey, kBlue, 0.4), 1);
    list_->setCurrentIndex(0);
    QCOMPARE(slider->value(), 100);  // shows the selected layer's opacity
  }

  void heatmapLegendEditsRangeAndColours() {
    stack_->add(std::make_shared<HeatmapLayer>("h", "Heat", test::heatmap(kW, kH, [](int x, int) { return x / 99.f; })));
    list_->setCurrentIndex(0);
    auto* legend = child<QStackedWidget>("layerLegend");
    auto* lo = child<QDoubleSpinBox>("rangeMin");
    auto* hi = child<QDoubleSpinBox>("rangeMax");
    auto* maps = child<QComboBox>("colormapBox");
    QVERIFY(legend && lo && hi && maps);
    QVERIFY(lo->isVisibleTo(list_.get()));
    QCOMPARE(lo->value(), 0.0);
    QCOMPARE(hi->value(), 1.0);
    QCOMPARE(maps->currentText(), QStringLiteral("viridis"));

    hi->setValue(0.5);
    auto* h = static_cast<HeatmapLayer*>(stack_->at(0));
    QCOMPARE(h->rangeMax(), 0.5f);
    maps->setCurrentText(QStringLiteral("jet"));
    QCOMPARE(h->colormap(), Colormap::Jet);
    const QImage img = shot(*view_);
    COMPARE_COLOUR(img.pixelColor(centreOf(80, 10)), mapColour(Colormap::Jet, 1.f), 0);  // 0.81 is above the range
    COMPARE_COLOUR(img.pixelColor(centreOf(20, 10)), mapColour(Colormap::Jet, (20 / 99.f) / 0.5f), 0);

    QTest::mouseClick(child<QToolButton>("resetRangeButton"), Qt::LeftButton);
    QCOMPARE(h->rangeMin(), 0.f);
    QCOMPARE(h->rangeMax(), 1.f);
    QCOMPARE(hi->value(), 1.0);
  }

  void labelRowsToggleLabels() {
    LabelMapData data;
    data.width = kW;
    data.height = kH;
    data.values.resize(kW * kH);
    for (int i = 0; i < kW * kH; ++i) data.values[i] = (i % kW) < 50 ? 1 : 2;
    data.labels = {{1, "tumour", QColor(220, 30, 30), true}, {2, "gland", QColor(30, 200, 90), true}};
    stack_->add(std::make_shared<LabelMapLayer>("seg", "Segments", data));
    list_->setCurrentIndex(0);
    auto* labels = child<QListWidget>("labelRows");
    QVERIFY(labels);
    QCOMPARE(labels->count(), 2);
    QVERIFY(labels->item(0)->text().contains(QStringLiteral("tumour")));
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(10, 10)), QColor(220, 30, 30), 0);
    labels->item(0)->setCheckState(Qt::Unchecked);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(10, 10)), kGrey, 0);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(70, 10)), QColor(30, 200, 90), 0);
  }

  void maskStyleSwitchesFillAndOutline() {
    stack_->add(std::make_shared<MaskLayer>("m", "Mask", test::rectMask(kW, kH, QRect(20, 10, 20, 20)), kRed));
    list_->setCurrentIndex(0);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(30, 20)), kRed, 0);
    child<QComboBox>("maskStyleBox")->setCurrentIndex(1);
    QCOMPARE(static_cast<MaskLayer*>(stack_->at(0))->style(), MaskLayer::Style::Outline);
    COMPARE_COLOUR(shot(*view_).pixelColor(centreOf(30, 20)), kGrey, 0);
  }

  void exportWritesFilesThatReadBack() {
    QVERIFY(tmp_.isValid());
    const auto value = [](int x, int y) { return 0.01f * x - 0.02f * y + 0.3f; };
    Heatmap heat = test::heatmap(kW, kH, value, Colormap::Magma, -0.5f, 1.5f);
    stack_->add(std::make_shared<HeatmapLayer>("h", "Heat", heat));
    widgets::Polyline line;
    line.points << QPointF(0, 10.5) << QPointF(100, 10.5);
    stack_->add(std::make_shared<PolylinesLayer>("lanes", "Lanes", std::vector<widgets::Polyline>{line}, kBlue, 3.0));

    list_->setCurrentIndex(0);
    QSignalSpy exported(list_.get(), &LayerList::exported);
    auto files = list_->exportCurrent(tmp_.filePath(QStringLiteral("out/heat")));
    QVERIFY2(files, files ? "" : files.error().message.c_str());
    QCOMPARE(files->size(), 2);
    QCOMPARE(exported.count(), 1);
    QCOMPARE(files->at(0), tmp_.filePath(QStringLiteral("out/heat.png")));

    const QImage png(files->at(0));
    QCOMPARE(png.size(), QSize(kW, kH));
    for (int y = 0; y < kH; y += 9)
      for (int x = 0; x < kW; x += 11)
        COMPARE_COLOUR(png.pixelColor(x, y), mapColour(Colormap::Magma, (value(x, y) + 0.5f) / 2.f), 0);

    auto tiff = io::loadImage(files->at(1).toStdString());
    QVERIFY2(tiff, tiff ? "" : tiff.error().message.c_str());
    QCOMPARE(tiff->depth(), PixelDepth::F32);
    QCOMPARE(tiff->width(), kW);
    for (int y = 0; y < kH; y += 7)
      for (int x = 0; x < kW; x += 13) QCOMPARE(tiff->sample(x, y, 0), value(x, y));

    // A vector layer is drawn at the image size, transparent off the line.
    list_->setCurrentIndex(1);
    files = list_->exportCurrent(tmp_.filePath(QStringLiteral("lanes.png")));
    QVERIFY(files);
    QCOMPARE(files->size(), 1);
    const QImage lanes = QImage(files->at(0)).convertToFormat(QImage::Format_ARGB32);
    QCOMPARE(lanes.size(), QSize(kW, kH));
    QCOMPARE(lanes.pixel(50, 10), kBlue.rgb());
    QCOMPARE(qAlpha(lanes.pixel(50, 30)), 0);

    // Nothing selected: an error value, no file.
    list_->setCurrentIndex(-1);
    QCOMPARE(list_->currentIndex(), -1);
    QVERIFY(!list_->exportCurrent(tmp_.filePath(QStringLiteral("none.png"))));
    QVERIFY(!QFile::exists(tmp_.filePath(QStringLiteral("none.png"))));
  }
};

QTEST_MAIN(TestLayerList)
#include "test_layer_list.moc"
