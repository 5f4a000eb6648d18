#include "ViewSync.h"

#include "ImageView.h"

namespace loupe::widgets {

ViewSync::ViewSync(QObject* parent) : QObject(parent) {}

void ViewSync::addView(ImageView* view) {
  if (!view || views().contains(view)) return;
  views_.append(view);
  connect(view, &ImageView::viewChanged, this, [this, view] { viewChanged(view); });
  connect(view, &ImageView::cursorMoved, this, [this, view](QPointF p) { cursorMoved(view, p); });
  connect(view, &ImageView::cursorLeft, this, [this, view] { cursorLeft(view); });
  connect(view, &QObject::destroyed, this, [this] { views_.removeAll(QPointer<ImageView>()); });
  if (views_.size() > 1 && views_.first()) follow(views_.first(), view);
}

void ViewSync::removeView(ImageView* view) {
  if (!view) return;
  disconnect(view, nullptr, this, nullptr);
  views_.removeAll(QPointer<ImageView>(view));
  view->clearCrosshair();
}

QVector<ImageView*> ViewSync::views() const {
  QVector<ImageView*> out;
  for (const auto& v : views_)
    if (v) out.append(v.data());
  return out;
}

QPointF ViewSync::mapPosition(const ImageView* from, const ImageView* to, QPointF pos) {
  const QSize a = from->imageSize(), b = to->imageSize();
  if (a == b || a.isEmpty() || b.isEmpty()) return pos;
  return {pos.x() * b.width() / a.width(), pos.y() * b.height() / a.height()};
}

void ViewSync::follow(ImageView* source, ImageView* target) {
  if (!source->hasImage() || !target->hasImage()) return;
  applying_ = true;
  if (source->isFitMode()) {
    target->fitToWindow();
  } else {
    // The same on-screen width for the image: equal scales for equal sizes.
    const double scale = source->scale() * source->imageSize().width() / target->imageSize().width();
    target->setView(scale, mapPosition(source, target, source->viewCentre()));
  }
  applying_ = false;
}

void ViewSync::viewChanged(ImageView* source) {
  if (applying_) return;
  for (ImageView* target : views())
    if (target != source) follow(source, target);
}

void ViewSync::cursorMoved(ImageView* source, QPointF imagePos) {
  for (ImageView* target : views())
    if (target != source) target->setCrosshair(mapPosition(source, target, imagePos));
}

void ViewSync::cursorLeft(ImageView* source) {
  for (ImageView* target : views())
    if (target != source) target->clearCrosshair();
}

}  // namespace loupe::widgets
