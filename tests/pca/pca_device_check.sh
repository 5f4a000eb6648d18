#!/usr/bin/env bash
# PCA on a GPU machine (CUDA torch wheel, cmake, ninja, no Qt): builds loupe_analysis of the Qt-free backend
# against the wheel's LibTorch, compiles pca_device_check.cpp against it and runs it. Carry third_party
# (nlohmann headers, see tools/gpu-check/stage-data.sh) with the device call. Usage: tests/pca/pca_device_check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
OUTDIR=${OUT:-.}
TORCH_CMAKE=$($PY -c "import torch; print(torch.utils.cmake_prefix_path)")
TORCH_DIR=$($PY -c "import torch, os; print(os.path.dirname(torch.__file__))")
ABI=$($PY -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))")
$PY -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))'
cmake -S . -B build-gpu -G Ninja -DLOUPE_BACKEND_ONLY=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_CMAKE" \
  > "$OUTDIR/pca-configure.log" 2>&1 || { tail -30 "$OUTDIR/pca-configure.log"; exit 3; }
cmake --build build-gpu --target loupe_analysis > "$OUTDIR/pca-build.log" 2>&1 || { grep -E "error" "$OUTDIR/pca-build.log" | head -20; exit 3; }
LIBDIR=$(dirname "$(find build-gpu -name 'libloupe_analysis.so' | head -1)")
CORE=$(dirname "$(find build-gpu -name 'libloupe_core.so' | head -1)")
g++ -O2 -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=$ABI tests/pca/pca_device_check.cpp -Ibackend \
  -isystem "$TORCH_DIR/include" -isystem "$TORCH_DIR/include/torch/csrc/api/include" \
  -L"$LIBDIR" -L"$CORE" -L"$TORCH_DIR/lib" -Wl,-rpath,"$LIBDIR:$CORE:$TORCH_DIR/lib" \
  -Wl,--no-as-needed -lloupe_analysis -lloupe_core -ltorch -ltorch_cuda -ltorch_cpu -lc10_cuda -lc10 \
  -o build-gpu/pca_device_check
build-gpu/pca_device_check
