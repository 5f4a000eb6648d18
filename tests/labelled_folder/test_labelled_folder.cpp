// io::loadLabelledFolder (backend/io/LabelledFolder.h) on folders the test writes itself with Qt: labels from
// sub-folder names (nested folders count for their first-level class), unreadable and non-image files, the
// CSV variant (missing files, ragged rows, no label column), the held-out split, and the pixel conversion.
// Reference values are worked by hand from the documented conversion: grey = 0.299 R + 0.587 G + 0.114 B
// (ITU-R BT.601), and antialiased bilinear resampling, which at an exact 2x reduction weighs the four nearest
// source columns 1/8, 3/8, 3/8, 1/8 (PyTorch's interpolate(..., antialias=True) gives the same numbers:
// 25 and 175 at a 0 -> 200 step, checked with python3-torch).
#include <QtTest>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>

#include <random>

#include <exiv2/exiv2.hpp>

#include <set>

#include "io/ImageReader.h"
#include "io/LabelledFolder.h"

using namespace loupe;

namespace {

QImage filled(int w, int h, QColor c) {
  QImage img(w, h, QImage::Format_RGB888);
  img.fill(c);
  return img;
}

QImage filledGrey(int w, int h, int v) {
  QImage img(w, h, QImage::Format_Grayscale8);
  img.fill(QColor(v, v, v));
  return img;
}

bool writeBytes(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

bool save(const QImage& img, const QString& path, const char* format = nullptr, int quality = -1) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  return img.save(path, format, quality);
}

// The image of `path` in a split (uint8 [C, H, W]), or an undefined tensor.
torch::Tensor imageOf(const io::LabelledFolder& d, const std::string& path) {
  for (const auto* s : {&d.train, &d.test})
    for (std::size_t i = 0; i < s->paths.size(); ++i)
      if (s->paths[i] == path) return s->images[int64_t(i)];
  return {};
}

std::string classOf(const io::LabelledFolder& d, const std::string& path) {
  for (const auto* s : {&d.train, &d.test})
    for (std::size_t i = 0; i < s->paths.size(); ++i)
      if (s->paths[i] == path) return d.classNames[std::size_t(s->labels[int64_t(i)].item<int64_t>())];
  return {};
}

// A folder with two classes: a/ (grey PNG, RGB PNG, step PNG, a text file) and b/ (JPEG, a PNG in a nested
// folder, a corrupt PNG), plus an image directly in the root (no class).
void writeClassFolder(const QString& root) {
  QVERIFY(save(filledGrey(40, 30, 77), root + "/a/grey.png"));
  QVERIFY(save(filled(40, 30, QColor(200, 100, 50)), root + "/a/rgb.png"));
  QImage step = filledGrey(56, 56, 0);
  for (int y = 0; y < 56; ++y)
    for (int x = 28; x < 56; ++x) step.scanLine(y)[x] = 200;
  QVERIFY(save(step, root + "/a/step.png"));
  QVERIFY(writeBytes(root + "/a/notes.txt", "not an image"));
  QVERIFY(save(filled(32, 32, QColor(10, 200, 30)), root + "/b/photo.jpg", "JPEG", 95));
  QVERIFY(save(filledGrey(28, 28, 150), root + "/b/deeper/nested.png"));
  QVERIFY(writeBytes(root + "/b/corrupt.png", QByteArray("\x89PNG\r\n\x1a\n", 8) + QByteArray(100, 'x')));
  QVERIFY(save(filledGrey(28, 28, 9), root + "/stray.png"));
}

}  // namespace

class TestLabelledFolder : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void shouldLabelBySubFolderAndSkipUnreadableFiles() {
    QTemporaryDir dir;
    writeClassFolder(dir.path());
    io::LabelledFolderOptions o;
    o.valFraction = 0;
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE(d->classNames, (std::vector<std::string>{"a", "b"}));
    QCOMPARE(d->listed, 6);   // 3 in a/, 3 in b/ (nested included); the .txt and the root image are not listed
    QCOMPARE(d->skipped, 1);  // corrupt.png
    QCOMPARE(d->ignored, 2);  // notes.txt and stray.png
    QCOMPARE(int(d->skipReasons.size()), 1);
    QVERIFY2(d->skipReasons[0].rfind("b/corrupt.png: ", 0) == 0, d->skipReasons[0].c_str());
    QCOMPARE(d->train.size(), 5);
    QCOMPARE(d->test.size(), 0);
    QCOMPARE(d->train.images.sizes(), (torch::IntArrayRef{5, 1, 28, 28}));
    QCOMPARE(classOf(*d, "a/grey.png"), std::string("a"));
    QCOMPARE(classOf(*d, "b/deeper/nested.png"), std::string("b"));
    QCOMPARE(classOf(*d, "b/photo.jpg"), std::string("b"));
    for (std::size_t i = 0; i < d->train.paths.size(); ++i)  // label = the first path component
      QCOMPARE(d->classNames[std::size_t(d->train.labels[int64_t(i)].item<int64_t>())],
               d->train.paths[i].substr(0, d->train.paths[i].find('/')));

    // A uniform grey survives the resize exactly; RGB (200, 100, 50) -> 0.299*200 + 0.587*100 + 0.114*50 = 124.2.
    QCOMPARE(imageOf(*d, "a/grey.png").min().item<int>(), 77);
    QCOMPARE(imageOf(*d, "a/grey.png").max().item<int>(), 77);
    QCOMPARE(imageOf(*d, "a/rgb.png").min().item<int>(), 124);
    QCOMPARE(imageOf(*d, "a/rgb.png").max().item<int>(), 124);
    // JPEG (lossy): (10, 200, 30) -> 123.8 within the codec's error.
    QVERIFY(std::abs(imageOf(*d, "b/photo.jpg").to(torch::kFloat).mean().item<float>() - 123.8f) < 3.f);
    // 56 -> 28 columns: output column 13 sees source columns 25..28 (0, 0, 0, 200) weighted 1/8, 3/8, 3/8, 1/8.
    const torch::Tensor row = imageOf(*d, "a/step.png")[0][10];
    QCOMPARE(row[12].item<int>(), 0);
    QCOMPARE(row[13].item<int>(), 25);
    QCOMPARE(row[14].item<int>(), 175);
    QCOMPARE(row[15].item<int>(), 200);
    // Per-channel statistics of the training images, pixel / 255.
    const double mean = d->train.images.to(torch::kDouble).mean().item<double>() / 255.0;
    QVERIFY(std::abs(d->mean.at(0) - mean) < 1e-9);
  }

  void shouldResampleLikePyTorch_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::newRow("53x41 down") << 53 << 41;
    QTest::newRow("300x17 down and up") << 300 << 17;
    QTest::newRow("9x12 up") << 9 << 12;
  }
  void shouldResampleLikePyTorch() {
    // Reference: torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True) of the
    // same PNG (read by PIL), rounded, run by python3-torch; skipped when it is not installed.
    QFETCH(int, width);
    QFETCH(int, height);
    QTemporaryDir dir;
    QImage noise(width, height, QImage::Format_Grayscale8);
    std::mt19937 rng(uint32_t(width * 1000 + height));
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) noise.scanLine(y)[x] = uchar(rng() % 256);
    QVERIFY(save(noise, dir.filePath("noise.png")));
    QProcess py;
    py.start("/usr/bin/python3", {"-c",
                                  "import sys, numpy as np, torch\n"
                                  "from PIL import Image\n"
                                  "x = torch.tensor(np.asarray(Image.open(sys.argv[1]), dtype=np.float32))[None, None]\n"
                                  "y = torch.nn.functional.interpolate(x, size=(28, 28), mode='bilinear', align_corners=False, antialias=True)\n"
                                  "print(' '.join(str(int(v)) for v in y.round().clamp(0, 255).flatten().tolist()))\n",
                                  dir.filePath("noise.png")});
    if (!py.waitForFinished(60000) || py.exitCode() != 0) QSKIP("python3 with torch and PIL is not available");
    const QStringList ref = QString::fromUtf8(py.readAllStandardOutput()).split(' ', Qt::SkipEmptyParts);
    QCOMPARE(ref.size(), 28 * 28);
    auto image = io::loadImage(dir.filePath("noise.png").toStdString());
    QVERIFY(image);
    auto t = io::modelInputU8(*image, 1, 28, 28);
    QVERIFY(t);
    const uint8_t* v = t->data_ptr<uint8_t>();
    int off = 0;
    for (int i = 0; i < 28 * 28; ++i) off = std::max(off, std::abs(int(v[i]) - ref[i].toInt()));
    QVERIFY2(off <= 1, qPrintable(QString::number(off)));  // float vs double sums may round a .5 the other way
  }

  void shouldHonourExifOrientation() {
    // A 40 x 20 JPEG, left half black, right half white, tagged orientation 6 (rotate 90 degrees clockwise
    // to view): viewed, it is 20 wide and 40 tall with the black half on top.
    QTemporaryDir dir;
    QImage img(40, 20, QImage::Format_Grayscale8);
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 40; ++x) img.scanLine(y)[x] = x < 20 ? 0 : 255;
    QVERIFY(save(img, dir.filePath("up/rotated.jpg"), "JPEG", 95));
    QVERIFY(save(filledGrey(8, 8, 1), dir.filePath("other/a.png")));
    try {
      auto file = Exiv2::ImageFactory::open(dir.filePath("up/rotated.jpg").toStdString());
      file->readMetadata();
      Exiv2::ExifData exif = file->exifData();
      exif["Exif.Image.Orientation"] = std::uint16_t(6);
      file->setExifData(exif);
      file->writeMetadata();
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    io::LabelledFolderOptions o;
    o.valFraction = 0;
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    const torch::Tensor t = imageOf(*d, "up/rotated.jpg")[0];
    QVERIFY2(t[2][14].item<int>() < 30 && t[25][14].item<int>() > 225,
             qPrintable(QStringLiteral("top %1, bottom %2").arg(t[2][14].item<int>()).arg(t[25][14].item<int>())));
    // Left and right of the middle row are the same grey (the step runs across rows, not columns).
    QVERIFY(std::abs(t[14][2].item<int>() - t[14][25].item<int>()) < 30);
  }

  void shouldConvertToRgbWhenAsked() {
    QTemporaryDir dir;
    writeClassFolder(dir.path());
    io::LabelledFolderOptions o;
    o.channels = 3;
    o.width = 16;
    o.height = 12;
    o.valFraction = 0;
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE(d->train.images.sizes(), (torch::IntArrayRef{5, 3, 12, 16}));
    const torch::Tensor rgb = imageOf(*d, "a/rgb.png");
    QCOMPARE(rgb[0].min().item<int>(), 200);
    QCOMPARE(rgb[1].max().item<int>(), 100);
    QCOMPARE(rgb[2].min().item<int>(), 50);
    const torch::Tensor grey = imageOf(*d, "a/grey.png");  // grey replicated to three channels
    QCOMPARE(grey.min().item<int>(), 77);
    QCOMPARE(grey.max().item<int>(), 77);
    QCOMPARE(int(d->mean.size()), 3);
  }

  void shouldHoldOutAStratifiedSeededShare() {
    QTemporaryDir dir;
    for (const char* c : {"cat", "dog", "eel"})
      for (int i = 0; i < (c[0] == 'e' ? 4 : 20); ++i)
        QVERIFY(save(filledGrey(8, 8, i * 10), QStringLiteral("%1/%2/%3.png").arg(dir.path()).arg(c).arg(i)));
    io::LabelledFolderOptions o;
    o.valFraction = 0.25;
    o.seed = 7;
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    // round(20 * 0.25) = 5 of cat and of dog, round(4 * 0.25) = 1 of eel.
    QCOMPARE(d->test.size(), 11);
    QCOMPARE(d->train.size(), 33);
    QCOMPARE(torch::bincount(d->test.labels).size(0), int64_t(3));
    QCOMPARE(torch::bincount(d->test.labels)[0].item<int64_t>(), 5);
    QCOMPARE(torch::bincount(d->test.labels)[2].item<int64_t>(), 1);
    QVERIFY(d->heldOut.find("25% of every class (seed 7)") != std::string::npos);
    // The same seed draws the same images; no image is in both splits.
    auto again = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY(again);
    QCOMPARE(std::set<std::string>(again->test.paths.begin(), again->test.paths.end()),
             std::set<std::string>(d->test.paths.begin(), d->test.paths.end()));
    for (const auto& p : d->test.paths) QVERIFY(std::count(d->train.paths.begin(), d->train.paths.end(), p) == 0);
    // The training order mixes the classes (a prefix, as --limit takes, is not one class).
    QVERIFY(std::get<0>(torch::unique_consecutive(d->train.labels.narrow(0, 0, 10))).size(0) > 1);
  }

  void shouldUseTrainAndTestFolders() {
    QTemporaryDir dir;
    for (const char* split : {"train", "test"})
      for (const char* c : {"x", "y"})
        for (int i = 0; i < (split[1] == 'r' ? 6 : 2); ++i)
          QVERIFY(save(filledGrey(8, 8, 40 * i), QStringLiteral("%1/%2/%3/%4.png").arg(dir.path(), split, c).arg(i)));
    auto d = io::loadLabelledFolder(dir.path().toStdString());
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE(d->classNames, (std::vector<std::string>{"x", "y"}));
    QCOMPARE(d->train.size(), 12);
    QCOMPARE(d->test.size(), 4);
    for (const auto& p : d->test.paths) QVERIFY2(p.rfind("test/", 0) == 0, p.c_str());
    QVERIFY(d->heldOut.find("test/") != std::string::npos);
  }

  void shouldReadLabelsFromCsv() {
    QTemporaryDir dir;
    QVERIFY(save(filledGrey(10, 10, 10), dir.filePath("img/one.png")));
    QVERIFY(save(filledGrey(10, 10, 20), dir.filePath("img/two, with comma.png")));
    QVERIFY(save(filledGrey(10, 10, 30), dir.filePath("three.png")));
    QVERIFY(writeBytes(dir.filePath("img/broken.png"), "garbage"));
    QVERIFY(writeBytes(dir.filePath("labels.csv"), "Filename,Class,notes\r\n"
                                                   "img/one.png,shoe,x\r\n"
                                                   "\"img/two, with comma.png\",bag,\"a \"\"quoted\"\" note\"\r\n"
                                                   "three.png,shoe,\r\n"
                                                   "img/broken.png,bag,\r\n"));
    io::LabelledFolderOptions o;
    o.labelsCsv = dir.filePath("labels.csv").toStdString();
    o.valFraction = 0;
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE(d->classNames, (std::vector<std::string>{"bag", "shoe"}));
    QCOMPARE(d->listed, 4);
    QCOMPARE(d->skipped, 1);
    QCOMPARE(classOf(*d, "img/two, with comma.png"), std::string("bag"));
    QCOMPARE(classOf(*d, "three.png"), std::string("shoe"));
    QCOMPARE(imageOf(*d, "three.png").max().item<int>(), 30);
  }

  void shouldTakeTheCsvSplitColumn() {
    QTemporaryDir dir;
    QByteArray csv = "path,label,split\n";
    for (int i = 0; i < 6; ++i) {
      const QString name = QStringLiteral("%1.png").arg(i);
      QVERIFY(save(filledGrey(8, 8, 10 * i), dir.filePath(name)));
      csv += (name + (i % 2 ? ",odd," : ",even,") + (i < 2 ? "test" : i == 2 ? "VAL" : "train") + "\n").toUtf8();
    }
    QVERIFY(writeBytes(dir.filePath("labels.csv"), csv));
    io::LabelledFolderOptions o;
    o.labelsCsv = dir.filePath("labels.csv").toStdString();
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QCOMPARE(std::set<std::string>(d->test.paths.begin(), d->test.paths.end()), (std::set<std::string>{"0.png", "1.png", "2.png"}));
    QCOMPARE(d->train.size(), 3);
    QCOMPARE(d->heldOut, std::string("the CSV's split column"));
  }

  void shouldRefuseATestClassThatTrainLacks() {
    QTemporaryDir dir;
    for (const char* p : {"train/a/1.png", "train/b/1.png", "test/a/1.png", "test/c/1.png"})
      QVERIFY(save(filledGrey(8, 8, 5), dir.filePath(p)));
    auto d = io::loadLabelledFolder(dir.path().toStdString());
    QVERIFY(!d);
    QVERIFY2(d.error().message.find("test/c: a class that") != std::string::npos, d.error().message.c_str());
  }

  void shouldRefuseBadCsvs_data() {
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<int>("code");
    QTest::newRow("missing files") << QByteArray("path,label\na.png,x\nnope.png,y\ngone/b.png,y\n")
                                   << "2 row(s) name files that do not exist" << int(ErrorCode::NotFound);
    QTest::newRow("ragged row") << QByteArray("path,label\na.png,x\nb.png,y,extra\n") << "labels.csv line 3: 3 fields"
                                << int(ErrorCode::InvalidArgument);
    QTest::newRow("no label column") << QByteArray("path,age\na.png,3\nb.png,4\n") << "no label column"
                                     << int(ErrorCode::InvalidArgument);
    QTest::newRow("no path column") << QByteArray("name,label\na.png,x\n") << "no path column" << int(ErrorCode::InvalidArgument);
    QTest::newRow("one class") << QByteArray("path,label\na.png,x\nb.png,x\n") << "needs at least two classes"
                               << int(ErrorCode::InvalidArgument);
    QTest::newRow("unclosed quote") << QByteArray("path,label\n\"a.png,x\n") << "never closed" << int(ErrorCode::CorruptData);
  }
  void shouldRefuseBadCsvs() {
    QFETCH(QByteArray, csv);
    QFETCH(QString, expected);
    QFETCH(int, code);
    QTemporaryDir dir;
    QVERIFY(save(filledGrey(10, 10, 10), dir.filePath("a.png")));
    QVERIFY(save(filledGrey(10, 10, 10), dir.filePath("b.png")));
    QVERIFY(writeBytes(dir.filePath("labels.csv"), csv));
    io::LabelledFolderOptions o;
    o.labelsCsv = dir.filePath("labels.csv").toStdString();
    auto d = io::loadLabelledFolder(dir.path().toStdString(), o);
    QVERIFY(!d);
    QVERIFY2(QString::fromStdString(d.error().message).contains(expected), d.error().message.c_str());
    QVERIFY2(QString::fromStdString(d.error().message).contains("labels.csv"), d.error().message.c_str());
    QCOMPARE(int(d.error().code), code);
  }

  void shouldRefuseFoldersThatCannotTrain() {
    QTemporaryDir one;
    QVERIFY(save(filledGrey(8, 8, 1), one.filePath("only/a.png")));
    auto d = io::loadLabelledFolder(one.path().toStdString());
    QVERIFY(!d);
    QVERIFY2(d.error().message.find("needs at least two classes") != std::string::npos, d.error().message.c_str());
    QVERIFY(d.error().message.find("found 1: only") != std::string::npos);

    QTemporaryDir dead;
    QVERIFY(save(filledGrey(8, 8, 1), dead.filePath("good/a.png")));
    QVERIFY(writeBytes(dead.filePath("bad/a.png"), "no png"));
    QVERIFY(writeBytes(dead.filePath("bad/b.jpg"), "no jpeg"));
    d = io::loadLabelledFolder(dead.path().toStdString());
    QVERIFY(!d);
    QVERIFY2(d.error().message.find("class 'bad' has no readable image (2 file(s); e.g. a.png") != std::string::npos ||
                 d.error().message.find("class 'bad' has no readable image (2 file(s); e.g. bad/a.png") != std::string::npos,
             d.error().message.c_str());

    d = io::loadLabelledFolder(dead.filePath("missing").toStdString());
    QVERIFY(!d);
    QCOMPARE(d.error().code, ErrorCode::NotFound);
  }

  void shouldStopWhenCancelled() {
    QTemporaryDir dir;
    writeClassFolder(dir.path());
    CancelToken cancel;
    cancel.cancel();
    auto d = io::loadLabelledFolder(dir.path().toStdString(), {}, cancel);
    QVERIFY(!d);
    QCOMPARE(d.error().code, ErrorCode::Cancelled);
  }
};

QTEST_GUILESS_MAIN(TestLabelledFolder)
#include "test_labelled_folder.moc"
