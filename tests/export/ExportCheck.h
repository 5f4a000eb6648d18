#pragma once
// Shared by the export tests: runs a tools/export script with Debian's python3-torch, reads the reference
// it writes (fixed input tensor, synthetic image, Python's outputs for both as raw float32 + JSON), and
// runs the same package in C++ through TorchScriptModel (tensor) and ImageModel (image) for comparison.

#include <QString>
#include <QStringList>

#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/ImageModel.h"
#include "runtime/ModelPackage.h"

namespace exportcheck {

// /usr/bin/python3 unless LOUPE_EXPORT_PYTHON names another interpreter.
QString python();

// Runs tools/export/<script> with `args` from the source tree; empty on success, else the exit status and
// the script's output. `log` receives the output either way. `*skip` is set (with the reason as the
// result) when the interpreter is missing or cannot import torch/torchvision: the test should QSKIP then.
QString runExport(const QString& script, const QStringList& args, int timeoutSeconds, bool* skip,
                  QString* log = nullptr);

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};
struct Reference {
  torch::Tensor input;                  // the fixed input tensor
  std::vector<NamedTensor> tensorOutputs;  // Python's outputs for `input`
  std::string imagePath;                // synthetic PNG; empty when the model does not take one RGB image
  std::vector<NamedTensor> imageOutputs;   // Python's outputs for the image preprocessed per the manifest
};
// Reads <dir>/reference.json and the files it names; error text in `error` when it fails.
bool readReference(const QString& dir, Reference& ref, QString* error);

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b);

struct Comparison {
  double tensorMaxAbs = 0;  // largest |C++ - Python| over all outputs, tensor input
  double imageMaxAbs = 0;   // same for the image path (ImageModel preprocessing vs Python's); 0 without image
  QString error;            // non-empty when something failed before numbers could be compared
};
// Runs `packageDir` on the reference tensor only and returns the largest |C++ - reference| over its outputs
// (-1 and `error` set on failure): another package expected to compute the same function.
double compareTensorOnly(const QString& packageDir, const Reference& ref, QString* error);

// Opens the package (sha256 checked), runs the reference tensor through TorchScriptModel and the reference
// image through ImageModel on the CPU, and compares every output with Python's. `inspect` (optional) sees the
// ImageModel and its outputs for the image, for checks of the typed views (embedding, pixelFeatures ...).
using Inspect = std::function<void(loupe::runtime::ImageModel&, const std::vector<torch::Tensor>&)>;
Comparison compareWithPython(const QString& packageDir, const Reference& ref, const std::string& taskId,
                             const Inspect& inspect = {});

}  // namespace exportcheck

// In a Qt Test slot: runs the export script, QSKIPs when Python/torch is missing, fails on script errors.
#define EXPORT_OR_SKIP(script, args)                                              \
  do {                                                                            \
    bool skip = false;                                                            \
    const QString err = exportcheck::runExport(script, args, 300, &skip, nullptr); \
    if (skip) QSKIP(qPrintable(err));                                             \
    QVERIFY2(err.isEmpty(), qPrintable(err));                                     \
  } while (0)
