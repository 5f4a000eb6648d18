#pragma once
// DICOM Segmentation objects (SEG, binary) for label maps on a DICOM series' grid, through DCMTK's
// dcmseg: one segment per non-zero label, one frame per (segment, source slice) holding that label,
// each frame with its plane position and a derivation reference to its source image, the source series
// in the Common Instance Reference module, patient/study/frame of reference taken from the source.
// Readers (OHIF, 3D Slicer, dcmqi) then show the segments on the source series.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/CancelToken.h"
#include "core/Result.h"
#include "core/Volume.h"
#include "volume/VolumeIO.h"

namespace loupe::volume {

// How one label is described in the SEG (SegmentLabel, SegmentDescription, display colour).
struct SegmentDescription {
  std::int32_t label = 0;
  std::string name;         // SegmentLabel (LO, <= 64 chars); default "Candidate <label>"
  std::string description;  // SegmentDescription, e.g. "likelihood 0.83, 1.2 mL"; may be empty
  std::array<std::uint8_t, 3> rgb{230, 159, 0};  // recommended display colour (sRGB, stored as CIELab)
};

struct DicomSegOptions {
  std::string seriesDescription = "Loupe lesion candidates";
  int seriesNumber = 1001;
  std::string algorithmName = "Loupe prostate.detect";
  std::string algorithmVersion = "0.1";
  // Segments by label; labels present in the volume but missing here get defaults.
  std::vector<SegmentDescription> segments;
};

struct DicomSegSummary {
  int segments = 0;
  int frames = 0;
  std::string seriesInstanceUid;  // of the new SEG series
  std::string sopInstanceUid;
};

// Writes `labels` (Int32 or Float32 rounded; on the grid of the series `source`, which readVolume /
// readDicomSeries produced from the same files) to `path` as a binary DICOM SEG. Refuses, with what is
// wrong, a label volume on another grid (resample it to the source first), a source whose files are not
// DICOM images, and a label volume without any non-zero voxel.
Result<DicomSegSummary> writeDicomSeg(const Volume& labels, const DicomSeries& source, const std::string& path,
                                      const DicomSegOptions& options = {}, const CancelToken& cancel = {});

// What a SEG file holds, as read back by DCMTK.
struct DicomSegContents {
  int rows = 0, columns = 0;
  std::vector<std::string> segmentLabels;          // by segment number - 1
  std::vector<int> frameSegment;                   // segment number of each frame
  std::vector<Vec3> framePosition;                 // ImagePositionPatient of each frame
  std::vector<std::string> frameSourceSopInstance; // the derivation image's SOP Instance UID, per frame
  std::array<double, 6> orientation{};             // ImageOrientationPatient (shared)
  std::array<double, 2> pixelSpacing{};            // row spacing, column spacing (shared)
  std::string referencedSeriesUid;                 // Common Instance Reference: the source series
  std::string frameOfReferenceUid;
  std::string studyInstanceUid;
  std::string patientId;
};

Result<DicomSegContents> inspectDicomSeg(const std::string& path);

// Reads a binary SEG back as a label map on `grid` (a volume read from the referenced series): voxel =
// segment number where that segment's frame is set. Frames off the grid's slices are refused.
Result<Volume> readDicomSeg(const std::string& path, const Volume& grid);

}  // namespace loupe::volume
