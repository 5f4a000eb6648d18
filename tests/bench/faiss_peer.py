#!/usr/bin/env python3
"""Peer of bench_faiss: exact cosine k-NN (k = 10) with NumPy brute force on the same vectors.

Normalised float32 matmul + argpartition, one query at a time and all queries at once (in chunks of 100
queries to bound memory), on the threads NumPy's BLAS uses by default. Also checks its top-10 against
FAISS flat's (truth.npy, from the bench).
Usage: faiss_peer.py base.npy queries.npy truth.npy SINGLES
"""
import sys
import time

import numpy as np


def topk(sims, k):
    part = np.argpartition(-sims, k, axis=-1)[..., :k]
    order = np.take_along_axis(sims, part, axis=-1).argsort(axis=-1)[..., ::-1]
    return np.take_along_axis(part, order, axis=-1)


def main():
    base = np.load(sys.argv[1])
    queries = np.load(sys.argv[2])
    truth = np.load(sys.argv[3]).astype(np.int64)
    singles = int(sys.argv[4])
    k = 10
    t = time.perf_counter()
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    norm_s = time.perf_counter() - t
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    times = []
    for i in range(singles):
        a = time.perf_counter()
        topk(base @ queries[i], k)
        times.append((time.perf_counter() - a) * 1000)
    times.sort()
    a = time.perf_counter()
    found = np.concatenate([topk(queries[i:i + 100] @ base.T, k) for i in range(0, len(queries), 100)])
    batch_ms = (time.perf_counter() - a) * 1000 / len(queries)
    agree = np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)])
    print(f"  NumPy {np.__version__} brute force: 1 query: median {times[len(times) // 2]:.2f} ms, "
          f"mean {sum(times) / len(times):.2f} ms; {len(queries)} queries (chunks of 100): {batch_ms:.3f} ms/query; "
          f"top-10 agreement with FAISS flat {agree:.4f} (normalising the base took {norm_s:.2f} s)")


if __name__ == "__main__":
    main()
