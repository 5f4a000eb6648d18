#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0, numpy/lib/format.py): the magic "\x93NUMPY", a
// version, a header length, a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, D)}
// padded to a multiple of 64 bytes, then the raw values. Only what an embedding matrix is read: 2-D,
// float32 or float64 (either byte order), C order. Fortran-ordered arrays, other dtypes and other ranks are
// refused with a message that says how to convert them in NumPy.

#include <torch/types.h>

#include <string>

#include "core/Result.h"

namespace loupe::index {

// The matrix as float32 [N, D] on the CPU (float64 is converted).
Result<torch::Tensor> readNpyMatrix(const std::string& path);
// Writes a float32 [N, D] matrix as a version 1.0 .npy (little-endian, C order).
Result<void> writeNpyMatrix(const std::string& path, const torch::Tensor& matrix);

}  // namespace loupe::index
