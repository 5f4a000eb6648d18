// GalleryWindow: a folder or a ranked list file as a gallery. The list format (path,score[,caption],
// header line, comments, relative paths) is parsed as documented in docs/workbench.md, bad lines are
// refused with the file and line named, and opening an item asks the main window for that file.

#include <QDir>
#include <QListView>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "GalleryFixture.h"
#include "GalleryWindow.h"
#include "TestFiles.h"
#include "widgets/Gallery.h"

using loupe::gui::GalleryWindow;

class TestGalleryWindow : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QStringList files_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    files_ = loupe::test::writeGalleryPhotos(dir_.filePath(QStringLiteral("photos")), 6, QSize(120, 90));
    if (files_.isEmpty()) QSKIP("python3-skimage's photos are not installed");
  }

  void readsARankedList() {
    const QString list = dir_.filePath(QStringLiteral("photos/ranked.csv"));
    QVERIFY(loupe::test::writeText(list, "path,score,caption\n"
                                         "# a comment\n"
                                         "photo_0000.jpg,0.25,first file\n"
                                         "photo_0001.png\t0.75\tsecond, with a comma\n"
                                         "\n" +
                                             QFile::encodeName(files_[2]) + ",-1.5\n"));
    auto items = loupe::gui::galleryItemsFromList(list);
    QVERIFY2(items, items ? "" : items.error().message.c_str());
    QCOMPARE(items->size(), size_t(3));
    QCOMPARE((*items)[0].path, QDir(dir_.filePath(QStringLiteral("photos"))).absoluteFilePath(QStringLiteral("photo_0000.jpg")));
    QCOMPARE((*items)[0].score, 0.25);
    QCOMPARE((*items)[0].caption, QStringLiteral("first file"));
    QCOMPARE((*items)[1].caption, QStringLiteral("second, with a comma"));
    QCOMPARE((*items)[2].path, files_[2]);
    QCOMPARE((*items)[2].score, -1.5);
    QVERIFY((*items)[2].caption.isEmpty());  // the model shows the file name
  }

  void refusesBadLinesNamingFileAndLine() {
    const QString list = dir_.filePath(QStringLiteral("bad.csv"));
    QVERIFY(loupe::test::writeText(list, "a.jpg,0.5\nb.jpg,high\n"));
    auto items = loupe::gui::galleryItemsFromList(list);
    QVERIFY(!items);
    QCOMPARE(QString::fromStdString(items.error().message), QStringLiteral("bad.csv line 2: 'high' is not a score"));
    QVERIFY(loupe::test::writeText(list, "just-a-path.jpg\n"));
    QVERIFY(!loupe::gui::galleryItemsFromList(list));
    QVERIFY(!loupe::gui::galleryItemsFromList(dir_.filePath(QStringLiteral("missing.csv"))));
    QVERIFY(!loupe::gui::galleryItemsFromFolder(dir_.filePath(QStringLiteral("nowhere"))));
  }

  void showsAFolderAndOpensAnItem() {
    GalleryWindow w;
    QString error;
    QVERIFY2(w.open(dir_.filePath(QStringLiteral("photos")), &error), qPrintable(error));
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.gallery()->count(), files_.size());  // the list file is not an image
    QCOMPARE(w.gallery()->sortOrder(), loupe::widgets::Gallery::SortOrder::AsGiven);
    QTRY_VERIFY_WITH_TIMEOUT(w.gallery()->visibleThumbnailsDone(), 10000);
    QSignalSpy open(&w, &GalleryWindow::openImage);
    QListView* view = w.gallery()->view();
    const QModelIndex third = w.gallery()->proxy()->index(2, 0);
    const QPoint at = view->visualRect(third).center();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);  // a double-click's first press and release
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
    QCOMPARE(open.count(), 1);
    QCOMPARE(open.at(0).at(0).toString(), QFileInfo(files_[2]).absoluteFilePath());  // folders list by name
    QVERIFY(!w.open(dir_.filePath(QStringLiteral("nowhere")), &error));
    QVERIFY2(error.contains(QStringLiteral("no such file or folder")), qPrintable(error));
  }
};

QTEST_MAIN(TestGalleryWindow)
#include "test_gallery_window.moc"
