#!/usr/bin/python3
"""Peer for bench_clustering: scikit-learn's KMeans (k=2, Lloyd, k-means++) on the very features the
benchmark wrote (FEATURES.npy, 4096 x 288 float32, unit rows). scikit-learn has no cosine k-means; on unit
rows its Euclidean k-means is the usual stand-in (FOCAL's released code uses torch_kmeans' cosine
distance instead). Usage: clustering_peer.py FEATURES.npy [repeats]. Prints medians in milliseconds."""
import os, statistics, sys, time
import numpy as np
import sklearn
from sklearn.cluster import KMeans

path = sys.argv[1] if len(sys.argv) > 1 else "clustering_features.npy"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
x = np.load(path)
print(f"features {x.shape[0]} x {x.shape[1]} {x.dtype}; scikit-learn {sklearn.__version__}, "
      f"{os.cpu_count()} cpus, {repeats} repeats, median ms")


def timed(make):
    make().fit(x)  # warm-up
    ms, model = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = make().fit(x)
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms), model


for n_init in (1, 10):
    ms, km = timed(lambda: KMeans(n_clusters=2, n_init=n_init, algorithm="lloyd", random_state=0))
    sizes = np.bincount(km.labels_, minlength=2)
    print(f"{'sklearn kmeans k=2 n_init=' + str(n_init):30s} {ms:9.1f}   inertia {km.inertia_:.6g}, "
          f"{km.n_iter_} iterations, cluster sizes {sorted(sizes.tolist())}")
