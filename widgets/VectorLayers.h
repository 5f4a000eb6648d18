#pragma once
// Vector layers in image coordinates, drawn with pens of a fixed screen width at every zoom:
// polylines (lanes, contours) and points/boxes with labels (keypoints, faces, candidates).

#include "ViewLayer.h"

namespace loupe::widgets {

class PolylinesLayer : public ViewLayer {
 public:
  PolylinesLayer(QString id, QString title, std::vector<Polyline> lines, QColor colour = QColor(0, 220, 255),
                 double width = 3.0);

  Kind kind() const override { return Kind::Polylines; }
  const std::vector<Polyline>& lines() const { return lines_; }
  QColor colour() const { return colour_; }
  double penWidth() const { return width_; }  // screen pixels

  void paint(const PaintContext& context) const override;
  // The label (or "line N") of a line within a few screen pixels of `imagePos`.
  std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const override;
  QImage render(QSize imageSize) const override;

 private:
  std::vector<Polyline> lines_;
  QColor colour_;
  double width_;
};

// Points and boxes with labels. A box is outlined (its label and score on a tag above its top-left
// corner); a point is a dot with its label beside it.
class MarkersLayer : public ViewLayer {
 public:
  MarkersLayer(QString id, QString title, std::vector<Box> boxes, std::vector<Keypoint> points = {},
               QColor colour = QColor(255, 200, 0));

  Kind kind() const override { return Kind::Markers; }
  const std::vector<Box>& boxes() const { return boxes_; }
  const std::vector<Keypoint>& points() const { return points_; }
  QColor colour() const { return colour_; }
  void setLabelsVisible(bool visible) { labelsVisible_ = visible; }
  bool labelsVisible() const { return labelsVisible_; }
  static constexpr int kBoxPenWidth = 2;  // screen pixels
  static constexpr double kPointRadius = 4.0;

  void paint(const PaintContext& context) const override;
  // The boxes containing `imagePos` and the points near it, as "label score".
  std::optional<QString> valueAt(QPointF imagePos, QSize imageSize, const ViewTransform& transform) const override;
  QImage render(QSize imageSize) const override;

 private:
  std::vector<Box> boxes_;
  std::vector<Keypoint> points_;
  QColor colour_;
  bool labelsVisible_ = true;
};

}  // namespace loupe::widgets
