#!/usr/bin/env bash
# Stages what tools/gpu-check.sh needs on a GPU machine that has no Debian packages and no network, into
# folders git ignores (name them in the device call's `carry`):
#   third_party/include/nlohmann   header-only JSON (Debian's nlohmann-json3-dev)
#   .gpu-data/models/{blazeface,faceres}   the registered TF.js face packages (scripts/setup installs them)
#   .gpu-data/fmnist               Fashion-MNIST's test split, uncompressed (no zlib needed there)
#   .gpu-data/faces.bin            up to 48 UTKFace crops from ../shared/data/faces_age, decoded to RGB
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p third_party/include .gpu-data/models .gpu-data/fmnist
cp -r /usr/include/nlohmann third_party/include/
models=${LOUPE_MODELS:-$HOME/.local/share/loupe/models}
for m in blazeface faceres; do
  [ -d "$models/$m" ] && rm -rf ".gpu-data/models/$m" && cp -r "$models/$m" .gpu-data/models/
done
fm=${LOUPE_FMNIST:-/usr/share/datasets/fashion-mnist}
for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -f "$fm/$f.gz" ] && gunzip -c "$fm/$f.gz" > ".gpu-data/fmnist/$f"
done
faces=${LOUPE_FACES:-$(pwd)/../shared/data/faces_age/UTKFace}
if [ -d "$faces" ]; then
  /usr/bin/python3 - "$faces" .gpu-data/faces.bin <<'PY'
import os, struct, sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(src) if n.lower().endswith(".jpg"))[:48]
with open(out, "wb") as f:
    f.write(struct.pack("<i", len(names)))
    for n in names:
        im = Image.open(os.path.join(src, n)).convert("RGB")
        f.write(struct.pack("<iii", im.width, im.height, int(n.split("_")[0])))
        f.write(im.tobytes())
print("faces:", len(names))
PY
fi
du -sh .gpu-data third_party/include
