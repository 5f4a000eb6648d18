#pragma once
// faces.age: detect faces (BlazeFace), estimate age and gender for each (faceres), return boxes with
// "age 34, F 0.92" labels, the landmarks as points and one table row per face.

#include "sdk/Task.h"

namespace loupe::faces {

class AgeTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

}  // namespace loupe::faces
