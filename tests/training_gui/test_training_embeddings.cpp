// The training panel's live embedding view: a real short training (300 Fashion-MNIST images, tiny widths
// 8-16-32, batch 50; QSKIP without Debian's dataset-fashion-mnist) with "Show embeddings" on, under xvfb-run
// (the view draws with OpenGL).
//   - PCA run of 6 epochs stopped after epoch 2 (it ends in epoch 3 or a little later): one update per
//     epoch, every held-out image shown (1,000 = the panel's held-out count), each point coloured by its label (the palette entry of the
//     label's rank among the sorted class names, also read back from the framebuffer), epoch and kNN in the
//     title; each epoch's layout as computed is the PCA of that epoch's embeddings (checked against a power
//     iteration on their covariance here, up to axis signs); the layout shown is that one mapped onto the
//     previous epoch's by a similarity transform, and it is the best one (rotating it by +-0.5 degree or
//     scaling by 1 +- 1% only moves it further from the previous layout); the GUI timer keeps firing; after
//     Stop the view keeps the last epoch's layout; saved as a store it reopens with the same vectors, labels and
//     thumbnails; Resume goes on updating the same rows to the last epoch.
//   - default (UMAP) run of 2 epochs to the end: projected off the GUI thread (timer ticks while it runs),
//     the last epoch shown, and an image dropped on the view is embedded by the package the run wrote: a
//     held-out image written as PNG finds its own row as nearest neighbour (cosine 1).
//   - LOUPE_TRAINING_SCREENSHOT=FILE.png: a longer run (3,000 images, default widths) shot mid-training, the
//     panel beside the live view (docs/screenshots/training-live.png); skipped otherwise.

#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QPainter>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "EmbeddingWindow.h"
#include "TrainingPanel.h"
#include "widgets/ScatterColors.h"
#include "widgets/ScatterView.h"

using loupe::gui::EmbeddingSet;
using loupe::gui::EmbeddingWindow;
using loupe::gui::Projection;
using loupe::gui::TrainingPanel;

namespace {

constexpr double kPi = 3.14159265358979323846;

bool haveFashionMnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ||
         std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte");
}

void setUpSmallRun(TrainingPanel& panel, const QString& out, int epochs) {
  panel.setDataSource(QStringLiteral("fashion-mnist"));
  panel.setTrainLimit(300);
  panel.setLoss(QStringLiteral("ce"));
  panel.setEpochs(epochs);
  panel.setBatchSize(50);
  panel.setLearningRate(3e-3);
  panel.setModelWidths({8, 16, 32});
  panel.setOutputFolder(out);
}

// PCA projections of the rows (n x d) on their first two principal axes: power iteration with deflation on
// the covariance in double precision.
std::vector<double> referencePca(const std::vector<float>& x, int n, int d) {
  std::vector<double> mean(std::size_t(d), 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) mean[std::size_t(j)] += x[std::size_t(i * d + j)] / double(n);
  std::vector<double> cov(std::size_t(d * d), 0.0);
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < d; ++a) {
      const double ca = x[std::size_t(i * d + a)] - mean[std::size_t(a)];
      for (int b = 0; b < d; ++b) cov[std::size_t(a * d + b)] += ca * (x[std::size_t(i * d + b)] - mean[std::size_t(b)]) / double(n - 1);
    }
  std::vector<std::vector<double>> axes;
  for (int k = 0; k < 2; ++k) {
    std::vector<double> v(std::size_t(d), 1.0 / std::sqrt(double(d)));
    v[std::size_t(k)] += 0.3;
    for (int it = 0; it < 3000; ++it) {
      std::vector<double> w(std::size_t(d), 0.0);
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) w[std::size_t(a)] += cov[std::size_t(a * d + b)] * v[std::size_t(b)];
      double norm = 0;
      for (const double c : w) norm += c * c;
      for (int a = 0; a < d; ++a) v[std::size_t(a)] = w[std::size_t(a)] / std::sqrt(norm);
    }
    double lambda = 0;
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) lambda += v[std::size_t(a)] * cov[std::size_t(a * d + b)] * v[std::size_t(b)];
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) cov[std::size_t(a * d + b)] -= lambda * v[std::size_t(a)] * v[std::size_t(b)];
    axes.push_back(v);
  }
  std::vector<double> out(std::size_t(2 * n), 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < d; ++j)
        out[std::size_t(2 * i + k)] += (x[std::size_t(i * d + j)] - mean[std::size_t(j)]) * axes[std::size_t(k)][std::size_t(j)];
  return out;
}

double spread(const std::vector<float>& xy) {
  double mx = 0, my = 0, s = 0;
  const std::size_t n = xy.size() / 2;
  for (std::size_t i = 0; i < n; ++i) mx += xy[2 * i] / double(n), my += xy[2 * i + 1] / double(n);
  for (std::size_t i = 0; i < n; ++i) s += (xy[2 * i] - mx) * (xy[2 * i] - mx) + (xy[2 * i + 1] - my) * (xy[2 * i + 1] - my);
  return std::sqrt(s / double(n));
}

// RMS distance between `a` turned by `degrees` and scaled by `scale` about its centroid, and `b`.
double rmsAfter(const std::vector<float>& a, const std::vector<float>& b, double degrees, double scale) {
  const std::size_t n = a.size() / 2;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += a[2 * i] / double(n), my += a[2 * i + 1] / double(n);
  const double c = std::cos(degrees * kPi / 180), s = std::sin(degrees * kPi / 180);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = a[2 * i] - mx, y = a[2 * i + 1] - my;
    const double u = scale * (x * c - y * s) + mx, v = scale * (x * s + y * c) + my;
    sum += (u - b[2 * i]) * (u - b[2 * i]) + (v - b[2 * i + 1]) * (v - b[2 * i + 1]);
  }
  return std::sqrt(sum / double(n));
}

}  // namespace

class TestTrainingEmbeddings : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldRefreshTheViewAfterEveryEpochAndKeepItWhenStopped() {
    if (!haveFashionMnist()) QSKIP("Debian's dataset-fashion-mnist is not installed");
    QTemporaryDir out;
    TrainingPanel panel;
    // Many epochs, stopped after the 2nd: an epoch of this small run takes ~0.3 s and the stop reaches the
    // worker only when the GUI thread has handled epoch 2's queued signal (behind a projection and a repaint,
    // up to ~1 s on a busy machine), so with only a few epochs the run could end before the stop lands.
    constexpr int kEpochs = 20;
    setUpSmallRun(panel, out.path(), kEpochs);
    QVERIFY(panel.showsEmbeddings());  // on by default
    EmbeddingWindow* view = panel.embeddingWindow();
    QVERIFY(!view->isVisible());  // until the first epoch
    view->setProjectionMethod(Projection::Pca);
    panel.resize(980, 560);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));

    QSignalSpy embeddings(&panel, &TrainingPanel::embeddingsUpdated);
    QSignalSpy epochs(&panel, &TrainingPanel::epochFinished);
    QSignalSpy finished(&panel, &TrainingPanel::finished);
    std::vector<std::vector<float>> shown, computed;
    QStringList captions;
    connect(view, &EmbeddingWindow::projectionFinished, this, [&](bool ok) {
      if (!ok) return;
      shown.push_back(view->layout());
      computed.push_back(view->unalignedLayout());
      captions << view->caption();
    });
    int ticks = 0;
    qint64 maxGap = 0;
    QElapsedTimer sinceTick;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] {
      ++ticks;
      if (sinceTick.isValid()) maxGap = std::max(maxGap, sinceTick.elapsed());
      sinceTick.start();
    });
    ticker.start(20);
    connect(&panel, &TrainingPanel::epochFinished, &panel, [&](int epoch) {
      if (epoch == 2) panel.stop();
    });
    QElapsedTimer clock;
    clock.start();
    panel.start();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(!view->jobRunning() && !view->updatePending(), 30000);
    ticker.stop();
    const int k = int(epochs.count());  // the stop lands in epoch 3 or, on a busy machine, a little later
    qInfo("%d epochs + %d projections: %.1f s, %d GUI timer ticks, longest gap %lld ms", k, int(shown.size()),
          clock.elapsed() / 1000.0, ticks, static_cast<long long>(maxGap));
    QCOMPARE(finished.at(0).at(0).toBool(), false);  // stopped, not finished
    QVERIFY2(k >= 2 && k < kEpochs, qPrintable(QString::number(k)));

    // One update per epoch, every held-out image in it; PCA keeps up (an update waits for a running PCA, so
    // at least the first and the last epoch are drawn, usually every one).
    QCOMPARE(int(embeddings.count()), k);
    QVERIFY(view->isVisible());
    QVERIFY(view->isLive());
    QCOMPARE(view->vectorUpdates(), k - 1);  // epoch 1 opened the rows, the others updated them
    QCOMPARE(view->projectedUpdates(), int(shown.size()));
    QVERIFY2(shown.size() >= 2, qPrintable(QStringLiteral("%1 layouts: %2; status: %3")
                                               .arg(shown.size())
                                               .arg(captions.join(QStringLiteral(" | ")), view->statusLabel()->text())));
    const int n = embeddings.at(k - 1).at(1).toInt(), d = embeddings.at(k - 1).at(2).toInt();
    QCOMPARE(n, 1000);  // the panel holds out max(1000, training images)
    QCOMPARE(view->view()->count(), std::int64_t(n));
    QCOMPARE(view->embeddings()->size(), std::int64_t(n));
    QVERIFY2(captions[0].contains(QStringLiteral("epoch 1/%1").arg(kEpochs)) && captions[0].contains(QStringLiteral("kNN")), qPrintable(captions[0]));
    const QString lastCaption = QStringLiteral("epoch %1/%2").arg(k).arg(kEpochs);
    QVERIFY2(captions.last().contains(lastCaption), qPrintable(captions.last()));
    QVERIFY(view->windowTitle().contains(lastCaption));
    QVERIFY(view->windowTitle().contains(QStringLiteral("1000 held-out images of Fashion-MNIST")));
    const double knn = epochs.at(k - 1).at(2).toDouble();
    // (n/a when the stop cancelled that epoch's kNN evaluation after its embeddings were made)
    const QString knnText = std::isfinite(knn) ? QStringLiteral("kNN %1%").arg(100 * knn, 0, 'f', 2) : QStringLiteral("kNN n/a");
    QVERIFY2(captions.last().contains(knnText), qPrintable(captions.last() + QStringLiteral(" vs ") + knnText));

    // Each layout as computed is the PCA of its epoch's embeddings (up to the sign of each axis).
    for (int e = 0; e < int(computed.size()); ++e) {
      const int epoch = captions[e].section(QLatin1Char('/'), 0, 0).section(QLatin1Char(' '), -1).toInt();
      QVERIFY(epoch >= 1 && epoch <= k);
      const auto values = embeddings.at(epoch - 1).at(0).value<std::vector<float>>();
      const auto reference = referencePca(values, n, d);
      const auto& layout = computed[std::size_t(e)];
      for (int axis = 0; axis < 2; ++axis) {
        const double sign = layout[std::size_t(axis)] * reference[std::size_t(axis)] >= 0 ? 1.0 : -1.0;
        double worst = 0, range = 0;
        for (int i = 0; i < n; ++i) {
          worst = std::max(worst, std::abs(layout[std::size_t(2 * i + axis)] - sign * reference[std::size_t(2 * i + axis)]));
          range = std::max(range, std::abs(reference[std::size_t(2 * i + axis)]));
        }
        QVERIFY2(worst < 1e-3 * range, qPrintable(QStringLiteral("epoch %1 axis %2: %3 of %4").arg(e + 1).arg(axis).arg(worst).arg(range)));
      }
    }
    // Epoch 1 is shown as computed; the last one mapped onto the one before by the reported transform ...
    QVERIFY(shown[0] == computed[0]);
    const std::size_t m = shown.size() - 1;
    const auto& t = view->lastAlignment();
    QVERIFY(t.valid);
    auto mapped = computed[m];
    loupe::gui::applyTransform(mapped, t);
    double worst = 0;
    for (std::size_t i = 0; i < mapped.size(); ++i) worst = std::max(worst, double(std::abs(mapped[i] - shown[m][i])));
    QVERIFY2(worst <= 1e-5 * spread(shown[m]), qPrintable(QString::number(worst)));
    // ... which is the best one: any small turn or rescale of the shown layout moves it away from the previous.
    const double best = rmsAfter(shown[m], shown[m - 1], 0.0, 1.0);
    QVERIFY2(std::abs(best - t.residual) < 1e-3 * spread(shown[m - 1]), qPrintable(QStringLiteral("%1 vs %2").arg(best).arg(t.residual)));
    for (const double degrees : {-0.5, 0.5}) QVERIFY(rmsAfter(shown[m], shown[m - 1], degrees, 1.0) > best);
    for (const double scale : {0.99, 1.01}) QVERIFY(rmsAfter(shown[m], shown[m - 1], 0.0, scale) > best);
    // Unaligned, the same layout is much further from the previous one (PCA's axis signs and scale drift).
    qInfo("%s aligned to the layout before: rotation %.2f deg%s, scale %.4f, RMS residual %.4f (unaligned %.4f) of spread %.4f",
          qPrintable(captions.last()), t.rotationDegrees, t.reflection ? " after a reflection" : "", t.scale, t.residual,
          rmsAfter(computed[m], shown[m - 1], 0.0, 1.0), spread(shown[m - 1]));

    // Colour by label: the label's rank among the sorted class names picks the palette entry.
    QCOMPARE(view->colorKey(), QStringLiteral("label"));
    const QStringList names = panel.classNames();
    const std::set<QString> sorted(names.begin(), names.end());
    const auto palette = loupe::widgets::categoricalPalette(int(sorted.size()));
    const auto& labels = panel.embeddedLabels();
    QCOMPARE(int(labels.size()), n);
    const auto& colors = view->pointColors();
    QCOMPARE(int(colors.size()), n);
    std::vector<QRgb> expected(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const QString name = names[labels[std::size_t(i)]];
      expected[std::size_t(i)] = palette[std::size_t(std::distance(sorted.begin(), sorted.find(name)))];
      QCOMPARE(colors[std::size_t(i)], expected[std::size_t(i)]);
    }
    // And drawn so: opaque, selection cleared, the colour under each point's centre (points drawn later may
    // cover earlier ones, mostly of the same class in a cluster).
    QVERIFY(QTest::qWaitForWindowExposed(view));
    view->view()->setPointAlpha(1.f);
    view->view()->setSelection({});
    const QImage frame = view->view()->grabFramebuffer();
    const double dpr = frame.devicePixelRatio();
    int matching = 0;
    for (int i = 0; i < n; ++i) {
      const QPointF at = view->view()->dataToWidget(view->view()->position(i)) * dpr;
      if (!frame.rect().contains(at.toPoint())) continue;
      const QColor c = frame.pixelColor(at.toPoint()), want = QColor::fromRgb(expected[std::size_t(i)]);
      if (std::abs(c.red() - want.red()) < 10 && std::abs(c.green() - want.green()) < 10 && std::abs(c.blue() - want.blue()) < 10)
        ++matching;
    }
    QVERIFY2(matching >= n / 2, qPrintable(QStringLiteral("%1 of %2 points drawn in their label's colour").arg(matching).arg(n)));

    // The GUI thread ran throughout (its longest stall, the OpenGL window's first show on a software
    // rasteriser included, is reported above; here only a freeze fails).
    QVERIFY2(ticks >= 20 && maxGap < 5000, qPrintable(QStringLiteral("%1 ticks, longest gap %2 ms").arg(ticks).arg(maxGap)));

    // Stopped: the view keeps the last epoch's layout.
    QTest::qWait(300);
    QVERIFY(view->layout() == shown[m]);
    QVERIFY(view->view()->positions() == shown[m]);
    QVERIFY(view->caption().contains(lastCaption));

    // Saved as a store, it reopens with the same vectors, labels and thumbnails.
    QSignalSpy saved(view, &EmbeddingWindow::storeSaved);
    const QString store = out.filePath(QStringLiteral("live-store"));
    view->saveStore(store);
    QTRY_VERIFY_WITH_TIMEOUT(saved.count() == 1, 60000);
    if (!saved.at(0).at(0).toBool() && saved.at(0).at(1).toString().contains(QStringLiteral("loupe_index")))
      QSKIP("this build has no embedding store (FAISS)");
    QVERIFY2(saved.at(0).at(0).toBool(), qPrintable(saved.at(0).at(1).toString()));
    auto reopened = EmbeddingSet::open(store);
    QVERIFY2(reopened.ok(), reopened.ok() ? "" : reopened.error().message.c_str());
    const auto& set = *reopened.value();
    QCOMPARE(set.size(), std::int64_t(n));
    QCOMPARE(set.dim(), std::int64_t(d));
    QVERIFY(set.searchMethod().contains(QStringLiteral("FAISS")));
    const auto last = embeddings.at(k - 1).at(0).value<std::vector<float>>();
    const EmbeddingSet& live = *view->embeddings();
    QVERIFY(set.hasThumbnails());
    for (int i = 0; i < n; i += 37) {
      const auto nb = set.neighboursOf(i, 1);
      QVERIFY(nb.ok());
      const auto nbLive = live.neighboursOf(i, 1);
      QVERIFY(std::abs(nb.value().front().similarity - nbLive.value().front().similarity) < 1e-5f);
      QCOMPARE(set.column(QStringLiteral("label"))->text[std::size_t(i)], names[labels[std::size_t(i)]]);
      const QImage a = set.thumbnail(i, 28).convertToFormat(QImage::Format_Grayscale8),
                   b = live.thumbnail(i, 28).convertToFormat(QImage::Format_Grayscale8);
      QCOMPARE(a.size(), QSize(28, 28));
      QCOMPARE(a, b);
    }
    // Vectors byte for byte: the store's vectors.f32 is row-major float32.
    QFile f(store + QStringLiteral("/vectors.f32"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    QCOMPARE(bytes.size(), qsizetype(last.size() * sizeof(float)));
    QVERIFY(std::memcmp(bytes.constData(), last.data(), std::size_t(bytes.size())) == 0);

    // Resume: the same held-out rows, so the view goes on updating them (no new set), to the last epoch.
    const int updatesBefore = view->vectorUpdates();
    const auto setBefore = view->embeddings();
    panel.resume();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 120000);
    QVERIFY2(finished.at(1).at(0).toBool(), qPrintable(finished.at(1).at(1).toString()));
    QTRY_VERIFY_WITH_TIMEOUT(!view->jobRunning() && !view->updatePending(), 30000);
    QVERIFY(view->vectorUpdates() > updatesBefore);
    QVERIFY(view->embeddings() != setBefore);
    QCOMPARE(view->embeddings()->size(), std::int64_t(n));
    QVERIFY2(view->caption().contains(QStringLiteral("epoch %1/%1").arg(kEpochs)), qPrintable(view->caption()));
    QVERIFY(view->lastAlignment().valid);
    QVERIFY(view->embeddings()->canEmbedImages());  // the package the finished run wrote
  }

  void shouldProjectWithUmapAndEmbedDropsWithTheTrainedModel() {
    if (!haveFashionMnist()) QSKIP("Debian's dataset-fashion-mnist is not installed");
    const auto methods = loupe::gui::availableProjections();
    if (std::find(methods.begin(), methods.end(), Projection::Umap) == methods.end()) QSKIP("this build has no UMAP");
    QTemporaryDir out;
    TrainingPanel panel;
    setUpSmallRun(panel, out.path(), 2);
    EmbeddingWindow* view = panel.embeddingWindow();
    QCOMPARE(view->projectionMethod(), Projection::Umap);  // the default
    QSignalSpy finished(&panel, &TrainingPanel::finished);
    int ticksWhileProjecting = 0;
    qint64 maxGap = 0;
    QElapsedTimer sinceTick;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] {
      if (!view->jobRunning()) return sinceTick.invalidate();
      ++ticksWhileProjecting;
      if (sinceTick.isValid()) maxGap = std::max(maxGap, sinceTick.elapsed());
      sinceTick.start();
    });
    ticker.start(20);
    QElapsedTimer clock;
    clock.start();
    panel.start();
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QTRY_VERIFY_WITH_TIMEOUT(!view->jobRunning() && !view->updatePending() && view->caption().contains(QStringLiteral("epoch 2/2")),
                             60000);
    qInfo("2 epochs with UMAP: %.1f s; %d layouts projected to the end for 2 epochs; %d timer ticks while projecting, "
          "longest gap %lld ms", clock.elapsed() / 1000.0, view->projectedUpdates(), ticksWhileProjecting,
          static_cast<long long>(maxGap));
    QVERIFY(view->projectedUpdates() >= 1);  // epoch 1's may have been superseded by epoch 2's
    QCOMPARE(view->vectorUpdates(), 1);
    QVERIFY(view->statusLabel()->text().contains(QStringLiteral("UMAP")));
    // The GUI thread kept serving its timer while UMAP ran: a projection on the GUI thread would let it fire
    // at most once per projection. (The gap bound only catches a freeze: the machine is shared and loaded.)
    QVERIFY2(ticksWhileProjecting >= 3, qPrintable(QString::number(ticksWhileProjecting)));
    QVERIFY2(maxGap < 5000, qPrintable(QString::number(maxGap)));
    QCOMPARE(view->layout().size(), std::size_t(2 * 1000));

    // The run wrote its package; the view embeds dropped images with it: held-out image 7 lands on itself.
    QVERIFY2(view->embeddings()->canEmbedImages(), qPrintable(view->statusLabel()->text()));
    const QString png = out.filePath(QStringLiteral("held-out-7.png"));
    QVERIFY(view->embeddings()->thumbnail(7, 0).save(png));
    QString error;
    QVERIFY2(view->placeImage(png, &error), qPrintable(error));
    QVERIFY(!view->neighbours().empty());
    QCOMPARE(view->neighbours().front().id, std::int64_t(7));
    QVERIFY2(view->neighbours().front().similarity > 0.999f, qPrintable(QString::number(view->neighbours().front().similarity)));
    QVERIFY(view->view()->hasMarker());
  }

  void screenshotMidTraining() {
    const QString shot = QString::fromLocal8Bit(qgetenv("LOUPE_TRAINING_SCREENSHOT"));
    if (shot.isEmpty()) QSKIP("set LOUPE_TRAINING_SCREENSHOT=FILE.png to write the screenshot");
    if (!haveFashionMnist()) QSKIP("Debian's dataset-fashion-mnist is not installed");
    QTemporaryDir out;
    TrainingPanel panel;
    panel.setDataSource(QStringLiteral("fashion-mnist"));
    panel.setTrainLimit(3000);
    panel.setLoss(QStringLiteral("ce"));
    panel.setEpochs(8);
    panel.setBatchSize(64);
    panel.setOutputFolder(out.path());
    panel.resize(900, 600);
    panel.show();
    EmbeddingWindow* view = panel.embeddingWindow();
    QSignalSpy epochs(&panel, &TrainingPanel::epochFinished);
    panel.start();
    // Mid-training: the layout of epoch 4 drawn, the run still going.
    QTRY_VERIFY_WITH_TIMEOUT(view->caption().contains(QStringLiteral("epoch 4/")) && !view->jobRunning(), 600000);
    QVERIFY(panel.isRunning());
    view->resize(1100, 760);
    view->showNeighboursOf(12);
    QTest::qWait(200);
    const QImage left = panel.grab().toImage(), right = view->snapshot();
    QImage both(left.width() + right.width() + 12, std::max(left.height(), right.height()), QImage::Format_RGB32);
    both.fill(QColor(60, 60, 60));
    QPainter p(&both);
    p.drawImage(0, 0, left);
    p.drawImage(left.width() + 12, 0, right);
    p.end();
    QVERIFY(both.save(shot));
    panel.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isRunning(), 60000);
  }
};

QTEST_MAIN(TestTrainingEmbeddings)
#include "test_training_embeddings.moc"
