#include "LayerStack.h"

#include <algorithm>

namespace loupe::widgets {

LayerStack::LayerStack(QObject* parent) : QObject(parent) {}

ViewLayer* LayerStack::at(int index) const { return shared(index).get(); }

std::shared_ptr<ViewLayer> LayerStack::shared(int index) const {
  if (index < 0 || index >= count()) return nullptr;
  return layers_[static_cast<std::size_t>(index)];
}

int LayerStack::indexOf(const QString& id) const {
  for (int i = 0; i < count(); ++i)
    if (layers_[static_cast<std::size_t>(i)]->id() == id) return i;
  return -1;
}

void LayerStack::add(std::shared_ptr<ViewLayer> layer) {
  if (!layer) return;
  layers_.push_back(std::move(layer));
  Q_EMIT layersChanged();
}

void LayerStack::remove(int index) {
  if (index < 0 || index >= count()) return;
  layers_.erase(layers_.begin() + index);
  Q_EMIT layersChanged();
}

void LayerStack::clear() {
  if (layers_.empty()) return;
  layers_.clear();
  Q_EMIT layersChanged();
}

bool LayerStack::move(int from, int to) {
  if (from < 0 || from >= count() || to < 0 || to >= count() || from == to) return false;
  auto layer = layers_[static_cast<std::size_t>(from)];
  layers_.erase(layers_.begin() + from);
  layers_.insert(layers_.begin() + to, std::move(layer));
  Q_EMIT layersChanged();
  return true;
}

void LayerStack::setVisible(int index, bool visible) {
  ViewLayer* layer = at(index);
  if (!layer || layer->isVisible() == visible) return;
  layer->setVisible(visible);
  Q_EMIT layerChanged(index);
}

void LayerStack::setOpacity(int index, double opacity) {
  ViewLayer* layer = at(index);
  if (!layer) return;
  const double before = layer->opacity();
  layer->setOpacity(opacity);
  if (layer->opacity() != before) Q_EMIT layerChanged(index);
}

void LayerStack::notifyChanged(int index) {
  if (at(index)) Q_EMIT layerChanged(index);
}

}  // namespace loupe::widgets
