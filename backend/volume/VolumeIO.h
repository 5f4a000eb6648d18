#pragma once
// Reading and writing 3-D volumes with their geometry (spacing, origin, direction) kept exactly:
// NIfTI (.nii, .nii.gz), MetaImage (.mha, .mhd) and DICOM series (a folder). Errors name the file and
// what is wrong with it; nothing here throws.

#include <string>
#include <vector>

#include "core/Result.h"
#include "core/Volume.h"

namespace loupe::volume {

struct ReadOptions {
  // DICOM folders with several series: which one, by series description (case-insensitive substring)
  // or exact SeriesInstanceUID. Empty: the folder must hold exactly one series.
  std::string series;
  // Integer voxels (labels) are read as Int32 unless this is set.
  bool forceFloat = false;
};

// Reads a NIfTI/MetaImage file or a DICOM series folder.
// 4-D inputs (e.g. several DWI b-values in one file): the first volume is taken and a warning says so
// in Volume::warnings. Zero, negative or non-finite spacing, multi-component voxels and non-finite
// geometry are refused.
Result<Volume> readVolume(const std::string& path, const ReadOptions& options = {});

// Writes NIfTI (.nii or .nii.gz, chosen by the name) or MetaImage (.mha) with the volume's geometry.
// Float volumes are written as float32, Int32 volumes as int32.
Result<void> writeVolume(const Volume& volume, const std::string& path);

// One DICOM series found in a folder.
struct DicomSeries {
  std::string uid;          // SeriesInstanceUID (as ITK/GDCM report it, possibly with details appended)
  std::string description;  // SeriesDescription (0008,103E)
  std::string modality;
  int seriesNumber = 0;
  std::vector<std::string> files;  // sorted along the slice normal
};

// The series in a folder (not recursive), sorted by series number.
Result<std::vector<DicomSeries>> listDicomSeries(const std::string& folder);

// Reads one series: checks that all slices share size and orientation (mixed series are refused with
// what differs) and that no slice is missing (a gap larger than 1.5 times the usual slice distance).
Result<Volume> readDicomSeries(const DicomSeries& series);

// True when `path` names a file whose extension readVolume knows (.nii, .nii.gz, .mha, .mhd).
bool isVolumeFileName(const std::string& path);
// File name without folder and without .nii.gz / .nii / .mha / .mhd.
std::string volumeStem(const std::string& path);

}  // namespace loupe::volume
