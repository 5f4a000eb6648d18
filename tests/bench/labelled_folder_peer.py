#!/usr/bin/python3
"""Peer for `loupe-cli train embeddings --data IMAGE_DIR`'s folder reading (backend/io/LabelledFolder):
torchvision's ImageFolder with the same conversion (grey, 28 x 28 antialiased bilinear, uint8), every image
decoded once and stacked into one uint8 tensor, as the loader does.

usage: labelled_folder_peer.py FOLDER [--workers N]   (prints images, seconds, images per second)
"""
import argparse
import time

import torch
import torchvision
from torchvision import transforms

ap = argparse.ArgumentParser()
ap.add_argument("folder")
ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (0: in this process)")
args = ap.parse_args()

start = time.perf_counter()
tf = transforms.Compose([
    transforms.Grayscale(1),
    transforms.Resize((28, 28), interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
    transforms.PILToTensor(),
])
ds = torchvision.datasets.ImageFolder(args.folder, transform=tf)
loader = torch.utils.data.DataLoader(ds, batch_size=256, num_workers=args.workers)
images, labels = [], []
for x, y in loader:
    images.append(x)
    labels.append(y)
images = torch.cat(images)
seconds = time.perf_counter() - start
print(f"torchvision ImageFolder ({args.workers} workers): {images.shape[0]} images in {seconds:.2f} s "
      f"({images.shape[0] / seconds:.0f} images/s), classes {len(ds.classes)}")
