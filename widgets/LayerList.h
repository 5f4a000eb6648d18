#pragma once
// LayerList: the layers of a LayerStack, top layer first, each with a visibility checkbox; for the
// selected layer an opacity slider, raise/lower buttons, export, and its legend with the controls that
// change it: a heatmap's colour map and range (two spin boxes), a label map's labels (colour, name,
// per-label visibility; double-click a label to change its colour), a mask's fill/outline style.

#include <QWidget>

#include "core/Result.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QSlider;
class QStackedWidget;
class QToolButton;

namespace loupe::widgets {

class LayerStack;
class ViewLayer;

class LayerList : public QWidget {
  Q_OBJECT

 public:
  explicit LayerList(QWidget* parent = nullptr);

  void setLayers(LayerStack* layers);  // not owned
  LayerStack* layers() const { return layers_; }
  // The image size vector layers are exported at.
  void setImageSize(QSize size) { imageSize_ = size; }

  // The selected layer's index in the stack (0 = bottom), or -1.
  int currentIndex() const;
  void setCurrentIndex(int stackIndex);
  // Moves the selected layer one step up (drawn later) or down. False at the end or with no selection.
  bool raiseCurrent();
  bool lowerCurrent();
  // Writes the selected layer (see exportLayer()); the Export button asks for `path` with a file dialog.
  Result<QStringList> exportCurrent(const QString& path);

 Q_SIGNALS:
  void currentChanged(int stackIndex);
  void exported(const QStringList& files);
  void exportFailed(const QString& message);

 private:
  void rebuild();
  void refreshRow(int stackIndex);
  void refreshDetails();
  void onRowChanged(QListWidgetItem* item);
  void onLabelChanged(QListWidgetItem* item);
  void onLabelActivated(QListWidgetItem* item);
  void onRangeEdited();
  void exportWithDialog();
  int rowOf(int stackIndex) const;
  int stackIndexOf(int row) const;
  ViewLayer* current() const;

  LayerStack* layers_ = nullptr;
  QSize imageSize_;
  bool updating_ = false;

  QListWidget* rows_ = nullptr;
  QToolButton* raise_ = nullptr;
  QToolButton* lower_ = nullptr;
  QToolButton* export_ = nullptr;
  QSlider* opacity_ = nullptr;
  QLabel* opacityValue_ = nullptr;
  QStackedWidget* legend_ = nullptr;
  QLabel* gradient_ = nullptr;
  QComboBox* colormap_ = nullptr;
  QDoubleSpinBox* rangeMin_ = nullptr;
  QDoubleSpinBox* rangeMax_ = nullptr;
  QLabel* unit_ = nullptr;
  QListWidget* labels_ = nullptr;
  QComboBox* maskStyle_ = nullptr;
  QWidget* emptyPage_ = nullptr;
  QWidget* heatmapPage_ = nullptr;
  QWidget* labelPage_ = nullptr;
  QWidget* maskPage_ = nullptr;
};

}  // namespace loupe::widgets
