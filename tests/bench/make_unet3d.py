#!/usr/bin/env python3
"""Writes a 3-D U-Net-sized TorchScript model package for prostate.detect speed benchmarks (random
weights: a speed benchmark, not a detector). 3 input channels (t2w, adc, dwi), 4 levels (16-32-64-128
channels), anisotropic first pooling (1, 2, 2) as nnU-Net uses for 0.5 x 0.5 x 3 mm prostate MRI,
instance norm + leaky ReLU, 2-class logits. Window 16 x 128 x 128 (D x H x W).

  make_unet3d.py OUT_DIR
"""
import hashlib
import json
import os
import sys

import torch
from torch import nn


def block(i, o):
    return nn.Sequential(nn.Conv3d(i, o, 3, padding=1), nn.InstanceNorm3d(o, affine=True), nn.LeakyReLU(0.01),
                         nn.Conv3d(o, o, 3, padding=1), nn.InstanceNorm3d(o, affine=True), nn.LeakyReLU(0.01))


class UNet3d(nn.Module):
    def __init__(self, c=(16, 32, 64, 128)):
        super().__init__()
        self.e0, self.e1, self.e2, self.e3 = block(3, c[0]), block(c[0], c[1]), block(c[1], c[2]), block(c[2], c[3])
        self.p0, self.p1, self.p2 = nn.MaxPool3d((1, 2, 2)), nn.MaxPool3d(2), nn.MaxPool3d(2)
        self.u2 = nn.ConvTranspose3d(c[3], c[2], 2, stride=2)
        self.u1 = nn.ConvTranspose3d(c[2], c[1], 2, stride=2)
        self.u0 = nn.ConvTranspose3d(c[1], c[0], (1, 2, 2), stride=(1, 2, 2))
        self.d2, self.d1, self.d0 = block(2 * c[2], c[2]), block(2 * c[1], c[1]), block(2 * c[0], c[0])
        self.head = nn.Conv3d(c[0], 2, 1)

    def forward(self, x):
        x0 = self.e0(x)
        x1 = self.e1(self.p0(x0))
        x2 = self.e2(self.p1(x1))
        x3 = self.e3(self.p2(x2))
        y = self.d2(torch.cat([self.u2(x3), x2], 1))
        y = self.d1(torch.cat([self.u1(y), x1], 1))
        y = self.d0(torch.cat([self.u0(y), x0], 1))
        return self.head(y)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = UNet3d().eval()
    params = sum(p.numel() for p in model.parameters())
    scripted = torch.jit.script(model)
    path = os.path.join(out, "model.pt")
    scripted.save(path)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    manifest = {
        "schema": 1, "id": "unet3d-bench", "name": "3-D U-Net (random weights, speed benchmark)", "version": "1.0.0",
        "task": "prostate.detect", "format": "torchscript", "entry": "model.pt", "files": {"model.pt": sha},
        "input": {"layout": "NCDHW", "channels": 3, "color_order": "any", "scale": 1.0,
                  "size": {"policy": "sliding_window", "width": 128, "height": 128, "depth": 16, "overlap": 0.25}},
        "outputs": [{"name": "logits", "kind": "logits"}], "labels": [], "licence": "MIT",
        "provenance": "tests/bench/make_unet3d.py (random weights, %d parameters)" % params,
    }
    json.dump(manifest, open(os.path.join(out, "loupe-model.json"), "w"), indent=1)
    print("wrote", out, params, "parameters")


if __name__ == "__main__":
    main()
