#pragma once
// Shared between the volume library's sources; not part of its interface.

#include <string>

#include "VolumeIO.h"

namespace loupe::volume {

// Refuses non-positive/non-finite spacing, non-finite origin and degenerate direction; names `path`.
Result<Volume> checkGeometry(Volume v, const std::string& path);
// A folder of DICOM files: lists its series and reads the one `options.series` selects.
Result<Volume> readDicomFolder(const std::string& folder, const ReadOptions& options);

}  // namespace loupe::volume
