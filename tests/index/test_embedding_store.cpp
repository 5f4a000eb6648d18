// The embedding store: a folder written and reopened with the same vectors and metadata and the FAISS
// index reloaded (not rebuilt); search and knnGraph against exact cosine neighbours computed here in
// float64 with torch (brute-force matmul + topk: the reference); HNSW and IVF recall@10 against that
// reference; stale indexes (vectors changed, index file damaged) detected and rebuilt; truncated vectors,
// mismatched metadata and non-finite rows refused with clear messages; cancellation of the k-NN graph.
#include <QtTest>

#include <QTemporaryDir>

#include <fstream>

#include "../support/EmbeddingData.h"
#include "index/EmbeddingStore.h"

using namespace loupe;
using namespace loupe::index;

namespace {
using loupe::test::clustered;
using loupe::test::exactKnn;
using loupe::test::recallAt;

MetaTable labels(int64_t n) {
  MetaTable m;
  std::vector<std::string> label, path;
  for (int64_t i = 0; i < n; ++i) {
    label.push_back("class " + std::to_string(i % 7));
    path.push_back("img/" + std::to_string(i) + ",v.png");
  }
  (void)m.setColumn("label", label);
  (void)m.setColumn("path", path);
  return m;
}
}  // namespace

class TestEmbeddingStore : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void savedStoreReopensWithItsIndex() {
    QTemporaryDir dir;
    const std::string folder = dir.filePath("store").toStdString();
    auto x = clustered(3000, 48, 20, 1);
    auto store = EmbeddingStore::create(x, labels(3000), {"test-model", "", "synthetic", ""});
    QVERIFY2(store.ok(), store.ok() ? "" : store.error().message.c_str());
    QVERIFY(store->buildIndex().ok());
    QCOMPARE(store->indexKind(), IndexKind::Flat);  // auto: exact below 200k rows
    QVERIFY(store->save(folder).ok());
    for (const char* f : {"manifest.json", "vectors.f32", "meta.csv", "index.faiss"})
      QVERIFY2(QFile::exists(QString::fromStdString(folder) + "/" + f), f);

    std::vector<std::string> notices;
    auto back = EmbeddingStore::open(folder, {}, &notices);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QVERIFY2(notices.empty(), notices.empty() ? "" : notices.front().c_str());
    QVERIFY(back->hasIndex());
    QVERIFY(back->indexWasLoaded());  // read from index.faiss, not recomputed
    QVERIFY(torch::equal(back->vectors(), x));
    QCOMPARE(back->meta().cell(1234, "path"), std::string("img/1234,v.png"));
    QCOMPARE(back->meta().cell(1234, "label"), std::string("class 2"));
    QCOMPARE(back->manifest().source.modelId, std::string("test-model"));
    QCOMPARE(back->manifest().vectorsSha256, store->manifest().vectorsSha256);
    // The reloaded index answers exactly like brute force.
    auto [ids, sims] = exactKnn(x, x.slice(0, 0, 50), 10, true);
    for (int64_t q = 0; q < 50; ++q) {
      auto nb = back->neighboursOf(q, 10);
      QVERIFY(nb.ok());
      QCOMPARE(nb->size(), std::size_t(10));
      for (int j = 0; j < 10; ++j) {
        QCOMPARE((*nb)[std::size_t(j)].id, ids[q][j].item<int64_t>());
        QVERIFY(std::abs((*nb)[std::size_t(j)].similarity - sims[q][j].item<double>()) < 1e-5);
      }
    }
  }

  void knnGraphMatchesBruteForce() {
    auto x = clustered(2500, 32, 12, 2);
    auto store = EmbeddingStore::create(x, {}, {});
    QVERIFY(store.ok());
    std::vector<double> reported;
    Progress progress([&](double f, const std::string&) { reported.push_back(f); });
    auto g = store->knnGraph(15, {}, progress, 300);  // 9 batches
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    QVERIFY(g->exact);
    QCOMPARE(g->indices.sizes().vec(), (std::vector<int64_t>{2500, 15}));
    QCOMPARE(g->indices.scalar_type(), torch::kInt64);
    QCOMPARE(g->similarities.scalar_type(), torch::kFloat32);
    auto self = torch::arange(2500, torch::kInt64).unsqueeze(1);
    QVERIFY(!(g->indices == self).any().item<bool>());  // self excluded
    auto [ids, sims] = exactKnn(x, x, 15, true);
    QVERIFY((g->similarities.to(torch::kFloat64) - sims).abs().max().item<double>() < 1e-5);
    QVERIFY(recallAt(g->indices, ids) > 0.999);  // ties in float32 may swap equal neighbours
    QVERIFY((g->distances.to(torch::kFloat64) - (2 - 2 * sims).clamp_min(0).sqrt()).abs().max().item<double>() < 1e-3);
    QVERIFY(reported.size() >= 9);
    QCOMPARE(reported.back(), 1.0);

    CancelToken cancel;
    cancel.cancel();
    auto c = store->knnGraph(15, cancel, {}, 300);
    QVERIFY(!c.ok());
    QCOMPARE(c.error().code, ErrorCode::Cancelled);
    QCOMPARE(store->knnGraph(2500, {}, {}).error().code, ErrorCode::InvalidArgument);
  }

  void approximateIndexesKeepRecall_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<double>("minRecall");
    QTest::newRow("hnsw") << int(IndexKind::Hnsw) << 0.95;
    QTest::newRow("ivf") << int(IndexKind::Ivf) << 0.90;
  }
  void approximateIndexesKeepRecall() {
    QFETCH(int, kind);
    QFETCH(double, minRecall);
    QTemporaryDir dir;
    auto x = clustered(8000, 32, 40, 3, 1.0);  // clusters overlap: neighbours are not trivial
    auto store = EmbeddingStore::create(x, {}, {});
    IndexOptions o;
    o.kind = IndexKind(kind);
    QVERIFY(store->buildIndex(o).ok());
    QCOMPARE(store->indexKind(), IndexKind(kind));
    auto g = store->knnGraph(10);
    QVERIFY(g.ok());
    QVERIFY(!g->exact);
    auto [ids, sims] = exactKnn(x, x, 10, true);
    const double r = recallAt(g->indices, ids);
    qInfo("%s recall@10 vs exact: %.4f", indexKindName(IndexKind(kind)), r);
    QVERIFY(r >= minRecall);
    // Similarities are cosines (the inner-product metric, not negated or squared distances).
    auto rowIds = g->indices.slice(1, 0, 1).squeeze(1);
    auto xn = x / x.norm(2, 1, true);
    auto cos = (xn * xn.index_select(0, rowIds)).sum(1);
    QVERIFY((cos - g->similarities.select(1, 0)).abs().max().item<float>() < 1e-4);

    const std::string folder = dir.filePath("s").toStdString();
    QVERIFY(store->save(folder).ok());
    auto back = EmbeddingStore::open(folder);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
    QVERIFY(back->indexWasLoaded());
    QCOMPARE(back->indexKind(), IndexKind(kind));
    auto again = back->knnGraph(10);
    QVERIFY(torch::equal(again->indices, g->indices));  // the same index, not a rebuilt one
  }

  void staleIndexIsDetectedAndRebuilt() {
    QTemporaryDir dir;
    const std::string folder = dir.filePath("s").toStdString();
    auto x = clustered(500, 16, 5, 4);
    auto store = EmbeddingStore::create(x, labels(500), {});
    QVERIFY(store->buildIndex().ok());
    QVERIFY(store->save(folder).ok());
    // Change one value of vectors.f32 behind the store's back.
    {
      std::fstream f(folder + "/vectors.f32", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(4 * 16 * 7);
      const float v = 42.f;
      f.write(reinterpret_cast<const char*>(&v), 4);
    }
    std::vector<std::string> notices;
    auto back = EmbeddingStore::open(folder, {}, &notices);
    QVERIFY(back.ok());
    QVERIFY(!back->hasIndex());
    QCOMPARE(notices.size(), std::size_t(2));
    QVERIFY2(notices[0].find("does not match the SHA-256") != std::string::npos, notices[0].c_str());
    QVERIFY2(notices[1].find("stale") != std::string::npos, notices[1].c_str());
    auto nb = back->neighboursOf(7, 3);  // rebuilds in memory
    QVERIFY(nb.ok());
    QVERIFY(back->hasIndex());
    QVERIFY(!back->indexWasLoaded());
    QVERIFY(back->save(folder).ok());
    notices.clear();
    auto fixed = EmbeddingStore::open(folder, {}, &notices);
    QVERIFY(fixed.ok());
    QVERIFY(notices.empty());
    QVERIFY(fixed->indexWasLoaded());

    // A damaged index file: stale, never a crash.
    {
      std::fstream f(folder + "/index.faiss", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(0);
      f.write("XXXX", 4);
    }
    notices.clear();
    auto damaged = EmbeddingStore::open(folder, {}, &notices);
    QVERIFY(damaged.ok());
    QVERIFY(!damaged->hasIndex());
    QCOMPARE(notices.size(), std::size_t(1));
    QVERIFY(notices[0].find("index.faiss does not match its SHA-256") != std::string::npos);
    // ... and without hash checks FAISS itself refuses the file; still a notice, not a crash.
    notices.clear();
    OpenOptions noVerify;
    noVerify.verifyVectors = false;
    auto unchecked = EmbeddingStore::open(folder, noVerify, &notices);
    QVERIFY(unchecked.ok());
    QVERIFY(!unchecked->hasIndex());
    QCOMPARE(notices.size(), std::size_t(1));
  }

  void badStoresAreRefused() {
    QTemporaryDir dir;
    const std::string folder = dir.filePath("s").toStdString();
    auto x = clustered(200, 8, 3, 5);
    auto store = EmbeddingStore::create(x, labels(200), {});
    QVERIFY(store->save(folder).ok());
    std::filesystem::resize_file(folder + "/vectors.f32", 200 * 8 * 4 - 4);
    auto t = EmbeddingStore::open(folder);
    QVERIFY(!t.ok());
    QCOMPARE(t.error().code, ErrorCode::CorruptData);
    QVERIFY2(t.error().message.find("holds 6396 bytes; the manifest says 200 x 8 float32 = 6400 bytes") != std::string::npos,
             t.error().message.c_str());

    QVERIFY(store->save(folder + "2").ok());
    std::ofstream(folder + "2/meta.csv") << "label\na\nb\n";
    t = EmbeddingStore::open(folder + "2");
    QVERIFY(!t.ok());
    QVERIFY2(t.error().message.find("has 2 rows but the store holds 200 vectors") != std::string::npos, t.error().message.c_str());

    t = EmbeddingStore::open(dir.filePath("nothing").toStdString());
    QCOMPARE(t.error().code, ErrorCode::NotFound);
    std::filesystem::create_directories(dir.filePath("empty").toStdString());
    t = EmbeddingStore::open(dir.filePath("empty").toStdString());
    QVERIFY(t.error().message.find("is not an embedding store") != std::string::npos);

    // Metadata row count must match the vectors.
    auto m = EmbeddingStore::create(x, labels(199), {});
    QVERIFY(!m.ok());
    QVERIFY2(m.error().message.find("the metadata has 199 rows but there are 200 embeddings") != std::string::npos,
             m.error().message.c_str());
  }

  void nonFiniteRowsAreListed() {
    auto x = clustered(10, 4, 2, 6);
    x[3][1] = std::numeric_limits<float>::quiet_NaN();
    x[7][0] = std::numeric_limits<float>::infinity();
    x[8][3] = -std::numeric_limits<float>::infinity();
    QCOMPARE(nonFiniteRows(x), (std::vector<int64_t>{3, 7, 8}));
    auto s = EmbeddingStore::create(x, {}, {});
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find("3 row(s) hold NaN or Inf (first: row 3)") != std::string::npos, s.error().message.c_str());
  }
};

QTEST_GUILESS_MAIN(TestEmbeddingStore)
#include "test_embedding_store.moc"
