#!/usr/bin/env python3
"""Peer of bench_faiss: exact cosine k-NN (k = 10) with NumPy brute force on the same vectors.

Normalised float32 matmul + argpartition: one query per call, 8 queries per call, and all queries (in chunks
of 100 to bound memory), on the threads NumPy's BLAS uses by default. Checks its top-10 against FAISS
flat's (truth.npy, from the bench).
Usage: faiss_peer.py base.npy queries.npy truth.npy SINGLES EIGHTS
"""
import os
import sys
import time

import numpy as np


def topk(sims, k):
    """Top-k columns of each row of sims (most similar first)."""
    part = np.argpartition(-sims, k, axis=-1)[..., :k]
    order = np.take_along_axis(sims, part, axis=-1).argsort(axis=-1)[..., ::-1]
    return np.take_along_axis(part, order, axis=-1)


def main():
    base = np.load(sys.argv[1])
    queries = np.load(sys.argv[2])
    truth = np.load(sys.argv[3]).astype(np.int64)
    singles, eights = int(sys.argv[4]), int(sys.argv[5])
    k = 10
    t = time.perf_counter()
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    norm_s = time.perf_counter() - t
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    one, found1 = [], []
    for i in range(singles):
        a = time.perf_counter()
        found1.append(topk(base @ queries[i], k))
        one.append((time.perf_counter() - a) * 1000)
    eight, found8 = [], []
    for i in range(eights):
        a = time.perf_counter()
        found8.append(topk((base @ queries[8 * i:8 * i + 8].T).T, k))  # [N, 8] scores, top-k per query
        eight.append((time.perf_counter() - a) * 1000)
    a = time.perf_counter()
    found = np.concatenate([topk(queries[i:i + 100] @ base.T, k) for i in range(0, len(queries), 100)])
    batch_ms = (time.perf_counter() - a) * 1000 / len(queries)

    def agree(got, ref):
        return np.mean([len(set(f) & set(t)) / k for f, t in zip(got, ref)])

    found8 = np.concatenate(found8)
    print(f"  NumPy {np.__version__} brute force (peer): 1 query: median {np.median(one):.2f} ms; 8 queries per call: "
          f"median {np.median(eight):.2f} ms ({np.median(eight) / 8:.2f} ms/query); {len(queries)} queries (chunks of "
          f"100): {batch_ms:.3f} ms/query; top-10 agreement with FAISS flat {agree(found1, truth):.4f} / "
          f"{agree(found8, truth):.4f} / {agree(found, truth):.4f} (normalising the base took {norm_s:.2f} s; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")


if __name__ == "__main__":
    main()
