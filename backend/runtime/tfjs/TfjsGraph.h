#pragma once
// TensorFlow.js graph models (model.json + binary weight shards) executed with LibTorch ops.
//
// model.json holds `modelTopology` (a TensorFlow GraphDef as JSON: nodes with op, inputs and attrs) and
// `weightsManifest` (shard paths and, in order, the name/shape/dtype of every constant, optionally quantised
// to float16 or uint8/uint16 with min/scale). Loading parses and checks everything (unknown ops, dangling
// inputs, cycles, truncated or oversized shards are errors that name the node or file), dequantises the
// weights to float32 on the chosen device, and fixes a topological order. Running feeds the placeholders
// and evaluates only the nodes the requested outputs need.
//
// Semantics follow TensorFlow exactly: tensors are NHWC; convolution filters HWIO (depthwise: H, W, C, M);
// "SAME" padding puts the odd pixel at the bottom/right; average pooling with SAME padding divides by the
// number of valid pixels; ResizeBilinear honours align_corners/half_pixel_centers (TF.js default: neither).
// Device-agnostic: the same code runs on CPU and CUDA.

#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/CancelToken.h"
#include "core/Result.h"

namespace loupe::runtime::tfjs {

struct GraphImpl;

class GraphModel {
 public:
  // Reads `modelJsonPath` and the shards it names (relative to its folder) onto `device`.
  static Result<GraphModel> load(const std::string& modelJsonPath, const torch::Device& device = torch::kCPU);

  // Feeds placeholders by name (float tensors, NHWC, any device: moved to the model's device) and returns
  // the requested node outputs ("node" or "node:0"), in the order asked. Checks the feeds against the
  // placeholders' declared shapes; a failing op is reported with its node name.
  Result<std::vector<torch::Tensor>> execute(const std::vector<std::pair<std::string, torch::Tensor>>& feeds,
                                             const std::vector<std::string>& outputs,
                                             const CancelToken& cancel = CancelToken()) const;

  const std::vector<std::string>& inputNames() const;   // Placeholder nodes
  const std::vector<std::string>& outputNames() const;  // the signature's outputs, else the graph's sinks
  std::vector<std::string> opsUsed() const;             // distinct op names, sorted
  std::size_t nodeCount() const;
  torch::Device device() const;

  // Every op this runtime executes.
  static const std::vector<std::string>& supportedOps();

 private:
  std::shared_ptr<const GraphImpl> impl_;
};

}  // namespace loupe::runtime::tfjs
