#!/usr/bin/env python3
"""Peer for bench_slice_view: the same slice changes with NumPy + scipy.ndimage.map_coordinates.

For each slice change, the three sequences (T2W, ADC, DWI) are sampled on the T2W's axial display plane:
display pixel -> reference index (the frame bench_slice_view wrote) -> world (o + D S i) -> source index
(vectorised affine) -> map_coordinates(order=1, edge repeat) -> outside the half-voxel box = black ->
window/level to 8 bits. Reads the volumes bench_slice_view dumped (float32, x fastest) and job.json.
Prints JSON: median_ms, max_ms, changes, scipy.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy
from scipy import ndimage


def load(folder, meta):
    nx, ny, nz = (int(x) for x in meta["size"])
    data = np.fromfile(os.path.join(folder, meta["name"] + ".f32"), dtype=np.float32).reshape(nz, ny, nx)
    m = np.array(meta["direction"], dtype=np.float64).reshape(3, 3) * np.array(meta["spacing"])[None, :]
    return data, m, np.array(meta["origin"], dtype=np.float64), np.array([nx, ny, nz])


def main():
    folder = sys.argv[1]
    job = json.load(open(os.path.join(folder, "job.json")))
    vols = [load(folder, v) for v in job["volumes"]]
    ref_data, ref_m, ref_o, ref_n = vols[0]
    f = job["frame"]
    nu, nv, ns = int(ref_n[f["uAxis"]]), int(ref_n[f["vAxis"]]), int(ref_n[f["nAxis"]])
    uu, vv = np.meshgrid(np.arange(nu, dtype=np.float64), np.arange(nv, dtype=np.float64))
    times = []
    for i in range(int(job["changes"])):
        s = (i * 7 + 1) % ns
        t0 = time.perf_counter()
        idx = np.empty((3, nv, nu))
        idx[f["uAxis"]] = (nu - 1) - uu if f["flipU"] else uu
        idx[f["vAxis"]] = (nv - 1) - vv if f["flipV"] else vv
        idx[f["nAxis"]] = s
        world = np.tensordot(ref_m, idx, axes=1) + ref_o[:, None, None]
        for (data, m, o, n), (lo, hi) in zip(vols, job["windows"]):
            src = np.tensordot(np.linalg.inv(m), world - o[:, None, None], axes=1)  # x, y, z
            inside = np.all((src >= -0.5) & (src <= (n - 0.5)[:, None, None]), axis=0)
            vals = ndimage.map_coordinates(data, src[::-1], order=1, mode="nearest")
            grey = np.clip((vals - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
            grey[~inside] = 0
        times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({"median_ms": statistics.median(times), "max_ms": max(times), "changes": len(times),
                      "scipy": scipy.__version__}))


if __name__ == "__main__":
    main()
