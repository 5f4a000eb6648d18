#include "ImageCanvas.h"

#include <QFontMetrics>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

#include "QtImage.h"

namespace loupe::widgets {

namespace {

const QColor kBackground(0x2b, 0x2d, 0x30);
constexpr int kLegendMargin = 12;
constexpr int kLegendPadding = 10;
constexpr int kLegendBarWidth = 200;
constexpr int kLegendBarHeight = 12;

QString formatValue(double v) {
  if (!std::isfinite(v)) return QStringLiteral("n/a");
  return QString::number(v, 'g', 4);
}

QString sampleText(const Image& image, int x, int y, int c) {
  const float v = image.sample(x, y, c);
  return image.depth() == PixelDepth::F32 ? QString::number(v, 'f', 3) : QString::number(std::lround(v));
}

QFont smallFont(const QFont& base) {
  QFont f = base;
  f.setPointSizeF(std::max(7.0, base.pointSizeF() * 0.9));
  return f;
}

}  // namespace

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ImageCanvas::setImage(const Image& image) {
  source_ = image;
  image_ = toQImage(image);
  scaledImage_ = QImage();
  heatmap_.reset();
  overlay_ = QImage();
  scaledOverlay_ = QImage();
  overlayTitle_.clear();
  update();
}

void ImageCanvas::clearImage() { setImage(Image()); }

void ImageCanvas::setHeatmap(const Heatmap& heatmap, const QString& title) {
  heatmap_ = heatmap;
  overlay_ = toQImage(heatmap);
  scaledOverlay_ = QImage();
  overlayTitle_ = title;
  update();
}

void ImageCanvas::clearOverlay() {
  heatmap_.reset();
  overlay_ = QImage();
  scaledOverlay_ = QImage();
  overlayTitle_.clear();
  update();
}

void ImageCanvas::setOverlayOpacity(double opacity) {
  const double clamped = std::clamp(opacity, 0.0, 1.0);
  if (clamped == opacity_) return;
  opacity_ = clamped;
  update();
}

void ImageCanvas::setOverlayVisible(bool visible) {
  if (visible == overlayVisible_) return;
  overlayVisible_ = visible;
  update();
}

QRect ImageCanvas::imageRect() const {
  if (image_.isNull() || width() <= 0 || height() <= 0) return {};
  const double scale = std::min(static_cast<double>(width()) / image_.width(),
                                static_cast<double>(height()) / image_.height());
  const int w = std::max(1, static_cast<int>(std::lround(image_.width() * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(image_.height() * scale)));
  return {(width() - w) / 2, (height() - h) / 2, w, h};
}

QPoint ImageCanvas::imageToWidget(QPointF imagePos) const {
  const QRect r = imageRect();
  if (r.isEmpty()) return {};
  const double sx = static_cast<double>(r.width()) / image_.width();
  const double sy = static_cast<double>(r.height()) / image_.height();
  return {r.x() + static_cast<int>(std::floor(imagePos.x() * sx)), r.y() + static_cast<int>(std::floor(imagePos.y() * sy))};
}

std::optional<QPointF> ImageCanvas::widgetToImage(QPointF widgetPos) const {
  const QRect r = imageRect();
  if (r.isEmpty()) return std::nullopt;
  // A widget pixel stands for its centre.
  const double x = (widgetPos.x() + 0.5 - r.x()) * image_.width() / r.width();
  const double y = (widgetPos.y() + 0.5 - r.y()) * image_.height() / r.height();
  if (x < 0 || y < 0 || x >= image_.width() || y >= image_.height()) return std::nullopt;
  return QPointF(x, y);
}

QRect ImageCanvas::legendRect() const {
  if (!heatmap_ || !overlayVisible_ || image_.isNull()) return {};
  QFont boldFont = font();
  boldFont.setBold(true);
  const QFontMetrics bold(boldFont);
  const QFontMetrics small(smallFont(font()));
  const int h = kLegendPadding + bold.height() + 6 + kLegendBarHeight + 4 + small.height() +
                (heatmap_->unit.empty() ? 0 : small.height()) + kLegendPadding;
  const int w = kLegendBarWidth + 2 * kLegendPadding;
  return {width() - w - kLegendMargin, height() - h - kLegendMargin, w, h};
}

QImage ImageCanvas::scaledTo(const QImage& source, QSize logicalSize) const {
  const qreal dpr = devicePixelRatioF();
  QImage scaled = source.scaled(logicalSize * dpr, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  scaled.setDevicePixelRatio(dpr);
  return scaled;
}

void ImageCanvas::updateScaledCache() const {
  const QSize target = imageRect().size() * devicePixelRatioF();
  if (target.isEmpty()) return;
  if (scaledImage_.size() != target) scaledImage_ = scaledTo(image_, imageRect().size());
  if (!overlay_.isNull() && scaledOverlay_.size() != target) scaledOverlay_ = scaledTo(overlay_, imageRect().size());
}

void ImageCanvas::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  update();
}

void ImageCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), kBackground);
  if (image_.isNull()) {
    painter.setPen(QColor(0xa0, 0xa4, 0xa8));
    painter.drawText(rect(), Qt::AlignCenter, tr("Open an image (Ctrl+O) or drop a file here"));
    return;
  }
  updateScaledCache();
  const QRect r = imageRect();
  painter.drawImage(r, scaledImage_);
  if (heatmap_ && overlayVisible_ && opacity_ > 0.0 && !scaledOverlay_.isNull()) {
    painter.setOpacity(opacity_);
    painter.drawImage(r, scaledOverlay_);
    painter.setOpacity(1.0);
  }
  if (heatmap_ && overlayVisible_) drawLegend(painter);
}

void ImageCanvas::drawLegend(QPainter& painter) const {
  const QRect box = legendRect();
  if (box.isEmpty()) return;
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, true);
  QPainterPath path;
  path.addRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
  painter.fillPath(path, QColor(18, 18, 20, 215));
  painter.setPen(QColor(255, 255, 255, 40));
  painter.drawPath(path);
  painter.setRenderHint(QPainter::Antialiasing, false);

  QFont boldFont = font();
  boldFont.setBold(true);
  const QFont small = smallFont(font());
  const QFontMetrics boldMetrics(boldFont);
  const QFontMetrics smallMetrics(small);
  int y = box.y() + kLegendPadding;
  const int x = box.x() + kLegendPadding;

  painter.setFont(boldFont);
  painter.setPen(QColor(0xf0, 0xf0, 0xf0));
  const QString title = overlayTitle_.isEmpty() ? tr("Overlay") : overlayTitle_;
  painter.drawText(QRect(x, y, kLegendBarWidth, boldMetrics.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   boldMetrics.elidedText(title, Qt::ElideRight, kLegendBarWidth));
  y += boldMetrics.height() + 6;

  // One strip pixel per bar pixel: the bar's ends are exactly the colour map's ends.
  const QRect bar(x, y, kLegendBarWidth, kLegendBarHeight);
  painter.drawImage(bar, colormapStrip(heatmap_->colormap, kLegendBarWidth));
  painter.setPen(QColor(255, 255, 255, 90));
  painter.drawRect(bar.adjusted(-1, -1, 0, 0));
  y += kLegendBarHeight + 4;

  painter.setFont(small);
  painter.setPen(QColor(0xd8, 0xd8, 0xd8));
  const QRect labels(x, y, kLegendBarWidth, smallMetrics.height());
  painter.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, formatValue(heatmap_->rangeMin));
  painter.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, formatValue(heatmap_->rangeMax));
  y += smallMetrics.height();
  if (!heatmap_->unit.empty()) {
    painter.setPen(QColor(0xa8, 0xa8, 0xa8));
    painter.drawText(QRect(x, y, kLegendBarWidth, smallMetrics.height()), Qt::AlignHCenter | Qt::AlignVCenter,
                     smallMetrics.elidedText(QString::fromStdString(heatmap_->unit), Qt::ElideRight, kLegendBarWidth));
  }
  painter.restore();
}

QString ImageCanvas::describePixel(int x, int y) const {
  const QString sep = QStringLiteral("   ") + QChar(0x00B7) + QStringLiteral("   ");
  QString text = tr("x %1  y %2").arg(x).arg(y);
  if (!source_.empty()) {
    const auto s = [&](int c) { return sampleText(source_, x, y, c); };
    switch (source_.order()) {
      case ColorOrder::Gray: text += sep + tr("gray %1").arg(s(0)); break;
      case ColorOrder::GrayAlpha: text += sep + tr("gray %1  alpha %2").arg(s(0), s(1)); break;
      case ColorOrder::RGB: text += sep + QStringLiteral("RGB %1 %2 %3").arg(s(0), s(1), s(2)); break;
      case ColorOrder::RGBA: text += sep + QStringLiteral("RGBA %1 %2 %3 %4").arg(s(0), s(1), s(2), s(3)); break;
      case ColorOrder::BGR: text += sep + QStringLiteral("RGB %1 %2 %3").arg(s(2), s(1), s(0)); break;
      case ColorOrder::BGRA: text += sep + QStringLiteral("RGBA %1 %2 %3 %4").arg(s(2), s(1), s(0), s(3)); break;
    }
  }
  if (heatmap_ && heatmap_->width > 0 && heatmap_->height > 0) {
    const auto hx = static_cast<int>(std::min<qint64>(heatmap_->width - 1, qint64(x) * heatmap_->width / image_.width()));
    const auto hy = static_cast<int>(std::min<qint64>(heatmap_->height - 1, qint64(y) * heatmap_->height / image_.height()));
    text += sep + (overlayTitle_.isEmpty() ? tr("overlay") : overlayTitle_) + QStringLiteral(" ") +
            formatValue(heatmap_->at(hx, hy));
    if (!heatmap_->unit.empty()) text += QStringLiteral(" ") + QString::fromStdString(heatmap_->unit);
  }
  return text;
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* event) {
  const auto pos = widgetToImage(event->position());
  if (!pos) {
    Q_EMIT pixelInfo(QString());
    return;
  }
  const int x = std::clamp(static_cast<int>(pos->x()), 0, image_.width() - 1);
  const int y = std::clamp(static_cast<int>(pos->y()), 0, image_.height() - 1);
  Q_EMIT pixelInfo(describePixel(x, y));
}

void ImageCanvas::leaveEvent(QEvent* event) {
  QWidget::leaveEvent(event);
  Q_EMIT pixelInfo(QString());
}

}  // namespace loupe::widgets
