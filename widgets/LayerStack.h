#pragma once
// The ordered layers over one image, shared by the views that draw them and the LayerList that edits
// them. Index 0 is drawn first (bottom); the last layer is on top. Every change goes through the stack
// so views repaint and lists refresh.

#include <QObject>

#include <memory>
#include <vector>

#include "ViewLayer.h"

namespace loupe::widgets {

class LayerStack : public QObject {
  Q_OBJECT

 public:
  explicit LayerStack(QObject* parent = nullptr);

  int count() const { return static_cast<int>(layers_.size()); }
  bool isEmpty() const { return layers_.empty(); }
  ViewLayer* at(int index) const;  // null when out of range
  std::shared_ptr<ViewLayer> shared(int index) const;
  int indexOf(const QString& id) const;  // -1 when absent
  ViewLayer* find(const QString& id) const { return at(indexOf(id)); }
  // Bottom to top.
  const std::vector<std::shared_ptr<ViewLayer>>& layers() const { return layers_; }

  void add(std::shared_ptr<ViewLayer> layer);  // on top
  void remove(int index);
  void clear();
  // Moves the layer at `from` to `to` (both bottom-based indices); layers in between shift.
  bool move(int from, int to);

  void setVisible(int index, bool visible);
  void setOpacity(int index, double opacity);
  // Call after changing a layer's style through its own setters (range, colours, labels).
  void notifyChanged(int index);

 Q_SIGNALS:
  // Layers were added, removed or reordered.
  void layersChanged();
  // One layer's visibility, opacity or style changed.
  void layerChanged(int index);

 private:
  std::vector<std::shared_ptr<ViewLayer>> layers_;
};

}  // namespace loupe::widgets
