#pragma once
// ViewSync links two or more ImageViews: zooming or panning one moves the others, and the cursor over
// one shows as a crosshair in the others. Positions are shared in image coordinates, so views of images
// of the same size line up pixel for pixel; images of different sizes map by relative position (the
// same fraction of the width and height) and are shown at the same on-screen size.

#include <QObject>
#include <QPointer>
#include <QVector>

namespace loupe::widgets {

class ImageView;

class ViewSync : public QObject {
  Q_OBJECT

 public:
  explicit ViewSync(QObject* parent = nullptr);

  // A view added later takes the zoom and position of the first one.
  void addView(ImageView* view);
  void removeView(ImageView* view);
  QVector<ImageView*> views() const;

  // `pos` in `from`'s image coordinates, mapped into `to`'s.
  static QPointF mapPosition(const ImageView* from, const ImageView* to, QPointF pos);

 private:
  void viewChanged(ImageView* source);
  void cursorMoved(ImageView* source, QPointF imagePos);
  void cursorLeft(ImageView* source);
  void follow(ImageView* source, ImageView* target);

  QVector<QPointer<ImageView>> views_;
  bool applying_ = false;
};

}  // namespace loupe::widgets
