#!/usr/bin/python3
"""Peer for bench_classic_forensics' forgery.noise: the same maps with NumPy + SciPy (luma in float,
3x3 median residual, SRM 3rd-order horizontal/vertical residuals, local std over 32x32 windows), the way
Python forensic tools compute them. Usage: noise_peer.py IMAGE [repeats]. Median ms, decode excluded."""
import statistics, sys, time
import numpy as np
from PIL import Image
from scipy import ndimage

path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    g = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
    med = np.abs(g - ndimage.median_filter(g, size=3, mode="mirror"))
    k = np.array([-1, 3, -3, 1], dtype=np.float32)
    rh = ndimage.correlate1d(g, k, axis=1, mode="mirror", origin=-1)
    rv = ndimage.correlate1d(g, k, axis=0, mode="mirror", origin=-1)
    srm = (np.abs(rh) + np.abs(rv)) * 0.5
    m = ndimage.uniform_filter(rh, 32, mode="mirror")
    m2 = ndimage.uniform_filter(rh * rh, 32, mode="mirror")
    local = np.sqrt(np.maximum(m2 - m * m, 0))
    p = [np.percentile(x, 99) for x in (med, srm)]
    times.append(time.perf_counter() - t0)
print(f"image {a.shape[1]}x{a.shape[0]}, {repeats} repeats: noise maps (NumPy+SciPy) {statistics.median(times) * 1000:.0f} ms")
