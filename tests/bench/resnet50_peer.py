#!/usr/bin/python3
"""Peer for bench_resnet50: the same package (model.pt) driven from Python the way torchvision users do it.
  decode       PIL.Image.open(path).convert("RGB")
  preprocess   transforms.Resize(256) + CenterCrop(224) + ToTensor() + Normalize(package mean/std), torch.stack
  inference    torch.jit.load(model.pt), eval(), under torch.inference_mode()
  postprocess  softmax + top-5 with the package's labels
torch.set_num_threads(2) (the benchmark machine's cores). Batches of 1 and 32, images round-robin; median
per stage over the timed repeats.

Usage: resnet50_peer.py PACKAGE_DIR [--repeats N] [--warmup N] [--batches 1,32] [--threads 2]
                        [--workers N] [--json] IMAGE...
"""
import argparse
import json
import os
import statistics
import time

import torch
from PIL import Image
from torchvision import transforms


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("package")
    p.add_argument("images", nargs="+")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batches", default="1,32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=0,
                   help="decode + preprocess on N worker threads, one image per task, each with one torch "
                        "thread, as bench_resnet50 does (PIL releases the GIL while decoding and resizing); "
                        "default 0: sequential, as torchvision scripts do")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    with open(os.path.join(args.package, "loupe-model.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    model = torch.jit.load(os.path.join(args.package, manifest["entry"]), map_location="cpu")
    model.eval()
    spec = manifest["input"]
    crop = spec["size"]["width"] if spec["size"]["policy"] == "fixed" else 224
    transform = transforms.Compose([
        transforms.Resize(256),  # PIL bilinear, antialiased when shrinking
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(spec["mean"], spec["std"]),
    ])
    labels = manifest["labels"]
    logits_index = [o["kind"] for o in manifest["outputs"]].index("logits")

    if not args.json:
        print(f"Python    | {manifest['id']} | torch {torch.__version__}, {torch.get_num_threads()} threads | "
              f"{len(args.images)} images")
    pool = None
    if args.workers:
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(max_workers=args.workers, initializer=lambda: torch.set_num_threads(1))

    def decode(path):
        return Image.open(path).convert("RGB")

    result = {"runtime": "python" + (f"-workers{args.workers}" if args.workers else ""),
              "threads": torch.get_num_threads(), "batches": {}}
    nxt = 0
    top1 = ""
    for batch in [int(b) for b in args.batches.split(",")]:
        stages = {k: [] for k in ("decode", "preprocess", "inference", "postprocess", "total")}
        for r in range(args.warmup + args.repeats):
            paths = [args.images[(nxt + i) % len(args.images)] for i in range(batch)]
            nxt += batch
            t0 = time.perf_counter()
            if pool:
                decoded = list(pool.map(decode, paths))
            else:
                decoded = [decode(path) for path in paths]
            t1 = time.perf_counter()
            if pool:
                x = torch.stack(list(pool.map(transform, decoded)))
            else:
                x = torch.stack([transform(im) for im in decoded])
            t2 = time.perf_counter()
            with torch.inference_mode():
                outputs = model(x)
            t3 = time.perf_counter()
            logits = outputs[logits_index] if isinstance(outputs, (tuple, list)) else outputs
            values, indices = logits.softmax(1).topk(5, dim=1)
            results = [[(labels[i] if i < len(labels) else str(i), v)
                        for v, i in zip(vs.tolist(), ix.tolist())] for vs, ix in zip(values, indices)]
            t4 = time.perf_counter()
            top1 = results[0][0][0]
            if r < args.warmup:
                continue
            for k, (a, b) in zip(stages, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t0, t4))):
                stages[k].append((b - a) * 1000)
        result["batches"][str(batch)] = stages
        if not args.json:
            m = {k: statistics.median(v) for k, v in stages.items()}
            print(f"batch {batch:2d}: decode {m['decode']:8.2f}  preprocess {m['preprocess']:8.2f}  inference "
                  f"{m['inference']:8.2f}  postprocess {m['postprocess']:6.2f}  total {m['total']:8.2f} ms  "
                  f"({m['total'] / batch:.2f} ms/image, {1000 * batch / m['total']:.2f} images/s; median of "
                  f"{args.repeats})")
    result["top1"] = top1
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
