#!/usr/bin/python3
"""Peers of bench_projection on the same vectors, same machine, same run: scikit-learn's TSNE (Barnes-Hut,
its defaults: perplexity 30, init pca, learning_rate auto, 1000 iterations) and umap-js (projection_peer.js,
its defaults: nNeighbors 15, minDist 0.1, epochs by size). Each layout is scored like Loupe's, with the 10-NN
leave-one-out label accuracy (majority of the 10 nearest other points, ties to the smallest label).

    /usr/bin/python3 tests/bench/projection_peer.py --loupe build-ci/bench/bench_projection [--n 70000] \
        [--tsne-n 20000] [--out /tmp/projection-bench]

--loupe runs the Loupe benchmark first (it writes vectors.npy / labels.npy, the 50-d PCA of the 70,000
Fashion-MNIST images); without it the script uses the files already in --out. --tsne-n runs scikit-learn's
TSNE (and Loupe's t-SNE again, for a side-by-side at that size) on the first N vectors when the full set would
take too long. umap-js is installed on first use with npm into ~/.cache/loupe-bench (a benchmark tool only).
"""
import argparse, json, os, subprocess, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def knn_accuracy(layout, labels, k=10):
    from sklearn.neighbors import NearestNeighbors
    nbrs = NearestNeighbors(n_neighbors=k).fit(layout).kneighbors(return_distance=False)
    votes = np.zeros((len(labels), labels.max() + 1), np.int64)
    for c in range(k):
        np.add.at(votes, (np.arange(len(labels)), labels[nbrs[:, c]]), 1)
    return float((votes.argmax(1) == labels).mean())


def run_loupe(binary, out, n, methods, threads=0):
    cmd = [binary, "--out", out, "--n", str(n), "--methods", methods] + (["--threads", str(threads)] if threads else [])
    print("#", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    for line in p.stdout.splitlines():
        print(line, flush=True)


def sklearn_tsne(x):
    from sklearn.manifold import TSNE
    t = time.time()
    layout = TSNE(n_components=2, perplexity=30, init="pca", learning_rate="auto", n_iter=1000,
                  random_state=0, method="barnes_hut", angle=0.5).fit_transform(x)
    return layout, time.time() - t


def umap_js(vectors_path, n, out, prefix):
    if not os.path.isdir(os.path.join(prefix, "node_modules", "umap-js")):
        subprocess.run(["npm", "install", "--prefix", prefix, "umap-js@1.4.0"], check=True)
    path = vectors_path
    if n is not None:
        path = os.path.join(out, f"vectors_{n}.npy")
        np.save(path, np.load(vectors_path)[:n])
    t = time.time()
    p = subprocess.run(["node", "--max-old-space-size=8192", os.path.join(HERE, "projection_peer.js"), path,
                        os.path.join(out, "umapjs.f32"), prefix], stdout=subprocess.PIPE, text=True, check=True)
    wall = time.time() - t
    info = json.loads(p.stdout.strip().splitlines()[-1])
    layout = np.fromfile(os.path.join(out, "umapjs.f32"), np.float32).reshape(-1, 2)
    return layout, wall, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loupe", help="bench_projection binary: run it first, in the same run")
    ap.add_argument("--out", default="/tmp/projection-bench")
    ap.add_argument("--n", type=int, default=70000)
    ap.add_argument("--tsne-n", type=int, default=None, help="scikit-learn's TSNE on the first N vectors only")
    ap.add_argument("--skip", default="", help="comma list: tsne, umap")
    ap.add_argument("--loupe-threads", type=int, default=0,
                    help="LibTorch threads for Loupe (0: one per core; 1 on an oversubscribed machine)")
    ap.add_argument("--umap-js-prefix", default=os.path.expanduser("~/.cache/loupe-bench"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.loupe:
        run_loupe(args.loupe, args.out, args.n, "tsne,umap", args.loupe_threads)
        if args.tsne_n and args.tsne_n < args.n:
            # Loupe's t-SNE at the peer's size too: same vectors (first N of the same PCA).
            run_loupe(args.loupe, os.path.join(args.out, f"n{args.tsne_n}"), args.tsne_n, "tsne", args.loupe_threads)
    x = np.load(os.path.join(args.out, "vectors.npy"))
    y = np.load(os.path.join(args.out, "labels.npy"))
    import sklearn
    if "umap" not in args.skip:
        layout, wall, info = umap_js(os.path.join(args.out, "vectors.npy"), None, args.out, args.umap_js_prefix)
        print(json.dumps({"peer": "umap-js", "method": "umap", "n": len(x), "seconds": round(wall, 2),
                          "umap_seconds": round(info["umap_s"], 2), "knn10_accuracy": round(knn_accuracy(layout, y), 4)}),
              flush=True)
    if "tsne" not in args.skip:
        n = args.tsne_n or len(x)
        layout, wall = sklearn_tsne(x[:n])
        np.save(os.path.join(args.out, f"sklearn_tsne_{n}.npy"), layout)
        print(json.dumps({"peer": f"scikit-learn {sklearn.__version__}", "method": "tsne", "n": n,
                          "seconds": round(wall, 2), "knn10_accuracy": round(knn_accuracy(layout, y[:n]), 4)}),
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
