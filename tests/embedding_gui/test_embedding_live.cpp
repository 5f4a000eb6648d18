// The Embedding Explorer's live mode (EmbeddingWindow::setEmbeddings(values, ...) / updateVectors), on vectors
// made here (three Gaussian clusters in 8-d, grey 8 x 8 thumbnails drawn per class):
//   - new vectors that are the old ones turned by a random orthogonal matrix and scaled by 3 have, by
//     definition of PCA, the same PCA layout up to axis signs and a factor 3 (the reference); the view must
//     show them at exactly the old places (Procrustes undoes the signs and the scale), and keep the
//     selection, the zoom, the colours, and the clicked point's neighbours (cosine neighbours are invariant
//     under that map, so the same ids);
//   - UMAP runs off the GUI thread (a 10 ms timer keeps firing while it runs); updates that arrive while it
//     runs cancel it and only the newest waiting one is projected; the next update starts from the layout
//     shown and each class keeps its place (its centre nearer its old centre than any other class's); a
//     switch to t-SNE starts from the layout shown as well;
//   - updates with another row count or non-finite values are refused with a message and change nothing.

#include <QElapsedTimer>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <random>

#include "EmbeddingWindow.h"
#include "widgets/ScatterColors.h"
#include "widgets/ScatterView.h"

using loupe::gui::EmbeddingColumn;
using loupe::gui::EmbeddingPixels;
using loupe::gui::EmbeddingWindow;
using loupe::gui::Projection;

namespace {

struct Synthetic {
  std::vector<float> values;
  std::vector<EmbeddingColumn> columns;
  EmbeddingPixels pixels;
  std::vector<int> labels;
};

Synthetic makeClusters(int n, int d, std::uint64_t seed) {
  Synthetic s;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  s.values.resize(std::size_t(n) * std::size_t(d));
  EmbeddingColumn label;
  label.name = QStringLiteral("label");
  s.pixels.height = s.pixels.width = 8;
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    s.labels.push_back(c);
    for (int j = 0; j < d; ++j)
      s.values[std::size_t(i) * std::size_t(d) + std::size_t(j)] = (j == c ? 5.f : 0.f) + (j == 3 ? 1.5f * float(c) : 0.f) + normal(rng);
    label.text.push_back(QStringLiteral("class %1").arg(QChar(QLatin1Char('a' + c))));
    for (int p = 0; p < 64; ++p) s.pixels.values.push_back(static_cast<std::uint8_t>(60 + 80 * c + (p % 8) * 3));
  }
  s.columns.push_back(std::move(label));
  return s;
}

// A random d x d orthogonal matrix (Gram-Schmidt on Gaussian columns), row-major.
std::vector<double> randomOrthogonal(int d, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> q(std::size_t(d) * std::size_t(d));
  for (auto& v : q) v = normal(rng);
  for (int c = 0; c < d; ++c) {
    for (int k = 0; k < c; ++k) {
      double dot = 0;
      for (int r = 0; r < d; ++r) dot += q[std::size_t(r * d + c)] * q[std::size_t(r * d + k)];
      for (int r = 0; r < d; ++r) q[std::size_t(r * d + c)] -= dot * q[std::size_t(r * d + k)];
    }
    double norm = 0;
    for (int r = 0; r < d; ++r) norm += q[std::size_t(r * d + c)] * q[std::size_t(r * d + c)];
    for (int r = 0; r < d; ++r) q[std::size_t(r * d + c)] /= std::sqrt(norm);
  }
  return q;
}

std::vector<float> turned(const std::vector<float>& x, int n, int d, const std::vector<double>& q, double scale) {
  std::vector<float> y(x.size());
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < d; ++c) {
      double v = 0;
      for (int k = 0; k < d; ++k) v += double(x[std::size_t(i * d + k)]) * q[std::size_t(k * d + c)];
      y[std::size_t(i * d + c)] = static_cast<float>(scale * v);
    }
  return y;
}

double spread(const std::vector<float>& xy) {
  double mx = 0, my = 0;
  const std::size_t n = xy.size() / 2;
  for (std::size_t i = 0; i < n; ++i) mx += xy[2 * i] / double(n), my += xy[2 * i + 1] / double(n);
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += (xy[2 * i] - mx) * (xy[2 * i] - mx) + (xy[2 * i + 1] - my) * (xy[2 * i + 1] - my);
  return std::sqrt(s / double(n));
}

// Whether every class of `after` stays at its place in `before`: its centre moved less than `maxMove` x the
// spread of `before`, and it is nearer to its own old centre than to any other class's (no two swapped).
QString classesKeptPlace(const std::vector<float>& before, const std::vector<float>& after, int classes, double maxMove);

double rms(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i] - b[i]) * double(a[i] - b[i]);
  return std::sqrt(s / double(a.size() / 2));
}

QString classesKeptPlace(const std::vector<float>& before, const std::vector<float>& after, int classes, double maxMove) {
  const std::size_t n = before.size() / 2;
  std::vector<double> bx(std::size_t(classes), 0), by(bx), ax(bx), ay(bx), count(bx);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % std::size_t(classes);
    bx[c] += before[2 * i], by[c] += before[2 * i + 1], ax[c] += after[2 * i], ay[c] += after[2 * i + 1], count[c] += 1;
  }
  for (std::size_t c = 0; c < std::size_t(classes); ++c) bx[c] /= count[c], by[c] /= count[c], ax[c] /= count[c], ay[c] /= count[c];
  const double s = spread(before);
  for (std::size_t c = 0; c < std::size_t(classes); ++c) {
    const double own = std::hypot(ax[c] - bx[c], ay[c] - by[c]);
    if (own > maxMove * s) return QStringLiteral("class %1 moved %2 of the spread").arg(c).arg(own / s);
    for (std::size_t k = 0; k < std::size_t(classes); ++k)
      if (k != c && std::hypot(ax[c] - bx[k], ay[c] - by[k]) <= own)
        return QStringLiteral("class %1 now sits nearer to where class %2 was").arg(c).arg(k);
  }
  return {};
}

}  // namespace

class TestEmbeddingLive : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void shouldShowTurnedVectorsAtTheSamePlacesAndKeepTheView() {
    const int n = 600, d = 8;
    Synthetic a = makeClusters(n, d, 3);
    EmbeddingWindow window;
    window.resize(1100, 750);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.setProjectionMethod(Projection::Pca);
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);
    QString error;
    QVERIFY2(window.setEmbeddings(a.values, n, d, a.columns, a.pixels, QStringLiteral("synthetic"), QStringLiteral("step 1"), &error),
             qPrintable(error));
    QVERIFY(window.isLive());
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 30000);
    QVERIFY(finished.last().at(0).toBool());
    QCOMPARE(window.caption(), QStringLiteral("step 1"));
    QVERIFY(window.windowTitle().contains(QStringLiteral("step 1")));
    QVERIFY(!window.lastAlignment().valid);  // nothing to align the first layout to
    const std::vector<float> first = window.layout();
    QCOMPARE(first.size(), std::size_t(2 * n));
    QVERIFY(window.embeddings()->hasThumbnails());
    QCOMPARE(window.embeddings()->thumbnail(4, 0).pixelColor(0, 0).red(), 60 + 80 * 1);  // row 4: class b

    // The user's state: a selection, a zoom, a clicked point's neighbours, colour by label.
    QCOMPARE(window.colorKey(), QStringLiteral("label"));
    const auto colors = window.pointColors();
    QCOMPARE(colors.size(), std::size_t(n));
    const auto palette = loupe::widgets::categoricalPalette(3);
    for (int i = 0; i < n; ++i) QCOMPARE(colors[std::size_t(i)], palette[std::size_t(a.labels[std::size_t(i)])]);
    window.view()->setSelection({1, 2, 3, 40});
    window.view()->setView(QPointF(first[0], first[1]), window.view()->pixelsPerUnit() * 2.5);
    const QPointF centre = window.view()->viewCentre();
    const double zoom = window.view()->pixelsPerUnit();
    window.showNeighboursOf(5);
    std::vector<std::int64_t> before;
    for (const auto& nb : window.neighbours()) before.push_back(nb.id);
    QCOMPARE(before.size(), std::size_t(24));

    // New vectors: 3 x A Q. PCA of them = 3 x PCA of A up to the sign of each axis.
    const auto q = randomOrthogonal(d, 9);
    QVERIFY2(window.updateVectors(turned(a.values, n, d, q, 3.0), n, d, QStringLiteral("step 2"), &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 2, 30000);
    QVERIFY(finished.last().at(0).toBool());
    QCOMPARE(window.vectorUpdates(), 1);
    QCOMPARE(window.projectedUpdates(), 2);
    QCOMPARE(window.caption(), QStringLiteral("step 2"));
    QVERIFY(window.windowTitle().contains(QStringLiteral("step 2")));
    const auto& t = window.lastAlignment();
    QVERIFY(t.valid);
    QVERIFY2(std::abs(t.scale - 1.0 / 3.0) < 1e-4, qPrintable(QString::number(t.scale)));
    // The computed layout is 3 x the first up to axis signs ...
    const auto& raw = window.unalignedLayout();
    for (int axis = 0; axis < 2; ++axis) {
      const double sign = raw[std::size_t(axis)] * first[std::size_t(axis)] >= 0 ? 1.0 : -1.0;
      double worst = 0;
      for (int i = 0; i < n; ++i)
        worst = std::max(worst, std::abs(raw[std::size_t(2 * i + axis)] - 3.0 * sign * first[std::size_t(2 * i + axis)]));
      QVERIFY2(worst < 1e-3 * spread(raw), qPrintable(QString::number(worst)));
    }
    // ... and is shown where the first one was.
    QVERIFY2(rms(window.layout(), first) < 1e-4 * spread(first), qPrintable(QString::number(rms(window.layout(), first))));
    QVERIFY(window.view()->positions() == window.layout());
    // The user's state survived.
    QCOMPARE(window.view()->selection(), (std::vector<std::int32_t>{1, 2, 3, 40}));
    QCOMPARE(window.view()->viewCentre(), centre);
    QCOMPARE(window.view()->pixelsPerUnit(), zoom);
    QVERIFY(window.pointColors() == colors);
    std::vector<std::int64_t> after;
    for (const auto& nb : window.neighbours()) after.push_back(nb.id);
    QCOMPARE(after, before);  // re-queried on the new vectors: cosine is invariant under s Q
    QCOMPARE(window.view()->highlighted().size(), std::size_t(24));

    // Refused updates change nothing.
    std::vector<float> bad = a.values;
    bad[std::size_t(7 * d + 2)] = NAN;
    QVERIFY(!window.updateVectors(bad, n, d, QStringLiteral("step 3"), &error));
    QVERIFY2(error.contains(QStringLiteral("row 7")) && error.contains(QStringLiteral("NaN")), qPrintable(error));
    QVERIFY(window.statusLabel()->text().contains(QStringLiteral("row 7")));
    QVERIFY(!window.updateVectors(std::vector<float>(std::size_t(10 * d), 0.f), 10, d, {}, &error));
    QVERIFY2(error.contains(QStringLiteral("10 rows")) && error.contains(QStringLiteral("600")), qPrintable(error));
    QCOMPARE(window.vectorUpdates(), 1);
    QVERIFY(!window.jobRunning());
    QCOMPARE(window.caption(), QStringLiteral("step 2"));
  }

  void shouldRunUmapOffTheGuiThreadAndProjectOnlyTheNewest() {
    const auto methods = loupe::gui::availableProjections();
    if (std::find(methods.begin(), methods.end(), Projection::Umap) == methods.end()) QSKIP("this build has no UMAP");
    const int n = 600, d = 8;
    Synthetic a = makeClusters(n, d, 21), b = makeClusters(n, d, 22), c16 = makeClusters(n, 16, 23);
    EmbeddingWindow window;
    window.resize(1000, 700);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.setProjectionMethod(Projection::Umap);
    QSignalSpy finished(&window, &EmbeddingWindow::projectionFinished);

    // Timer ticks while a projection runs, and the longest gap between two ticks.
    int ticksWhileRunning = 0;
    qint64 maxGap = 0;
    QElapsedTimer sinceTick;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, this, [&] {
      if (window.jobRunning()) {
        ++ticksWhileRunning;
        if (sinceTick.isValid()) maxGap = std::max(maxGap, sinceTick.elapsed());
        sinceTick.start();
      } else {
        sinceTick.invalidate();
      }
    });
    ticker.start(10);

    QString error;
    QVERIFY(window.setEmbeddings(a.values, n, d, a.columns, a.pixels, QStringLiteral("synthetic"), QStringLiteral("A"), &error));
    QVERIFY(window.jobRunning());
    // Two updates while A's UMAP runs: A is cancelled, B is dropped for C (another dimension, to tell them apart).
    QVERIFY(window.updateVectors(b.values, n, d, QStringLiteral("B"), &error));
    QVERIFY(window.updateVectors(c16.values, n, 16, QStringLiteral("C"), &error));
    QCOMPARE(window.vectorUpdates(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunning() && !window.updatePending() && finished.count() >= 1, 90000);
    QCOMPARE(finished.count(), 1);  // A was superseded silently, B never ran
    QVERIFY(finished.last().at(0).toBool());
    QCOMPARE(window.projectedUpdates(), 1);
    QCOMPARE(window.caption(), QStringLiteral("C"));
    QCOMPARE(window.embeddings()->dim(), std::int64_t(16));
    QCOMPARE(window.layout().size(), std::size_t(2 * n));
    const std::vector<float> layoutC = window.layout();

    // A small change of the vectors: UMAP starts from the layout shown and the result stays close to it.
    std::vector<float> moved = c16.values;
    std::mt19937_64 rng(5);
    std::normal_distribution<float> noise(0.f, 0.05f);
    for (auto& v : moved) v += noise(rng);
    QVERIFY(window.updateVectors(moved, n, 16, QStringLiteral("D"), &error));
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunning() && finished.count() == 2, 90000);
    QVERIFY(finished.last().at(0).toBool());
    QCOMPARE(window.caption(), QStringLiteral("D"));
    QVERIFY2(window.statusLabel()->text().contains(QStringLiteral("started from the previous layout")),
             qPrintable(window.statusLabel()->text()));
    QVERIFY(window.lastAlignment().valid);
    // Each class stays where it was (UMAP does not keep distances between clusters, so "where" is loose:
    // within 30% of the spread, and nearer its old place than any other class's).
    const auto& layoutD = window.layout();
    const QString umapMoved = classesKeptPlace(layoutC, layoutD, 3, 0.3);
    QVERIFY2(umapMoved.isEmpty(), qPrintable(umapMoved));
    qInfo("warm-started UMAP: RMS point move %.3f of the spread", rms(layoutD, layoutC) / spread(layoutC));

    // Switching to t-SNE in live mode starts it from the layout shown too (rescaled to t-SNE's initial
    // spread) and maps the result onto it: the classes keep their places.
    const std::vector<float> beforeTsne = window.layout();
    QElapsedTimer tsneClock;
    tsneClock.start();
    window.runProjection(Projection::Tsne);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunning() && finished.count() == 3, 120000);
    QVERIFY(finished.last().at(0).toBool());
    QVERIFY2(window.statusLabel()->text().contains(QStringLiteral("t-SNE")) &&
                 window.statusLabel()->text().contains(QStringLiteral("started from the previous layout")),
             qPrintable(window.statusLabel()->text()));
    QVERIFY(window.lastAlignment().valid);
    const auto& layoutT = window.layout();
    const QString tsneMoved = classesKeptPlace(beforeTsne, layoutT, 3, 0.3);
    QVERIFY2(tsneMoved.isEmpty(), qPrintable(tsneMoved));
    qInfo("t-SNE from the UMAP layout: %.1f s, RMS point move %.3f of the spread", tsneClock.elapsed() / 1000.0,
          rms(layoutT, beforeTsne) / spread(beforeTsne));

    // The GUI thread kept running while UMAP optimised (a loaded 2-core machine still ticks many times).
    QVERIFY2(ticksWhileRunning >= 10, qPrintable(QString::number(ticksWhileRunning)));
    QVERIFY2(maxGap < 3000, qPrintable(QString::number(maxGap)));  // a freeze; typical: 100-500 ms under load
    qInfo("UMAP and t-SNE runs: %d timer ticks while projecting, longest gap %lld ms", ticksWhileRunning, static_cast<long long>(maxGap));
  }
};

QTEST_MAIN(TestEmbeddingLive)
#include "test_embedding_live.moc"
