#!/usr/bin/python3
"""Peer for bench_ela: the same ELA (decode, JPEG q=90 re-compression, max-over-channels absolute
difference) with Pillow + NumPy, as Python forensic tools (e.g. Sherloq-style scripts) do it."""
import io, statistics, sys, time
import numpy as np
from PIL import Image

path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
tl, tr, tm, tt = [], [], [], []
for _ in range(repeats):
    t0 = time.perf_counter()
    im = Image.open(path).convert("RGB"); im.load()
    t1 = time.perf_counter()
    buf = io.BytesIO(); im.save(buf, "JPEG", quality=90); buf.seek(0)
    re = Image.open(buf); re.load()
    t2 = time.perf_counter()
    d = np.abs(np.asarray(im, dtype=np.int16) - np.asarray(re, dtype=np.int16)).max(axis=2).astype(np.float32)
    t3 = time.perf_counter()
    tl.append(t1 - t0); tr.append(t2 - t1); tm.append(t3 - t2); tt.append(t3 - t0)
ms = lambda v: statistics.median(v) * 1000
print(f"image {im.width}x{im.height}, {repeats} repeats, median ms")
print(f"decode      {ms(tl):8.1f}\nrecompress  {ms(tr):8.1f}\ndiff map    {ms(tm):8.1f}\ntotal       {ms(tt):8.1f}")
