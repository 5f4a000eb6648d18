#pragma once
// prostate.detect: a study (t2w, adc, dwi) -> lesion likelihood in the T2W's grid -> PI-CAI candidates.
// Outputs: two tables (candidates; summary with the method and patient score) as layers, and three
// volumes in the T2W geometry (likelihood, detection map, candidate labels) through TaskContext::volumes:
// per-slice 2-D layers would lose the geometry that readers and evaluation (picai_eval) need, and the
// layer variant has no 3-D payload yet.

#include "sdk/Task.h"

namespace loupe::prostate {

class DetectTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

}  // namespace loupe::prostate
