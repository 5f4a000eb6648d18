#!/usr/bin/env bash
# Run on a GPU machine (CUDA torch wheel, cmake, ninja; no Qt/OpenCV): builds the Qt-free backend against
# the wheel's LibTorch, runs the device checks and benchmarks, and writes a Markdown table to
# ${OUT:-.}/gpu-check.md (logs beside it). Usage: tools/gpu-check.sh
#
# Stage first, on a Debian machine: tools/gpu-check/stage-data.sh (nlohmann headers into third_party/include,
# face model packages, Fashion-MNIST's test split and UTKFace crops into .gpu-data), then carry
# third_party and .gpu-data with the device call.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-.}
md="$OUTDIR/gpu-check.md"
rm -f "$md"
TORCH_CMAKE=$($PY -c "import torch; print(torch.utils.cmake_prefix_path)")
info=$($PY -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")')
echo "$info" | tee -a "$md"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader 2>/dev/null | tee -a "$md"
echo >> "$md"
# backend/cuda's kernels are built when nvcc is found (PATH or /usr/local/cuda).
cuda_args=()
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
t0=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DLOUPE_BACKEND_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE" "${cuda_args[@]}" > "$OUTDIR/configure.log" 2>&1 \
  || { tail -40 "$OUTDIR/configure.log"; exit 3; }
# Keep going past a failing file so the checks that do build still run; the log keeps the errors.
cmake --build build-gpu --target gpu_check gpu_check_analysis gpu_check_train -- -k 0 > "$OUTDIR/build.log" 2>&1
build_rc=$?
echo "build: rc $build_rc in $(( $(date +%s) - t0 )) s" | tee -a "$md"
[ $build_rc -ne 0 ] && grep -E "error|Error" "$OUTDIR/build.log" | head -30
unet=""
if $PY tests/bench/make_unet3d.py /tmp/unet3d > /dev/null 2>&1; then unet=/tmp/unet3d; fi
rc=0
run() {
  local exe=build-gpu/bench/$1; shift
  if [ ! -x "$exe" ]; then echo "$(basename "$exe"): not built (see build.log)" | tee -a "$md"; rc=1; return; fi
  local log="$OUTDIR/$(basename "$exe").log"
  timeout 240 "$exe" --device cuda --out "$md" "$@" > "$log" 2>&1
  local r=$?
  if [ $r -ne 0 ]; then
    rc=1
    echo "$(basename "$exe"): exit $r" | tee -a "$md"
    # A crash: the stack from cuda-gdb (it debugs host code too) when the machine has it.
    if [ $r -ge 128 ] && [ $r -ne 124 ] && command -v cuda-gdb > /dev/null; then
      timeout 120 cuda-gdb -batch -ex run -ex bt --args "$exe" --device cuda "$@" > "$log.gdb" 2>&1
      grep -E "^#[0-9]+" "$log.gdb" | head -25 | tee -a "$md"
    fi
  fi
}
# GPU_CHECKS picks which to run (default: all three).
checks=${GPU_CHECKS:-gpu_check gpu_check_analysis gpu_check_train}
[[ " $checks " == *" gpu_check "* ]] && run gpu_check
[[ " $checks " == *" gpu_check_analysis "* ]] && run gpu_check_analysis ${unet:+--unet $unet}
d=.gpu-data
[[ " $checks " == *" gpu_check_train "* ]] && run gpu_check_train --fmnist $d/fmnist --faces $d/faces.bin --blazeface $d/models/blazeface --faceres $d/models/faceres
echo "total: $(( $(date +%s) - t0 )) s" | tee -a "$md"
cat "$md"
exit $rc
