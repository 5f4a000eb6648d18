#pragma once

#include "sdk/Task.h"

namespace loupe::forgery {

// forgery.ela: Error Level Analysis as a heatmap, plus a table of error statistics.
class ElaTask : public sdk::Task {
 public:
  Result<std::vector<Layer>> run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                 sdk::TaskContext& context) override;
};

}  // namespace loupe::forgery
