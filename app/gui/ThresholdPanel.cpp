#include "ThresholdPanel.h"

#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <variant>

#include "widgets/LayerStack.h"
#include "widgets/RasterLayers.h"

namespace loupe::gui {

namespace {

constexpr int kSteps = 100;  // slider: thresholds 0.00 .. 1.00

QString fixed(double v, int decimals) { return QString::number(v, 'f', decimals); }

const Table* findSummary(const std::vector<Layer>& result) {
  for (const Layer& layer : result)
    if (const auto* t = std::get_if<Table>(&layer.payload))
      for (const auto& row : t->rows)
        if (row.size() >= 2 && row[0] == "threshold") return t;
  return nullptr;
}

std::string rowValue(const Table& table, const std::string& key) {
  for (const auto& row : table.rows)
    if (row.size() >= 2 && row[0] == key) return row[1];
  return {};
}

QString maskTitle(double threshold) { return QObject::tr("Forged regions (p >= %1)").arg(fixed(threshold, 2)); }

}  // namespace

Mask thresholdMask(const Heatmap& heatmap, float threshold, bool forgeryFound, std::size_t* forged) {
  Mask mask;
  mask.width = heatmap.width;
  mask.height = heatmap.height;
  const std::size_t n = heatmap.values.size();
  mask.values.resize(n);
  std::uint8_t* m = mask.values.data();
  if (forged) *forged = 0;
  if (!forgeryFound) {
    std::fill(m, m + n, std::uint8_t(0));
    return mask;
  }
  const float* v = heatmap.values.data();
  // Rows of branch-free compares the compiler vectorises (NaN >= t is false), counted per row.
  std::size_t count = 0;
  constexpr std::size_t kChunk = 4096;
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t end = std::min(n, start + kChunk);
    std::uint32_t c = 0;
    for (std::size_t i = start; i < end; ++i) {
      const std::uint8_t on = v[i] >= threshold;
      m[i] = on;
      c += on;
    }
    count += c;
  }
  if (forged) *forged = count;
  return mask;
}

ThresholdPanel::ThresholdPanel(widgets::LayerStack* layers, QTableWidget* table, QWidget* parent)
    : QWidget(parent), layers_(layers), table_(table) {
  setObjectName(QStringLiteral("thresholdPanel"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 4);
  auto* row = new QHBoxLayout;
  auto* label = new QLabel(tr("Threshold"), this);
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setObjectName(QStringLiteral("thresholdSlider"));
  slider_->setRange(0, kSteps);
  slider_->setPageStep(5);
  slider_->setToolTip(tr("Operating point: pixels whose forgery probability is at least this are drawn as forged"));
  spin_ = new QDoubleSpinBox(this);
  spin_->setObjectName(QStringLiteral("thresholdSpin"));
  spin_->setRange(0.0, 1.0);
  spin_->setSingleStep(0.01);
  spin_->setDecimals(2);
  label->setBuddy(slider_);
  row->addWidget(label);
  row->addWidget(slider_, 1);
  row->addWidget(spin_);
  layout->addLayout(row);
  info_ = new QLabel(this);
  info_->setObjectName(QStringLiteral("thresholdInfo"));
  info_->setWordWrap(true);
  layout->addWidget(info_);
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    const QSignalBlocker block(spin_);
    spin_->setValue(v / double(kSteps));
    apply(v / double(kSteps));
  });
  connect(spin_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double v) {
    const QSignalBlocker block(slider_);
    slider_->setValue(static_cast<int>(std::lround(v * kSteps)));
    apply(v);
  });
  setVisible(false);
  // Another image or New Session clears the layers: nothing left to drive.
  connect(layers_, &widgets::LayerStack::layersChanged, this, [this] {
    if (!active_ || swapping_ || (layers_->find(heatmapId_) && layers_->find(maskId_))) return;
    active_ = false;
    setVisible(false);
  });
}

void ThresholdPanel::attach(const std::vector<Layer>& result) {
  active_ = false;
  heatmapId_.clear();
  maskId_.clear();
  const Heatmap* heatmap = nullptr;
  const Layer* heatmapLayer = nullptr;
  for (const Layer& layer : result)
    if (const auto* h = std::get_if<Heatmap>(&layer.payload); h && !heatmap) heatmap = h, heatmapLayer = &layer;
  const Table* summary = findSummary(result);
  if (heatmap && summary && heatmap->rangeMin >= 0.f && heatmap->rangeMax <= 1.f) {
    for (const Layer& layer : result)
      if (const auto* m = std::get_if<Mask>(&layer.payload); m && m->width == heatmap->width && m->height == heatmap->height) {
        heatmapId_ = QString::fromStdString(heatmapLayer->id);
        maskId_ = QString::fromStdString(layer.id);
        break;
      }
  }
  active_ = !maskId_.isEmpty() && layers_->find(heatmapId_) && layers_->find(maskId_);
  if (active_) {
    forgeryFound_ = rowValue(*summary, "forgery_found") != "no";
    bool ok = false;
    double t = QString::fromStdString(rowValue(*summary, "threshold")).toDouble(&ok);
    if (!ok) t = 0.5;
    const QSignalBlocker b1(slider_), b2(spin_);
    slider_->setValue(static_cast<int>(std::lround(t * kSteps)));
    spin_->setValue(t);
    slider_->setEnabled(forgeryFound_);
    spin_->setEnabled(forgeryFound_);
    info_->setText(forgeryFound_ ? tr("Drag to move the operating point; the mask follows.")
                                 : tr("No forgery found: the mask is empty at every threshold."));
    updateTable(t, forgedFraction());
  }
  setVisible(active_);
}

double ThresholdPanel::forgedFraction() const {
  const auto* mask = dynamic_cast<const widgets::MaskLayer*>(layers_->find(maskId_));
  if (!mask || mask->mask().values.empty()) return 0.0;
  std::size_t forged = 0;
  for (std::uint8_t v : mask->mask().values) forged += v;
  return static_cast<double>(forged) / mask->mask().values.size();
}

double ThresholdPanel::threshold() const { return spin_->value(); }

void ThresholdPanel::setThreshold(double threshold) { spin_->setValue(threshold); }

void ThresholdPanel::apply(double threshold) {
  if (!active_) return;
  QElapsedTimer timer;
  timer.start();
  const int heatIndex = layers_->indexOf(heatmapId_);
  const int maskIndex = layers_->indexOf(maskId_);
  const auto* heat = dynamic_cast<const widgets::HeatmapLayer*>(layers_->at(heatIndex));
  const auto* old = dynamic_cast<const widgets::MaskLayer*>(layers_->at(maskIndex));
  if (!heat || !old) {  // the layers were removed since (another result): nothing to drive
    active_ = false;
    setVisible(false);
    return;
  }
  std::size_t forged = 0;
  Mask mask = thresholdMask(heat->heatmap(), static_cast<float>(threshold), forgeryFound_, &forged);
  const double fraction = mask.values.empty() ? 0.0 : static_cast<double>(forged) / mask.values.size();
  // MaskLayer's values are fixed at construction: swap in a new layer with the old one's look.
  auto fresh = std::make_shared<widgets::MaskLayer>(maskId_, maskTitle(threshold), std::move(mask), old->colour(), old->style());
  fresh->setOpacity(old->opacity());
  fresh->setVisible(old->isVisible());
  swapping_ = true;
  layers_->remove(maskIndex);
  layers_->add(fresh);
  if (maskIndex != layers_->count() - 1) layers_->move(layers_->count() - 1, maskIndex);
  swapping_ = false;
  updateTable(threshold, fraction);
  lastMs_ = timer.nsecsElapsed() / 1e6;
  info_->setText(forgeryFound_ ? tr("%1 % of the image at p \u2265 %2 (updated in %3 ms)")
                                     .arg(fixed(100.0 * fraction, 1), fixed(threshold, 2), fixed(lastMs_, 1))
                               : tr("No forgery found: the mask is empty at every threshold."));
  Q_EMIT thresholdApplied(threshold, fraction);
}

// The image verdict at this operating point (the task's own rows say how sure the clustering is).
QString ThresholdPanel::verdict(double threshold, double forgedFraction) const {
  return !forgeryFound_       ? tr("pristine (no forgery found)")
         : forgedFraction > 0 ? tr("forged regions at p \u2265 %1").arg(fixed(threshold, 2))
                              : tr("pristine at p \u2265 %1").arg(fixed(threshold, 2));
}

bool ThresholdPanel::writeShownTo(std::vector<Layer>& result) const {
  if (!active_) return false;
  const auto* shown = dynamic_cast<const widgets::MaskLayer*>(layers_->find(maskId_));
  if (!shown) return false;
  const std::string maskId = maskId_.toStdString();
  auto maskLayer = std::find_if(result.begin(), result.end(), [&](const Layer& l) {
    const auto* m = std::get_if<Mask>(&l.payload);
    return l.id == maskId && m && m->width == shown->mask().width && m->height == shown->mask().height;
  });
  Table* summary = nullptr;
  for (Layer& layer : result)
    if (auto* t = std::get_if<Table>(&layer.payload); t && !summary)
      for (const auto& row : t->rows)
        if (row.size() >= 2 && row[0] == "threshold") summary = t;
  if (maskLayer == result.end() || !summary) return false;
  const double t = threshold();
  const double fraction = forgedFraction();
  maskLayer->payload = shown->mask();
  maskLayer->title = shown->title().toStdString();
  // The same rows and texts as updateTable() puts in the Results table.
  int fractionRow = -1;
  int verdictRow = -1;
  for (std::size_t r = 0; r < summary->rows.size(); ++r) {
    auto& row = summary->rows[r];
    if (row.size() < 2) continue;
    if (row[0] == "threshold") row[1] = fixed(t, 2).toStdString();
    if (row[0] == "forged_fraction") row[1] = fixed(fraction, 4).toStdString(), fractionRow = static_cast<int>(r);
    if (row[0] == "verdict") verdictRow = static_cast<int>(r);
  }
  const std::string verdictText = verdict(t, fraction).toStdString();
  if (verdictRow >= 0) {
    summary->rows[static_cast<std::size_t>(verdictRow)][1] = verdictText;
  } else if (fractionRow >= 0) {
    std::vector<std::string> row{"verdict", verdictText};
    row.resize(std::max<std::size_t>(2, summary->columns.size()));
    summary->rows.insert(summary->rows.begin() + fractionRow + 1, std::move(row));
  }
  return true;
}

void ThresholdPanel::updateTable(double threshold, double forgedFraction) {
  if (!table_ || table_->columnCount() < 2) return;
  int fractionRow = -1;
  int verdictRow = -1;
  for (int r = 0; r < table_->rowCount(); ++r) {
    const QTableWidgetItem* key = table_->item(r, 0);
    if (!key) continue;
    QTableWidgetItem* value = table_->item(r, 1);
    if (!value) table_->setItem(r, 1, value = new QTableWidgetItem);
    if (key->text() == QLatin1String("threshold")) value->setText(fixed(threshold, 2));
    if (key->text() == QLatin1String("forged_fraction")) value->setText(fixed(forgedFraction, 4)), fractionRow = r;
    if (key->text() == QLatin1String("verdict")) verdictRow = r;
  }
  const QString verdict = this->verdict(threshold, forgedFraction);
  if (verdictRow < 0) {
    if (fractionRow < 0) return;
    verdictRow = fractionRow + 1;
    table_->insertRow(verdictRow);
    table_->setItem(verdictRow, 0, new QTableWidgetItem(QStringLiteral("verdict")));
    table_->setItem(verdictRow, 1, new QTableWidgetItem);
  }
  table_->item(verdictRow, 1)->setText(verdict);
}

}  // namespace loupe::gui
