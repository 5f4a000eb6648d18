// The Embedding Explorer on real files:
//   - a .npy + CSV written by the test (three Gaussian clusters in 8-d, two rows with NaN/Inf, images for
//     some rows): the bad rows are dropped and reported, the PCA layout equals an independent PCA computed
//     here (power iteration on the covariance in double precision, compared up to the sign of each axis),
//     colouring by the label column uses one palette colour per class, a click's neighbours are the
//     brute-force cosine top-k, the selection export writes exactly the selected rows with their metadata
//     (compared with the CSV the test wrote) and copies their images;
//   - a Fashion-MNIST subset (QSKIP without Debian's dataset-fashion-mnist): coloured by label with ten
//     legend entries, k-means clusters on the layout, an image dropped on the plot (an item of the set,
//     enlarged and inverted to a white background) lands on that item and finds it as its nearest
//     neighbour, and a t-SNE (when built) updates the layout live and stops on request.

#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QMouseEvent>
#include <QMimeData>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <random>

#include "EmbeddingWindow.h"
#include "TestFiles.h"
#include "widgets/Gallery.h"
#include "widgets/ScatterColors.h"
#include "widgets/ScatterView.h"

using loupe::gui::EmbeddingWindow;

namespace {

// A version 1.0 .npy of float32 [n, d] (numpy/lib/format.py), written byte by byte.
bool writeNpy(const QString& path, const std::vector<float>& values, int n, int d) {
  QByteArray header = QStringLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (%1, %2), }").arg(n).arg(d).toLatin1();
  const int total = 10 + header.size() + 1;
  header.append(QByteArray((64 - total % 64) % 64, ' '));
  header.append('\n');
  QByteArray bytes("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<quint16>(header.size());
  bytes.append(static_cast<char>(len & 0xff));
  bytes.append(static_cast<char>(len >> 8));
  bytes.append(header);
  bytes.append(reinterpret_cast<const char*>(values.data()), static_cast<int>(values.size() * sizeof(float)));
  return loupe::test::writeText(path, bytes);
}

QStringList readLines(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
  QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
  while (!lines.isEmpty() && lines.back().isEmpty()) lines.removeLast();
  return lines;
}

// First two principal axes by power iteration with deflation on the covariance (double precision).
std::vector<std::vector<double>> referencePca(const std::vector<std::vector<double>>& x, int axes) {
  const std::size_t n = x.size(), d = x[0].size();
  std::vector<double> mean(d, 0.0);
  for (const auto& r : x)
    for (std::size_t j = 0; j < d; ++j) mean[j] += r[j] / double(n);
  std::vector<std::vector<double>> cov(d, std::vector<double>(d, 0.0));
  for (const auto& r : x)
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b) cov[a][b] += (r[a] - mean[a]) * (r[b] - mean[b]) / double(n - 1);
  std::vector<std::vector<double>> out;
  for (int k = 0; k < axes; ++k) {
    std::vector<double> v(d, 1.0 / std::sqrt(double(d)));
    v[static_cast<std::size_t>(k)] += 0.3;
    for (int it = 0; it < 2000; ++it) {
      std::vector<double> w(d, 0.0);
      for (std::size_t a = 0; a < d; ++a)
        for (std::size_t b = 0; b < d; ++b) w[a] += cov[a][b] * v[b];
      double norm = 0.0;
      for (const double c : w) norm += c * c;
      norm = std::sqrt(norm);
      for (std::size_t a = 0; a < d; ++a) v[a] = w[a] / norm;
    }
    double lambda = 0.0;
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b) lambda += v[a] * cov[a][b] * v[b];
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b < d; ++b) cov[a][b] -= lambda * v[a] * v[b];
    out.push_back(v);
  }
  // Projections of the rows.
  std::vector<std::vector<double>> proj(n, std::vector<double>(static_cast<std::size_t>(axes), 0.0));
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < axes; ++k)
      for (std::size_t j = 0; j < d; ++j) proj[i][static_cast<std::size_t>(k)] += (x[i][j] - mean[j]) * out[static_cast<std::size_t>(k)][j];
  return proj;
}

}  // namespace

class TestEmbeddingWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void opensNpyAndCsvAndExportsTheSelection() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const int n = 302, d = 8;
    std::mt19937_64 rng(5);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> values(static_cast<std::size_t>(n * d));
    QByteArray csv("label,score,path\n");
    QDir(dir.path()).mkdir(QStringLiteral("img"));
    for (int i = 0; i < n; ++i) {
      const int cls = i % 3;
      for (int j = 0; j < d; ++j) values[static_cast<std::size_t>(i * d + j)] = (j == cls ? 6.f : 0.f) + (j == 3 ? 2.f * cls : 0.f) + normal(rng);
      QString path;
      if (i < 20) {  // images for the first rows, made here
        QImage image(16, 16, QImage::Format_RGB32);
        image.fill(QColor::fromHsv(i * 17 % 360, 200, 200));
        path = QStringLiteral("img/row%1.png").arg(i);
        QVERIFY(image.save(dir.filePath(path)));
      }
      csv += QStringLiteral("%1,%2,%3\n").arg(QStringLiteral("abc")[cls]).arg(i * 0.5).arg(path).toUtf8();
    }
    values[static_cast<std::size_t>(7 * d + 2)] = std::nanf("");
    values[static_cast<std::size_t>(100 * d + 5)] = INFINITY;
    QVERIFY(writeNpy(dir.filePath("vectors.npy"), values, n, d));
    QVERIFY(loupe::test::writeText(dir.filePath("vectors.csv"), csv));

    EmbeddingWindow window;
    window.resize(1200, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);
    QString error;
    if (!window.open(dir.filePath("vectors.npy"), &error) && error.contains("loupe_index"))
      QSKIP("this build reads no .npy (no FAISS, so no loupe_index)");
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(finished.wait(30000) || finished.count() > 0);
    QCOMPARE(finished.last().at(0).toBool(), true);
    const auto set = window.embeddings();
    QCOMPARE(set->size(), n - 2);
    QCOMPARE(set->droppedRows(), (std::vector<std::int64_t>{7, 100}));
    QVERIFY(set->notices().join(" ").contains("NaN or Inf"));
    QVERIFY(window.statusLabel()->text().contains("PCA"));

    // The kept rows, as the reference sees them; id = position among kept rows.
    std::vector<int> sourceRow;
    std::vector<std::vector<double>> rows;
    for (int i = 0; i < n; ++i) {
      if (i == 7 || i == 100) continue;
      sourceRow.push_back(i);
      rows.emplace_back(values.begin() + i * d, values.begin() + (i + 1) * d);
    }
    const auto reference = referencePca(rows, 2);
    const auto& layout = window.layout();
    QCOMPARE(layout.size(), static_cast<std::size_t>(2 * (n - 2)));
    for (int axis = 0; axis < 2; ++axis) {
      const double sign = (layout[static_cast<std::size_t>(axis)] * reference[0][static_cast<std::size_t>(axis)] >= 0) ? 1.0 : -1.0;
      double worst = 0.0;
      for (std::size_t i = 0; i < rows.size(); ++i)
        worst = std::max(worst, std::abs(layout[2 * i + static_cast<std::size_t>(axis)] - sign * reference[i][static_cast<std::size_t>(axis)]));
      QVERIFY2(worst < 1e-3, qPrintable(QString::number(worst)));
    }

    // Colour by label: a, b, c -> palette 0, 1, 2 (the label column is chosen by default).
    QCOMPARE(window.colorKey(), QStringLiteral("label"));
    const auto palette = loupe::widgets::categoricalPalette(3);
    window.view()->setPointAlpha(1.f);
    window.view()->setPointScale(2.f);
    window.view()->setSelection({});
    const QImage frame = window.view()->grabFramebuffer();
    int matching = 0;
    for (int id = 0; id < 30; ++id) {
      const QPointF at = window.view()->dataToWidget(window.view()->position(id));
      const QColor c = frame.pixelColor(static_cast<int>(at.x()), static_cast<int>(at.y()));
      const QColor want = QColor::fromRgb(palette[static_cast<std::size_t>(sourceRow[static_cast<std::size_t>(id)] % 3)]);
      if (std::abs(c.red() - want.red()) < 8 && std::abs(c.green() - want.green()) < 8 && std::abs(c.blue() - want.blue()) < 8) ++matching;
    }
    QVERIFY2(matching >= 25, qPrintable(QString::number(matching)));  // a few may be covered by later points

    // Neighbours of a click: brute-force cosine top-24.
    const std::int64_t query = 42;
    window.showNeighboursOf(query);
    std::vector<std::pair<double, int>> sims;
    auto norm = [](const std::vector<double>& v) {
      double s = 0;
      for (const double x : v) s += x * x;
      return std::sqrt(s);
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<std::int64_t>(i) == query) continue;
      double dot = 0;
      for (int j = 0; j < d; ++j) dot += rows[i][static_cast<std::size_t>(j)] * rows[static_cast<std::size_t>(query)][static_cast<std::size_t>(j)];
      sims.push_back({dot / norm(rows[i]) / norm(rows[static_cast<std::size_t>(query)]), static_cast<int>(i)});
    }
    std::sort(sims.begin(), sims.end(), [](auto a, auto b) { return a.first > b.first; });
    const auto& nb = window.neighbours();
    QCOMPARE(nb.size(), std::size_t(24));
    for (std::size_t k = 0; k < nb.size(); ++k) {
      QVERIFY(std::abs(nb[k].similarity - sims[k].first) < 1e-5);
      if (k + 1 < nb.size() && std::abs(sims[k].first - sims[k + 1].first) > 1e-6) QCOMPARE(nb[k].id, std::int64_t(sims[k].second));
    }
    QCOMPARE(window.gallery()->count(), 24);
    QCOMPARE(window.view()->highlighted().size(), std::size_t(24));

    // Rectangle selection through the view, then the CSV export: exactly those rows with their metadata.
    const auto& xy = window.view()->positions();
    const QRectF rect(QPointF(-100, -100), QPointF(0.0, 100));  // left half of the PCA plane
    window.view()->selectRect(rect);
    std::vector<std::int32_t> expected;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (xy[2 * i] <= 0.0) expected.push_back(static_cast<std::int32_t>(i));
    QVERIFY(!expected.empty());
    QVERIFY(window.view()->selection() == expected);
    QCOMPARE(window.selectionTable()->rowCount(), static_cast<int>(expected.size()));
    const QString out = dir.filePath("selection.csv");
    QVERIFY2(window.exportSelectionCsv(out, &error), qPrintable(error));
    const QStringList lines = readLines(out);
    QCOMPARE(lines.size(), static_cast<int>(expected.size()) + 1);
    QCOMPARE(lines[0], QStringLiteral("id,source_row,label,score,path,image_file"));
    const QStringList written = QString::fromUtf8(csv).split('\n');
    for (std::size_t k = 0; k < expected.size(); ++k) {
      const int id = expected[k];
      const int src = sourceRow[static_cast<std::size_t>(id)];
      const QStringList fields = lines[static_cast<int>(k) + 1].split(',');
      QCOMPARE(fields[0], QString::number(id));
      QCOMPARE(fields[1], QString::number(src));
      const QStringList original = written[src + 1].split(',');
      QCOMPARE(fields.mid(2, 3), original);  // label, score, path exactly as in the input CSV
      QCOMPARE(fields[5].isEmpty(), original[2].isEmpty());
    }
    // Images of the selection that have one are copied.
    std::vector<std::int32_t> withImages;
    for (const auto id : expected)
      if (sourceRow[static_cast<std::size_t>(id)] < 20) withImages.push_back(id);
    window.view()->setSelection(withImages);
    if (!withImages.empty()) {
      const int copied = window.exportSelectionImages(dir.filePath("copies"), &error);
      QCOMPARE(copied, static_cast<int>(withImages.size()));
      QVERIFY(QFile::exists(dir.filePath(QStringLiteral("copies/%1_row%2.png").arg(withImages[0]).arg(sourceRow[static_cast<std::size_t>(withImages[0])]))));
    }
    // A .npy without images cannot take a dropped file: the message says why.
    QVERIFY(!window.placeImage(dir.filePath("img/row0.png"), &error));
    QVERIFY(error.contains("no model"));
  }

  void badInputIsReported() {
    QTemporaryDir dir;
    std::vector<float> v(20, 1.f);
    QVERIFY(writeNpy(dir.filePath("m.npy"), v, 10, 2));
    QVERIFY(loupe::test::writeText(dir.filePath("m.csv"), "label\na\nb\n"));  // 2 rows for 10 vectors
    EmbeddingWindow window;
    QString error;
    QVERIFY(!window.open(dir.filePath("m.npy"), &error));
    if (error.contains("loupe_index")) QSKIP("this build reads no .npy (no FAISS, so no loupe_index)");
    QVERIFY2(error.contains("m.csv") && error.contains("10"), qPrintable(error));
    QVERIFY(!window.open(dir.filePath("missing.npy"), &error));
    QVERIFY(error.contains("missing.npy"));
    // Zero variance: PCA says so instead of drawing nonsense.
    QVERIFY(loupe::test::writeText(dir.filePath("m.csv"), "label\na\nb\na\nb\na\nb\na\nb\na\nb\n"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);
    QVERIFY(window.open(dir.filePath("m.npy"), &error));
    QVERIFY(finished.wait(20000) || finished.count() > 0);
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY2(window.statusLabel()->text().contains("zero variance"), qPrintable(window.statusLabel()->text()));
  }

  void fashionMnistSubset() {
    if (!QFile::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
      QSKIP("Fashion-MNIST is not installed (Debian: dataset-fashion-mnist)");
    EmbeddingWindow window;
    window.resize(1300, 850);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);
    QString error;
    QVERIFY2(window.open("fashion-mnist", &error, 3000), qPrintable(error));
    QVERIFY(finished.wait(60000) || finished.count() > 0);
    QCOMPARE(finished.last().at(0).toBool(), true);
    QCOMPARE(window.embeddings()->size(), std::int64_t(3000));
    QCOMPARE(window.embeddings()->dim(), std::int64_t(784));
    QCOMPARE(window.colorKey(), QStringLiteral("label"));
    QVERIFY(window.embeddings()->hasThumbnails());
    QCOMPARE(window.embeddings()->thumbnail(0, 0).size(), QSize(28, 28));

    // Drop an item of the set, enlarged 4x and inverted onto a white background (as a photo of a garment
    // would be): the pixel embedder undoes both, so it lands on the item and finds it first.
    const std::int64_t item = 123;
    QImage big = window.embeddings()->thumbnail(item, 0).scaled(112, 112, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    big.invertPixels();
    QTemporaryDir dir;
    const QString file = dir.filePath("dropped.png");
    QVERIFY(big.save(file));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(file)});
    const QPoint at = window.view()->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window.view(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window.view(), &drop);
    QVERIFY(window.view()->hasMarker());
    QVERIFY(!window.neighbours().empty());
    QCOMPARE(window.neighbours().front().id, item);
    QVERIFY(window.neighbours().front().similarity > 0.97f);

    // k-means on the layout: ten clusters in the legend's place.
    QSignalSpy clusters(&window, &EmbeddingWindow::clustersReady);
    window.colorBy("cluster:kmeans-layout");
    QVERIFY(clusters.wait(60000) || clusters.count() > 0);

    // t-SNE, when built: the layout updates while it runs, and Stop ends it keeping the layout.
    const auto methods = loupe::gui::availableProjections();
    if (std::find(methods.begin(), methods.end(), loupe::gui::Projection::Tsne) == methods.end()) return;
    finished.clear();
    const int before = window.layoutUpdates();
    window.runProjection(loupe::gui::Projection::Tsne);
    QTRY_VERIFY_WITH_TIMEOUT(window.layoutUpdates() >= before + 3, 120000);
    window.stopJob();
    QVERIFY(finished.wait(60000) || finished.count() > 0);
    QVERIFY(!window.jobRunning());
    QCOMPARE(window.layout().size(), std::size_t(6000));
  }

  // Documentation screenshots (docs/screenshots/embeddings-*.png): only when LOUPE_SCREENSHOT_DIR is set,
  // on all 70,000 Fashion-MNIST images. Run: LOUPE_SCREENSHOT_DIR=docs/screenshots xvfb-run -a -s
  // "-screen 0 1600x1000x24" build-ci/tests/test_embedding_window screenshots
  void screenshots() {
    const QString out = qEnvironmentVariable("LOUPE_SCREENSHOT_DIR");
    if (out.isEmpty()) QSKIP("set LOUPE_SCREENSHOT_DIR to write the documentation screenshots");
    if (!QFile::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) QSKIP("no Fashion-MNIST");
    const QString method = qEnvironmentVariable("LOUPE_SCREENSHOT_PROJECTION", "PCA");
    EmbeddingWindow window;
    window.resize(1600, 1000);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);
    QString error;
    QVERIFY2(window.open("fashion-mnist", &error), qPrintable(error));
    QVERIFY(finished.wait(120000) || finished.count() > 0);
    if (method != "PCA") {
      finished.clear();
      window.runProjection(method == "UMAP" ? loupe::gui::Projection::Umap : loupe::gui::Projection::Tsne);
      QVERIFY(finished.wait(590000) || finished.count() > 0);
    }
    auto* view = window.view();
    // Lasso around the densest part of the "Trouser" class (label 1): a circle around its median position.
    const auto* label = window.embeddings()->column("label");
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < label->text.size(); ++i)
      if (label->text[i] == "Trouser") xs.push_back(view->positions()[2 * i]), ys.push_back(view->positions()[2 * i + 1]);
    std::nth_element(xs.begin(), xs.begin() + xs.size() / 2, xs.end());
    std::nth_element(ys.begin(), ys.begin() + ys.size() / 2, ys.end());
    const QPointF centre = view->dataToWidget(QPointF(xs[xs.size() / 2], ys[ys.size() / 2]));
    view->setMode(loupe::widgets::ScatterView::Mode::Lasso);
    QPolygonF lasso;
    for (int k = 0; k < 60; ++k) {
      const double a = 2 * M_PI * k / 60, r = 70 + 18 * std::sin(3 * a);
      lasso << centre + QPointF(r * std::cos(a), 0.8 * r * std::sin(a));
    }
    auto send = [view](QEvent::Type type, QPointF pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
      QMouseEvent e(type, pos, view->mapToGlobal(pos), button, buttons, Qt::NoModifier);
      QCoreApplication::sendEvent(view, &e);
    };
    send(QEvent::MouseButtonPress, lasso.front(), Qt::LeftButton, Qt::LeftButton);
    for (const QPointF& p : lasso) send(QEvent::MouseMove, p, Qt::NoButton, Qt::LeftButton);
    send(QEvent::MouseButtonRelease, lasso.back(), Qt::LeftButton, Qt::NoButton);
    QVERIFY(!view->selection().empty());
    // Neighbours of a point outside the selection (a "Sandal" row), then hover over another point.
    std::int64_t query = -1, hover = -1;
    for (std::size_t i = 0; i < label->text.size() && (query < 0 || hover < 0); ++i) {
      if (query < 0 && label->text[i] == "Sandal") query = static_cast<std::int64_t>(i);
      if (hover < 0 && label->text[i] == "Bag" && i > 500) hover = static_cast<std::int64_t>(i);
    }
    window.showNeighboursOf(query);
    QTRY_VERIFY_WITH_TIMEOUT(window.gallery()->visibleThumbnailsDone(), 20000);
    send(QEvent::MouseMove, view->dataToWidget(view->position(hover)), Qt::NoButton, Qt::NoButton);
    QTest::qWait(300);
    QVERIFY(window.snapshot().save(out + "/embeddings-explorer.png"));

    // An image dropped on the plot: an Ankle boot of the test split, enlarged and on white.
    std::int64_t boot = -1;
    for (std::size_t i = 69000; i < label->text.size() && boot < 0; ++i)
      if (label->text[i] == "Ankle boot") boot = static_cast<std::int64_t>(i);
    QImage big = window.embeddings()->thumbnail(boot, 0).scaled(140, 140, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    big.invertPixels();
    QTemporaryDir dir;
    QVERIFY(big.save(dir.filePath("ankle-boot.png")));
    view->clearSelection();
    send(QEvent::MouseMove, QPointF(5, 5), Qt::NoButton, Qt::NoButton);
    QVERIFY2(window.placeImage(dir.filePath("ankle-boot.png"), &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(window.gallery()->visibleThumbnailsDone(), 20000);
    QTest::qWait(300);
    QVERIFY(window.snapshot().save(out + "/embeddings-drop.png"));
  }
};

QTEST_MAIN(TestEmbeddingWindow)
#include "test_embedding_window.moc"
