#include "SliceView.h"

#include <QElapsedTimer>
#include <QFontMetrics>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "SliceLink.h"

namespace loupe::widgets {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Distinct colours for labels the overlay's table does not colour (label 1 red, 2 green, ...).
const QRgb kPalette[] = {qRgb(230, 25, 75),  qRgb(60, 180, 75),  qRgb(255, 225, 25), qRgb(0, 130, 200),
                         qRgb(245, 130, 48), qRgb(145, 30, 180), qRgb(70, 240, 240), qRgb(240, 50, 230),
                         qRgb(210, 245, 60), qRgb(250, 190, 212), qRgb(0, 128, 128), qRgb(170, 110, 40)};

QRgb paletteColour(std::int32_t label) {
  const int n = int(sizeof kPalette / sizeof kPalette[0]);
  return kPalette[((label - 1) % n + n) % n];
}

inline QRgb blend(QRgb under, QRgb over, int alpha256) {
  const int a = alpha256, b = 256 - alpha256;
  return qRgb((qRed(under) * b + qRed(over) * a) >> 8, (qGreen(under) * b + qGreen(over) * a) >> 8,
              (qBlue(under) * b + qBlue(over) * a) >> 8);
}

QString number(double v) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  const double a = std::abs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-3)) return QString::number(v, 'g', 4);
  if (a >= 100) return QString::number(v, 'f', 0);
  if (a >= 1) return QString::number(v, 'f', 2);
  return QString::number(v, 'f', 3);
}

}  // namespace

// Per overlay: its sampler and the samples of the current slice.
struct SliceView::OverlayCache {
  SliceSampler sampler;
  std::vector<float> values;         // heatmaps
  std::vector<std::int32_t> labels;  // label maps
  std::vector<QRgb> lut;             // heatmap: 256 colours; labels: colour per value 0..maxLabel (0: none)
  std::unordered_map<std::int32_t, QRgb> bigLabels;  // labels beyond the table
  std::vector<bool> hidden;          // label value -> hidden
};

const std::vector<SliceWindowPreset>& sliceWindowPresets() {
  static const std::vector<SliceWindowPreset> presets = {
      {QStringLiteral("full"), QStringLiteral("Full range"), false, 0, 0},
      {QStringLiteral("auto"), QStringLiteral("Auto (1st–99th percentile)"), true, 1, 99},
      {QStringLiteral("t2w"), QStringLiteral("T2W (0.5th–99.5th percentile)"), true, 0.5, 99.5},
      {QStringLiteral("adc"), QStringLiteral("ADC 0–3000 µm²/s"), false, 0, 3000},
      {QStringLiteral("adc-narrow"), QStringLiteral("ADC 0–2000 µm²/s (restricted diffusion)"), false, 0, 2000},
      {QStringLiteral("dwi"), QStringLiteral("High-b DWI (50th–99.9th percentile)"), true, 50, 99.9},
  };
  return presets;
}

double SliceIntensityStats::percentile(double p) const {
  if (sorted.empty()) return p < 50 ? min : max;
  const double at = std::clamp(p, 0.0, 100.0) / 100.0 * double(sorted.size() - 1);
  const std::size_t i = static_cast<std::size_t>(at);
  const std::size_t j = std::min(i + 1, sorted.size() - 1);
  return sorted[i] + (at - double(i)) * (sorted[j] - sorted[i]);
}

SliceIntensityStats intensityStats(const Volume& volume) {
  SliceIntensityStats s;
  const std::int64_t n = volume.voxelCount();
  const std::int64_t stride = std::max<std::int64_t>(1, n / 500000);  // at most ~500k samples
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = volume.value(static_cast<std::size_t>(i));
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (v != 0 && i % stride == 0) s.sorted.push_back(static_cast<float>(v));
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  s.min = lo;
  s.max = hi;
  std::sort(s.sorted.begin(), s.sorted.end());
  return s;
}

SliceView::SliceView(QWidget* parent) : QWidget(parent) {
  ownLink_ = new SliceLink(this);
  setLink(nullptr);
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setMinimumSize(120, 120);
  setAttribute(Qt::WA_OpaquePaintEvent);
}

SliceView::~SliceView() = default;

void SliceView::setLink(SliceLink* link) {
  if (link_) disconnect(link_, nullptr, this, nullptr);
  link_ = link ? link : ownLink_;
  connect(link_, &SliceLink::crosshairChanged, this, &SliceView::onCrosshairChanged);
  connect(link_, &SliceLink::viewChanged, this, qOverload<>(&SliceView::update));
  onCrosshairChanged();
}

void SliceView::setReference(std::shared_ptr<const Volume> reference) {
  reference_ = std::move(reference);
  frame_ = reference_ && !reference_->empty() ? makeSliceFrame(*reference_, frame_.plane) : SliceFrame{frame_.plane};
  rebuildSamplers();
  if (reference_ && !reference_->empty()) {
    // Keep a crosshair inside the slab, else start at its centre.
    const Vec3 idx = reference_->worldToIndex(link_->crosshair());
    bool inside = true;
    for (int a = 0; a < 3; ++a) inside = inside && idx[a] >= -0.5 && idx[a] <= reference_->size[a] - 0.5;
    if (!inside)
      link_->setCrosshair(reference_->indexToWorld(
          {double(reference_->size[0] / 2), double(reference_->size[1] / 2), double(reference_->size[2] / 2)}));
  }
  update();
}

void SliceView::setImage(std::shared_ptr<const Volume> image, const QString& name) {
  image_ = std::move(image);
  imageName_ = name;
  stats_ = image_ ? intensityStats(*image_) : SliceIntensityStats{};
  rebuildSamplers();
  if (!windowSet_ && image_) {
    applyPreset(QStringLiteral("auto"));
    windowSet_ = false;  // a later image still gets its own auto window until someone sets one
  }
  update();
}

void SliceView::setPlane(SlicePlane plane) {
  frame_.plane = plane;
  if (reference_ && !reference_->empty()) frame_ = makeSliceFrame(*reference_, plane);
  rebuildSamplers();
  update();
}

void SliceView::setInterpolation(SliceInterpolation interpolation) {
  interpolation_ = interpolation;
  sampledSlice_ = -1;
  update();
}

void SliceView::rebuildSamplers() {
  const bool ok = reference_ && frame_.valid();
  imageSampler_ = ok && image_ ? SliceSampler(*image_, *reference_, frame_) : SliceSampler();
  overlayCache_.clear();
  for (const SliceOverlay& o : overlays_) {
    auto cache = std::make_unique<OverlayCache>();
    if (ok && o.volume) cache->sampler = SliceSampler(*o.volume, *reference_, frame_);
    overlayCache_.push_back(std::move(cache));
  }
  sampledSlice_ = -1;
  composed_ = false;
}

void SliceView::setWindow(double low, double high) {
  if (!(high > low)) high = low + 1e-6 * std::max(1.0, std::abs(low));
  windowSet_ = true;
  if (low == low_ && high == high_) return;
  low_ = low;
  high_ = high;
  composed_ = false;
  update();
  Q_EMIT windowChanged(low_, high_);
}

bool SliceView::applyPreset(const QString& id) {
  for (const auto& p : sliceWindowPresets()) {
    if (p.id != id) continue;
    if (p.id == QLatin1String("full")) setWindow(stats_.min, stats_.max);
    else if (p.percentile) setWindow(stats_.percentile(p.lo), stats_.percentile(p.hi));
    else setWindow(p.lo, p.hi);
    return true;
  }
  return false;
}

void SliceView::setOverlay(const SliceOverlay& overlay) {
  auto it = std::find_if(overlays_.begin(), overlays_.end(), [&](const SliceOverlay& o) { return o.id == overlay.id; });
  const bool sameVolume = it != overlays_.end() && it->volume == overlay.volume;
  if (it == overlays_.end()) {
    overlays_.push_back(overlay);
    rebuildSamplers();
  } else {
    *it = overlay;
    if (!sameVolume) rebuildSamplers();
    else composed_ = false;  // style only
  }
  update();
}

void SliceView::removeOverlay(const QString& id) {
  const auto it = std::find_if(overlays_.begin(), overlays_.end(), [&](const SliceOverlay& o) { return o.id == id; });
  if (it == overlays_.end()) return;
  overlays_.erase(it);
  rebuildSamplers();
  update();
}

void SliceView::clearOverlays() {
  overlays_.clear();
  rebuildSamplers();
  update();
}

const SliceOverlay* SliceView::overlay(const QString& id) const {
  for (const auto& o : overlays_)
    if (o.id == id) return &o;
  return nullptr;
}

int SliceView::slice() const {
  if (!reference_ || !frame_.valid()) return 0;
  const Vec3 d = frame_.display(reference_->worldToIndex(link_->crosshair()));
  return std::clamp(static_cast<int>(std::lround(d[2])), 0, frame_.ns - 1);
}

void SliceView::setSlice(int s) {
  if (!reference_ || !frame_.valid()) return;
  s = std::clamp(s, 0, frame_.ns - 1);
  Vec3 d = frame_.display(reference_->worldToIndex(link_->crosshair()));
  d[2] = s;
  link_->setCrosshair(reference_->indexToWorld(frame_.refIndex(d[0], d[1], d[2])));
}

void SliceView::onCrosshairChanged() {
  if (slice() != sampledSlice_) composed_ = false;
  if (drag_ == Drag::None && !underMouse()) updateReadout(std::nullopt);
  update();
}

// ---- rendering

void SliceView::resample() {
  const int s = slice();
  const std::size_t n = static_cast<std::size_t>(frame_.nu) * frame_.nv;
  samples_.assign(n, kNaN);
  if (imageSampler_.valid()) imageSampler_.sample(s, interpolation_, kNaN, samples_.data());
  for (std::size_t i = 0; i < overlays_.size(); ++i) {
    OverlayCache& c = *overlayCache_[i];
    if (!c.sampler.valid()) continue;
    if (overlays_[i].kind == SliceOverlay::Kind::Heatmap) {
      c.values.resize(n);
      c.sampler.sample(s, interpolation_, kNaN, c.values.data());
    } else {
      c.labels.resize(n);
      c.sampler.sampleLabels(s, c.labels.data());
    }
  }
  sampledSlice_ = s;
}

void SliceView::compose() {
  const int nu = frame_.nu, nv = frame_.nv;
  if (raster_.size() != QSize(nu, nv)) raster_ = QImage(nu, nv, QImage::Format_RGB32);
  // Window/level through a 4096-entry grey table.
  constexpr int kSteps = 4096;
  const float scale = static_cast<float>((kSteps - 1) / (high_ - low_));
  const float low = static_cast<float>(low_);
  static thread_local std::vector<QRgb> grey;
  if (grey.empty()) {
    grey.resize(kSteps);
    for (int i = 0; i < kSteps; ++i) {
      const int g = (i * 255 + (kSteps - 1) / 2) / (kSteps - 1);
      grey[i] = qRgb(g, g, g);
    }
  }
  const QRgb outsideColour = qRgb(0, 0, 0);
  for (int v = 0; v < nv; ++v) {
    QRgb* row = reinterpret_cast<QRgb*>(raster_.scanLine(v));
    const float* in = samples_.data() + static_cast<std::size_t>(v) * nu;
    for (int u = 0; u < nu; ++u) {
      const float x = in[u];
      if (!(x == x)) {
        row[u] = outsideColour;
        continue;
      }
      const float t = (x - low) * scale;
      row[u] = grey[t <= 0.f ? 0 : t >= kSteps - 1 ? kSteps - 1 : static_cast<int>(t + 0.5f)];
    }
  }
  for (std::size_t i = 0; i < overlays_.size(); ++i) {
    const SliceOverlay& o = overlays_[i];
    OverlayCache& c = *overlayCache_[i];
    if (!o.visible || !c.sampler.valid()) continue;
    const int alpha = std::clamp(static_cast<int>(std::lround(o.opacity * 256)), 0, 256);
    if (o.kind == SliceOverlay::Kind::Heatmap) {
      c.lut.resize(256);
      for (int k = 0; k < 256; ++k) {
        const auto rgb = colormapColor(o.colormap, k / 255.f);
        c.lut[k] = qRgb(rgb[0], rgb[1], rgb[2]);
      }
      const float lo = o.rangeMin, sc = o.rangeMax > o.rangeMin ? 255.f / (o.rangeMax - o.rangeMin) : 0.f;
      for (int v = 0; v < nv; ++v) {
        QRgb* row = reinterpret_cast<QRgb*>(raster_.scanLine(v));
        const float* in = c.values.data() + static_cast<std::size_t>(v) * nu;
        for (int u = 0; u < nu; ++u) {
          const float x = in[u];
          if (!(x > lo)) continue;  // also NaN
          const float t = (x - lo) * sc;
          row[u] = blend(row[u], c.lut[t >= 255.f ? 255 : static_cast<int>(t + 0.5f)], alpha);
        }
      }
      continue;
    }
    // Label colours: the table's, else the palette; hidden labels are skipped.
    std::int32_t maxLabel = 0;
    for (const auto& l : o.labels) maxLabel = std::max(maxLabel, l.value);
    const std::int32_t table = std::min<std::int32_t>(4096, std::max<std::int32_t>(maxLabel, 256));
    c.lut.assign(static_cast<std::size_t>(table) + 1, 0);
    c.hidden.assign(static_cast<std::size_t>(table) + 1, false);
    for (std::int32_t k = 1; k <= table; ++k) c.lut[k] = paletteColour(k);
    c.bigLabels.clear();
    for (const auto& l : o.labels) {
      const QRgb col = l.colour ? qRgb((*l.colour)[0], (*l.colour)[1], (*l.colour)[2]) : paletteColour(l.value);
      if (l.value >= 0 && l.value <= table) {
        c.lut[l.value] = col;
        c.hidden[l.value] = !l.visible;
      } else {
        c.bigLabels[l.value] = col;
      }
    }
    auto colourOf = [&c, table](std::int32_t label) -> QRgb {
      if (label >= 0 && label <= table) return c.lut[label];
      const auto it = c.bigLabels.find(label);
      return it != c.bigLabels.end() ? it->second : paletteColour(label);
    };
    auto hidden = [&c, table](std::int32_t label) { return label >= 0 && label <= table && c.hidden[label]; };
    const std::int32_t* lab = c.labels.data();
    for (int v = 0; v < nv; ++v) {
      QRgb* row = reinterpret_cast<QRgb*>(raster_.scanLine(v));
      const std::int32_t* in = lab + static_cast<std::size_t>(v) * nu;
      for (int u = 0; u < nu; ++u) {
        const std::int32_t l = in[u];
        if (l == 0 || hidden(l)) continue;
        const bool edge = o.outline && (u == 0 || u == nu - 1 || v == 0 || v == nv - 1 || in[u - 1] != l ||
                                        in[u + 1] != l || in[u - nu] != l || in[u + nu] != l);
        if (edge) row[u] = colourOf(l);
        else if (o.fill) row[u] = blend(row[u], colourOf(l), alpha);
      }
    }
  }
  composed_ = true;
}

const QImage& SliceView::sliceImage() {
  if (!frame_.valid()) {
    raster_ = QImage();
    return raster_;
  }
  if (composed_ && sampledSlice_ == slice()) return raster_;
  QElapsedTimer timer;
  timer.start();
  if (sampledSlice_ != slice()) resample();
  compose();
  lastRenderMs_ = timer.nsecsElapsed() / 1e6;
  return raster_;
}

const std::vector<float>& SliceView::sliceSamples() {
  sliceImage();
  return samples_;
}

// ---- view transform: display mm (X = u * su, Y = v * sv) -> widget pixels

double SliceView::fitScale() const {
  if (!frame_.valid()) return 1.0;
  const double w = frame_.nu * frame_.su, h = frame_.nv * frame_.sv;
  return std::max(1e-6, std::min(width() / w, height() / h));
}

double SliceView::pixelsPerMm() const { return fitScale() * link_->zoom(); }

QPointF SliceView::centreMm() const {
  if (!frame_.valid()) return {};
  if (const auto c = link_->centre(); c && reference_) {
    const Vec3 d = frame_.display(reference_->worldToIndex(*c));
    return {d[0] * frame_.su, d[1] * frame_.sv};
  }
  return {frame_.nu * frame_.su / 2.0, frame_.nv * frame_.sv / 2.0};
}

QPointF SliceView::displayToWidget(double u, double v) const {
  const double s = pixelsPerMm();
  const QPointF c = centreMm();
  return {width() / 2.0 + (u * frame_.su - c.x()) * s, height() / 2.0 + (v * frame_.sv - c.y()) * s};
}

QPointF SliceView::widgetToDisplay(QPointF p) const {
  const double s = pixelsPerMm();
  const QPointF c = centreMm();
  return {((p.x() - width() / 2.0) / s + c.x()) / frame_.su, ((p.y() - height() / 2.0) / s + c.y()) / frame_.sv};
}

void SliceView::setCentreDisplay(QPointF uv) {
  if (!reference_ || !frame_.valid()) return;
  link_->setCentre(reference_->indexToWorld(frame_.refIndex(uv.x(), uv.y(), slice())));
}

std::optional<Vec3> SliceView::widgetToWorld(QPointF widgetPos) const {
  if (!reference_ || !frame_.valid()) return std::nullopt;
  const QPointF d = widgetToDisplay(widgetPos);
  if (d.x() < 0 || d.y() < 0 || d.x() > frame_.nu || d.y() > frame_.nv) return std::nullopt;
  return reference_->indexToWorld(frame_.refIndex(d.x(), d.y(), slice()));
}

QPointF SliceView::worldToWidget(const Vec3& world) const {
  if (!reference_ || !frame_.valid()) return {};
  const Vec3 d = frame_.display(reference_->worldToIndex(world));
  return displayToWidget(d[0], d[1]);
}

std::optional<double> SliceView::imageValueAt(const Vec3& world) const {
  if (!image_) return std::nullopt;
  const Vec3 idx = image_->worldToIndex(world);
  std::array<std::int64_t, 3> n{};
  for (int a = 0; a < 3; ++a) {
    if (idx[a] < -0.5 || idx[a] > image_->size[a] - 0.5) return std::nullopt;
    n[a] = std::min<std::int64_t>(image_->size[a] - 1, static_cast<std::int64_t>(std::floor(idx[a] + 0.5)));
  }
  return image_->value(n[0], n[1], n[2]);
}

QString SliceView::readoutAt(const Vec3& w) const {
  QString text = QStringLiteral("x %1  y %2  z %3 mm (LPS)")
                     .arg(w[0], 0, 'f', 1)
                     .arg(w[1], 0, 'f', 1)
                     .arg(w[2], 0, 'f', 1);
  if (image_) {
    const Vec3 idx = image_->worldToIndex(w);
    if (const auto v = imageValueAt(w))
      text += QStringLiteral("  ·  %1 %2 [%3 %4 %5]")
                  .arg(imageName_, number(*v))
                  .arg(std::lround(idx[0]))
                  .arg(std::lround(idx[1]))
                  .arg(std::lround(idx[2]));
    else
      text += QStringLiteral("  ·  %1 outside").arg(imageName_);
  }
  for (const SliceOverlay& o : overlays_) {
    if (!o.visible || !o.volume) continue;
    const Vec3 idx = o.volume->worldToIndex(w);
    bool inside = true;
    std::array<std::int64_t, 3> n{};
    for (int a = 0; a < 3; ++a) {
      inside = inside && idx[a] >= -0.5 && idx[a] <= o.volume->size[a] - 0.5;
      n[a] = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(idx[a] + 0.5)), 0, o.volume->size[a] - 1);
    }
    if (!inside) continue;
    const double v = o.volume->value(n[0], n[1], n[2]);
    QString shown = number(v);
    if (o.kind == SliceOverlay::Kind::Labels) {
      shown = QString::number(static_cast<long long>(std::llround(v)));
      for (const auto& l : o.labels)
        if (l.value == std::llround(v) && !l.name.empty()) shown = QString::fromStdString(l.name);
    }
    text += QStringLiteral("  ·  %1 %2").arg(o.title, shown);
  }
  return text;
}

void SliceView::updateReadout(const std::optional<Vec3>& world) {
  const QString text = reference_ ? readoutAt(world.value_or(link_->crosshair())) : QString();
  if (text == readout_) return;
  readout_ = text;
  Q_EMIT readoutChanged(readout_);
}

void SliceView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::black);
  if (!frame_.valid()) {
    p.setPen(QColor(170, 170, 170));
    p.drawText(rect(), Qt::AlignCenter, tr("No volume"));
    return;
  }
  const QImage& img = sliceImage();
  const QPointF tl = displayToWidget(0, 0), br = displayToWidget(frame_.nu, frame_.nv);
  p.drawImage(QRectF(tl, br), img);

  // Crosshair, with a gap around the point so what it marks stays visible.
  const QPointF c = worldToWidget(link_->crosshair());
  const double gap = 10;
  p.setPen(QPen(QColor(255, 210, 0, 200), 1));
  p.drawLine(QPointF(0, c.y()), QPointF(c.x() - gap, c.y()));
  p.drawLine(QPointF(c.x() + gap, c.y()), QPointF(width(), c.y()));
  p.drawLine(QPointF(c.x(), 0), QPointF(c.x(), c.y() - gap));
  p.drawLine(QPointF(c.x(), c.y() + gap), QPointF(c.x(), height()));

  // Orientation letters, caption, window and readout.
  QFont f = font();
  f.setPointSizeF(std::max(7.0, f.pointSizeF() * 0.9));
  p.setFont(f);
  const QFontMetrics fm(f);
  auto text = [&p](const QRect& r, int flags, const QString& s, QColor colour) {
    p.setPen(QColor(0, 0, 0, 200));
    p.drawText(r.translated(1, 1), flags, s);
    p.setPen(colour);
    p.drawText(r, flags, s);
  };
  const QColor orient(120, 200, 255);
  const QRect inner = rect().adjusted(4, 2, -4, -2);
  text(inner, Qt::AlignLeft | Qt::AlignVCenter, QString(QChar(oppositeOrientation(frame_.plusU))), orient);
  text(inner, Qt::AlignRight | Qt::AlignVCenter, QString(QChar(frame_.plusU)), orient);
  const QRect midTop(width() / 2 - 20, 2 + fm.height(), 40, fm.height());
  text(midTop, Qt::AlignCenter, QString(QChar(oppositeOrientation(frame_.plusV))), orient);
  const QRect midBottom(width() / 2 - 20, height() - 4 - 2 * fm.height(), 40, fm.height());
  text(midBottom, Qt::AlignCenter, QString(QChar(frame_.plusV)), orient);
  const QString caption = QStringLiteral("%1  %2  %3/%4")
                              .arg(imageName_.isEmpty() ? tr("(none)") : imageName_,
                                   QString::fromLatin1(slicePlaneName(frame_.plane)))
                              .arg(slice() + 1)
                              .arg(frame_.ns);
  text(inner, Qt::AlignLeft | Qt::AlignTop, caption, QColor(235, 235, 235));
  text(inner, Qt::AlignRight | Qt::AlignTop,
       QStringLiteral("W %1  L %2").arg(number(high_ - low_), number((high_ + low_) / 2)), QColor(200, 200, 200));
  if (!readout_.isEmpty())
    text(inner, Qt::AlignLeft | Qt::AlignBottom, fm.elidedText(readout_, Qt::ElideRight, inner.width()),
         QColor(235, 235, 160));
  if (hasFocus()) {
    p.setPen(QPen(QColor(80, 140, 255), 2));
    p.drawRect(rect().adjusted(1, 1, -1, -1));
  }
}

// ---- input

void SliceView::mousePressEvent(QMouseEvent* e) {
  setFocus(Qt::MouseFocusReason);
  Q_EMIT focused();
  dragStart_ = e->position();
  dragCentre_ = QPointF(centreMm().x() / frame_.su, centreMm().y() / frame_.sv);
  if (e->button() == Qt::MiddleButton || (e->button() == Qt::LeftButton && spaceDown_)) {
    drag_ = Drag::Pan;
  } else if (e->button() == Qt::RightButton) {
    drag_ = Drag::Window;
    dragLow_ = low_;
    dragHigh_ = high_;
  } else if (e->button() == Qt::LeftButton) {
    drag_ = Drag::Crosshair;
    if (const auto w = widgetToWorld(e->position())) link_->setCrosshair(*w);
  }
  e->accept();
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
  const QPointF d = e->position() - dragStart_;
  switch (drag_) {
    case Drag::Pan: {
      const double s = pixelsPerMm();
      setCentreDisplay({dragCentre_.x() - d.x() / s / frame_.su, dragCentre_.y() - d.y() / s / frame_.sv});
      break;
    }
    case Drag::Window: {
      // One widget width of drag spans the volume's 1st-99th percentile range.
      const double range = std::max(1e-6, stats_.percentile(99) - stats_.percentile(1));
      const double perPixel = range / std::max(100, width());
      const double w = std::max(range * 1e-4, (dragHigh_ - dragLow_) + d.x() * perPixel);
      const double level = (dragHigh_ + dragLow_) / 2 + d.y() * perPixel;
      setWindow(level - w / 2, level + w / 2);
      break;
    }
    case Drag::Crosshair: {
      if (const auto w = widgetToWorld(e->position())) link_->setCrosshair(*w);
      break;
    }
    case Drag::None: break;
  }
  updateReadout(widgetToWorld(e->position()));
  update();
}

void SliceView::mouseReleaseEvent(QMouseEvent*) { drag_ = Drag::None; }

void SliceView::leaveEvent(QEvent*) {
  updateReadout(std::nullopt);
  update();
}

void SliceView::wheelEvent(QWheelEvent* e) {
  const int steps = e->angleDelta().y() / 120;
  if (steps == 0) return;
  if (e->modifiers() & Qt::ControlModifier) {
    // Zoom keeping the point under the cursor where it is.
    const QPointF before = widgetToDisplay(e->position());
    link_->setZoom(link_->zoom() * std::pow(1.25, steps));
    const QPointF after = widgetToDisplay(e->position());
    const QPointF c(centreMm().x() / frame_.su, centreMm().y() / frame_.sv);
    setCentreDisplay(c + (before - after));
  } else {
    stepSlice(steps);
  }
  updateReadout(widgetToWorld(e->position()));
  e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
  switch (e->key()) {
    case Qt::Key_PageUp:
    case Qt::Key_Up: stepSlice(1); break;
    case Qt::Key_PageDown:
    case Qt::Key_Down: stepSlice(-1); break;
    case Qt::Key_Home: setSlice(0); break;
    case Qt::Key_End: setSlice(frame_.ns - 1); break;
    case Qt::Key_0:
    case Qt::Key_F:
      link_->setZoom(1.0);
      link_->setCentre(std::nullopt);
      break;
    case Qt::Key_Space:
      if (!e->isAutoRepeat()) spaceDown_ = true;
      break;
    default: QWidget::keyPressEvent(e); return;
  }
  e->accept();
}

void SliceView::keyReleaseEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_Space && !e->isAutoRepeat()) spaceDown_ = false;
  QWidget::keyReleaseEvent(e);
}

}  // namespace loupe::widgets
