#!/bin/bash
# Side-by-side benchmark: bench_resnet50 (Loupe C++) and resnet50_peer.py (Python, torchvision style) on
# the same ResNet-50-sized package and the same photos, alternating runs so both see the same machine load.
# Usage: tests/bench/bench_resnet50.sh [BUILD_DIR] [ROUNDS] [REPEATS] [BATCHES]
#   BUILD_DIR  where bench/bench_resnet50 was built (default: build)
#   ROUNDS     C++/Python alternations (default 2); REPEATS: timed batches per batch size and run (default 5)
#   BATCHES    batch sizes (default 1,32). On a shared machine, many short rounds average out other jobs.
# The package is exported once with tools/export/cone.py --random into $LOUPE_BENCH_DIR (default
# /tmp/loupe-bench-resnet50); the photos are Debian's scikit-image samples (python3-skimage).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
rounds=${2:-2}
repeats=${3:-5}
batches=${4:-1,32}
work=${LOUPE_BENCH_DIR:-/tmp/loupe-bench-resnet50}
pkg=$work/cone-resnet50-random
bench=$build/bench/bench_resnet50
[ -x "$bench" ] || { echo "build bench_resnet50 first (cmake --build $build --target bench_resnet50)" >&2; exit 2; }

data=/usr/lib/python3/dist-packages/skimage/data
images=()
for f in astronaut.png chelsea.png coffee.png hubble_deep_field.jpg ihc.png motorcycle_left.png \
         motorcycle_right.png retina.jpg rocket.jpg camera.png; do
  [ -f "$data/$f" ] && images+=("$data/$f")
done
[ ${#images[@]} -gt 0 ] || { echo "no sample photos in $data (apt-get install python3-skimage)" >&2; exit 2; }

mkdir -p "$work"
if [ ! -f "$pkg/loupe-model.json" ]; then
  /usr/bin/python3 "$root/tools/export/cone.py" --random --seed 0 --out "$pkg" >&2
fi

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $(nproc) cores ($cpu), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$work/results.jsonl
: > "$results"
for r in $(seq "$rounds"); do
  # stderr (libpng's "known incorrect sRGB profile" notes on some samples) goes to a log
  "$bench" "$pkg" --json --batches "$batches" --repeats "$repeats" --warmup 2 "${images[@]}" >> "$results" \
    2>> "$work/stderr.log"
  /usr/bin/python3 "$root/tests/bench/resnet50_peer.py" "$pkg" --json --threads "$(nproc)" --batches "$batches" \
    --repeats "$repeats" --warmup 2 "${images[@]}" >> "$results"
  # Python with decode + preprocessing on worker threads like bench_resnet50 (Python* in the table)
  /usr/bin/python3 "$root/tests/bench/resnet50_peer.py" "$pkg" --json --threads "$(nproc)" --batches "$batches" \
    --repeats "$repeats" --warmup 2 --workers "$(nproc)" "${images[@]}" >> "$results"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
stages = ("decode", "preprocess", "inference", "postprocess", "total")
label = lambda rt: "Loupe C++" if rt == "loupe" else "Python*" if rt.startswith("python-workers") else "Python"
merged, order = {}, []
for run in runs:
    if run["runtime"] not in order:
        order.append(run["runtime"])
    for batch, st in run["batches"].items():
        for s in stages:
            merged.setdefault((run["runtime"], int(batch)), {}).setdefault(s, []).extend(st[s])
print("median ms per batch" + " " * 5 + "".join(f"{s:>13s}" for s in stages) + f"{'ms/image':>10s}{'images/s':>10s}")
for batch in sorted({b for _, b in merged}):
    per = {}
    for rt in order:
        m = {s: statistics.median(merged[(rt, batch)][s]) for s in stages}
        per[rt] = m
        n = len(merged[(rt, batch)]["total"])
        print(f"batch {batch:2d} {label(rt):10s}(n={n:3d})" + "".join(f"{m[s]:13.2f}" for s in stages)
              + f"{m['total'] / batch:10.2f}{1000 * batch / m['total']:10.2f}")
    for rt in order[1:]:
        ratio = per[rt]["total"] / per["loupe"]["total"]
        print(f"  batch {batch:2d}: Loupe throughput = {ratio:.3f}x {label(rt)}'s ({100 * (ratio - 1):+.1f}%); "
              f"{label(rt)}/Loupe time per stage: "
              + ", ".join(f"{s} {per[rt][s] / max(per['loupe'][s], 1e-9):.2f}" for s in stages[:-1]))
print("Python  = torchvision as usually written: decode and transforms one image after the other")
print("Python* = the same with decode + transforms on nproc worker threads, one torch thread each (as Loupe)")
print("top-1 of the last batch: " + ", ".join(f"{label(r['runtime'])}: {r['top1']}" for r in runs[-len(order):]))
EOF
