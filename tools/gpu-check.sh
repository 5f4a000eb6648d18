#!/usr/bin/env bash
# Run on a GPU machine (CUDA torch wheel, cmake, ninja; no Qt/OpenCV): builds the Qt-free backend
# against the wheel's LibTorch, runs the device checks and benchmarks, and writes a Markdown table to
# ${OUT:-.}/gpu-check.md. Usage: tools/gpu-check.sh [extra gpu_check args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_CMAKE=$($PY -c "import torch; print(torch.utils.cmake_prefix_path)")
echo "torch: $($PY -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")')"
# nlohmann-json is header-only; a device machine without it uses third_party/include/nlohmann, staged
# beforehand on a Debian machine with: mkdir -p third_party/include && cp -r /usr/include/nlohmann third_party/include/
# backend/cuda's kernels are built when nvcc is found (PATH or /usr/local/cuda) and checked by gpu_check.
cuda_args=()
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
cmake -S . -B build-gpu -G Ninja -DLOUPE_BACKEND_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE" "${cuda_args[@]}" >/dev/null
cmake --build build-gpu --target gpu_check
out="${OUT:-.}/gpu-check.md"
./build-gpu/bench/gpu_check --device cuda --out "$out" "$@"
