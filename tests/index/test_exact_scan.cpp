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

  void halfPrecisionPassGivesTheSameResult_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("d");
    QTest::addColumn<int>("nq");
    QTest::addColumn<int>("k");
    QTest::addColumn<double>("noise");
    QTest::newRow("d 128, 1 query") << 30000 << 128 << 1 << 10 << 0.7;
    QTest::newRow("d 256, 8 queries, k 50") << 20000 << 256 << 8 << 50 << 0.7;
    QTest::newRow("d 37, k = n") << 300 << 37 << 3 << 300 << 0.7;
    // Near-duplicates: thousands of rows within the fp16 error of each other, all candidates.
    QTest::newRow("near-duplicates") << 20000 << 64 << 2 << 20 << 1e-4;
  }
  void halfPrecisionPassGivesTheSameResult() {
    // exactTopKHalf scores an fp16 copy first and rescores the rows that can still be in the top-k with the
    // float32 kernel: its result must be exactTopK's, bit for bit (ids, order and scores).
    if (!halfScanAvailable()) QSKIP("this CPU has no AVX2 + F16C");
    QFETCH(int, n);
    QFETCH(int, d);
    QFETCH(int, nq);
    QFETCH(int, k);
    QFETCH(double, noise);
    auto all = normalised(test::clustered(n + nq, d, noise < 0.01 ? 1 : 100, uint64_t(n + d), noise));
    auto base = all.slice(0, 0, n).contiguous();
    auto queries = all.slice(0, n, n + nq).contiguous();
    std::vector<uint16_t> half(size_t(n) * size_t(d));
    toHalf(base.data_ptr<float>(), int64_t(half.size()), half.data());
    auto want = scan(base, queries, k);
    std::vector<float> s(size_t(nq * k));
    std::vector<int64_t> id(size_t(nq * k));
    QVERIFY(exactTopKHalf(base.data_ptr<float>(), half.data(), n, d, queries.data_ptr<float>(), nq, k, s.data(), id.data())
                .ok());
    QCOMPARE(id, want.ids);
    QCOMPARE(s, want.scores);
    // The fp16 copy is what round-to-nearest gives (the bound the rescoring relies on): |x - h| <= 2^-11 |x|
    // for normal values.
    for (size_t i = 0; i < 1000; ++i) {
      const float x = base.data_ptr<float>()[i];
      const float h = at::Half(half[i], at::Half::from_bits()).operator float();
      QVERIFY(std::abs(x - h) <= std::ldexp(std::abs(x), -11) + 1e-7f);
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
    if (halfScanAvailable()) {  // the same through the fp16 pass
      std::vector<uint16_t> half(size_t(dup.numel()));
      toHalf(dup.data_ptr<float>(), dup.numel(), half.data());
      std::vector<float> s(300);
      std::vector<int64_t> id(300);
      QVERIFY(exactTopKHalf(dup.data_ptr<float>(), half.data(), 20000, 24, qq.data_ptr<float>(), 1, 300, s.data(), id.data()).ok());
      QCOMPARE(id, top.ids);
    }
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
    // A 1e6-value store: the second exact search on makes and uses the fp16 copy; same answers as the first.
    auto wide = test::clustered(8200, 128, 40, 13, 0.8);
    auto s3 = EmbeddingStore::create(wide, {}, {});
    auto first = s3->search(queries.slice(0, 0, 1).repeat({1, 128 / 40 + 1}).slice(1, 0, 128).contiguous(), 25);
    for (int rep = 0; rep < 3; ++rep) {
      auto again = s3->search(queries.slice(0, 0, 1).repeat({1, 128 / 40 + 1}).slice(1, 0, 128).contiguous(), 25);
      QVERIFY(again.ok());
      for (size_t j = 0; j < 25; ++j) {
        QCOMPARE((*again)[0][j].id, (*first)[0][j].id);
        QCOMPARE((*again)[0][j].similarity, (*first)[0][j].similarity);
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
