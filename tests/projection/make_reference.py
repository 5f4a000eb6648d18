#!/usr/bin/python3
"""Reference numbers for tests/projection: scikit-learn's TSNE (and umap-js, when installed) on the first
N Fashion-MNIST test images (raw pixels / 255, 784-d), the same input test_tsne / test_umap build in C++.

Writes fashion_reference.json next to this script: the 10-NN label accuracy (leave-one-out, majority of the
10 nearest other points in the 2-D layout, ties to the smallest label: the definition of
loupe::analysis::knnLabelAccuracy) of each reference layout. Run:
    /usr/bin/python3 tests/projection/make_reference.py [--n 2000] [--umap-js ~/.cache/loupe-bench]
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time
import numpy as np
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors

FOLDER = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def knn_accuracy(layout, labels, k=10):
    nbrs = NearestNeighbors(n_neighbors=k).fit(layout).kneighbors(return_distance=False)
    votes = np.zeros((len(labels), labels.max() + 1), np.int64)
    for c in range(k):
        np.add.at(votes, (np.arange(len(labels)), labels[nbrs[:, c]]), 1)
    return float((votes.argmax(1) == labels).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--umap-js", default=os.path.expanduser("~/.cache/loupe-bench"))
    args = ap.parse_args()
    x = idx(f"{FOLDER}/t10k-images-idx3-ubyte.gz")[: args.n].reshape(args.n, -1).astype(np.float32) / 255
    y = idx(f"{FOLDER}/t10k-labels-idx1-ubyte.gz")[: args.n].astype(np.int64)
    out = {"n": args.n, "input": "first n Fashion-MNIST t10k images, pixels / 255 (784-d)",
           "metric": "10-NN leave-one-out label accuracy of the 2-D layout"}
    t = time.time()
    tsne = TSNE(n_components=2, perplexity=30, init="pca", learning_rate="auto", n_iter=1000,
                random_state=0, method="barnes_hut", angle=0.5).fit_transform(x)
    out["sklearn_tsne"] = {"accuracy": knn_accuracy(tsne, y), "seconds": time.time() - t,
                           "version": __import__("sklearn").__version__,
                           "settings": "perplexity 30, init pca, learning_rate auto, 1000 iterations, barnes_hut 0.5, random_state 0"}
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "projection_peer.js")
    if os.path.isdir(os.path.join(args.umap_js, "node_modules", "umap-js")) and os.path.exists(runner):
        with tempfile.TemporaryDirectory() as d:
            np.save(f"{d}/x.npy", x)
            t = time.time()
            subprocess.run(["node", runner, f"{d}/x.npy", f"{d}/layout.f32", args.umap_js], check=True)
            layout = np.fromfile(f"{d}/layout.f32", np.float32).reshape(args.n, 2)
            out["umap_js"] = {"accuracy": knn_accuracy(layout, y), "seconds": time.time() - t,
                              "settings": "nNeighbors 15, minDist 0.1, spread 1, nEpochs auto, seeded Math.random"}
    json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion_reference.json"), "w"), indent=2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    sys.exit(main())
