#!/usr/bin/env python3
"""Peer of bench_session: the same bytes (w*h float32) hashed with hashlib.sha256, written to a temp file,
fsync'ed and renamed; then read back and hashed again. Usage: session_peer.py [megapixels=100] [dir=/tmp]"""
import array, hashlib, os, sys, time

mp = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
d = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
w = 10000
h = int(mp * 1e6 / w)
vals = array.array("f", (((i * 2654435761) % (1 << 32)) % 1000 * 0.01 for i in range(w * h)))
blob = vals.tobytes()
path = os.path.join(d, "peer.bin")
t = time.perf_counter()
sha = hashlib.sha256(blob).hexdigest()
with open(path + ".tmp", "wb") as f:
    f.write(blob)
    f.flush()
    os.fsync(f.fileno())
os.rename(path + ".tmp", path)
save = time.perf_counter() - t
t = time.perf_counter()
with open(path, "rb") as f:
    data = f.read()
assert hashlib.sha256(data).hexdigest() == sha
back = array.array("f")
back.frombytes(data)
load = time.perf_counter() - t
os.remove(path)
print(f"{w} x {h} float32 ({w*h*4/1e6:.0f} MB): save {save:.2f} s, load {load:.2f} s (Python hashlib + os.fsync)")
