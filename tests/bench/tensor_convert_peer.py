#!/usr/bin/python3
"""Peer of bench_tensor_convert: torchvision's ToTensor + Normalize (ImageNet mean/std) from an 8-bit HWC
array, the usual Python preprocessing tail, same sizes and pixels formula. Usage: tensor_convert_peer.py [threads]"""
import sys
import time

import numpy as np
import torch
from torchvision import transforms

if len(sys.argv) > 1 and int(sys.argv[1]) > 0:
    torch.set_num_threads(int(sys.argv[1]))
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
print(f"torchvision ToTensor + Normalize, {torch.get_num_threads()} thread(s); median ms")
for w, h, reps in ((224, 224, 200), (1024, 1024, 50), (4000, 3000, 10)):
    i = np.arange(w * h * 3, dtype=np.uint64)
    img = (((i * 2654435761) % (1 << 32)) >> 24).astype(np.uint8).reshape(h, w, 3)
    tf(img)
    t = []
    for _ in range(reps):
        a = time.perf_counter()
        tf(img).unsqueeze(0)
        t.append((time.perf_counter() - a) * 1000)
    print(f"| {w}x{h} | {sorted(t)[len(t) // 2]:.3f} |")
