#include "TestFiles.h"

#include <QFile>
#include <QFileInfo>

#include <cstdio>
#include <vector>
#include <zlib.h>

extern "C" {
#include <jpeglib.h>
}

namespace loupe::test {

QString debianPhoto(const char* name) {
  const QString path = QStringLiteral("/usr/lib/python3/dist-packages/skimage/data/") + name;
  return QFileInfo::exists(path) ? path : QString();
}

namespace {
void be32(QByteArray& out, std::uint32_t v) {
  out.append(char(v >> 24)).append(char(v >> 16)).append(char(v >> 8)).append(char(v));
}
void chunk(QByteArray& out, const char* type, const QByteArray& data) {
  be32(out, static_cast<std::uint32_t>(data.size()));
  QByteArray body(type, 4);
  body += data;
  out += body;
  be32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.constData()), body.size())));
}
}  // namespace

bool writePngHeaderOnly(const QString& path, std::uint32_t width, std::uint32_t height) {
  QByteArray png("\x89PNG\r\n\x1A\n", 8);
  QByteArray ihdr;
  be32(ihdr, width);
  be32(ihdr, height);
  ihdr.append(char(8)).append(char(2)).append(char(0)).append(char(0)).append(char(0));  // 8-bit RGB
  chunk(png, "IHDR", ihdr);
  const char row[4] = {0, 0, 0, 0};
  uLongf len = compressBound(sizeof row);
  std::vector<Bytef> z(len);
  compress(z.data(), &len, reinterpret_cast<const Bytef*>(row), sizeof row);
  chunk(png, "IDAT", QByteArray(reinterpret_cast<const char*>(z.data()), static_cast<int>(len)));
  chunk(png, "IEND", QByteArray());
  return writeText(path, png);
}

bool writeCmykJpeg(const QString& path, int width, int height, std::uint8_t c, std::uint8_t m, std::uint8_t y,
                   std::uint8_t k) {
  FILE* f = std::fopen(QFile::encodeName(path).constData(), "wb");
  if (!f) return false;
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<JSAMPLE> row(static_cast<std::size_t>(width) * 4);
  for (int x = 0; x < width; ++x) {
    row[4 * x] = c; row[4 * x + 1] = m; row[4 * x + 2] = y; row[4 * x + 3] = k;
  }
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
  return true;
}

bool writeTruncatedCopy(const QString& from, const QString& to, double fraction) {
  QFile in(from);
  if (!in.open(QIODevice::ReadOnly)) return false;
  const QByteArray all = in.readAll();
  return writeText(to, all.left(static_cast<int>(all.size() * fraction)));
}

bool writeText(const QString& path, const QByteArray& bytes) {
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  return out.write(bytes) == bytes.size();
}

}  // namespace loupe::test
