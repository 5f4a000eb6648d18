#include "Legend.h"

#include <QCoreApplication>
#include <QFontMetrics>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

#include "QtImage.h"
#include "RasterLayers.h"

namespace loupe::widgets {

namespace {

constexpr int kPadding = 10;
constexpr int kBarWidth = 200;
constexpr int kBarHeight = 12;
constexpr int kSwatch = 12;
constexpr int kMaxLabels = 10;

QFont boldFont(const QFont& f) {
  QFont b = f;
  b.setBold(true);
  return b;
}

QFont smallFont(const QFont& f) {
  QFont s = f;
  s.setPointSizeF(std::max(7.0, f.pointSizeF() * 0.9));
  return s;
}

QString formatValue(double v) { return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("n/a"); }

std::vector<const LabelInfo*> shownLabels(const LabelMapLayer& layer) {
  std::vector<const LabelInfo*> shown;
  for (const auto& l : layer.labels())
    if (l.visible) shown.push_back(&l);
  return shown;
}

}  // namespace

QImage legendStrip(Colormap map, int width) { return colormapStrip(map, width); }

QSize legendSize(const ViewLayer& layer, const QFont& font) {
  const QFontMetrics bold(boldFont(font));
  const QFontMetrics small(smallFont(font));
  if (const auto* h = dynamic_cast<const HeatmapLayer*>(&layer)) {
    const int height = kPadding + bold.height() + 6 + kBarHeight + 4 + small.height() +
                       (h->unit().isEmpty() ? 0 : small.height()) + kPadding;
    return {kBarWidth + 2 * kPadding, height};
  }
  if (const auto* l = dynamic_cast<const LabelMapLayer*>(&layer)) {
    const auto shown = shownLabels(*l);
    const int rows = std::min<int>(static_cast<int>(shown.size()), kMaxLabels) +
                     (static_cast<int>(shown.size()) > kMaxLabels ? 1 : 0);
    const int row = std::max(small.height(), kSwatch) + 3;
    return {kBarWidth + 2 * kPadding, kPadding + bold.height() + 6 + std::max(1, rows) * row + kPadding - 3};
  }
  return {};
}

void paintLegend(QPainter& painter, const QRect& box, const ViewLayer& layer, const QFont& font) {
  if (box.isEmpty()) return;
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, true);
  QPainterPath path;
  path.addRoundedRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
  painter.fillPath(path, QColor(18, 18, 20, 215));
  painter.setPen(QColor(255, 255, 255, 40));
  painter.drawPath(path);
  painter.setRenderHint(QPainter::Antialiasing, false);

  const QFont bold = boldFont(font), small = smallFont(font);
  const QFontMetrics boldMetrics(bold), smallMetrics(small);
  const int x = box.x() + kPadding;
  int y = box.y() + kPadding;
  painter.setFont(bold);
  painter.setPen(QColor(0xf0, 0xf0, 0xf0));
  painter.drawText(QRect(x, y, kBarWidth, boldMetrics.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   boldMetrics.elidedText(layer.title(), Qt::ElideRight, kBarWidth));
  y += boldMetrics.height() + 6;
  painter.setFont(small);

  if (const auto* h = dynamic_cast<const HeatmapLayer*>(&layer)) {
    // One strip pixel per bar pixel: the bar's ends are exactly the colour map's ends.
    const QRect bar(x, y, kBarWidth, kBarHeight);
    painter.drawImage(bar, legendStrip(h->colormap(), kBarWidth));
    painter.setPen(QColor(255, 255, 255, 90));
    painter.drawRect(bar.adjusted(-1, -1, 0, 0));
    y += kBarHeight + 4;
    painter.setPen(QColor(0xd8, 0xd8, 0xd8));
    const QRect labels(x, y, kBarWidth, smallMetrics.height());
    painter.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, formatValue(h->rangeMin()));
    painter.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, formatValue(h->rangeMax()));
    y += smallMetrics.height();
    if (!h->unit().isEmpty()) {
      painter.setPen(QColor(0xa8, 0xa8, 0xa8));
      painter.drawText(QRect(x, y, kBarWidth, smallMetrics.height()), Qt::AlignHCenter | Qt::AlignVCenter,
                       smallMetrics.elidedText(h->unit(), Qt::ElideRight, kBarWidth));
    }
  } else if (const auto* l = dynamic_cast<const LabelMapLayer*>(&layer)) {
    const auto shown = shownLabels(*l);
    const int row = std::max(smallMetrics.height(), kSwatch) + 3;
    for (int i = 0; i < static_cast<int>(shown.size()) && i < kMaxLabels; ++i, y += row) {
      painter.fillRect(QRect(x, y + (row - 3 - kSwatch) / 2, kSwatch, kSwatch), shown[i]->colour);
      painter.setPen(QColor(0xe0, 0xe0, 0xe0));
      painter.drawText(QRect(x + kSwatch + 8, y, kBarWidth - kSwatch - 8, row - 3), Qt::AlignLeft | Qt::AlignVCenter,
                       smallMetrics.elidedText(shown[i]->name, Qt::ElideRight, kBarWidth - kSwatch - 8));
    }
    painter.setPen(QColor(0xa8, 0xa8, 0xa8));
    if (static_cast<int>(shown.size()) > kMaxLabels)
      painter.drawText(QRect(x, y, kBarWidth, row - 3), Qt::AlignLeft | Qt::AlignVCenter,
                       QCoreApplication::translate("Legend", "+ %1 more").arg(shown.size() - kMaxLabels));
    else if (shown.empty())
      painter.drawText(QRect(x, y, kBarWidth, row - 3), Qt::AlignLeft | Qt::AlignVCenter, QCoreApplication::translate("Legend", "all labels hidden"));
  }
  painter.restore();
}

}  // namespace loupe::widgets
