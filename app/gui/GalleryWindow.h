#pragma once
// A folder (or a ranked list) of images as a Gallery window: File > Open Folder as Gallery, or
// `loupe --gallery DIR|LIST.csv`. A folder lists its images by name (no scores); a list file ranks them:
// one item per line, "path,score[,caption]" (comma or tab separated; a first line that has no number as
// its score is a header; relative paths are relative to the list's folder). Enter or a double-click on an
// item opens it in the main window.

#include <QString>
#include <QWidget>

#include <vector>

#include "core/Result.h"
#include "widgets/GalleryModel.h"

class QLabel;

namespace loupe::widgets {
class Gallery;
}

namespace loupe::gui {

// The images in `dir` (not its subfolders), by name: jpg, jpeg, png, tif, tiff, bmp, webp.
Result<std::vector<widgets::GalleryItem>> galleryItemsFromFolder(const QString& dir);
// A ranked list as described above; errors name the file and the line.
Result<std::vector<widgets::GalleryItem>> galleryItemsFromList(const QString& listFile);

class GalleryWindow : public QWidget {
  Q_OBJECT

 public:
  explicit GalleryWindow(QWidget* parent = nullptr);  // a top-level window even with a parent

  // A folder or a list file; false (with *error) when it cannot be read or holds no image.
  bool open(const QString& path, QString* error = nullptr);
  widgets::Gallery* gallery() const { return gallery_; }
  QString source() const { return source_; }

 Q_SIGNALS:
  void openImage(const QString& path);

 private:
  widgets::Gallery* gallery_;
  QLabel* info_;
  QString source_;
};

}  // namespace loupe::gui
