#pragma once
// Process exit codes shared by loupe-cli and `loupe --headless` (documented in docs/cli.md).

#include "TaskRunner.h"

namespace loupe::host {

enum Exit { Ok = 0, Internal = 1, Usage = 2, BadInput = 3, TaskFailed = 4, NoDevice = 5, PluginFailed = 6,
            OutputFailed = 7, Cancelled = 130 };

inline int exitCodeFor(RunStage stage, const Error& e) {
  if (e.code == ErrorCode::Cancelled) return Cancelled;
  switch (stage) {
    case RunStage::Usage: return Usage;
    case RunStage::Device: return NoDevice;
    case RunStage::Input: return BadInput;
    case RunStage::Plugin: return PluginFailed;
    case RunStage::Task: return e.code == ErrorCode::Internal ? Internal : TaskFailed;
    case RunStage::Output: return OutputFailed;
  }
  return Internal;
}

}  // namespace loupe::host
