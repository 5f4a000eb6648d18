// ExactScan (backend/index/ExactScan.h): the exact top-k of a few queries in one pass over the rows.
// References: (1) a float64 brute force computed here with torch (every returned id must carry the
// reference score of its rank, to 1e-6, and the returned scores must match the reference to 1e-5);
// (2) FAISS IndexFlatIP itself on the same float32 vectors, both its one-thread path (fewer than 20
// queries) and its sgemm path (20 or more): same ids in the same order, scores within 1e-5 (random data,
// no ties); (3) hand-worked cases for ties (identical rows), k = n, k > n through the store, n = 1, block
// and thread-chunk boundaries (256-row blocks, 16 blocks per thread at least), dimensions that are not a
// multiple of 8, and cancellation.
#include <QtTest>

#include <ATen/Parallel.h>
#include <faiss/IndexFlat.h>

#include <cmath>
#include <vector>

#include "../support/EmbeddingData.h"
#include "index/EmbeddingStore.h"
#include "index/ExactScan.h"

using namespace loupe;
using namespace loupe::index;

namespace {
torch::Tensor normalised(const torch::Tensor& x) { return (x / x.norm(2, 1, true)).contiguous(); }

struct TopK {
  std::vector<float> scores;
  std::vector<int64_t> ids;
};
TopK scan(const torch::Tensor& base, const torch::Tensor& queries, int64_t k) {
  TopK r;
  r.scores.resize(size_t(queries.size(0) * k));
  r.ids.resize(size_t(queries.size(0) * k));
  auto ok = exactTopK(base.data_ptr<float>(), base.size(0), base.size(1), queries.data_ptr<float>(), queries.size(0), k,
                      r.scores.data(), r.ids.data());
  if (!ok) qFatal("exactTopK failed: %s", ok.error().message.c_str());
  return r;
}
}  // namespace

class TestExactScan : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Two threads even on one core (Debian's LibTorch defaults to one): the per-thread top-k are merged.
  void initTestCase() { at::set_num_threads(2); }

  void matchesFloat64BruteForce_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("d");
    QTest::addColumn<int>("nq");
    QTest::addColumn<int>("k");
    QTest::newRow("n 1") << 1 << 8 << 3 << 1;
    QTest::newRow("k = n") << 5 << 7 << 2 << 5;
    QTest::newRow("d 33, 5 queries") << 1000 << 33 << 5 << 10;
    QTest::newRow("block edges, d 16") << 256 * 3 + 5 << 16 << 4 << 7;
    QTest::newRow("d 128, 9 queries, k 50") << 3000 << 128 << 9 << 50;
    QTest::newRow("two threads' chunks, d 64") << 20011 << 64 << 3 << 100;
    QTest::newRow("d 3, 31 queries") << 4099 << 3 << 31 << 20;
  }
  void matchesFloat64BruteForce() {
    QFETCH(int, n);
    QFETCH(int, d);
    QFETCH(int, nq);
    QFETCH(int, k);
    auto all = normalised(test::clustered(n + nq, d, 10, uint64_t(n) * 31 + uint64_t(d), 0.8));
    auto base = all.slice(0, 0, n).contiguous();
    auto queries = all.slice(0, n, n + nq).contiguous();
    auto got = scan(base, queries, k);
    auto ref = queries.to(torch::kFloat64).matmul(base.to(torch::kFloat64).t());  // [nq, n]
    auto [refScores, refIds] = ref.sort(1, /*descending=*/true);
    auto rs = refScores.accessor<double, 2>();
    auto all64 = ref.accessor<double, 2>();
    for (int q = 0; q < nq; ++q) {
      std::vector<int64_t> seen;
      for (int j = 0; j < k; ++j) {
        const int64_t id = got.ids[size_t(q * k + j)];
        QVERIFY2(id >= 0 && id < n, qPrintable(QString("query %1 rank %2: id %3").arg(q).arg(j).arg(id)));
        seen.push_back(id);
        // The id at rank j has the j-th best reference score (an exact tie may swap equal ids) ...
        QVERIFY2(std::abs(all64[q][id] - rs[q][j]) < 1e-6,
                 qPrintable(QString("query %1 rank %2: id %3 scores %4, reference rank score %5")
                                .arg(q).arg(j).arg(id).arg(all64[q][id], 0, 'g', 10).arg(rs[q][j], 0, 'g', 10)));
        // ... and the float32 score is that score.
        QVERIFY(std::abs(double(got.scores[size_t(q * k + j)]) - rs[q][j]) < 1e-5);
        if (j > 0) QVERIFY(got.scores[size_t(q * k + j)] <= got.scores[size_t(q * k + j - 1)]);
      }
      std::sort(seen.begin(), seen.end());
      QVERIFY(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // no id twice
    }
  }

  void matchesFaissFlat_data() {
    QTest::addColumn<int>("d");
    QTest::addColumn<int>("nq");
    QTest::newRow("d 128, 1 query (FAISS one-thread path)") << 128 << 1;
    QTest::newRow("d 128, 8 queries") << 128 << 8;
    QTest::newRow("d 256, 25 queries (FAISS sgemm path)") << 256 << 25;
    QTest::newRow("d 100, 3 queries") << 100 << 3;
  }
  void matchesFaissFlat() {
    QFETCH(int, d);
    QFETCH(int, nq);
    const int n = 30000, k = 10;
    auto all = normalised(test::clustered(n + nq, d, 50, uint64_t(d) + uint64_t(nq), 0.7));
    auto base = all.slice(0, 0, n).contiguous();
    auto queries = all.slice(0, n, n + nq).contiguous();
    faiss::IndexFlatIP flat(d);
    flat.add(n, base.data_ptr<float>());
    std::vector<float> fs(size_t(nq * k));
    std::vector<faiss::Index::idx_t> fi(size_t(nq * k));
    flat.search(nq, queries.data_ptr<float>(), k, fs.data(), fi.data());
    auto got = scan(base, queries, k);
    for (int i = 0; i < nq * k; ++i) {
      QCOMPARE(got.ids[size_t(i)], int64_t(fi[size_t(i)]));
      QVERIFY(std::abs(got.scores[size_t(i)] - fs[size_t(i)]) < 1e-5f);
    }
  }

  void tiesGoToTheLowestIds() {
    // Rows 1, 3, 5 are e0, rows 0, 2, 4 are e1, row 6 is -e0; the query (1, 0.5, 0, 0) / |.| scores
    // 2/sqrt(5) = 0.894 for e0 and 1/sqrt(5) = 0.447 for e1 (hand-worked). Top-4: the three e0 rows in id
    // order, then the lowest e1 row (0). FAISS 1.7.3 returns 5 3 1 2 here: the same scores, its heap's order.
    std::vector<float> rows;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 4; ++j) rows.push_back(i == 6 ? (j == 0 ? -1.f : 0.f) : float(i % 2 == 1 ? j == 0 : j == 1));
    auto base = torch::from_blob(rows.data(), {7, 4}, torch::kFloat32).clone();
    auto q = normalised(torch::tensor({{1.f, 0.5f, 0.f, 0.f}}));
    auto got = scan(base, q, 4);
    QCOMPARE(got.ids, (std::vector<int64_t>{1, 3, 5, 0}));
    QVERIFY(std::abs(got.scores[0] - 2 / std::sqrt(5.f)) < 1e-6f);
    QVERIFY(std::abs(got.scores[3] - 1 / std::sqrt(5.f)) < 1e-6f);
    QCOMPARE(scan(base, q, 7).ids, (std::vector<int64_t>{1, 3, 5, 0, 2, 4, 6}));  // k = n

    // Duplicates across blocks and thread chunks: 9000 copies of one row (ids 0 .. 8999, split between
    // two threads) and 11000 of a worse one; every score ties; the top-k are the lowest ids.
    auto ab = normalised(test::clustered(2, 24, 2, 11, 0.0));
    auto a = ab.slice(0, 0, 1).contiguous(), b = ab.slice(0, 1, 2).contiguous();
    auto qq = a.clone();
    if ((b * qq).sum().item<float>() >= 1.f - 1e-3f) b = -a;
    auto dup = torch::cat({a.expand({9000, 24}), b.expand({11000, 24})}).contiguous();
    auto top = scan(dup, qq, 300);
    for (int j = 0; j < 300; ++j) QCOMPARE(top.ids[size_t(j)], int64_t(j));
    auto tail = scan(dup, -qq, 20);  // b wins now: ids 9000 ...
    for (int j = 0; j < 20; ++j) QCOMPARE(tail.ids[size_t(j)], int64_t(9000 + j));
  }

  void storeSearchUsesItForFewQueries() {
    // Through the store: k > n gives n results, scores against the float64 reference, the same neighbours
    // for a query alone (ExactScan) and in a batch of 40 (FAISS's sgemm path).
    auto x = test::clustered(9, 12, 3, 8);
    auto store = EmbeddingStore::create(x, {}, {});
    QVERIFY(store.ok());
    auto r = store->search(x.slice(0, 2, 3), 50);
    QVERIFY(r.ok());
    QCOMPARE(r->front().size(), size_t(9));
    QCOMPARE(r->front().front().id, int64_t(2));  // itself first
    auto big = test::clustered(5000, 40, 30, 9, 1.0);
    auto s2 = EmbeddingStore::create(big, {}, {});
    auto queries = test::clustered(40, 40, 30, 10, 1.0);
    auto batch = s2->search(queries, 10);
    QVERIFY(batch.ok());
    auto [ids, sims] = test::exactKnn(big, queries, 10, false);
    for (int64_t i = 0; i < 40; ++i) {
      auto one = s2->search(queries.slice(0, i, i + 1), 10);
      QVERIFY(one.ok());
      for (int j = 0; j < 10; ++j) {
        QCOMPARE((*one)[0][size_t(j)].id, (*batch)[size_t(i)][size_t(j)].id);
        QCOMPARE((*one)[0][size_t(j)].id, ids[i][j].item<int64_t>());
        QVERIFY(std::abs((*one)[0][size_t(j)].similarity - sims[i][j].item<double>()) < 1e-5);
      }
    }
    auto nan = queries.slice(0, 0, 1).clone();
    nan[0][3] = std::nanf("");
    QCOMPARE(s2->search(nan, 5).error().code, ErrorCode::InvalidArgument);
  }

  void refusesBadArgumentsAndHonoursCancel() {
    auto base = normalised(test::clustered(100, 8, 4, 12));
    float s[10];
    int64_t id[10];
    QCOMPARE(exactTopK(base.data_ptr<float>(), 100, 8, base.data_ptr<float>(), 1, 101, s, id).error().code,
             ErrorCode::InvalidArgument);
    QCOMPARE(exactTopK(base.data_ptr<float>(), 100, 8, base.data_ptr<float>(), 1, 0, s, id).error().code,
             ErrorCode::InvalidArgument);
    CancelToken cancel;
    cancel.cancel();
    QCOMPARE(exactTopK(base.data_ptr<float>(), 100, 8, base.data_ptr<float>(), 1, 10, s, id, cancel).error().code,
             ErrorCode::Cancelled);
  }
};

QTEST_GUILESS_MAIN(TestExactScan)
#include "test_exact_scan.moc"
