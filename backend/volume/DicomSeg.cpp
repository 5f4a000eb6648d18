// Binary DICOM SEG writing/reading with DCMTK's dcmseg (see DicomSeg.h).

#include "DicomSeg.h"

#include <dcmtk/config/osconfig.h>  // must come first

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmiod/modcommoninstanceref.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

namespace loupe::volume {
namespace fs = std::filesystem;

namespace {

// DCMTK logs its own errors to stderr; ours are returned as values instead.
void quietDcmtk() {
  static const bool once = [] {
    dcmtk::log4cplus::Logger::getRoot().setLogLevel(dcmtk::log4cplus::FATAL_LOG_LEVEL);
    return true;
  }();
  (void)once;
}

std::string ds(double v) {  // DICOM DS: at most 16 characters
  char buf[32];
  for (int precision = 10; precision >= 4; --precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::string(buf).size() <= 16) break;
  }
  return buf;
}

std::string text(const OFCondition& c) { return c.text() ? c.text() : "unknown DCMTK error"; }

std::int32_t labelAt(const Volume& v, std::size_t at) {
  if (v.type == VoxelType::Int32) return v.ints[at];
  const float f = v.floats[at];
  return std::isfinite(f) ? std::int32_t(std::lround(f)) : 0;
}

struct SourceSlice {
  std::string file, sopClass, sopInstance, seriesUid;
  Vec3 position{0, 0, 0};
};

Result<SourceSlice> readSourceSlice(const std::string& file) {
  DcmFileFormat ff;
  // Pixel data (and any value over 4 kB) stays on disk: only the header is needed.
  const OFCondition c = ff.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 4096);
  if (c.bad()) return Error{ErrorCode::CorruptData, file + " cannot be read as DICOM: " + text(c)};
  DcmDataset* d = ff.getDataset();
  SourceSlice s;
  s.file = file;
  OFString v;
  if (d->findAndGetOFString(DCM_SOPClassUID, v).good()) s.sopClass = v.c_str();
  if (d->findAndGetOFString(DCM_SOPInstanceUID, v).good()) s.sopInstance = v.c_str();
  if (d->findAndGetOFString(DCM_SeriesInstanceUID, v).good()) s.seriesUid = v.c_str();
  bool hasPosition = true;
  for (unsigned long i = 0; i < 3; ++i) {
    Float64 x = 0;
    if (d->findAndGetFloat64(DCM_ImagePositionPatient, x, i).bad()) hasPosition = false;
    s.position[i] = x;
  }
  if (s.sopClass.empty() || s.sopInstance.empty() || !hasPosition)
    return Error{ErrorCode::CorruptData, file + " lacks SOP Class/Instance UID or Image Position (Patient); a DICOM SEG "
                                                "can only reference images with a position in space"};
  return s;
}

std::string trimmed(std::string s, std::size_t max) {
  if (s.size() > max) s.resize(max);
  return s;
}

}  // namespace

Result<DicomSegSummary> writeDicomSeg(const Volume& labels, const DicomSeries& source, const std::string& path,
                                      const DicomSegOptions& options, const CancelToken& cancel) {
  quietDcmtk();
  const std::string what = "DICOM SEG " + path;
  if (labels.empty()) return Error{ErrorCode::InvalidArgument, what + ": the label volume is empty"};
  if (source.files.empty()) return Error{ErrorCode::InvalidArgument, what + ": the source series has no files"};
  if (labels.size[0] > 65535 || labels.size[1] > 65535)
    return Error{ErrorCode::InvalidArgument, what + ": slices larger than 65535 pixels cannot be stored in DICOM"};

  // The grid of the source series, as the loader reads it: the labels must be on it.
  auto grid = readDicomSeries(source);
  if (!grid) return grid.error().withContext(what);
  if (!sameGeometry(*grid, labels, 1e-3)) {
    return Error{ErrorCode::InvalidArgument,
                 what + ": the label volume is not on the source series' grid (" + std::to_string(grid->size[0]) + "x" +
                     std::to_string(grid->size[1]) + "x" + std::to_string(grid->size[2]) + " voxels vs " +
                     std::to_string(labels.size[0]) + "x" + std::to_string(labels.size[1]) + "x" +
                     std::to_string(labels.size[2]) + ", or another spacing/origin/orientation); resample it to the "
                     "series first"};
  }

  // Source slice k: the file whose Image Position (Patient) is the world position of voxel (0, 0, k).
  std::vector<SourceSlice> slices;
  for (const std::string& f : source.files) {
    auto s = readSourceSlice(f);
    if (!s) return s.error().withContext(what);
    slices.push_back(std::move(*s));
  }
  std::vector<const SourceSlice*> sliceOf(std::size_t(labels.size[2]), nullptr);
  const double tol = std::max(1e-3, 0.05 * labels.spacing[2]);
  for (std::int64_t k = 0; k < labels.size[2]; ++k) {
    const Vec3 p = labels.indexToWorld({0, 0, double(k)});
    for (const SourceSlice& s : slices)
      if (std::abs(s.position[0] - p[0]) < tol && std::abs(s.position[1] - p[1]) < tol && std::abs(s.position[2] - p[2]) < tol)
        sliceOf[std::size_t(k)] = &s;
    if (!sliceOf[std::size_t(k)])
      return Error{ErrorCode::CorruptData, what + ": no file of the source series lies at slice " + std::to_string(k) +
                                               " (" + ds(p[0]) + ", " + ds(p[1]) + ", " + ds(p[2]) + ")"};
  }

  // Labels present, in ascending order: segment n = n-th label.
  std::set<std::int32_t> present;
  for (std::size_t i = 0; i < std::size_t(labels.voxelCount()); ++i)
    if (const std::int32_t l = labelAt(labels, i); l > 0) present.insert(l);
  if (present.empty()) return Error{ErrorCode::InvalidArgument, what + ": the label volume has no labelled voxel (nothing to segment)"};
  if (present.size() > 65535) return Error{ErrorCode::InvalidArgument, what + ": more than 65535 labels"};

  IODGeneralEquipmentModule::EquipmentInfo equipment("Loupe", "Loupe", "0", options.algorithmVersion.c_str());
  ContentIdentificationMacro content("1", "CANDIDATES", trimmed(options.seriesDescription, 64).c_str(), "");
  DcmSegmentation* raw = nullptr;
  OFCondition c = DcmSegmentation::createBinarySegmentation(raw, Uint16(labels.size[1]), Uint16(labels.size[0]),
                                                            equipment, content);
  if (c.bad() || !raw) return Error{ErrorCode::Internal, what + ": dcmseg could not create the object: " + text(c)};
  std::unique_ptr<DcmSegmentation> seg(raw);

  {
    DcmFileFormat first;
    c = first.loadFile(slices.front().file.c_str(), EXS_Unknown, EGL_noChange, 4096);
    if (c.good()) c = seg->importFromSourceImage(*first.getDataset());
    if (c.bad())
      return Error{ErrorCode::CorruptData, what + ": patient/study of " + slices.front().file + " cannot be taken over: " + text(c)};
  }
  seg->getSeries().setSeriesDescription(trimmed(options.seriesDescription, 64).c_str());
  seg->getSeries().setSeriesNumber(std::to_string(options.seriesNumber).c_str());

  // Shared functional groups: orientation (row = +x index axis, column = +y) and pixel measures.
  FGPlaneOrientationPatient* orientation = FGPlaneOrientationPatient::createMinimal(
      ds(labels.direction[0]).c_str(), ds(labels.direction[3]).c_str(), ds(labels.direction[6]).c_str(),
      ds(labels.direction[1]).c_str(), ds(labels.direction[4]).c_str(), ds(labels.direction[7]).c_str());
  if (!orientation) return Error{ErrorCode::Internal, what + ": invalid orientation"};
  c = seg->addForAllFrames(*orientation);
  delete orientation;
  FGPixelMeasures measures;
  if (c.good()) c = measures.setPixelSpacing((ds(labels.spacing[1]) + "\\" + ds(labels.spacing[0])).c_str());
  if (c.good()) c = measures.setSliceThickness(ds(labels.spacing[2]).c_str());
  if (c.good()) c = measures.setSpacingBetweenSlices(ds(labels.spacing[2]).c_str());
  if (c.good()) c = seg->addForAllFrames(measures);
  if (c.bad()) return Error{ErrorCode::Internal, what + ": shared functional groups: " + text(c)};

  // Dimensions: segment, then position.
  char dimUid[100];
  dcmGenerateUniqueIdentifier(dimUid, SITE_INSTANCE_UID_ROOT);
  IODMultiframeDimensionModule& dims = seg->getDimensions();
  c = dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dimUid, DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber");
  if (c.good()) c = dims.addDimensionIndex(DCM_ImagePositionPatient, dimUid, DCM_PlanePositionSequence, "ImagePositionPatient");
  if (c.bad()) return Error{ErrorCode::Internal, what + ": dimension index: " + text(c)};

  std::map<std::int32_t, const SegmentDescription*> described;
  for (const SegmentDescription& s : options.segments) described[s.label] = &s;
  const std::size_t frameSize = std::size_t(labels.size[0] * labels.size[1]);
  std::vector<Uint8> pixels(frameSize);
  DicomSegSummary summary;
  Uint16 segmentNumber = 0;
  for (std::int32_t label : present) {
    if (cancel.isCancelled()) return Error{ErrorCode::Cancelled, what + ": cancelled"};
    const SegmentDescription* d = described.count(label) ? described[label] : nullptr;
    const std::string name = d && !d->name.empty() ? d->name : "Candidate " + std::to_string(label);
    DcmSegment* segment = nullptr;
    // SNOMED CT: category "Morphologically Altered Structure", type "Lesion" (DICOM CID 7150 / 7151).
    c = DcmSegment::create(segment, trimmed(name, 64).c_str(), CodeSequenceMacro("49755003", "SCT", "Morphologically Altered Structure"),
                           CodeSequenceMacro("52988006", "SCT", "Lesion"), DcmSegTypes::SAT_AUTOMATIC,
                           trimmed(options.algorithmName, 64).c_str());
    if (c.bad() || !segment) return Error{ErrorCode::Internal, what + ": segment '" + name + "': " + text(c)};
    if (d && !d->description.empty()) segment->setSegmentDescription(trimmed(d->description, 64).c_str(), OFFalse);
    const std::array<std::uint8_t, 3> rgb = d ? d->rgb : std::array<std::uint8_t, 3>{230, 159, 0};
    double L = 0, a = 0, b = 0;
    IODCIELabUtil::rgb2DicomLab(L, a, b, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
    segment->setRecommendedDisplayCIELabValue(Uint16(std::lround(L)), Uint16(std::lround(a)), Uint16(std::lround(b)));
    c = seg->addSegment(segment, segmentNumber);
    if (c.bad()) {
      delete segment;
      return Error{ErrorCode::Internal, what + ": adding segment '" + name + "': " + text(c)};
    }
    ++summary.segments;
    for (std::int64_t k = 0; k < labels.size[2]; ++k) {
      bool any = false;
      // Frame rows run along the column direction (+y index), columns along the row direction (+x).
      for (std::int64_t j = 0; j < labels.size[1]; ++j)
        for (std::int64_t i = 0; i < labels.size[0]; ++i) {
          const bool on = labelAt(labels, labels.offset(i, j, k)) == label;
          pixels[std::size_t(j * labels.size[0] + i)] = on ? 1 : 0;
          any = any || on;
        }
      if (!any) continue;  // frames without the segment are left out, as the standard allows
      const SourceSlice& src = *sliceOf[std::size_t(k)];
      std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
          ds(src.position[0]).c_str(), ds(src.position[1]).c_str(), ds(src.position[2]).c_str()));
      FGFrameContent frameContent;
      frameContent.setDimensionIndexValues(segmentNumber, 0);
      frameContent.setDimensionIndexValues(Uint32(k + 1), 1);
      ImageSOPInstanceReferenceMacro* created = nullptr;
      c = ImageSOPInstanceReferenceMacro::create(src.sopClass.c_str(), src.sopInstance.c_str(), created);
      if (c.bad() || !created) return Error{ErrorCode::Internal, what + ": source reference: " + text(c)};
      OFVector<ImageSOPInstanceReferenceMacro> refs;
      refs.push_back(*created);
      delete created;
      std::unique_ptr<FGDerivationImage> derivation(
          DcmSegmentation::createDerivationImageFG(refs, "Lesion candidates from the prostate MRI study"));
      if (!position || !derivation) return Error{ErrorCode::Internal, what + ": cannot build the frame's functional groups"};
      OFVector<FGBase*> perFrame;
      perFrame.push_back(position.get());
      perFrame.push_back(&frameContent);
      perFrame.push_back(derivation.get());
      c = seg->addFrame(pixels.data(), segmentNumber, perFrame);
      if (c.bad()) return Error{ErrorCode::Internal, what + ": adding the frame of slice " + std::to_string(k) + ": " + text(c)};
      ++summary.frames;
    }
  }

  // The source series, for readers that look for what the SEG belongs to.
  IODReferences references;
  OFVector<OFString> files;
  for (const SourceSlice& s : slices) files.push_back(s.file.c_str());
  if (references.addFromFiles(files) == 0)
    return Error{ErrorCode::CorruptData, what + ": the source files cannot be referenced (no patient/study/series UIDs)"};
  OFString studyUid;
  seg->getStudy().getStudyInstanceUID(studyUid);
  seg->getCommonInstanceReference().addReferences(references, studyUid);

  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  c = seg->saveFile(path.c_str(), EXS_LittleEndianExplicit);
  if (c.bad()) return Error{ErrorCode::Io, "Cannot write " + what + ": " + text(c)};
  OFString v;
  seg->getSeries().getSeriesInstanceUID(v);
  summary.seriesInstanceUid = v.c_str();
  seg->getSOPCommon().getSOPInstanceUID(v);
  summary.sopInstanceUid = v.c_str();
  return summary;
}

Result<DicomSegContents> inspectDicomSeg(const std::string& path) {
  quietDcmtk();
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(path.c_str());
  if (c.bad()) return Error{ErrorCode::CorruptData, path + " cannot be read as DICOM: " + text(c)};
  DcmDataset* d = ff.getDataset();
  OFString v;
  if (d->findAndGetOFString(DCM_SOPClassUID, v).bad() || v != UID_SegmentationStorage)
    return Error{ErrorCode::CorruptData, path + " is not a DICOM Segmentation (SOP Class " + std::string(v.c_str()) + ")"};
  DicomSegContents out;
  Uint16 u = 0;
  if (d->findAndGetUint16(DCM_Rows, u).good()) out.rows = u;
  if (d->findAndGetUint16(DCM_Columns, u).good()) out.columns = u;
  if (d->findAndGetOFString(DCM_FrameOfReferenceUID, v).good()) out.frameOfReferenceUid = v.c_str();
  if (d->findAndGetOFString(DCM_StudyInstanceUID, v).good()) out.studyInstanceUid = v.c_str();
  if (d->findAndGetOFString(DCM_PatientID, v).good()) out.patientId = v.c_str();
  DcmItem* item = nullptr;
  for (unsigned long i = 0; d->findAndGetSequenceItem(DCM_SegmentSequence, item, long(i)).good(); ++i) {
    OFString label;
    item->findAndGetOFString(DCM_SegmentLabel, label);
    out.segmentLabels.push_back(label.c_str());
  }
  if (d->findAndGetSequenceItem(DCM_ReferencedSeriesSequence, item, 0).good() &&
      item->findAndGetOFString(DCM_SeriesInstanceUID, v).good())
    out.referencedSeriesUid = v.c_str();
  DcmItem* shared = nullptr;
  if (d->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good()) {
    DcmItem* g = nullptr;
    if (shared->findAndGetSequenceItem(DCM_PlaneOrientationSequence, g, 0).good())
      for (unsigned long i = 0; i < 6; ++i) g->findAndGetFloat64(DCM_ImageOrientationPatient, out.orientation[i], i);
    if (shared->findAndGetSequenceItem(DCM_PixelMeasuresSequence, g, 0).good())
      for (unsigned long i = 0; i < 2; ++i) g->findAndGetFloat64(DCM_PixelSpacing, out.pixelSpacing[i], i);
  }
  DcmItem* frame = nullptr;
  for (unsigned long f = 0; d->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frame, long(f)).good(); ++f) {
    DcmItem* g = nullptr;
    Vec3 p{0, 0, 0};
    if (frame->findAndGetSequenceItem(DCM_PlanePositionSequence, g, 0).good())
      for (unsigned long i = 0; i < 3; ++i) g->findAndGetFloat64(DCM_ImagePositionPatient, p[i], i);
    out.framePosition.push_back(p);
    Uint16 segment = 0;
    if (frame->findAndGetSequenceItem(DCM_SegmentIdentificationSequence, g, 0).good())
      g->findAndGetUint16(DCM_ReferencedSegmentNumber, segment);
    out.frameSegment.push_back(segment);
    std::string sop;
    DcmItem* derivation = nullptr;
    DcmItem* sourceImage = nullptr;
    if (frame->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good() &&
        derivation->findAndGetSequenceItem(DCM_SourceImageSequence, sourceImage, 0).good() &&
        sourceImage->findAndGetOFString(DCM_ReferencedSOPInstanceUID, v).good())
      sop = v.c_str();
    out.frameSourceSopInstance.push_back(sop);
  }
  return out;
}

Result<Volume> readDicomSeg(const std::string& path, const Volume& grid) {
  quietDcmtk();
  auto contents = inspectDicomSeg(path);
  if (!contents) return contents.error();
  if (contents->rows != grid.size[1] || contents->columns != grid.size[0])
    return Error{ErrorCode::InvalidArgument, path + ": frames are " + std::to_string(contents->columns) + "x" +
                                                 std::to_string(contents->rows) + ", the series' slices " +
                                                 std::to_string(grid.size[0]) + "x" + std::to_string(grid.size[1])};
  DcmSegmentation* raw = nullptr;
  OFCondition c = DcmSegmentation::loadFile(path.c_str(), raw);
  if (c.bad() || !raw) return Error{ErrorCode::CorruptData, path + " cannot be read by dcmseg: " + text(c)};
  std::unique_ptr<DcmSegmentation> seg(raw);
  if (seg->getSegmentationType() != DcmSegTypes::ST_BINARY)
    return Error{ErrorCode::UnsupportedFormat, path + " is a fractional segmentation; only binary SEG is read"};
  Volume out = grid.sameGrid(VoxelType::Int32);
  const std::size_t frames = seg->getNumberOfFrames();
  if (frames != contents->framePosition.size())
    return Error{ErrorCode::CorruptData, path + ": " + std::to_string(frames) + " frames but " +
                                             std::to_string(contents->framePosition.size()) + " per-frame groups"};
  for (std::size_t f = 0; f < frames; ++f) {
    const Vec3 idx = grid.worldToIndex(contents->framePosition[f]);
    const long k = std::lround(idx[2]);
    if (std::abs(idx[0]) > 0.05 || std::abs(idx[1]) > 0.05 || std::abs(idx[2] - double(k)) > 0.05 || k < 0 || k >= grid.size[2])
      return Error{ErrorCode::InvalidArgument, path + ": frame " + std::to_string(f + 1) + " is not on a slice of the series"};
    const DcmIODTypes::Frame* packed = seg->getFrame(f);
    std::unique_ptr<DcmIODTypes::Frame> frame(
        packed ? DcmSegUtils::unpackBinaryFrame(packed, Uint16(grid.size[1]), Uint16(grid.size[0])) : nullptr);
    if (!frame) return Error{ErrorCode::CorruptData, path + ": frame " + std::to_string(f + 1) + " cannot be unpacked"};
    const std::int32_t label = contents->frameSegment[f];
    for (std::int64_t j = 0; j < grid.size[1]; ++j)
      for (std::int64_t i = 0; i < grid.size[0]; ++i)
        if (frame->pixData[std::size_t(j * grid.size[0] + i)]) out.ints[out.offset(i, j, k)] = label;
  }
  return out;
}

}  // namespace loupe::volume
