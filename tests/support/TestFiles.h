#pragma once
// Writers for the awkward files that tests feed to Loupe: made here, by our own code, so no third-party
// file is committed.

#include <QString>

#include <cstdint>

namespace loupe::test {

// Path of a photo from Debian's python3-skimage, or empty when the package is absent (tests QSKIP then).
QString debianPhoto(const char* name);  // e.g. "rocket.jpg"

// A PNG whose IHDR claims width x height but holds almost no data (valid signature and CRCs).
bool writePngHeaderOnly(const QString& path, std::uint32_t width, std::uint32_t height);
// A 4-component (CMYK) baseline JPEG filled with one CMYK value (0-255 ink per channel, not inverted).
bool writeCmykJpeg(const QString& path, int width, int height, std::uint8_t c, std::uint8_t m, std::uint8_t y,
                   std::uint8_t k);
// The first `fraction` of a file's bytes.
bool writeTruncatedCopy(const QString& from, const QString& to, double fraction);
bool writeText(const QString& path, const QByteArray& bytes);

}  // namespace loupe::test
