#!/usr/bin/env bash
# Cross-entropy, SupCon and CoNe on Fashion-MNIST under the same budget (same network, epochs, batch, optimiser,
# augmentation, seed), each followed by loupe-cli eval embeddings (kNN k=20 weighted, linear probe, Recall@K);
# then the peer: the same network and cross-entropy epoch in Python torch (tests/bench/train_peer.py) for speed.
# Usage: tests/bench/bench_train_embeddings.sh [EPOCHS=10] [OUT_DIR]   (the 4-stage network 32/64/128/256, 2 threads;
# on a shared machine the wall times say little: compare cpu_seconds in the JSON files, or run it on a quiet one)
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-10}
out=${2:-/tmp/loupe-train-bench}
cli=build-ci/bin/loupe-cli
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for loss in ce cone supcon; do
  start=$(date +%s)
  "$cli" train embeddings --data fashion-mnist --loss "$loss" --epochs "$epochs" --widths 32,64,128,256 --threads 2 \
    --out "$out/$loss" --quiet --json "$out/$loss-train.json"
  "$cli" eval embeddings --model "$out/$loss" --data fashion-mnist --quiet --json "$out/$loss-eval.json"
  echo "$loss: $(( $(date +%s) - start )) s wall including evaluation; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 tests/bench/train_peer.py --epochs "$epochs" --threads 2 --json "$out/peer-ce.json"
fi
