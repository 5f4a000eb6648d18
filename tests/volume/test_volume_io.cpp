// Reading and writing volumes: exact geometry on real NIfTI files (Debian's mricron-data) and on files this
// test writes (oblique, anisotropic), and clear errors on damaged input.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/Volume.h"
#include "volume/VolumeIO.h"

using namespace loupe;

namespace {

const char* kMricron = "/usr/share/mricron/templates/";

Mat3 rotation(double ax, double ay, double az) {
  const double cx = std::cos(ax), sx = std::sin(ax), cy = std::cos(ay), sy = std::sin(ay), cz = std::cos(az),
               sz = std::sin(az);
  const Mat3 rx{1, 0, 0, 0, cx, -sx, 0, sx, cx}, ry{cy, 0, sy, 0, 1, 0, -sy, 0, cy}, rz{cz, -sz, 0, sz, cz, 0, 0, 0, 1};
  auto mul = [](const Mat3& a, const Mat3& b) {
    Mat3 r{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
    return r;
  };
  return mul(rz, mul(ry, rx));
}

Volume obliqueVolume() {
  Volume v = Volume::floatVolume({7, 5, 4}, {0.5, 0.75, 3.0}, {-12.5, 30.25, 7.0}, rotation(0.3, -0.2, 0.5));
  for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float(i) * 0.5f - 3.f;
  return v;
}

void compareGeometry(const Volume& a, const Volume& b, double tol) {
  QCOMPARE(a.size, b.size);
  for (int i = 0; i < 3; ++i) {
    QVERIFY2(std::abs(a.spacing[i] - b.spacing[i]) < tol, qPrintable(QString("spacing %1: %2 vs %3").arg(i).arg(a.spacing[i]).arg(b.spacing[i])));
    QVERIFY2(std::abs(a.origin[i] - b.origin[i]) < tol, qPrintable(QString("origin %1: %2 vs %3").arg(i).arg(a.origin[i]).arg(b.origin[i])));
  }
  for (int i = 0; i < 9; ++i)
    QVERIFY2(std::abs(a.direction[i] - b.direction[i]) < tol, qPrintable(QString("direction %1").arg(i)));
}

bool patchBytes(const QString& path, std::streamoff at, const void* bytes, std::size_t n) {
  std::fstream f(path.toStdString(), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(static_cast<const char*>(bytes), std::streamsize(n));
  return bool(f);
}

}  // namespace

class TestVolumeIo : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void colin27HeaderGeometry() {
    // Reference: the file's NIfTI header read by hand (python3 gzip + struct): dim 181x217x181, pixdim 1 mm,
    // sform_code 4 with srow_x = (1,0,0,-90), srow_y = (0,1,0,-125), srow_z = (0,0,1,-71) in RAS.
    // In LPS (ITK/DICOM) that is origin (90, 125, -71) and direction diag(-1, -1, 1).
    const std::string path = std::string(kMricron) + "ch2.nii.gz";
    if (!QFile::exists(QString::fromStdString(path))) QSKIP("mricron-data is not installed");
    auto v = volume::readVolume(path);
    QVERIFY2(v.ok(), v.ok() ? "" : v.error().message.c_str());
    QCOMPARE(v->size, (std::array<std::int64_t, 3>{181, 217, 181}));
    QCOMPARE(v->type, VoxelType::Int32);  // uint8 on disk
    compareGeometry(*v, Volume::floatVolume({181, 217, 181}, {1, 1, 1}, {90, 125, -71}, {-1, 0, 0, 0, -1, 0, 0, 0, 1}), 1e-6);
    // RAS (0, 0, 0) is voxel (90, 125, 71).
    const Vec3 w = v->indexToWorld({90, 125, 71});
    for (double c : w) QVERIFY(std::abs(c) < 1e-9);
    const Vec3 idx = v->worldToIndex({0, 0, 0});
    QVERIFY(std::abs(idx[0] - 90) < 1e-9 && std::abs(idx[1] - 125) < 1e-9 && std::abs(idx[2] - 71) < 1e-9);
  }

  void roundTripObliqueNifti_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("nii.gz") << "map.nii.gz";
    QTest::newRow("nii") << "map.nii";
    QTest::newRow("mha") << "map.mha";
  }
  void roundTripObliqueNifti() {
    QFETCH(QString, name);
    QTemporaryDir dir;
    const std::string path = dir.filePath(name).toStdString();
    const Volume v = obliqueVolume();
    auto w = volume::writeVolume(v, path);
    QVERIFY2(w.ok(), w.ok() ? "" : w.error().message.c_str());
    auto r = volume::readVolume(path);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    // NIfTI stores the affine as float32: identical to float precision.
    compareGeometry(*r, v, 1e-5);
    QCOMPARE(r->type, VoxelType::Float32);
    QCOMPARE(r->floats, v.floats);
    QVERIFY(r->warnings.empty());
  }

  void labelsStayIntegers() {
    QTemporaryDir dir;
    Volume v = Volume::intVolume({4, 3, 2}, {2, 2, 3}, {1, 2, 3});
    for (std::size_t i = 0; i < v.ints.size(); ++i) v.ints[i] = std::int32_t(i % 5);
    const std::string path = dir.filePath("labels.nii.gz").toStdString();
    QVERIFY(volume::writeVolume(v, path).ok());
    auto r = volume::readVolume(path);
    QVERIFY(r.ok());
    QCOMPARE(r->type, VoxelType::Int32);
    QCOMPARE(r->ints, v.ints);
  }

  void truncatedGzip() {
    QTemporaryDir dir;
    const QString full = dir.filePath("full.nii.gz"), cut = dir.filePath("cut.nii.gz");
    Volume v = Volume::floatVolume({64, 64, 16});
    for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float((i * 7919) % 1000);  // compresses badly
    QVERIFY(volume::writeVolume(v, full.toStdString()).ok());
    QFile in(full);
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QByteArray bytes = in.readAll();
    QFile out(cut);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(bytes.left(bytes.size() / 2));
    out.close();
    auto r = volume::readVolume(cut.toStdString());
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::CorruptData);
    QVERIFY2(r.error().message.find("cut.nii.gz") != std::string::npos, r.error().message.c_str());
    QVERIFY2(r.error().message.find("truncated") != std::string::npos, r.error().message.c_str());
  }

  void badSpacing_data() {
    QTest::addColumn<float>("spacing");
    QTest::newRow("zero") << 0.f;
    QTest::newRow("NaN") << std::nanf("");
    QTest::newRow("negative") << -1.f;
  }
  void badSpacing() {
    QFETCH(float, spacing);
    QTemporaryDir dir;
    const QString path = dir.filePath("bad.nii");
    QVERIFY(volume::writeVolume(Volume::floatVolume({4, 4, 4}), path.toStdString()).ok());
    // NIfTI-1: pixdim[8] float32 at byte 76, pixdim[2] (y spacing) at 84; sform_code (int16) at 254. With
    // sform_code 0 the spacing comes from pixdim alone (the qform), so the file really has that spacing.
    const std::int16_t noSform = 0;
    QVERIFY(patchBytes(path, 84, &spacing, 4));
    QVERIFY(patchBytes(path, 254, &noSform, 2));
    auto r = volume::readVolume(path.toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(r.error().message.find("bad.nii") != std::string::npos, r.error().message.c_str());
    QVERIFY2(r.error().message.find("spacing") != std::string::npos || r.error().message.find("direction") != std::string::npos,
             r.error().message.c_str());
  }

  void fourDimensionsTakeTheFirstVolume() {
    QTemporaryDir dir;
    const QString path = dir.filePath("dwi4d.nii");
    Volume v = Volume::floatVolume({3, 2, 2}, {2, 2, 4});
    for (std::size_t i = 0; i < v.floats.size(); ++i) v.floats[i] = float(i + 1);
    QVERIFY(volume::writeVolume(v, path.toStdString()).ok());
    // Make it 4-D by hand: dim[0] = 4 (byte 40), dim[4] = 3 (byte 48), pixdim[4] = 1, then append two more
    // volumes (values 100+ and 200+) after the first.
    const std::int16_t four = 4, three = 3;
    const float one = 1.f;
    QVERIFY(patchBytes(path, 40, &four, 2));
    QVERIFY(patchBytes(path, 48, &three, 2));
    QVERIFY(patchBytes(path, 92, &one, 4));
    {
      std::ofstream f(path.toStdString(), std::ios::binary | std::ios::app);
      for (int t = 1; t <= 2; ++t)
        for (std::size_t i = 0; i < v.floats.size(); ++i) {
          const float x = float(100 * t) + float(i);
          f.write(reinterpret_cast<const char*>(&x), 4);
        }
    }
    auto r = volume::readVolume(path.toStdString());
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(r->size, v.size);
    QCOMPARE(r->floats, v.floats);
    QCOMPARE(int(r->warnings.size()), 1);
    QVERIFY2(r->warnings[0].find("first volume") != std::string::npos && r->warnings[0].find("of 3") != std::string::npos,
             r->warnings[0].c_str());
  }

  void otherBadInput() {
    QTemporaryDir dir;
    auto missing = volume::readVolume(dir.filePath("nope.nii.gz").toStdString());
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().code, ErrorCode::NotFound);
    const QString empty = dir.filePath("empty.nii.gz");
    QFile(empty).open(QIODevice::WriteOnly);
    auto e = volume::readVolume(empty.toStdString());
    QVERIFY(!e.ok());
    QVERIFY2(e.error().message.find("empty") != std::string::npos, e.error().message.c_str());
    const QString text = dir.filePath("notes.nii");
    {
      QFile f(text);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray(400, 'x'));
    }
    auto t = volume::readVolume(text.toStdString());
    QVERIFY(!t.ok());
    QVERIFY2(t.error().message.find("notes.nii") != std::string::npos, t.error().message.c_str());
    auto png = volume::readVolume(std::string(LOUPE_SOURCE_DIR) + "/README.md");
    QVERIFY(!png.ok());
    QCOMPARE(png.error().code, ErrorCode::UnsupportedFormat);
  }
};

QTEST_GUILESS_MAIN(TestVolumeIo)
#include "test_volume_io.moc"
