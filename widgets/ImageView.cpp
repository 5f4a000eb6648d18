#include "ImageView.h"

#include <QFontMetrics>
#include <QGestureEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QNativeGestureEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPinchGesture>
#include <QPromise>
#include <QWheelEvent>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "ImagePyramid.h"
#include "Legend.h"
#include "QtImage.h"

namespace loupe::widgets {

namespace {

const QColor kBackground(0x2b, 0x2d, 0x30);
constexpr int kMargin = 12;          // legends and badge from the widget's edges
constexpr int kLegendGap = 8;
constexpr double kKeepVisible = 48;  // screen pixels of image that panning always leaves in view
constexpr double kMaxScale = 64.0;
constexpr double kWheelStep = 480.0;  // angle delta for a factor of 2 (four notches)
constexpr int kSpaceHoldMs = 300;     // a longer Space press is a peek, a shorter one a toggle
const QString kSeparator = QStringLiteral("   \u00b7   ");

std::atomic<qint64> g_syncPyramidLimit{4'000'000};

QString sampleText(const Image& image, int x, int y, int c) {
  const float v = image.sample(x, y, c);
  return image.depth() == PixelDepth::F32 ? QString::number(v, 'f', 3) : QString::number(std::lround(v));
}

QString describeSample(const Image& image, int x, int y) {
  const auto s = [&](int c) { return sampleText(image, x, y, c); };
  switch (image.order()) {
    case ColorOrder::Gray: return QStringLiteral("gray %1").arg(s(0));
    case ColorOrder::GrayAlpha: return QStringLiteral("gray %1  alpha %2").arg(s(0), s(1));
    case ColorOrder::RGB: return QStringLiteral("RGB %1 %2 %3").arg(s(0), s(1), s(2));
    case ColorOrder::RGBA: return QStringLiteral("RGBA %1 %2 %3 %4").arg(s(0), s(1), s(2), s(3));
    case ColorOrder::BGR: return QStringLiteral("RGB %1 %2 %3").arg(s(2), s(1), s(0));
    case ColorOrder::BGRA: return QStringLiteral("RGBA %1 %2 %3 %4").arg(s(2), s(1), s(0), s(3));
  }
  return {};
}

QString describePixel(const QImage& image, int x, int y) {
  const QRgb c = image.pixel(x, y);
  if (image.format() == QImage::Format_Grayscale8) return QStringLiteral("gray %1").arg(qGray(c));
  if (image.hasAlphaChannel())
    return QStringLiteral("RGBA %1 %2 %3 %4").arg(qRed(c)).arg(qGreen(c)).arg(qBlue(c)).arg(qAlpha(c));
  return QStringLiteral("RGB %1 %2 %3").arg(qRed(c)).arg(qGreen(c)).arg(qBlue(c));
}

// The image's 8-bit gray/RGB/BGR pixels wrapped without a copy (100 MP would take a third of a second
// on the GUI thread): the read-only QImage keeps a share of the buffer alive. Other layouts are converted.
QImage sharedQImage(const Image& image) {
  if (image.empty() || image.depth() != PixelDepth::U8) return toQImage(image);
  QImage::Format format = QImage::Format_Invalid;
  switch (image.order()) {
    case ColorOrder::Gray: format = QImage::Format_Grayscale8; break;
    case ColorOrder::RGB: format = QImage::Format_RGB888; break;
    case ColorOrder::BGR: format = QImage::Format_BGR888; break;
    default: return toQImage(image);
  }
  auto* keep = new Image(image);  // shares the pixels
  return QImage(static_cast<const uchar*>(keep->data()), keep->width(), keep->height(),
                static_cast<qsizetype>(keep->rowBytes()), format, [](void* p) { delete static_cast<Image*>(p); }, keep);
}

}  // namespace

QString PixelReadout::text() const {
  if (!inside) return {};
  QString t = QStringLiteral("x %1  y %2").arg(pixel.x()).arg(pixel.y());
  if (!imageValue.isEmpty()) t += kSeparator + imageValue;
  for (const auto& [title, value] : layers) t += kSeparator + title + QLatin1Char(' ') + value;
  return t;
}

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<loupe::widgets::PixelReadout>();
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setAttribute(Qt::WA_AcceptTouchEvents);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  grabGesture(Qt::PinchGesture);
  pyramidWatcher_ = new QFutureWatcher<std::vector<QImage>>(this);
  connect(pyramidWatcher_, &QFutureWatcher<std::vector<QImage>>::finished, this, &ImageView::onPyramidFinished);
  setLayers(nullptr);
}

ImageView::~ImageView() {
  cancelPyramid();
  if (layers_ != &ownLayers_) disconnect(layers_, nullptr, this, nullptr);
}

// ---- image and pyramid -----------------------------------------------------------------------------------

void ImageView::setSyncPyramidLimit(qint64 pixels) { g_syncPyramidLimit = pixels; }
qint64 ImageView::syncPyramidLimit() { return g_syncPyramidLimit; }

void ImageView::setImage(const Image& image) {
  image_ = image;
  setBase(sharedQImage(image));
}

void ImageView::setImage(const QImage& image) {
  image_ = Image();
  setBase(image);
}

void ImageView::clearImage() {
  image_ = Image();
  setBase(QImage());
}

void ImageView::setBase(QImage base) {
  cancelPyramid();
  base_ = std::move(base);
  crosshair_.reset();
  startPyramid();
  fitMode_ = true;
  applyFit();
  viewUpdated();
}

void ImageView::startPyramid() {
  levels_.clear();
  pyramidReady_ = false;
  if (base_.isNull()) return;
  levels_.push_back(base_);  // drawn from until the pyramid is ready
  if (qint64(base_.width()) * base_.height() <= g_syncPyramidLimit) {
    levels_ = buildImagePyramid(base_);
    pyramidReady_ = true;
    return;
  }
  auto build = [](QPromise<std::vector<QImage>>& promise, const QImage& base) {
    auto levels = buildImagePyramid(base, [&promise] { return promise.isCanceled(); });
    if (!levels.empty()) promise.addResult(std::move(levels));
  };
  pyramidWatcher_->setFuture(QtConcurrent::run(build, base_));
}

void ImageView::cancelPyramid() {
  if (!pyramidWatcher_ || pyramidWatcher_->isFinished()) return;
  pyramidWatcher_->cancel();  // the builder checks every 64 rows
  pyramidWatcher_->waitForFinished();
}

void ImageView::onPyramidFinished() {
  const QFuture<std::vector<QImage>> future = pyramidWatcher_->future();
  // A late signal from a build replaced since (setImage cancels it) finds the new future unfinished.
  if (!future.isFinished() || future.isCanceled() || future.resultCount() == 0) return;
  std::vector<QImage> levels = future.result();
  if (levels.empty() || future.isCanceled()) return;
  levels_ = std::move(levels);
  pyramidReady_ = true;
  update();
  Q_EMIT pyramidReady();
}

int ImageView::levelForScale(double scale) const {
  if (base_.isNull() || scale <= 0) return 0;
  const int count = widgets::pyramidLevelCount(base_.width(), base_.height());
  int k = 0;
  while (k + 1 < count && std::ldexp(scale, k + 1) <= 1.0 + 1e-9) ++k;
  return k;
}

int ImageView::currentLevel() const {
  return std::min(levelForScale(scale_), std::max(0, static_cast<int>(levels_.size()) - 1));
}

// ---- layers ----------------------------------------------------------------------------------------------

void ImageView::setLayers(LayerStack* layers) {
  disconnect(layers_, nullptr, this, nullptr);
  layers_ = layers ? layers : &ownLayers_;
  connect(layers_, &LayerStack::layersChanged, this, qOverload<>(&QWidget::update));
  connect(layers_, &LayerStack::layerChanged, this, qOverload<>(&QWidget::update));
  if (layers_ != &ownLayers_)
    connect(layers_, &QObject::destroyed, this, [this](QObject* gone) {
      if (gone == layers_) setLayers(nullptr);
    });
  update();
}

// ---- transform -------------------------------------------------------------------------------------------

double ImageView::fitScale() const {
  if (base_.isNull() || width() <= 0 || height() <= 0) return 1.0;
  return std::min(static_cast<double>(width()) / base_.width(), static_cast<double>(height()) / base_.height());
}

double ImageView::minScale() const { return std::min(fitScale(), 1.0) / 2.0; }
double ImageView::maxScale() const { return std::max(kMaxScale, fitScale()); }

QPointF ImageView::viewCentre() const { return transform().toImage(QPointF(width() / 2.0, height() / 2.0)); }

void ImageView::applyFit() {
  if (base_.isNull()) return;
  scale_ = fitScale();
  offset_ = QPointF((width() - base_.width() * scale_) / 2.0, (height() - base_.height() * scale_) / 2.0);
}

void ImageView::clampOffset() {
  if (base_.isNull()) return;
  const auto clampAxis = [](double offset, double extent, double viewport) {
    const double keep = std::min(kKeepVisible, extent);
    return std::clamp(offset, keep - extent, viewport - keep);
  };
  offset_.setX(clampAxis(offset_.x(), base_.width() * scale_, width()));
  offset_.setY(clampAxis(offset_.y(), base_.height() * scale_, height()));
}

void ImageView::viewUpdated() {
  update();
  Q_EMIT viewChanged();
}

void ImageView::setView(double scale, QPointF imageCentre) {
  if (base_.isNull()) return;
  scale_ = std::clamp(scale, minScale(), maxScale());
  offset_ = QPointF(width() / 2.0, height() / 2.0) - imageCentre * scale_;
  fitMode_ = false;
  clampOffset();
  viewUpdated();
}

void ImageView::zoomAt(QPointF widgetPos, double factor) {
  if (base_.isNull() || !(factor > 0)) return;
  const double next = std::clamp(scale_ * factor, minScale(), maxScale());
  const QPointF anchor = transform().toImage(widgetPos);
  scale_ = next;
  offset_ = widgetPos - anchor * scale_;
  fitMode_ = false;
  clampOffset();
  viewUpdated();
}

void ImageView::panBy(QPointF widgetDelta) {
  if (base_.isNull()) return;
  offset_ += widgetDelta;
  fitMode_ = false;
  clampOffset();
  viewUpdated();
}

void ImageView::fitToWindow() {
  fitMode_ = true;
  applyFit();
  viewUpdated();
}

void ImageView::zoomToActualSize() { setView(1.0, viewCentre()); }
void ImageView::zoomIn() { zoomAt(QPointF(width() / 2.0, height() / 2.0), std::sqrt(2.0)); }
void ImageView::zoomOut() { zoomAt(QPointF(width() / 2.0, height() / 2.0), 1.0 / std::sqrt(2.0)); }

std::optional<QPointF> ImageView::widgetToImage(QPointF widgetPos) const {
  if (base_.isNull()) return std::nullopt;
  const QPointF p = transform().toImage(widgetPos);
  if (p.x() < 0 || p.y() < 0 || p.x() >= base_.width() || p.y() >= base_.height()) return std::nullopt;
  return p;
}

QRect ImageView::imageRect() const {
  if (base_.isNull()) return {};
  return transform().toWidget(QRectF(QPointF(0, 0), QSizeF(base_.size()))).toAlignedRect();
}

QRectF ImageView::visibleImageRect() const {
  if (base_.isNull()) return {};
  return transform().toImage(QRectF(rect())).intersected(QRectF(QPointF(0, 0), QSizeF(base_.size())));
}

// ---- modes -----------------------------------------------------------------------------------------------

void ImageView::setShowOriginal(bool original) {
  if (original == showOriginal_) return;
  showOriginal_ = original;
  update();
  if (cursor_) reportCursor(*cursor_);
  Q_EMIT showOriginalChanged(original);
}

void ImageView::setMagnifierEnabled(bool enabled) {
  if (enabled == magnifier_) return;
  magnifier_ = enabled;
  update();
}

void ImageView::setCrosshair(QPointF imagePos) {
  crosshair_ = imagePos;
  update();
}

void ImageView::clearCrosshair() {
  if (!crosshair_) return;
  crosshair_.reset();
  update();
}

void ImageView::setCaption(const QString& caption) {
  caption_ = caption;
  update();
}

void ImageView::setLegendVisible(bool visible) {
  legendVisible_ = visible;
  update();
}

// ---- readout ---------------------------------------------------------------------------------------------

PixelReadout ImageView::readout(QPointF imagePos) const {
  PixelReadout r;
  if (base_.isNull() || imagePos.x() < 0 || imagePos.y() < 0 || imagePos.x() >= base_.width() ||
      imagePos.y() >= base_.height())
    return r;
  r.inside = true;
  r.pixel = QPoint(static_cast<int>(std::floor(imagePos.x())), static_cast<int>(std::floor(imagePos.y())));
  r.imageValue = image_.empty() ? describePixel(base_, r.pixel.x(), r.pixel.y())
                                : describeSample(image_, r.pixel.x(), r.pixel.y());
  if (showOriginal_) return r;
  const auto& layers = layers_->layers();
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (!(*it)->isVisible()) continue;
    if (auto value = (*it)->valueAt(imagePos, base_.size(), transform())) r.layers.append({(*it)->title(), *value});
  }
  return r;
}

void ImageView::reportCursor(QPointF widgetPos) {
  const QPointF imagePos = transform().toImage(widgetPos);
  const PixelReadout r = readout(imagePos);
  if (r.inside) Q_EMIT cursorMoved(imagePos);
  else Q_EMIT cursorLeft();
  Q_EMIT pixelReadout(r);
  Q_EMIT pixelInfo(r.text());
}

// ---- painting --------------------------------------------------------------------------------------------

void ImageView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), kBackground);
  if (base_.isNull()) {
    painter.setPen(QColor(0xa0, 0xa4, 0xa8));
    painter.drawText(rect(), Qt::AlignCenter, tr("Open an image (Ctrl+O) or drop a file here"));
    return;
  }
  painter.save();
  painter.setClipRect(transform().toWidget(QRectF(QPointF(0, 0), QSizeF(base_.size()))).intersected(QRectF(rect())));
  drawImageLevel(painter);
  if (!showOriginal_) drawLayers(painter);
  painter.restore();
  if (!showOriginal_ && legendVisible_) drawLegends(painter);
  drawCrosshair(painter);
  drawMagnifier(painter);
  drawBadge(painter);
}

void ImageView::drawImageLevel(QPainter& painter) const {
  const QRectF visible = visibleImageRect();
  if (visible.isEmpty()) return;
  const int k = currentLevel();
  const QImage& level = levels_[static_cast<std::size_t>(k)];
  const double f = std::ldexp(1.0, k);  // image pixels per level pixel
  const int x0 = std::clamp(static_cast<int>(std::floor(visible.left() / f)), 0, level.width());
  const int y0 = std::clamp(static_cast<int>(std::floor(visible.top() / f)), 0, level.height());
  const int x1 = std::clamp(static_cast<int>(std::ceil(visible.right() / f)), 0, level.width());
  const int y1 = std::clamp(static_cast<int>(std::ceil(visible.bottom() / f)), 0, level.height());
  if (x1 <= x0 || y1 <= y0) return;
  const QRectF target(transform().toWidget(QPointF(x0 * f, y0 * f)), transform().toWidget(QPointF(x1 * f, y1 * f)));
  // Reduced: filtered (the level is at most 2x finer than the screen). Magnified: crisp pixels.
  painter.setRenderHint(QPainter::SmoothPixmapTransform, scale_ * f < 1.0 - 1e-9);
  painter.drawImage(target, level, QRectF(x0, y0, x1 - x0, y1 - y0));
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
}

void ImageView::drawLayers(QPainter& painter) const {
  PaintContext context;
  context.painter = &painter;
  context.transform = transform();
  context.visible = visibleImageRect();
  context.imageSize = base_.size();
  for (const auto& layer : layers_->layers()) {
    if (!layer->isVisible() || layer->opacity() <= 0.0) continue;
    context.opacity = layer->opacity();
    layer->paint(context);
  }
}

std::vector<std::pair<QRect, const ViewLayer*>> ImageView::legendBoxes() const {
  std::vector<std::pair<QRect, const ViewLayer*>> boxes;
  if (showOriginal_ || !legendVisible_ || base_.isNull()) return boxes;
  int bottom = height() - kMargin;
  const auto& layers = layers_->layers();
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {  // the top layer's legend lowest
    if (!(*it)->isVisible()) continue;
    const QSize size = legendSize(**it, font());
    if (size.isEmpty()) continue;
    const QRect box(width() - size.width() - kMargin, bottom - size.height(), size.width(), size.height());
    if (box.top() < kMargin) break;
    boxes.emplace_back(box, it->get());
    bottom = box.top() - kLegendGap;
  }
  return boxes;
}

QRect ImageView::legendRect() const {
  QRect all;
  for (const auto& [box, layer] : legendBoxes()) all = all.united(box);
  return all;
}

void ImageView::drawLegends(QPainter& painter) const {
  for (const auto& [box, layer] : legendBoxes()) paintLegend(painter, box, *layer, font());
}

QString ImageView::badgeText() const {
  QStringList parts;
  if (!caption_.isEmpty()) parts << caption_;
  if (showOriginal_ && !layers_->isEmpty()) parts << tr("Original (Space)");
  return parts.join(QStringLiteral("  \u00b7  "));
}

QRect ImageView::badgeRect() const {
  const QString text = badgeText();
  if (text.isEmpty() || base_.isNull()) return {};
  QFont bold = font();
  bold.setBold(true);
  const QFontMetrics m(bold);
  return {kMargin, kMargin, m.horizontalAdvance(text) + 20, m.height() + 10};
}

void ImageView::drawBadge(QPainter& painter) const {
  const QRect box = badgeRect();
  if (box.isEmpty()) return;
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, true);
  QPainterPath path;
  path.addRoundedRect(QRectF(box), 5, 5);
  painter.fillPath(path, QColor(18, 18, 20, 200));
  QFont bold = font();
  bold.setBold(true);
  painter.setFont(bold);
  painter.setPen(showOriginal_ ? QColor(0xff, 0xd0, 0x60) : QColor(0xf0, 0xf0, 0xf0));
  painter.drawText(box, Qt::AlignCenter, badgeText());
  painter.restore();
}

void ImageView::drawCrosshair(QPainter& painter) const {
  if (!crosshair_ || cursor_) return;
  const QPointF c = transform().toWidget(*crosshair_);
  if (!QRectF(rect()).contains(c)) return;
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, false);
  for (const auto& pen : {QPen(QColor(0, 0, 0, 150), 3), QPen(QColor(255, 255, 255, 220), 1)}) {
    painter.setPen(pen);
    painter.drawLine(QPointF(c.x(), 0), QPointF(c.x(), c.y() - 6));
    painter.drawLine(QPointF(c.x(), c.y() + 6), QPointF(c.x(), height()));
    painter.drawLine(QPointF(0, c.y()), QPointF(c.x() - 6, c.y()));
    painter.drawLine(QPointF(c.x() + 6, c.y()), QPointF(width(), c.y()));
  }
  painter.restore();
}

QImage ImageView::magnifierPatch(QPointF imagePos, int* low, int* high) const {
  if (base_.isNull()) return {};
  const double zoom = scale_ * kMagnifierZoom;                   // screen pixels per image pixel in the inset
  const int k = std::min(levelForScale(zoom), std::max(0, static_cast<int>(levels_.size()) - 1));
  const QImage& level = levels_[static_cast<std::size_t>(k)];
  const double f = std::ldexp(1.0, k);
  const double half = kMagnifierSize / zoom / 2.0;  // image pixels from the centre to the inset's edge
  const int x0 = std::max(0, static_cast<int>(std::floor((imagePos.x() - half) / f)));
  const int y0 = std::max(0, static_cast<int>(std::floor((imagePos.y() - half) / f)));
  const int x1 = std::min(level.width(), static_cast<int>(std::ceil((imagePos.x() + half) / f)));
  const int y1 = std::min(level.height(), static_cast<int>(std::ceil((imagePos.y() + half) / f)));
  if (x1 <= x0 || y1 <= y0) return {};
  QImage patch = contrastStretch(level.copy(x0, y0, x1 - x0, y1 - y0), low, high);
  // Where the patch sits, in image coordinates, so the inset can place it.
  patch.setOffset(QPoint(static_cast<int>(x0 * f), static_cast<int>(y0 * f)));
  patch.setText(QStringLiteral("level"), QString::number(k));
  return patch;
}

QRect ImageView::magnifierRect() const {
  if (!magnifier_ || !cursor_ || base_.isNull() || !widgetToImage(*cursor_)) return {};
  const QPoint c = cursor_->toPoint();
  QRect box(c.x() + 24, c.y() + 24, kMagnifierSize, kMagnifierSize);
  if (box.right() > width() - 4) box.moveRight(c.x() - 24);
  if (box.bottom() > height() - 4) box.moveBottom(c.y() - 24);
  // Never off the widget where it fits.
  if (width() >= box.width() + 8) box.moveLeft(std::clamp(box.left(), 4, width() - box.width() - 4));
  if (height() >= box.height() + 8) box.moveTop(std::clamp(box.top(), 4, height() - box.height() - 4));
  return box;
}

void ImageView::drawMagnifier(QPainter& painter) const {
  const QRect box = magnifierRect();
  if (box.isEmpty()) return;
  const QPointF centre = transform().toImage(*cursor_);
  int low = 0, high = 0;
  const QImage patch = magnifierPatch(centre, &low, &high);
  if (patch.isNull()) return;
  const double zoom = scale_ * kMagnifierZoom;
  const double f = std::ldexp(1.0, patch.text(QStringLiteral("level")).toInt());
  // Inset coordinates of an image position: the cursor's image point at the inset's centre.
  const auto toInset = [&](QPointF image) { return QPointF(box.center()) + (image - centre) * zoom; };
  const QPointF origin(patch.offset());
  const QRectF target(toInset(origin), toInset(origin + QPointF(patch.width() * f, patch.height() * f)));
  painter.save();
  painter.fillRect(box, kBackground);
  painter.setClipRect(box);
  painter.setRenderHint(QPainter::SmoothPixmapTransform, zoom * f < 1.0);
  painter.drawImage(target, patch);
  painter.setClipping(false);
  painter.setPen(QPen(QColor(255, 255, 255, 200), 1));
  painter.drawLine(box.center() - QPoint(6, 0), box.center() + QPoint(6, 0));
  painter.drawLine(box.center() - QPoint(0, 6), box.center() + QPoint(0, 6));
  painter.setPen(QPen(QColor(0xf0, 0xf0, 0xf0), 1));
  painter.drawRect(box.adjusted(0, 0, -1, -1));
  QFont small = font();
  small.setPointSizeF(std::max(7.0, font().pointSizeF() * 0.85));
  painter.setFont(small);
  const QString label = tr("%1\u00d7  stretch %2\u2013%3").arg(kMagnifierZoom).arg(low).arg(high);
  const QRect strip(box.left() + 1, box.bottom() - QFontMetrics(small).height() - 3, box.width() - 2,
                    QFontMetrics(small).height() + 3);
  painter.fillRect(strip, QColor(18, 18, 20, 190));
  painter.drawText(strip, Qt::AlignCenter, label);
  painter.restore();
}

// ---- events ----------------------------------------------------------------------------------------------

void ImageView::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (base_.isNull()) return;
  if (fitMode_) {
    applyFit();
  } else {
    // Keep the image point that was at the centre at the centre.
    const QPointF centre = transform().toImage(QPointF(event->oldSize().width() / 2.0, event->oldSize().height() / 2.0));
    if (event->oldSize().isValid()) offset_ = QPointF(width() / 2.0, height() / 2.0) - centre * scale_;
    clampOffset();
  }
  viewUpdated();
}

void ImageView::wheelEvent(QWheelEvent* event) {
  const int delta = event->angleDelta().y() != 0 ? event->angleDelta().y() : event->angleDelta().x();
  if (delta == 0 || base_.isNull()) return;
  zoomAt(event->position(), std::exp2(delta / kWheelStep));
  event->accept();
}

void ImageView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton || event->button() == Qt::MiddleButton) {
    dragFrom_ = event->position();
    setCursor(Qt::ClosedHandCursor);
    event->accept();
    return;
  }
  QWidget::mousePressEvent(event);
}

void ImageView::mouseMoveEvent(QMouseEvent* event) {
  if (dragFrom_) {
    const QPointF delta = event->position() - *dragFrom_;
    dragFrom_ = event->position();
    panBy(delta);
  }
  cursor_ = event->position();
  if (magnifier_ || crosshair_) update();
  reportCursor(event->position());
}

void ImageView::mouseReleaseEvent(QMouseEvent* event) {
  if (dragFrom_ && (event->button() == Qt::LeftButton || event->button() == Qt::MiddleButton)) {
    dragFrom_.reset();
    unsetCursor();
    event->accept();
    return;
  }
  QWidget::mouseReleaseEvent(event);
}

void ImageView::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  // Double click: fit, or 1:1 at the clicked point when already fitted.
  if (fitMode_) setView(1.0, transform().toImage(event->position()));
  else fitToWindow();
}

void ImageView::leaveEvent(QEvent* event) {
  QWidget::leaveEvent(event);
  cursor_.reset();
  update();
  Q_EMIT cursorLeft();
  Q_EMIT pixelReadout(PixelReadout());
  Q_EMIT pixelInfo(QString());
}

void ImageView::keyPressEvent(QKeyEvent* event) {
  const QPointF step(width() / 10.0, height() / 10.0);
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomIn(); break;
    case Qt::Key_Minus: zoomOut(); break;
    case Qt::Key_0: fitToWindow(); break;
    case Qt::Key_1: zoomToActualSize(); break;
    case Qt::Key_Left: panBy(QPointF(step.x(), 0)); break;
    case Qt::Key_Right: panBy(QPointF(-step.x(), 0)); break;
    case Qt::Key_Up: panBy(QPointF(0, step.y())); break;
    case Qt::Key_Down: panBy(QPointF(0, -step.y())); break;
    case Qt::Key_M: setMagnifierEnabled(!magnifier_); break;
    case Qt::Key_Space:
      if (!event->isAutoRepeat()) {
        originalBeforeSpace_ = showOriginal_;
        spaceHeld_.start();
        setShowOriginal(!showOriginal_);
      }
      break;
    default: QWidget::keyPressEvent(event); return;
  }
  event->accept();
}

void ImageView::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    // A tap toggles; a hold peeks and goes back on release.
    if (spaceHeld_.isValid() && spaceHeld_.elapsed() >= kSpaceHoldMs) setShowOriginal(originalBeforeSpace_);
    spaceHeld_.invalidate();
    event->accept();
    return;
  }
  QWidget::keyReleaseEvent(event);
}

bool ImageView::event(QEvent* event) {
  if (event->type() == QEvent::NativeGesture) {
    auto* gesture = static_cast<QNativeGestureEvent*>(event);
    if (gesture->gestureType() == Qt::ZoomNativeGesture) {
      zoomAt(gesture->position(), 1.0 + gesture->value());
      return true;
    }
    if (gesture->gestureType() == Qt::SmartZoomNativeGesture) {
      if (fitMode_) setView(1.0, transform().toImage(gesture->position()));
      else fitToWindow();
      return true;
    }
  }
  if (event->type() == QEvent::Gesture) {
    auto* gestures = static_cast<QGestureEvent*>(event);
    if (auto* pinch = static_cast<QPinchGesture*>(gestures->gesture(Qt::PinchGesture))) {
      if (pinch->state() == Qt::GestureStarted) pinchStartScale_ = scale_;
      if (pinch->changeFlags() & QPinchGesture::ScaleFactorChanged) {
        const QPointF at = mapFromGlobal(pinch->centerPoint().toPoint());
        zoomAt(at, pinchStartScale_ * pinch->totalScaleFactor() / scale_);
      }
      gestures->accept(pinch);
      return true;
    }
  }
  return QWidget::event(event);
}

}  // namespace loupe::widgets
