#include "LayerList.h"

#include <QColorDialog>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QSignalBlocker>
#include <QSlider>
#include <QStackedWidget>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "LayerExport.h"
#include "LayerStack.h"
#include "Legend.h"
#include "RasterLayers.h"
#include "VectorLayers.h"

namespace loupe::widgets {

namespace {

constexpr int kLabelValueRole = Qt::UserRole + 1;
constexpr int kGradientWidth = 200;

QIcon swatch(const QColor& colour) {
  QPixmap pm(14, 14);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.fillRect(QRect(1, 1, 12, 12), colour);
  p.setPen(QColor(0, 0, 0, 120));
  p.drawRect(QRect(0, 0, 13, 13));
  return QIcon(pm);
}

QIcon layerIcon(const ViewLayer& layer) {
  if (const auto* h = dynamic_cast<const HeatmapLayer*>(&layer)) {
    QPixmap pm(14, 14);
    QPainter p(&pm);
    p.drawImage(QRect(0, 0, 14, 14), legendStrip(h->colormap(), 14));
    return QIcon(pm);
  }
  if (const auto* l = dynamic_cast<const LabelMapLayer*>(&layer)) {
    for (const auto& info : l->labels())
      if (info.visible) return swatch(info.colour);
    return swatch(Qt::gray);
  }
  if (const auto* m = dynamic_cast<const MaskLayer*>(&layer)) return swatch(m->colour());
  if (const auto* p = dynamic_cast<const PolylinesLayer*>(&layer)) return swatch(p->colour());
  if (const auto* b = dynamic_cast<const MarkersLayer*>(&layer)) return swatch(b->colour());
  return {};
}

// Enough decimals to step through `span` finely and to show `values` without rounding them (an edit
// of one end must not move the other).
int decimalsFor(double span, std::initializer_list<double> values) {
  int d = span > 0 ? std::clamp(3 - static_cast<int>(std::floor(std::log10(span))), 0, 6) : 3;
  for (double v : values) {
    int need = 0;
    while (need < 6 && std::abs(std::round(v * std::pow(10.0, need)) / std::pow(10.0, need) - v) > 1e-6 * std::max(1.0, std::abs(v)))
      ++need;
    d = std::max(d, need);
  }
  return d;
}

}  // namespace

LayerList::LayerList(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);

  rows_ = new QListWidget(this);
  rows_->setObjectName(QStringLiteral("layerRows"));
  rows_->setSelectionMode(QAbstractItemView::SingleSelection);
  rows_->setUniformItemSizes(true);
  rows_->setToolTip(tr("Layers, top first. Tick to show; select to edit."));
  connect(rows_, &QListWidget::itemChanged, this, &LayerList::onRowChanged);
  connect(rows_, &QListWidget::currentRowChanged, this, [this] {
    refreshDetails();
    Q_EMIT currentChanged(currentIndex());
  });
  layout->addWidget(rows_, 1);

  auto* buttons = new QHBoxLayout;
  const auto makeButton = [this, buttons](const char* name, QStyle::StandardPixmap icon, const QString& tip) {
    auto* b = new QToolButton(this);
    b->setObjectName(QString::fromLatin1(name));
    b->setIcon(style()->standardIcon(icon));
    b->setToolTip(tip);
    b->setAutoRaise(true);
    buttons->addWidget(b);
    return b;
  };
  raise_ = makeButton("raiseLayerButton", QStyle::SP_ArrowUp, tr("Raise the layer (drawn above the one over it)"));
  lower_ = makeButton("lowerLayerButton", QStyle::SP_ArrowDown, tr("Lower the layer"));
  buttons->addStretch(1);
  export_ = makeButton("exportLayerButton", QStyle::SP_DialogSaveButton,
                       tr("Export the layer as PNG (heatmaps also as float TIFF)"));
  connect(raise_, &QToolButton::clicked, this, &LayerList::raiseCurrent);
  connect(lower_, &QToolButton::clicked, this, &LayerList::lowerCurrent);
  connect(export_, &QToolButton::clicked, this, &LayerList::exportWithDialog);
  layout->addLayout(buttons);

  auto* opacityRow = new QHBoxLayout;
  opacityRow->addWidget(new QLabel(tr("Opacity"), this));
  opacity_ = new QSlider(Qt::Horizontal, this);
  opacity_->setObjectName(QStringLiteral("opacitySlider"));
  opacity_->setRange(0, 100);
  opacity_->setToolTip(tr("Opacity of the selected layer"));
  opacityValue_ = new QLabel(this);
  opacityValue_->setObjectName(QStringLiteral("opacityValue"));
  opacityValue_->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("100 %")));
  opacityValue_->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
  connect(opacity_, &QSlider::valueChanged, this, [this](int v) {
    opacityValue_->setText(QStringLiteral("%1 %").arg(v));
    if (!updating_ && layers_) layers_->setOpacity(currentIndex(), v / 100.0);
  });
  opacityRow->addWidget(opacity_, 1);
  opacityRow->addWidget(opacityValue_);
  layout->addLayout(opacityRow);

  legend_ = new QStackedWidget(this);
  legend_->setObjectName(QStringLiteral("layerLegend"));
  emptyPage_ = new QWidget(legend_);
  legend_->addWidget(emptyPage_);

  heatmapPage_ = new QWidget(legend_);
  auto* heat = new QFormLayout(heatmapPage_);
  heat->setContentsMargins(0, 4, 0, 0);
  gradient_ = new QLabel(heatmapPage_);
  gradient_->setObjectName(QStringLiteral("legendGradient"));
  gradient_->setFixedHeight(14);
  gradient_->setScaledContents(true);
  heat->addRow(gradient_);
  colormap_ = new QComboBox(heatmapPage_);
  colormap_->setObjectName(QStringLiteral("colormapBox"));
  for (const auto& name : colormapNames()) colormap_->addItem(QString::fromStdString(name));
  heat->addRow(tr("Colours"), colormap_);
  const auto makeSpin = [this, heatmapPage = heatmapPage_](const char* name) {
    auto* s = new QDoubleSpinBox(heatmapPage);
    s->setObjectName(QString::fromLatin1(name));
    s->setRange(-1e9, 1e9);
    s->setKeyboardTracking(false);
    connect(s, &QDoubleSpinBox::valueChanged, this, &LayerList::onRangeEdited);
    return s;
  };
  rangeMin_ = makeSpin("rangeMin");
  rangeMax_ = makeSpin("rangeMax");
  auto* range = new QHBoxLayout;
  range->addWidget(rangeMin_, 1);
  range->addWidget(new QLabel(QStringLiteral("\u2013"), heatmapPage_));
  range->addWidget(rangeMax_, 1);
  auto* reset = new QToolButton(heatmapPage_);
  reset->setObjectName(QStringLiteral("resetRangeButton"));
  reset->setText(tr("Data"));
  reset->setToolTip(tr("Set the range to the data's minimum and maximum"));
  range->addWidget(reset);
  heat->addRow(tr("Range"), range);
  unit_ = new QLabel(heatmapPage_);
  unit_->setForegroundRole(QPalette::PlaceholderText);
  heat->addRow(unit_);
  connect(colormap_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
    auto* h = dynamic_cast<HeatmapLayer*>(current());
    auto map = colormapFromName(name.toStdString());
    if (updating_ || !h || !map) return;
    h->setColormap(*map);
    layers_->notifyChanged(currentIndex());
  });
  connect(reset, &QToolButton::clicked, this, [this] {
    auto* h = dynamic_cast<HeatmapLayer*>(current());
    if (!h) return;
    h->setRange(h->dataMin(), h->dataMax());
    layers_->notifyChanged(currentIndex());
  });
  legend_->addWidget(heatmapPage_);

  labelPage_ = new QWidget(legend_);
  auto* labelLayout = new QVBoxLayout(labelPage_);
  labelLayout->setContentsMargins(0, 4, 0, 0);
  labels_ = new QListWidget(labelPage_);
  labels_->setObjectName(QStringLiteral("labelRows"));
  labels_->setToolTip(tr("Tick to show a label; double-click to change its colour"));
  connect(labels_, &QListWidget::itemChanged, this, &LayerList::onLabelChanged);
  connect(labels_, &QListWidget::itemDoubleClicked, this, &LayerList::onLabelActivated);
  labelLayout->addWidget(labels_);
  legend_->addWidget(labelPage_);

  maskPage_ = new QWidget(legend_);
  auto* maskLayout = new QFormLayout(maskPage_);
  maskLayout->setContentsMargins(0, 4, 0, 0);
  maskStyle_ = new QComboBox(maskPage_);
  maskStyle_->setObjectName(QStringLiteral("maskStyleBox"));
  maskStyle_->addItems({tr("Fill"), tr("Outline")});
  connect(maskStyle_, &QComboBox::currentIndexChanged, this, [this](int i) {
    auto* m = dynamic_cast<MaskLayer*>(current());
    if (updating_ || !m) return;
    m->setStyle(i == 1 ? MaskLayer::Style::Outline : MaskLayer::Style::Fill);
    layers_->notifyChanged(currentIndex());
  });
  maskLayout->addRow(tr("Draw as"), maskStyle_);
  legend_->addWidget(maskPage_);

  layout->addWidget(legend_, 1);
  refreshDetails();
}

void LayerList::setLayers(LayerStack* layers) {
  if (layers_) disconnect(layers_, nullptr, this, nullptr);
  layers_ = layers;
  if (layers_) {
    connect(layers_, &LayerStack::layersChanged, this, &LayerList::rebuild);
    connect(layers_, &LayerStack::layerChanged, this, [this](int i) {
      refreshRow(i);
      if (i == currentIndex()) refreshDetails();
    });
    connect(layers_, &QObject::destroyed, this, [this] {
      layers_ = nullptr;
      rebuild();
    });
  }
  rebuild();
}

int LayerList::rowOf(int stackIndex) const { return layers_ ? layers_->count() - 1 - stackIndex : -1; }
int LayerList::stackIndexOf(int row) const { return layers_ && row >= 0 ? layers_->count() - 1 - row : -1; }

int LayerList::currentIndex() const { return stackIndexOf(rows_->currentRow()); }

ViewLayer* LayerList::current() const { return layers_ ? layers_->at(currentIndex()) : nullptr; }

void LayerList::setCurrentIndex(int stackIndex) {
  rows_->setCurrentRow(layers_ && stackIndex >= 0 && stackIndex < layers_->count() ? rowOf(stackIndex) : -1);
}

void LayerList::rebuild() {
  const ViewLayer* selected = current();
  {
    QSignalBlocker block(rows_);
    updating_ = true;
    rows_->clear();
    const int n = layers_ ? layers_->count() : 0;
    int keep = n > 0 ? 0 : -1;
    for (int row = 0; row < n; ++row) {
      const ViewLayer* layer = layers_->at(stackIndexOf(row));
      auto* item = new QListWidgetItem(rows_);
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
      if (layer == selected) keep = row;
    }
    for (int row = 0; row < n; ++row) refreshRow(stackIndexOf(row));
    rows_->setCurrentRow(keep);
    updating_ = false;
  }
  refreshDetails();
  Q_EMIT currentChanged(currentIndex());
}

void LayerList::refreshRow(int stackIndex) {
  QListWidgetItem* item = rows_->item(rowOf(stackIndex));
  const ViewLayer* layer = layers_ ? layers_->at(stackIndex) : nullptr;
  if (!item || !layer) return;
  const bool was = updating_;
  updating_ = true;
  item->setText(layer->title());
  item->setToolTip(tr("%1 (%2), opacity %3 %").arg(layer->title(), layer->kindName()).arg(std::lround(layer->opacity() * 100)));
  item->setCheckState(layer->isVisible() ? Qt::Checked : Qt::Unchecked);
  item->setIcon(layerIcon(*layer));
  updating_ = was;
}

void LayerList::refreshDetails() {
  ViewLayer* layer = current();
  const bool was = updating_;
  updating_ = true;
  const int index = currentIndex();
  raise_->setEnabled(layer && index + 1 < layers_->count());
  lower_->setEnabled(layer && index > 0);
  export_->setEnabled(layer != nullptr);
  opacity_->setEnabled(layer != nullptr);
  opacity_->setValue(layer ? static_cast<int>(std::lround(layer->opacity() * 100)) : 100);
  opacityValue_->setText(QStringLiteral("%1 %").arg(opacity_->value()));

  if (auto* h = dynamic_cast<HeatmapLayer*>(layer)) {
    legend_->setCurrentWidget(heatmapPage_);
    gradient_->setPixmap(QPixmap::fromImage(legendStrip(h->colormap(), kGradientWidth)));
    colormap_->setCurrentText(QString::fromLatin1(colormapName(h->colormap())));
    const double span = std::max(1e-6, static_cast<double>(h->dataMax()) - h->dataMin());
    for (QDoubleSpinBox* s : {rangeMin_, rangeMax_}) {
      s->setDecimals(decimalsFor(span, {h->rangeMin(), h->rangeMax()}));
      s->setSingleStep(span / 100.0);
    }
    rangeMin_->setValue(h->rangeMin());
    rangeMax_->setValue(h->rangeMax());
    unit_->setText(h->unit());
    unit_->setVisible(!h->unit().isEmpty());
  } else if (auto* l = dynamic_cast<LabelMapLayer*>(layer)) {
    legend_->setCurrentWidget(labelPage_);
    QSignalBlocker block(labels_);
    labels_->clear();
    for (const auto& info : l->labels()) {
      auto* item = new QListWidgetItem(swatch(info.colour), QStringLiteral("%1  (%2)").arg(info.name).arg(info.value), labels_);
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
      item->setCheckState(info.visible ? Qt::Checked : Qt::Unchecked);
      item->setData(kLabelValueRole, info.value);
    }
  } else if (auto* m = dynamic_cast<MaskLayer*>(layer)) {
    legend_->setCurrentWidget(maskPage_);
    maskStyle_->setCurrentIndex(m->style() == MaskLayer::Style::Outline ? 1 : 0);
  } else {
    legend_->setCurrentWidget(emptyPage_);
  }
  updating_ = was;
}

void LayerList::onRowChanged(QListWidgetItem* item) {
  if (updating_ || !layers_) return;
  layers_->setVisible(stackIndexOf(rows_->row(item)), item->checkState() == Qt::Checked);
}

void LayerList::onLabelChanged(QListWidgetItem* item) {
  auto* l = dynamic_cast<LabelMapLayer*>(current());
  if (updating_ || !l) return;
  l->setLabelVisible(item->data(kLabelValueRole).toInt(), item->checkState() == Qt::Checked);
  layers_->notifyChanged(currentIndex());
}

void LayerList::onLabelActivated(QListWidgetItem* item) {
  auto* l = dynamic_cast<LabelMapLayer*>(current());
  if (!l) return;
  const auto value = item->data(kLabelValueRole).toInt();
  const auto info = l->label(value);
  const QColor colour = QColorDialog::getColor(info ? info->colour : Qt::white, this, tr("Colour of %1").arg(info ? info->name : QString()));
  if (!colour.isValid()) return;
  l->setLabelColour(value, colour);
  layers_->notifyChanged(currentIndex());
}

void LayerList::onRangeEdited() {
  auto* h = dynamic_cast<HeatmapLayer*>(current());
  if (updating_ || !h) return;
  h->setRange(static_cast<float>(rangeMin_->value()), static_cast<float>(rangeMax_->value()));
  layers_->notifyChanged(currentIndex());
}

bool LayerList::raiseCurrent() {
  const int i = currentIndex();
  if (!layers_ || i < 0 || i + 1 >= layers_->count()) return false;
  const bool moved = layers_->move(i, i + 1);
  setCurrentIndex(i + 1);
  return moved;
}

bool LayerList::lowerCurrent() {
  const int i = currentIndex();
  if (!layers_ || i <= 0) return false;
  const bool moved = layers_->move(i, i - 1);
  setCurrentIndex(i - 1);
  return moved;
}

Result<QStringList> LayerList::exportCurrent(const QString& path) {
  const ViewLayer* layer = current();
  if (!layer) return Error{ErrorCode::InvalidArgument, "Select a layer to export"};
  auto written = exportLayer(*layer, path, imageSize_);
  if (written) Q_EMIT exported(*written);
  else Q_EMIT exportFailed(QString::fromStdString(written.error().message));
  return written;
}

void LayerList::exportWithDialog() {
  const ViewLayer* layer = current();
  if (!layer) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export Layer"), layer->id() + QStringLiteral(".png"),
                                                    tr("PNG image (*.png)"));
  if (!path.isEmpty()) (void)exportCurrent(path);
}

}  // namespace loupe::widgets
