#pragma once
// A study (several MRI sequences of one patient) from a folder or a list of files. Sequences are named by
// their role when it can be told from file names or DICOM series descriptions ("t2w", "adc", "dwi"),
// else by the file stem.

#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::volume {

// "t2w", "adc", "dwi" or "" for a file name or series description, e.g. "ProstateX-0000_t2w.mha" -> t2w,
// "ep2ddifftraDYNDISTADC" -> adc, "ep2ddifftraDYNDISTCALCBVAL" / "_hbv" -> dwi, nnU-Net's "_0000/_0001/_0002"
// channel suffixes -> t2w/adc/dwi.
std::string sequenceRole(const std::string& name);

// A folder: every volume file in it and every DICOM series in it or in its sub-folders (one level deep
// per series folder, any depth of nesting). Or a list of files/series folders. Two inputs claiming the
// same role are refused with both names.
Result<Study> loadStudy(const std::vector<std::string>& paths, const CancelToken& cancel = {});

}  // namespace loupe::volume
