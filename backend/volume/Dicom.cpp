// DICOM series: listing a folder's series, checking them (mixed sizes/orientations, missing slices) and
// reading one with ITK's GDCM reader.

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "Internal.h"
#include "VolumeIO.h"

namespace loupe::volume {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '\0')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

struct SliceInfo {
  std::string file;
  unsigned rows = 0, cols = 0;
  Vec3 position{0, 0, 0};
  Vec3 row{1, 0, 0}, col{0, 1, 0};
  double along = 0.0;  // position along the slice normal
};

Result<SliceInfo> readSliceInfo(const std::string& file) {
  auto io = itk::GDCMImageIO::New();
  io->SetFileName(file);
  SliceInfo s;
  s.file = file;
  try {
    if (!io->CanReadFile(file.c_str())) return Error{ErrorCode::CorruptData, file + " is not a readable DICOM file"};
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    return Error{ErrorCode::CorruptData, file + " is not a readable DICOM file: " + std::string(e.GetDescription())};
  }
  s.cols = unsigned(io->GetDimensions(0));
  s.rows = unsigned(io->GetDimensions(1));
  for (int i = 0; i < 3; ++i) {
    s.position[i] = io->GetOrigin(i);
    s.row[i] = io->GetDirection(0)[i];
    s.col[i] = io->GetDirection(1)[i];
  }
  const Vec3 n{s.row[1] * s.col[2] - s.row[2] * s.col[1], s.row[2] * s.col[0] - s.row[0] * s.col[2],
               s.row[0] * s.col[1] - s.row[1] * s.col[0]};
  s.along = n[0] * s.position[0] + n[1] * s.position[1] + n[2] * s.position[2];
  return s;
}

std::string describe(const DicomSeries& s) {
  std::ostringstream o;
  o << "#" << s.seriesNumber << " '" << s.description << "' (" << s.files.size() << " files, UID " << s.uid << ")";
  return o.str();
}

}  // namespace

Result<std::vector<DicomSeries>> listDicomSeries(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::NotFound, "No such folder: " + folder};
  std::vector<DicomSeries> out;
  try {
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(false);  // group by SeriesInstanceUID only: mixed content is checked when reading
    names->SetRecursive(false);
    names->SetDirectory(folder);
    for (const std::string& uid : names->GetSeriesUIDs()) {
      DicomSeries s;
      s.uid = uid;
      s.files = names->GetFileNames(uid);
      if (s.files.empty()) continue;
      auto io = itk::GDCMImageIO::New();
      io->SetFileName(s.files.front());
      io->ReadImageInformation();
      std::string v;
      if (io->GetValueFromTag("0008|103e", v)) s.description = trim(v);
      if (io->GetValueFromTag("0008|0060", v)) s.modality = trim(v);
      if (io->GetValueFromTag("0020|0011", v)) s.seriesNumber = std::atoi(trim(v).c_str());
      out.push_back(std::move(s));
    }
  } catch (const itk::ExceptionObject& e) {
    return Error{ErrorCode::CorruptData, "Cannot list the DICOM series in " + folder + ": " + std::string(e.GetDescription())};
  }
  std::sort(out.begin(), out.end(), [](const DicomSeries& a, const DicomSeries& b) {
    return a.seriesNumber != b.seriesNumber ? a.seriesNumber < b.seriesNumber : a.uid < b.uid;
  });
  return out;
}

Result<Volume> readDicomSeries(const DicomSeries& series) {
  if (series.files.empty()) return Error{ErrorCode::InvalidArgument, "DICOM series " + series.uid + " has no files"};
  const std::string where = "DICOM series " + describe(series);
  std::vector<SliceInfo> slices;
  for (const auto& f : series.files) {
    auto s = readSliceInfo(f);
    if (!s) return s.error().withContext(where);
    slices.push_back(std::move(*s));
  }
  // Mixed content: every slice must have the first slice's size and orientation.
  const SliceInfo& first = slices.front();
  for (const SliceInfo& s : slices) {
    if (s.rows != first.rows || s.cols != first.cols) {
      std::ostringstream m;
      m << where << " mixes slice sizes: " << fs::path(first.file).filename().string() << " is " << first.cols << "x"
        << first.rows << ", " << fs::path(s.file).filename().string() << " is " << s.cols << "x" << s.rows
        << " - the folder holds images of different acquisitions; separate them into one folder per series";
      return Error{ErrorCode::CorruptData, m.str()};
    }
    double dot = 0;
    for (int i = 0; i < 3; ++i) dot += std::abs(s.row[i] - first.row[i]) + std::abs(s.col[i] - first.col[i]);
    if (dot > 1e-3) {
      return Error{ErrorCode::CorruptData, where + " mixes slice orientations (" + fs::path(first.file).filename().string() +
                                               " vs " + fs::path(s.file).filename().string() +
                                               ") - a localiser or a reformat is mixed in; separate the series"};
    }
  }
  std::sort(slices.begin(), slices.end(), [](const SliceInfo& a, const SliceInfo& b) { return a.along < b.along; });
  if (slices.size() >= 2) {
    std::vector<double> gaps;
    for (std::size_t i = 1; i < slices.size(); ++i) gaps.push_back(slices[i].along - slices[i - 1].along);
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
    const double usual = sorted[sorted.size() / 2];
    for (std::size_t i = 0; i < gaps.size(); ++i) {
      if (gaps[i] < 1e-4) {
        return Error{ErrorCode::CorruptData, where + " has two slices at the same position (" +
                                                 fs::path(slices[i].file).filename().string() + ", " +
                                                 fs::path(slices[i + 1].file).filename().string() +
                                                 ") - duplicates or several acquisitions in one series"};
      }
      if (gaps[i] > 1.5 * usual) {
        std::ostringstream m;
        m.precision(4);
        m << where << " is missing slices: " << gaps[i] << " mm between " << fs::path(slices[i].file).filename().string()
          << " and " << fs::path(slices[i + 1].file).filename().string() << " where slices are " << usual
          << " mm apart (about " << std::lround(gaps[i] / usual) - 1 << " missing)";
        return Error{ErrorCode::CorruptData, m.str()};
      }
    }
  }
  using Image3 = itk::Image<float, 3>;
  auto reader = itk::ImageSeriesReader<Image3>::New();
  auto io = itk::GDCMImageIO::New();
  reader->SetImageIO(io);
  std::vector<std::string> files;
  for (const auto& s : slices) files.push_back(s.file);
  reader->SetFileNames(files);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    return Error{ErrorCode::CorruptData, where + " could not be read: " + std::string(e.GetDescription())};
  }
  Image3::Pointer image = reader->GetOutput();
  const auto n = image->GetLargestPossibleRegion().GetSize();
  Volume v = Volume::floatVolume({std::int64_t(n[0]), std::int64_t(n[1]), std::int64_t(n[2])});
  for (int i = 0; i < 3; ++i) {
    v.spacing[i] = image->GetSpacing()[i];
    v.origin[i] = image->GetOrigin()[i];
    for (int j = 0; j < 3; ++j) v.direction[i * 3 + j] = image->GetDirection()[i][j];
  }
  std::copy(image->GetBufferPointer(), image->GetBufferPointer() + v.voxelCount(), v.floats.begin());
  v.description = series.description;
  return checkGeometry(std::move(v), where);
}

Result<Volume> readDicomFolder(const std::string& folder, const ReadOptions& options) {
  auto list = listDicomSeries(folder);
  if (!list) return list.error();
  if (list->empty())
    return Error{ErrorCode::NotFound, folder + " holds no DICOM series (no readable DICOM files directly in it)"};
  std::vector<const DicomSeries*> picked;
  if (options.series.empty()) {
    for (const auto& s : *list) picked.push_back(&s);
  } else {
    for (const auto& s : *list)
      if (s.uid == options.series) picked.push_back(&s);
    if (picked.empty())
      for (const auto& s : *list)
        if (lower(s.description).find(lower(options.series)) != std::string::npos) picked.push_back(&s);
  }
  if (picked.size() == 1) return readDicomSeries(*picked.front());
  std::string all;
  for (const auto& s : *list) all += "\n  " + describe(s);
  if (picked.empty())
    return Error{ErrorCode::NotFound, "No DICOM series in " + folder + " matches '" + options.series + "'; it holds:" + all};
  return Error{ErrorCode::InvalidArgument,
               folder + " holds " + std::to_string(picked.size()) + " DICOM series" +
                   (options.series.empty() ? "" : " matching '" + options.series + "'") +
                   "; pick one by description or UID:" + all};
}

}  // namespace loupe::volume
