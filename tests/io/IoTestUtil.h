#pragma once
// Small helpers shared by the io tests: writing raw bytes, synthetic test images, cv::Mat access.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace loupe::test {

inline bool writeBytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return false;
  return f.write(bytes) == bytes.size();
}

inline bool writeBytes(const QString& path, const std::vector<std::uint8_t>& bytes) {
  return writeBytes(path, QByteArray(reinterpret_cast<const char*>(bytes.data()), int(bytes.size())));
}

inline QByteArray readBytes(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A photo-like 8-bit BGR picture (smooth gradients plus texture), so JPEG has real work to do.
inline cv::Mat texturedBgr(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int t = ((x * 7) ^ (y * 13)) & 31;
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<std::uint8_t>(x * 255 / w + t),
                                        cv::saturate_cast<std::uint8_t>(y * 255 / h + t),
                                        cv::saturate_cast<std::uint8_t>((x + y) * 127 / (w + h) + 64 + t));
    }
  return m;
}

// Names of everything in `dir`, hidden files included (temporary files start with a dot).
inline QStringList allEntries(const QString& dir) {
  QStringList names = QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                                          QDir::Name);
  return names;
}

}  // namespace loupe::test
