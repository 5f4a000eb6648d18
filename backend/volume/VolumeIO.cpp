#include "VolumeIO.h"
#include "Internal.h"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOBase.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <zlib.h>

namespace loupe::volume {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMaxVoxels = std::int64_t(1) << 30;  // 1 Gi voxels (4 GiB as float)

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ITK's exception text without the source file and line it was raised at.
std::string itkMessage(const itk::ExceptionObject& e) {
  std::string d = e.GetDescription();
  while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
  return d.empty() ? std::string(e.what()) : d;
}

itk::ImageIOBase::Pointer ioFor(const std::string& path) {
  const std::string l = lower(path);
  if (endsWith(l, ".nii") || endsWith(l, ".nii.gz")) return itk::NiftiImageIO::New().GetPointer();
  if (endsWith(l, ".mha") || endsWith(l, ".mhd")) return itk::MetaImageIO::New().GetPointer();
  return nullptr;
}

bool isIntegerComponent(itk::IOComponentEnum c) {
  using C = itk::IOComponentEnum;
  return c == C::UCHAR || c == C::CHAR || c == C::USHORT || c == C::SHORT || c == C::INT;
}

// Reads any file with up to 4 dimensions into a 4-D image and keeps volume 0 of the 4th axis.
template <class Pixel>
Result<Volume> readAs(const std::string& path, itk::ImageIOBase* io, VoxelType type) {
  using Image4 = itk::Image<Pixel, 4>;
  auto reader = itk::ImageFileReader<Image4>::New();
  reader->SetImageIO(io);
  reader->SetFileName(path);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    return Error{ErrorCode::CorruptData, path + " could not be read (the file is truncated or damaged): " + itkMessage(e)};
  } catch (const std::exception& e) {
    return Error{ErrorCode::CorruptData, path + " could not be read: " + e.what()};
  }
  typename Image4::Pointer image = reader->GetOutput();
  const auto region = image->GetLargestPossibleRegion();
  const auto n = region.GetSize();
  Volume v = type == VoxelType::Float32
                 ? Volume::floatVolume({std::int64_t(n[0]), std::int64_t(n[1]), std::int64_t(n[2])})
                 : Volume::intVolume({std::int64_t(n[0]), std::int64_t(n[1]), std::int64_t(n[2])});
  const auto sp = image->GetSpacing();
  const auto org = image->GetOrigin();
  const auto dir = image->GetDirection();
  for (int i = 0; i < 3; ++i) {
    v.spacing[i] = sp[i];
    v.origin[i] = org[i];
    for (int j = 0; j < 3; ++j) v.direction[i * 3 + j] = dir[i][j];
  }
  const Pixel* buffer = image->GetBufferPointer();
  const std::size_t count = std::size_t(v.voxelCount());  // volume 0 of the 4th axis comes first
  if (type == VoxelType::Float32)
    for (std::size_t i = 0; i < count; ++i) v.floats[i] = static_cast<float>(buffer[i]);
  else
    for (std::size_t i = 0; i < count; ++i) v.ints[i] = static_cast<std::int32_t>(buffer[i]);
  if (n[3] > 1) {
    std::ostringstream w;
    w << fs::path(path).filename().string() << " is 4-D (" << n[0] << "x" << n[1] << "x" << n[2] << "x" << n[3]
      << "): took the first volume (index 0 of " << n[3] << " along the 4th axis)";
    v.warnings.push_back(w.str());
  }
  return v;
}

// Decompresses the whole file and checks that the gzip stream ends properly.
Result<void> gzipIntact(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Error{ErrorCode::Io, "Cannot open " + path};
  std::vector<char> buffer(1 << 20);
  int n = 0;
  while ((n = gzread(f, buffer.data(), unsigned(buffer.size()))) > 0) {
  }
  int code = Z_OK;
  const char* message = gzerror(f, &code);
  const std::string text = message ? message : "";
  gzclose(f);
  if (n < 0 || code != Z_OK)
    return Error{ErrorCode::CorruptData, path + " is truncated or damaged (gzip: " + (text.empty() ? "read error" : text) +
                                             "); copy or download it again"};
  return {};
}

// The NIfTI library replaces a zero or NaN pixdim by 1 without a word; a header like that is damaged, so it
// is read here first (NIfTI-1 and NIfTI-2, either byte order, gzip or not).
Result<void> checkNiftiPixdim(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads uncompressed files too
  if (!f) return Error{ErrorCode::Io, "Cannot open " + path};
  unsigned char h[540] = {};
  const int got = gzread(f, h, sizeof h);
  gzclose(f);
  if (got < 348) return {};  // too short: ITK's own check reports it
  auto i32 = [&](int at, bool swap) {
    std::uint32_t v;
    std::memcpy(&v, h + at, 4);
    if (swap) v = __builtin_bswap32(v);
    return std::int32_t(v);
  };
  for (bool swap : {false, true}) {
    const std::int32_t size = i32(0, swap);
    if (size != 348 && size != 540) continue;
    const bool v2 = size == 540;
    double dim0 = 0, pix[4] = {};
    if (!v2) {
      std::uint16_t d;
      std::memcpy(&d, h + 40, 2);
      if (swap) d = __builtin_bswap16(d);
      dim0 = double(std::int16_t(d));
      for (int i = 1; i <= 3; ++i) {
        std::uint32_t u = std::uint32_t(i32(76 + 4 * i, swap));
        float x;
        std::memcpy(&x, &u, 4);
        pix[i] = x;
      }
    } else {
      std::uint64_t d;
      std::memcpy(&d, h + 16, 8);
      if (swap) d = __builtin_bswap64(d);
      dim0 = double(std::int64_t(d));
      for (int i = 1; i <= 3; ++i) {
        std::uint64_t u;
        std::memcpy(&u, h + 104 + 8 * i, 8);
        if (swap) u = __builtin_bswap64(u);
        double x;
        std::memcpy(&x, &u, 8);
        pix[i] = x;
      }
    }
    for (int i = 1; i <= std::min(3, int(dim0)); ++i) {
      if (pix[i] == 0.0 || !std::isfinite(pix[i])) {
        std::ostringstream m;
        m << path << " has an invalid voxel spacing along axis " << "xyz"[i - 1] << " (pixdim[" << i << "] = " << pix[i]
          << " in the NIfTI header); spacing must be a positive number - the header is damaged or was written wrongly";
        return Error{ErrorCode::CorruptData, m.str()};
      }
    }
    return {};
  }
  return {};
}

}  // namespace

bool isVolumeFileName(const std::string& path) {
  const std::string l = lower(path);
  return endsWith(l, ".nii") || endsWith(l, ".nii.gz") || endsWith(l, ".mha") || endsWith(l, ".mhd");
}

std::string volumeStem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".nii", ".mha", ".mhd"}) {
    if (endsWith(lower(name), ext)) return name.substr(0, name.size() - std::string(ext).size());
  }
  return fs::path(path).stem().string();
}

Result<Volume> checkGeometry(Volume v, const std::string& path) {
  for (int i = 0; i < 3; ++i) {
    if (!std::isfinite(v.spacing[i]) || v.spacing[i] <= 0.0) {
      std::ostringstream m;
      m << path << " has an invalid voxel spacing along axis " << "xyz"[i] << " (" << v.spacing[i]
        << " mm); spacing must be a positive number - the header is damaged or was written wrongly";
      return Error{ErrorCode::CorruptData, m.str()};
    }
    if (!std::isfinite(v.origin[i]))
      return Error{ErrorCode::CorruptData, path + " has a non-finite origin in its header"};
  }
  for (double d : v.direction)
    if (!std::isfinite(d)) return Error{ErrorCode::CorruptData, path + " has non-finite direction cosines"};
  if (std::abs(det3(v.direction)) < 1e-6)
    return Error{ErrorCode::CorruptData, path + " has degenerate direction cosines (the axes are not independent)"};
  return v;
}


Result<Volume> readVolume(const std::string& path, const ReadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error{ErrorCode::NotFound, "No such file or folder: " + path};
  if (fs::is_directory(path, ec)) return readDicomFolder(path, options);
  auto io = ioFor(path);
  if (!io)
    return Error{ErrorCode::UnsupportedFormat,
                 path + " is not a volume Loupe can read (NIfTI .nii/.nii.gz, MetaImage .mha/.mhd, or a DICOM folder)"};
  if (fs::file_size(path, ec) == 0) return Error{ErrorCode::CorruptData, path + " is empty"};
  io->SetFileName(path);
  try {
    if (!io->CanReadFile(path.c_str()))
      return Error{ErrorCode::CorruptData, path + " does not start with a valid " +
                                               std::string(dynamic_cast<itk::NiftiImageIO*>(io.GetPointer()) ? "NIfTI" : "MetaImage") +
                                               " header (damaged, truncated or another format)"};
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    return Error{ErrorCode::CorruptData, path + " has an unreadable header: " + itkMessage(e)};
  }
  if (dynamic_cast<itk::NiftiImageIO*>(io.GetPointer())) {
    auto pix = checkNiftiPixdim(path);
    if (!pix) return pix.error();
  }
  const unsigned dims = io->GetNumberOfDimensions();
  if (dims < 2 || dims > 4) {
    return Error{ErrorCode::UnsupportedFormat,
                 path + " has " + std::to_string(dims) + " dimensions; Loupe reads 2-D, 3-D and 4-D volumes"};
  }
  if (io->GetNumberOfComponents() != 1) {
    return Error{ErrorCode::UnsupportedFormat, path + " has " + std::to_string(io->GetNumberOfComponents()) +
                                                   " components per voxel (vector or colour data); Loupe reads scalar volumes"};
  }
  std::int64_t voxels = 1;
  for (unsigned d = 0; d < std::min(dims, 3u); ++d) voxels *= std::int64_t(io->GetDimensions(d));
  if (voxels <= 0) return Error{ErrorCode::CorruptData, path + " declares an empty volume"};
  if (voxels > kMaxVoxels)
    return Error{ErrorCode::TooLarge, path + " holds " + std::to_string(voxels) + " voxels per volume, over Loupe's limit"};
  for (unsigned d = 0; d < std::min(dims, 3u); ++d) {
    const double s = io->GetSpacing(d);
    if (!std::isfinite(s) || s <= 0.0) {
      std::ostringstream m;
      m << path << " has an invalid voxel spacing along axis " << "xyz"[d] << " (" << s
        << " mm in the header); spacing must be a positive number - the header is damaged or was written wrongly";
      return Error{ErrorCode::CorruptData, m.str()};
    }
  }
  // ITK's NIfTI reader pads a truncated file silently: check that all the data is there first.
  const std::uint64_t dataBytes = io->GetImageSizeInBytes();
  if (endsWith(lower(path), ".gz")) {
    auto r = gzipIntact(path);
    if (!r) return r.error();
  } else if (endsWith(lower(path), ".nii") && fs::file_size(path, ec) < 348 + dataBytes) {
    return Error{ErrorCode::CorruptData, path + " is truncated: " + std::to_string(fs::file_size(path, ec)) +
                                             " bytes, but its header describes " + std::to_string(dataBytes) +
                                             " bytes of voxels"};
  }
  const bool asInt = !options.forceFloat && isIntegerComponent(io->GetComponentType());
  Result<Volume> v = asInt ? readAs<std::int32_t>(path, io.GetPointer(), VoxelType::Int32)
                           : readAs<float>(path, io.GetPointer(), VoxelType::Float32);
  if (!v) return v;
  v->description = volumeStem(path);
  if (!asInt) {
    for (float f : v->floats)
      if (!std::isfinite(f)) {
        v->warnings.push_back(fs::path(path).filename().string() + " contains NaN or infinite voxels");
        break;
      }
  }
  return checkGeometry(std::move(*v), path);
}

Result<void> writeVolume(const Volume& volume, const std::string& path) {
  auto io = ioFor(path);
  if (!io) return Error{ErrorCode::InvalidArgument, "Cannot write " + path + ": use .nii, .nii.gz or .mha"};
  if (volume.empty()) return Error{ErrorCode::InvalidArgument, "Cannot write " + path + ": the volume is empty"};
  auto write = [&](auto pixelTag, const auto& data) -> Result<void> {
    using Pixel = decltype(pixelTag);
    using Image3 = itk::Image<Pixel, 3>;
    auto image = Image3::New();
    typename Image3::RegionType region;
    typename Image3::SizeType size;
    typename Image3::SpacingType spacing;
    typename Image3::PointType origin;
    typename Image3::DirectionType direction;
    for (int i = 0; i < 3; ++i) {
      size[i] = itk::SizeValueType(volume.size[i]);
      spacing[i] = volume.spacing[i];
      origin[i] = volume.origin[i];
      for (int j = 0; j < 3; ++j) direction[i][j] = volume.direction[i * 3 + j];
    }
    region.SetSize(size);
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->Allocate();
    std::copy(data.begin(), data.end(), image->GetBufferPointer());
    auto writer = itk::ImageFileWriter<Image3>::New();
    writer->SetImageIO(io);
    writer->SetFileName(path);
    writer->SetInput(image);
    writer->SetUseCompression(true);
    try {
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      return Error{ErrorCode::Io, "Cannot write " + path + ": " + itkMessage(e)};
    }
    return {};
  };
  if (volume.type == VoxelType::Float32) return write(float{}, volume.floats);
  return write(std::int32_t{}, volume.ints);
}

}  // namespace loupe::volume
