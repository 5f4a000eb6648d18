#pragma once
// Image files for gallery tests and benchmarks, made from Debian's python3-skimage photos (no third-party
// file is committed): `count` distinct crops of the photos, alternately JPEG and PNG, at `size`.

#include <QColorSpace>
#include <QDir>
#include <QImage>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>

namespace loupe::test {

inline QStringList galleryPhotoNames() {
  return {QStringLiteral("astronaut.png"), QStringLiteral("coffee.png"), QStringLiteral("chelsea.png"),
          QStringLiteral("rocket.jpg"), QStringLiteral("motorcycle_left.png"), QStringLiteral("hubble_deep_field.jpg")};
}

// Writes the files into `dir` and returns their paths (empty when the photos are not installed).
// Each file is a random crop (a third to all of the photo) scaled to `size`; seeded, so runs repeat.
inline QStringList writeGalleryPhotos(const QString& dir, int count, QSize size = QSize(480, 360),
                                      bool pngToo = true, int jpegQuality = 90) {
  const QString base = QStringLiteral("/usr/lib/python3/dist-packages/skimage/data/");
  QList<QImage> photos;
  for (const QString& name : galleryPhotoNames()) {
    QImage image(base + name);
    if (image.isNull()) continue;
    image.setColorSpace(QColorSpace());  // drop the photos' ICC profiles (libpng warns about astronaut's)
    photos << image.convertToFormat(QImage::Format_RGB32);
  }
  if (photos.isEmpty()) return {};
  QDir().mkpath(dir);
  QRandomGenerator rng(20261127);
  QStringList paths;
  for (int i = 0; i < count; ++i) {
    const QImage& photo = photos[i % photos.size()];
    const double f = 0.35 + 0.65 * rng.generateDouble();
    const int w = std::max(8, static_cast<int>(photo.width() * f)), h = std::max(8, static_cast<int>(photo.height() * f));
    const int x = rng.bounded(photo.width() - w + 1), y = rng.bounded(photo.height() - h + 1);
    const QImage crop = photo.copy(x, y, w, h).scaled(size, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    const bool png = pngToo && i % 2 == 1;
    const QString path = QStringLiteral("%1/photo_%2.%3").arg(dir).arg(i, 4, 10, QLatin1Char('0')).arg(png ? "png" : "jpg");
    if (!crop.save(path, png ? "PNG" : "JPEG", png ? -1 : jpegQuality)) return {};
    paths << path;
  }
  return paths;
}

}  // namespace loupe::test
