#!/usr/bin/python3
"""Writes a 12-megapixel JPEG (4240x2832) upscaled from Debian's skimage rocket.jpg, for benchmarks."""
import sys
from PIL import Image
src = "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg"
Image.open(src).convert("RGB").resize((4240, 2832), Image.LANCZOS).save(sys.argv[1], "JPEG", quality=92)
