#!/usr/bin/python3
"""Peer for bench_forgery_localize: the same training-free localisation pipeline written in vectorised
NumPy, with scikit-learn's KMeans (k = 2, n_init = 3, Lloyd) for the clustering, timed stage by stage.

Steps exactly as backend/analysis/NoiseCooccurrence.h and ForgeryLocalize.h define them: luminance
0.299 R + 0.587 G + 0.114 B; third-order residuals [1, -3, 3, -1] along rows and columns; quantised
clip(round(r / 2), -1, 1) (NumPy rounds half to even, like torch); 4-tuples merged into 25 sign/order
symmetry classes per direction; per-cell bincount, block sums by integral image; Hellinger (sqrt of the
per-direction frequencies); flat blocks (>= 98 % all-zero tuples in both directions) left out; PCA to 24
dimensions (eigh of the covariance); k-means; soft probability d_p / (d_p + d_f); bilinear map at full
resolution and the mask at 0.5.

Usage: forgery_localize_peer.py IMAGE [repeats] [grid.f32 written by bench_forgery_localize]
With grid.f32 it reports how many blocks the two implementations put on the same side of 0.5.
"""
import sys
import time

import numpy as np
from PIL import Image
from sklearn.cluster import KMeans


def class_table():
    def code(v):
        return 27 * (v[0] + 1) + 9 * (v[1] + 1) + 3 * (v[2] + 1) + (v[3] + 1)
    canon = []
    for c in range(81):
        v = (c // 27 - 1, c // 9 % 3 - 1, c // 3 % 3 - 1, c % 3 - 1)
        neg = tuple(-x for x in v)
        canon.append(min(code(v), code(neg), code(v[::-1]), code(neg[::-1])))
    ids = {c: i for i, c in enumerate(sorted(set(canon)))}
    return np.array([ids[c] for c in canon], dtype=np.int64), ids[code((0, 0, 0, 0))]


TABLE, FLAT = class_table()


def tuple_classes(g):
    r = g[:, :-3] - 3 * g[:, 1:-2] + 3 * g[:, 2:-1] - g[:, 3:]
    q = (np.clip(np.round(r / 2), -1, 1) + 1).astype(np.uint8)
    w = q.shape[1] - 3
    code = 27 * q[:, :w] + 9 * q[:, 1:w + 1] + 3 * q[:, 2:w + 2] + q[:, 3:w + 3]
    return TABLE[code[3:g.shape[0] - 3]]


def localize(g, block, stride, pca_dims=24, flat_fraction=0.98):
    t0 = time.perf_counter()
    h, w = g.shape
    ch = tuple_classes(g)
    cv = tuple_classes(np.ascontiguousarray(g.T)).T
    cy, cx = (h - 6) // stride, (w - 6) // stride
    base = (np.arange(cy * cx, dtype=np.int64) * 50).reshape(cy, 1, cx, 1)

    def cells(c, off):
        return (c[:cy * stride, :cx * stride].reshape(cy, stride, cx, stride) + (base + off)).ravel()

    hist = np.bincount(np.concatenate([cells(ch, 0), cells(cv, 25)]), minlength=cy * cx * 50).reshape(cy, cx, 50)
    nb = block // stride
    integral = np.zeros((cy + 1, cx + 1, 50), dtype=np.int64)
    integral[1:, 1:] = hist.cumsum(0).cumsum(1)
    gy, gx = cy - nb + 1, cx - nb + 1
    blocks = integral[nb:, nb:] - integral[:gy, nb:] - integral[nb:, :gx] + integral[:gy, :gx]
    freq = blocks.reshape(-1, 50) / float(block * block)
    textured = np.minimum(freq[:, FLAT], freq[:, 25 + FLAT]) < flat_fraction
    x = np.sqrt(freq[textured])
    xc = x - x.mean(0, keepdims=True)
    evals, evecs = np.linalg.eigh(xc.T @ xc / (len(xc) - 1))
    d = min(pca_dims, 50, len(xc) - 1)
    feats = (xc @ evecs[:, ::-1][:, :d]).astype(np.float32)
    t1 = time.perf_counter()

    km = KMeans(n_clusters=2, n_init=3, random_state=0, algorithm="lloyd").fit(feats)
    labels = km.labels_
    pristine = np.argmax(np.bincount(labels, minlength=2))
    centres = np.stack([feats[labels == k].mean(0) for k in range(2)])
    dist = ((feats[:, None, :] - centres[None]) ** 2).sum(2)
    dp, df = dist[:, pristine], dist[:, 1 - pristine]
    prob = np.where(dp + df > 0, dp / np.maximum(dp + df, 1e-30), 0.5)
    grid = np.zeros(gy * gx, dtype=np.float32)
    grid[textured] = prob
    grid = grid.reshape(gy, gx)
    t2 = time.perf_counter()

    origin = 3 + (block - 1) / 2.0

    def axis(n, cells_):
        t = np.clip((np.arange(n) - origin) / stride, 0, cells_ - 1)
        i0 = np.floor(t).astype(np.int64)
        return i0, np.minimum(i0 + 1, cells_ - 1), (t - i0).astype(np.float32)

    x0, x1, wx = axis(w, gx)
    y0, y1, wy = axis(h, gy)
    cols = grid[:, x0] * (1 - wx) + grid[:, x1] * wx
    full = cols[y0] * (1 - wy)[:, None] + cols[y1] * wy[:, None]
    mask = full >= 0.5
    t3 = time.perf_counter()
    return grid, full, mask, (t1 - t0, t2 - t1, t3 - t2), (gy, gx, int(textured.sum()), d)


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    stages = {"decode": [], "luminance": [], "features": [], "clustering": [], "full maps": [], "end to end": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = np.asarray(Image.open(path).convert("RGB"))
        t1 = time.perf_counter()
        af = a.astype(np.float32)
        g = 0.299 * af[..., 0] + 0.587 * af[..., 1] + 0.114 * af[..., 2]
        t2 = time.perf_counter()
        h, w = g.shape
        block = 64 if h * w <= 4_000_000 else 128
        stride = block // 8
        while stride < block and ((h - 6 - block) // stride + 1) * ((w - 6 - block) // stride + 1) > 16384:
            stride *= 2
        grid, full, mask, (tf, tc, tm), geom = localize(g, block, stride)
        t3 = time.perf_counter()
        for k, v in zip(stages, (t1 - t0, t2 - t1, tf, tc, tm, t3 - t0)):
            stages[k].append(v * 1e3)
    print(f"image {w}x{h} ({w * h / 1e6:.1f} MP), numpy {np.__version__}, block {block} stride {stride}, "
          f"grid {geom[1]}x{geom[0]}, {geom[2]} textured blocks, PCA {geom[3]} dims")
    for k, v in stages.items():
        print(f"{k:<11} {np.median(v):8.1f} ms" + (f" (median of {repeats})" if k == "end to end" else ""))
    print(f"forged fraction {mask.mean():.4f}")
    if len(sys.argv) > 3:
        gy, gx = map(int, open(sys.argv[3] + ".txt").read().split("x"))
        other = np.fromfile(sys.argv[3], dtype=np.float32).reshape(gy, gx)
        same = ((other >= 0.5) == (grid >= 0.5)).mean()
        print(f"blocks on the same side of 0.5 as Loupe: {same * 100:.2f} %, "
              f"max |p_loupe - p_peer| {np.abs(other - grid).max():.4f}")


if __name__ == "__main__":
    main()
