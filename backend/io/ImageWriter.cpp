#include "ImageWriter.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace loupe::io {
namespace fs = std::filesystem;
namespace {

int cvDepth(PixelDepth d) {
  switch (d) {
    case PixelDepth::U8: return CV_8U;
    case PixelDepth::U16: return CV_16U;
    case PixelDepth::F32: return CV_32F;
  }
  return CV_8U;
}

// A cv::Mat in OpenCV's BGR(A) order (copy when channels must be swapped). Gray+alpha has no OpenCV
// codec: it becomes BGRA with the gray value in all three colour channels.
cv::Mat toCvBgr(const Image& image) {
  const cv::Mat view(image.height(), image.width(), CV_MAKETYPE(cvDepth(image.depth()), image.channels()),
                     const_cast<std::uint8_t*>(image.data()), image.rowBytes());
  cv::Mat out;
  switch (image.order()) {
    case ColorOrder::RGB: cv::cvtColor(view, out, cv::COLOR_RGB2BGR); break;
    case ColorOrder::RGBA: cv::cvtColor(view, out, cv::COLOR_RGBA2BGRA); break;
    case ColorOrder::GrayAlpha: {
      out.create(view.rows, view.cols, CV_MAKETYPE(view.depth(), 4));
      const int fromTo[] = {0, 0, 0, 1, 0, 2, 1, 3};
      cv::mixChannels(&view, 1, &out, 1, fromTo, 4);
      break;
    }
    default: out = view; break;
  }
  return out;
}

std::string lowerExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// The format comes from the extension; refuse what it cannot hold instead of letting OpenCV convert
// silently (a float heatmap written to PNG would be squashed to 0/1).
Result<void> checkFormatHolds(const Image& image, const std::string& path) {
  const std::string ext = lowerExtension(path);
  const std::string depth = pixelDepthName(image.depth());
  if (ext.empty())
    return Error{ErrorCode::InvalidArgument, path + " has no file extension (use .png, .tif/.tiff or .jpg)"};
  if (ext == ".tif" || ext == ".tiff") return {};
  if (ext == ".png") {
    if (image.depth() == PixelDepth::F32)
      return Error{ErrorCode::InvalidArgument, "PNG cannot hold " + depth + " samples; write " + path + " as .tif/.tiff"};
    return {};
  }
  if (ext == ".jpg" || ext == ".jpeg") {
    if (image.depth() != PixelDepth::U8)
      return Error{ErrorCode::InvalidArgument,
                   "JPEG holds only 8-bit samples, not " + depth + "; write " + path + " as .png or .tif/.tiff"};
    return {};
  }
  return Error{ErrorCode::InvalidArgument, "Unsupported output format '" + ext + "' for " + path +
                                               " (use .png, .tif/.tiff or .jpg)"};
}

// Creates the folder a file goes into, so writing into a new nested folder works.
Result<void> ensureParent(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return {};
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot create folder " + parent.string() + ": " + ec.message()};
  return {};
}

// A layer id becomes a file name: it must stay inside the export folder.
Result<void> checkLayerId(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find_first_of(std::string("/\\\0", 3)) != std::string::npos)
    return Error{ErrorCode::InvalidArgument,
                 "Layer id '" + id + "' cannot be used as a file name (empty, '.', '..' or contains a slash)"};
  return {};
}

Result<void> checkSize(const std::string& what, int width, int height, std::size_t count) {
  if (width <= 0 || height <= 0)
    return Error{ErrorCode::InvalidArgument, what + " has no pixels (" + std::to_string(width) + " x " +
                                                 std::to_string(height) + ")"};
  if (count != static_cast<std::size_t>(width) * static_cast<std::size_t>(height))
    return Error{ErrorCode::InvalidArgument, what + " is " + std::to_string(width) + " x " + std::to_string(height) +
                                                 " but holds " + std::to_string(count) + " values"};
  return {};
}

std::string tempSibling(const fs::path& target) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return (target.parent_path() / ("." + target.stem().string() + ".tmp" + std::to_string(rng() % 1000000) +
                                  target.extension().string()))
      .string();
}

Result<void> commit(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error{ErrorCode::Io, "Cannot write " + path + ": " + ec.message()};
  }
  return {};
}

Result<void> writeMat(const cv::Mat& mat, const std::string& path) {
  if (auto made = ensureParent(path); !made) return made.error();
  const std::string tmp = tempSibling(path);
  // TIFF: ask for LZW explicitly. Without a compression parameter OpenCV writes 3-channel float TIFFs as
  // SGI LogLuv, a lossy HDR encoding (1.0 comes back as 1.027); LZW keeps every bit.
  std::vector<int> params;
  const std::string ext = lowerExtension(path);
  if (ext == ".tif" || ext == ".tiff") params = {cv::IMWRITE_TIFF_COMPRESSION, 5 /* COMPRESSION_LZW */};
  bool ok = false;
  try {
    ok = cv::imwrite(tmp, mat, params);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return Error{ErrorCode::Io, "Cannot write " + path + " (folder missing, disk full or format unsupported)"};
  }
  return commit(tmp, path);
}

Result<void> writeText(const std::string& text, const std::string& path) {
  if (auto made = ensureParent(path); !made) return made.error();
  const std::string tmp = tempSibling(path);
  bool ok;
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    ok = static_cast<bool>(out);
  }
  if (!ok) {
    std::error_code ec;
    fs::remove(tmp, ec);  // never leave a half-written temporary behind
    return Error{ErrorCode::Io, "Cannot write " + path};
  }
  return commit(tmp, path);
}

}  // namespace

Result<void> writeImage(const Image& image, const std::string& path) {
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "Cannot write an empty image"};
  if (auto ok = checkFormatHolds(image, path); !ok) return ok.error();
  return writeMat(toCvBgr(image), path);
}

Result<std::vector<std::string>> exportLayer(const Layer& layer, const std::string& dir) {
  if (auto ok = checkLayerId(layer.id); !ok) return ok.error();
  if (const auto* h = std::get_if<Heatmap>(&layer.payload))
    if (auto ok = checkSize("Heatmap '" + layer.id + "'", h->width, h->height, h->values.size()); !ok) return ok.error();
  if (const auto* m = std::get_if<Mask>(&layer.payload))
    if (auto ok = checkSize("Mask '" + layer.id + "'", m->width, m->height, m->values.size()); !ok) return ok.error();
  if (const auto* l = std::get_if<LabelMap>(&layer.payload))
    if (auto ok = checkSize("Label map '" + layer.id + "'", l->width, l->height, l->values.size()); !ok) return ok.error();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot create folder " + dir + ": " + ec.message()};
  const fs::path base = fs::path(dir) / layer.id;
  std::vector<std::string> files;

  if (const auto* h = std::get_if<Heatmap>(&layer.payload)) {
    const std::string png = base.string() + ".png";
    if (auto r = writeImage(h->render(), png); !r) return r.error();
    files.push_back(png);
    const std::string tiff = base.string() + ".tiff";
    const cv::Mat values(h->height, h->width, CV_32F, const_cast<float*>(h->values.data()));
    if (auto r = writeMat(values, tiff); !r) return r.error();
    files.push_back(tiff);
  } else if (const auto* m = std::get_if<Mask>(&layer.payload)) {
    cv::Mat mask(m->height, m->width, CV_8U);
    for (int y = 0; y < m->height; ++y)
      for (int x = 0; x < m->width; ++x) mask.at<std::uint8_t>(y, x) = m->values[std::size_t(y) * m->width + x] ? 255 : 0;
    const std::string png = base.string() + ".png";
    if (auto r = writeMat(mask, png); !r) return r.error();
    files.push_back(png);
  } else if (const auto* t = std::get_if<Table>(&layer.payload)) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : t->rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (std::size_t c = 0; c < t->columns.size() && c < row.size(); ++c) obj[t->columns[c]] = row[c];
      rows.push_back(obj);
    }
    const nlohmann::json doc = {{"id", layer.id}, {"title", layer.title}, {"columns", t->columns}, {"rows", rows}};
    const std::string json = base.string() + ".json";
    if (auto r = writeText(doc.dump(2) + "\n", json); !r) return r.error();
    files.push_back(json);
  } else if (const auto* l = std::get_if<LabelMap>(&layer.payload)) {
    // Label values as a 16-bit PNG (exact for 0..65535) and the label table as JSON.
    cv::Mat values(l->height, l->width, CV_16U);
    for (int y = 0; y < l->height; ++y)
      for (int x = 0; x < l->width; ++x) {
        const std::int32_t v = l->values[std::size_t(y) * l->width + x];
        if (v < 0 || v > 65535)
          return Error{ErrorCode::InvalidArgument, "Label map '" + layer.id + "' has label " + std::to_string(v) +
                                                       " outside 0..65535, which a 16-bit PNG cannot hold"};
        values.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(v);
      }
    const std::string png = base.string() + ".png";
    if (auto r = writeMat(values, png); !r) return r.error();
    files.push_back(png);
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& info : l->labels) {
      nlohmann::json j = {{"value", info.value}, {"name", info.name}, {"visible", info.visible}};
      if (info.colour) j["colour"] = {(*info.colour)[0], (*info.colour)[1], (*info.colour)[2]};
      labels.push_back(j);
    }
    const nlohmann::json doc = {{"id", layer.id}, {"title", layer.title}, {"width", l->width},
                                {"height", l->height}, {"labels", labels}};
    const std::string json = base.string() + ".json";
    if (auto r = writeText(doc.dump(2) + "\n", json); !r) return r.error();
    files.push_back(json);
  } else {
    // Vector layers: JSON in image coordinates.
    nlohmann::json doc = {{"id", layer.id}, {"title", layer.title}, {"kind", layer.kind()}};
    if (const auto* p = std::get_if<Polylines>(&layer.payload)) {
      doc["width"] = p->width;
      doc["height"] = p->height;
      nlohmann::json lines = nlohmann::json::array();
      for (const auto& line : p->lines) {
        nlohmann::json pts = nlohmann::json::array();
        for (const auto& pt : line.points) pts.push_back({pt.x, pt.y});
        lines.push_back({{"label", line.label}, {"points", pts}});
      }
      doc["lines"] = lines;
    } else if (const auto* b = std::get_if<Boxes>(&layer.payload)) {
      doc["width"] = b->width;
      doc["height"] = b->height;
      nlohmann::json boxes = nlohmann::json::array();
      for (const auto& box : b->boxes) {
        nlohmann::json j = {{"x", box.x}, {"y", box.y}, {"w", box.w}, {"h", box.h}, {"label", box.label}};
        if (!std::isnan(box.score)) j["score"] = box.score;
        boxes.push_back(j);
      }
      doc["boxes"] = boxes;
    } else if (const auto* p = std::get_if<Points>(&layer.payload)) {
      doc["width"] = p->width;
      doc["height"] = p->height;
      nlohmann::json pts = nlohmann::json::array();
      for (const auto& k : p->points) pts.push_back({{"x", k.position.x}, {"y", k.position.y}, {"label", k.label}});
      doc["points"] = pts;
    }
    const std::string json = base.string() + ".json";
    if (auto r = writeText(doc.dump(2) + "\n", json); !r) return r.error();
    files.push_back(json);
  }
  return files;
}

}  // namespace loupe::io
