#!/usr/bin/env bash
# On a GPU machine with a CUDA torch wheel (cmake, ninja; no Qt needed): builds loupe_analysis against the
# wheel's LibTorch (LOUPE_BACKEND_ONLY), then cuda_check.cpp beside it, and runs it on DATA/vectors.npy and
# DATA/labels.npy (bench_projection --prepare-only --out DATA writes them). Report: ${OUT:-.}/projection-cuda.md.
#   tests/projection/cuda_check.sh DATA
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$(cd "$1" && pwd)
OUTDIR=${OUT:-.}
PY=${PYTHON:-python3}
TORCH_CMAKE=$($PY -c "import torch; print(torch.utils.cmake_prefix_path)")
$PY -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$OUTDIR/projection-cuda.md"
t0=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DLOUPE_BACKEND_ONLY=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_CMAKE" \
  > "$OUTDIR/configure.log" 2>&1 || { tail -30 "$OUTDIR/configure.log"; exit 3; }
cmake --build build-gpu --target loupe_analysis > "$OUTDIR/build.log" 2>&1 || { grep -E "error" "$OUTDIR/build.log" | head -20; exit 3; }
src=$(pwd)
mkdir -p build-gpu/cuda-check
cat > build-gpu/cuda-check/CMakeLists.txt <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(projection_cuda_check CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(Torch REQUIRED)
add_executable(cuda_check $src/tests/projection/cuda_check.cpp)
target_include_directories(cuda_check PRIVATE $src/backend)
target_link_libraries(cuda_check PRIVATE $src/build-gpu/lib/libloupe_analysis.so $src/build-gpu/lib/libloupe_core.so \${TORCH_LIBRARIES})
CMAKE
cmake -S build-gpu/cuda-check -B build-gpu/cuda-check/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE" >> "$OUTDIR/configure.log" 2>&1
cmake --build build-gpu/cuda-check/build >> "$OUTDIR/build.log" 2>&1 || { grep -E "error" "$OUTDIR/build.log" | head -20; exit 3; }
echo "build: $(( $(date +%s) - t0 )) s" | tee -a "$OUTDIR/projection-cuda.md"
build-gpu/cuda-check/build/cuda_check "$data/vectors.npy" "$data/labels.npy" | tee -a "$OUTDIR/projection-cuda.md"
