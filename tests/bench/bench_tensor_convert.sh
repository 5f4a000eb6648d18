#!/usr/bin/env bash
# imageToTensor before/after (bench_tensor_convert) and torchvision's ToTensor + Normalize, one session,
# at 1 thread and at the default thread count. Usage: tests/bench/bench_tensor_convert.sh [build dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-ci}
for t in 1 0; do
  "$build/bench/bench_tensor_convert" --threads "$t"
  /usr/bin/python3 tests/bench/tensor_convert_peer.py "$t"
done
