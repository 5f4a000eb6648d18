#!/usr/bin/env python3
"""Peer for bench_prostate: the same work in Python with numpy/torch only (SimpleITK, nibabel and pydicom
are not installed here). (1) Read the three MetaImage files of a study (header + zlib + numpy, what a
minimal pipeline does). (2) Sliding-window inference of the same TorchScript package on the same stacked
input (written by bench as raw float32 is not needed: an input of the same shape is built here), same
window, overlap and Gaussian importance map (sigma = 0.125 * window, MONAI's default), torch threads as set.

  prostate_peer.py --mha DIR --model PKG --grid D H W [--repeat 5]
"""
import argparse
import glob
import json
import os
import time
import zlib

import numpy as np
import torch


def read_mha(path):
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
    header = dict(line.split(" = ", 1) for line in data[:end].decode().strip().split("\n"))
    dims = [int(x) for x in header["DimSize"].split()]
    dtype = {"MET_SHORT": np.int16, "MET_USHORT": np.uint16, "MET_FLOAT": np.float32, "MET_UCHAR": np.uint8}[header["ElementType"]]
    raw = data[end:]
    if header.get("CompressedData", "False") == "True":
        raw = zlib.decompress(raw)
    return np.frombuffer(raw, dtype=dtype).reshape(dims[::-1]).astype(np.float32)


def starts(size, window, overlap):
    if size <= window:
        return [0]
    step = max(1, int(window * (1 - overlap)))
    s = list(range(0, size - window + 1, step))
    if s[-1] != size - window:
        s.append(size - window)
    return s


def gaussian(window):
    g = torch.ones(())
    maps = []
    for w in window:
        sigma = 0.125 * w
        x = torch.arange(w, dtype=torch.float32) - (w - 1) / 2
        maps.append(torch.exp(-x * x / (2 * sigma * sigma)))
    g = maps[0][:, None, None] * maps[1][None, :, None] * maps[2][None, None, :]
    return (g / g.max()).clamp_min(1e-3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mha")
    ap.add_argument("--model")
    ap.add_argument("--grid", nargs=3, type=int)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    print("threads", torch.get_num_threads())
    if a.mha:
        ms = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            vols = [read_mha(p) for p in sorted(glob.glob(os.path.join(a.mha, "*.mha")))]
            ms.append((time.perf_counter() - t) * 1000)
        print("load study (MetaImage, %d sequences, numpy+zlib): median %.1f ms of %d" % (len(vols), sorted(ms)[len(ms) // 2], a.repeat))
    if a.model:
        spec = json.load(open(os.path.join(a.model, "loupe-model.json")))["input"]["size"]
        window = (spec["depth"], spec["height"], spec["width"])
        model = torch.jit.load(os.path.join(a.model, "model.pt")).eval()
        d, h, w = a.grid
        x = torch.randn(1, 3, d, h, w)
        imp = gaussian(window)
        for r in range(2):
            t = time.perf_counter()
            with torch.inference_mode():
                out = torch.zeros(1, 2, d, h, w)
                norm = torch.zeros(d, h, w)
                for z in starts(d, window[0], spec["overlap"]):
                    for y in starts(h, window[1], spec["overlap"]):
                        for xx in starts(w, window[2], spec["overlap"]):
                            win = x[:, :, z:z + window[0], y:y + window[1], xx:xx + window[2]]
                            pad = [0, window[2] - win.shape[4], 0, window[1] - win.shape[3], 0, window[0] - win.shape[2]]
                            win = torch.nn.functional.pad(win, pad)
                            o = model(win)[:, :, :min(window[0], d - z), :min(window[1], h - y), :min(window[2], w - xx)]
                            i = imp[:o.shape[2], :o.shape[3], :o.shape[4]]
                            out[:, :, z:z + o.shape[2], y:y + o.shape[3], xx:xx + o.shape[4]] += o * i
                            norm[z:z + o.shape[2], y:y + o.shape[3], xx:xx + o.shape[4]] += i
                prob = torch.softmax(out / norm, 1)[:, 1]
            print("model run %d (sliding windows + softmax, python torch): %.0f ms" % (r + 1, (time.perf_counter() - t) * 1000))


if __name__ == "__main__":
    main()
