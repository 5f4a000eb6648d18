#include "LabelledFolder.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "ImageReader.h"

namespace loupe::io {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

// One image to read: where it is, how it is named in messages, its class and split (-1: not chosen yet).
struct Item {
  fs::path file;
  std::string shown;
  int label = -1;
  int split = -1;  // 0 train, 1 test
};

// RFC 4180 records: quoted fields may hold commas, "" and line breaks; CRLF or LF; a UTF-8 BOM and blank
// lines are passed over. Each record keeps the 1-based line it starts on.
struct CsvRecord {
  std::vector<std::string> fields;
  int line = 0;
};

Result<std::vector<CsvRecord>> readCsvRecords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::NotFound, "cannot open the labels CSV " + path};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  std::vector<CsvRecord> records;
  CsvRecord rec;
  std::string field;
  bool quoted = false, fieldStarted = false;
  int line = 1;
  rec.line = 1;
  auto endRecord = [&] {
    if (fieldStarted || !rec.fields.empty()) {
      rec.fields.push_back(field);
      records.push_back(rec);
    }
    rec = CsvRecord{};
    field.clear();
    fieldStarted = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = fieldStarted = true;
    } else if (c == ',') {
      rec.fields.push_back(field);
      field.clear();
      fieldStarted = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      endRecord();
      rec.line = ++line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) return Error{ErrorCode::CorruptData, path + " line " + std::to_string(rec.line) + ": a quoted field is never closed"};
  endRecord();
  return records;
}

int findColumn(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* name : names)
    for (std::size_t c = 0; c < header.size(); ++c)
      if (lower(header[c]) == name) return int(c);
  return -1;
}

std::string joined(const std::vector<std::string>& v, std::size_t most = 10) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < most; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > most) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

Result<std::vector<Item>> listFromCsv(const fs::path& root, const std::string& csv, std::vector<std::string>& classes) {
  auto records = readCsvRecords(csv);
  if (!records) return records.error();
  if (records->empty()) return Error{ErrorCode::InvalidArgument, csv + " is empty (expected a header row and one row per image)"};
  const auto& header = records->front().fields;
  const int pathCol = findColumn(header, {"path", "file", "filename", "image"});
  const int labelCol = findColumn(header, {"label", "class", "category"});
  const int splitCol = findColumn(header, {"split"});
  if (pathCol < 0)
    return Error{ErrorCode::InvalidArgument, csv + ": no path column (named path, file, filename or image); the header is: " + joined(header)};
  if (labelCol < 0)
    return Error{ErrorCode::InvalidArgument, csv + ": no label column (named label, class or category); the header is: " + joined(header)};
  std::vector<Item> items;
  std::vector<std::string> missing, names;
  std::map<std::string, int> classIndex;
  for (std::size_t r = 1; r < records->size(); ++r) {
    const auto& rec = (*records)[r];
    if (rec.fields.size() != header.size())
      return Error{ErrorCode::InvalidArgument, csv + " line " + std::to_string(rec.line) + ": " + std::to_string(rec.fields.size()) +
                                                   " fields where the header has " + std::to_string(header.size()) + " (a ragged row)"};
    const std::string& p = rec.fields[std::size_t(pathCol)];
    const std::string& label = rec.fields[std::size_t(labelCol)];
    if (p.empty() || label.empty())
      return Error{ErrorCode::InvalidArgument, csv + " line " + std::to_string(rec.line) + ": an empty " + (p.empty() ? "path" : "label")};
    Item it;
    it.file = fs::path(p).is_absolute() ? fs::path(p) : root / p;
    it.shown = p;
    std::error_code ec;
    if (!fs::is_regular_file(it.file, ec)) {
      missing.push_back("line " + std::to_string(rec.line) + " " + p);
      continue;
    }
    if (splitCol >= 0) {
      const std::string s = lower(rec.fields[std::size_t(splitCol)]);
      if (s == "train" || s == "training") it.split = 0;
      else if (s == "test" || s == "val" || s == "valid" || s == "validation") it.split = 1;
      else if (!s.empty())
        return Error{ErrorCode::InvalidArgument, csv + " line " + std::to_string(rec.line) + ": split '" + rec.fields[std::size_t(splitCol)] +
                                                     "' (expected train, test or val, or empty)"};
    }
    if (classIndex.emplace(label, int(names.size())).second) names.push_back(label);
    it.label = classIndex[label];
    items.push_back(it);
  }
  if (!missing.empty())
    return Error{ErrorCode::NotFound, csv + ": " + std::to_string(missing.size()) + " row(s) name files that do not exist under " +
                                          root.string() + ": " + joined(missing, 5)};
  // Class indices in name order.
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> remap(names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    remap[i] = int(std::lower_bound(sorted.begin(), sorted.end(), names[i]) - sorted.begin());
  for (auto& it : items) it.label = remap[std::size_t(it.label)];
  classes = sorted;
  return items;
}

// Image files below `dir` (recursive, sorted); other files are counted in `ignored`.
Result<std::vector<fs::path>> imagesBelow(const fs::path& dir, int& ignored) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory() && hidden(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || hidden(it->path())) continue;
    if (hasImageExtension(it->path().string())) files.push_back(it->path());
    else ++ignored;
  }
  if (ec) return Error{ErrorCode::Io, "cannot list " + dir.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> classFolders(const fs::path& dir, int& ignored) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (hidden(it->path())) continue;
    if (it->is_directory()) names.push_back(it->path().filename().string());
    else if (it->is_regular_file()) ++ignored;  // files next to the class folders have no class
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<Item>> listFromFolders(const fs::path& root, std::vector<std::string>& classes, int& ignored, std::string& heldOut) {
  std::error_code ec;
  fs::path trainDir = root / "train", testDir;
  for (const char* t : {"test", "val", "validation"})
    if (fs::is_directory(root / t, ec)) {
      testDir = root / t;
      break;
    }
  const bool layout = fs::is_directory(trainDir, ec) && !testDir.empty();
  std::vector<Item> items;
  auto add = [&](const fs::path& base, int split) -> Result<void> {
    for (std::size_t c = 0; c < classes.size(); ++c) {
      if (!fs::is_directory(base / classes[c], ec)) continue;
      auto files = imagesBelow(base / classes[c], ignored);
      if (!files) return files.error();
      for (const auto& f : *files) items.push_back({f, fs::relative(f, root, ec).generic_string(), int(c), split});
    }
    return {};
  };
  if (layout) {
    classes = classFolders(trainDir, ignored);
    for (const auto& t : classFolders(testDir, ignored))
      if (!std::binary_search(classes.begin(), classes.end(), t))
        return Error{ErrorCode::InvalidArgument, (testDir / t).string() + ": a class that " + trainDir.string() + " does not have"};
    if (auto ok = add(trainDir, 0); !ok) return ok.error();
    if (auto ok = add(testDir, 1); !ok) return ok.error();
    heldOut = testDir.filename().string() + "/ (the folder's " + trainDir.filename().string() + "/ + " +
              testDir.filename().string() + "/ layout)";
  } else {
    classes = classFolders(root, ignored);
    if (auto ok = add(root, -1); !ok) return ok.error();
  }
  return items;
}

// Antialiased bilinear resampling weights from `in` to `out` samples, as PyTorch's
// interpolate(mode="bilinear", align_corners=False, antialias=True) computes them: scale = in / out; each
// output sample i, centred at scale * (i + 0.5) in input coordinates, weighs the input samples j within
// `support` = max(scale, 1) by the triangle 1 - |(j + 0.5 - centre) / max(scale, 1)|, normalised to sum 1.
// Written out (rather than calling ATen per image) so that decoding thousands of files in parallel runs no
// nested thread pools. An identity (in == out) gives one tap of weight 1.
struct Taps {
  std::int64_t first = 0;
  std::vector<double> weights;
};

std::vector<Taps> antialiasTaps(std::int64_t in, std::int64_t out) {
  std::vector<Taps> taps(static_cast<std::size_t>(out));
  const double scale = double(in) / double(out);
  const double support = scale >= 1.0 ? scale : 1.0, invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
  for (std::int64_t i = 0; i < out; ++i) {
    const double centre = scale * (double(i) + 0.5);
    const std::int64_t lo = std::max<std::int64_t>(std::int64_t(centre - support + 0.5), 0);
    const std::int64_t hi = std::min<std::int64_t>(std::int64_t(centre + support + 0.5), in);
    Taps& t = taps[std::size_t(i)];
    t.first = lo;
    double total = 0;
    for (std::int64_t j = lo; j < hi; ++j) {
      const double x = std::abs((double(j) - centre + 0.5) * invScale);
      const double wgt = x < 1.0 ? 1.0 - x : 0.0;
      t.weights.push_back(wgt);
      total += wgt;
    }
    if (total > 0)
      for (double& wgt : t.weights) wgt /= total;
  }
  return taps;
}

}  // namespace

bool hasImageExtension(const std::string& path) {
  static const char* kExt[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  const std::string e = lower(fs::path(path).extension().string());
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* k) { return e == k; });
}

Result<torch::Tensor> modelInputU8(const Image& image, int channels, int width, int height) {
  if (channels != 1 && channels != 3) return Error{ErrorCode::InvalidArgument, "channels must be 1 (grey) or 3 (RGB)"};
  if (width < 1 || height < 1) return Error{ErrorCode::InvalidArgument, "the input size must be at least 1 x 1"};
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "the image is empty"};
  const Image u8 = image.toU8();
  const int w = u8.width(), h = u8.height(), stride = u8.channels();
  // Source channels in RGB order (alpha dropped), as float planes.
  int r = 0, g = 0, b = 0;
  switch (u8.order()) {
    case ColorOrder::Gray:
    case ColorOrder::GrayAlpha: break;
    case ColorOrder::RGB:
    case ColorOrder::RGBA: g = 1, b = 2; break;
    case ColorOrder::BGR:
    case ColorOrder::BGRA: r = 2, g = 1; break;
  }
  const bool grey = u8.order() == ColorOrder::Gray || u8.order() == ColorOrder::GrayAlpha;
  const std::size_t plane = std::size_t(w) * std::size_t(h);
  std::vector<float> src(plane * std::size_t(channels));
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* row = u8.row<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const std::uint8_t* px = row + std::size_t(x) * std::size_t(stride);
      const std::size_t i = std::size_t(y) * std::size_t(w) + std::size_t(x);
      if (channels == 1)
        src[i] = grey ? float(px[0]) : float(px[r]) * 0.299f + float(px[g]) * 0.587f + float(px[b]) * 0.114f;
      else
        for (int c = 0; c < 3; ++c) src[std::size_t(c) * plane + i] = float(px[grey ? 0 : (c == 0 ? r : c == 1 ? g : b)]);
    }
  }
  at::Tensor out = at::empty({1, channels, height, width}, at::kByte);
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  const std::vector<Taps> tx = antialiasTaps(w, width), ty = antialiasTaps(h, height);
  std::vector<double> tmp(std::size_t(h) * std::size_t(width));
  for (int c = 0; c < channels; ++c) {
    const float* in = src.data() + std::size_t(c) * plane;
    for (int y = 0; y < h; ++y)  // horizontal pass: [h, w] -> [h, width]
      for (int x = 0; x < width; ++x) {
        double v = 0;
        for (std::size_t k = 0; k < tx[std::size_t(x)].weights.size(); ++k)
          v += tx[std::size_t(x)].weights[k] * in[std::size_t(y) * std::size_t(w) + std::size_t(tx[std::size_t(x)].first) + k];
        tmp[std::size_t(y) * std::size_t(width) + std::size_t(x)] = v;
      }
    for (int y = 0; y < height; ++y)  // vertical pass: [h, width] -> [height, width]
      for (int x = 0; x < width; ++x) {
        double v = 0;
        for (std::size_t k = 0; k < ty[std::size_t(y)].weights.size(); ++k)
          v += ty[std::size_t(y)].weights[k] * tmp[(std::size_t(ty[std::size_t(y)].first) + k) * std::size_t(width) + std::size_t(x)];
        dst[(std::size_t(c) * std::size_t(height) + std::size_t(y)) * std::size_t(width) + std::size_t(x)] =
            std::uint8_t(std::clamp(std::nearbyint(v), 0.0, 255.0));
      }
  }
  return out;
}

Result<LabelledFolder> loadLabelledFolder(const std::string& folder, const LabelledFolderOptions& o, const CancelToken& cancel,
                                          Progress progress) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return Error{ErrorCode::NotFound, folder + " is not a folder"};
  if (o.channels != 1 && o.channels != 3) return Error{ErrorCode::InvalidArgument, "channels must be 1 (grey) or 3 (RGB)"};
  if (o.width < 4 || o.height < 4 || o.width > 4096 || o.height > 4096)
    return Error{ErrorCode::InvalidArgument, "the image size must be 4 to 4096 pixels a side"};
  if (!(o.valFraction >= 0.0 && o.valFraction <= 0.9))
    return Error{ErrorCode::InvalidArgument, "the held-out fraction must be in 0 .. 0.9"};
  const fs::path root(folder);
  LabelledFolder d;
  std::vector<std::string> classes;
  Result<std::vector<Item>> listed = o.labelsCsv.empty() ? listFromFolders(root, classes, d.ignored, d.heldOut)
                                                         : listFromCsv(root, o.labelsCsv, classes);
  if (!listed) return listed.error();
  std::vector<Item>& items = *listed;
  const std::string source = o.labelsCsv.empty() ? folder : o.labelsCsv;
  if (classes.size() < 2)
    return Error{ErrorCode::InvalidArgument,
                 source + ": needs at least two classes (" +
                     (o.labelsCsv.empty() ? std::string("one sub-folder of images per class, or --labels CSV")
                                          : std::string("different values in the label column")) +
                     "); found " + std::to_string(classes.size()) + (classes.empty() ? "" : ": " + joined(classes))};
  d.listed = int(items.size());

  // Decode and convert, in parallel; results land in per-item slots.
  const std::int64_t n = std::int64_t(items.size());
  std::vector<at::Tensor> pixels(items.size());
  std::vector<std::string> reason(items.size());
  std::atomic<std::int64_t> done{0};
  std::atomic<bool> stop{false};
  at::parallel_for(0, n, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end && !stop; ++i) {
      if (cancel.isCancelled()) {
        stop = true;
        break;
      }
      const Item& it = items[std::size_t(i)];
      try {
        auto image = loadImage(it.file.string());
        if (!image) {
          reason[std::size_t(i)] = image.error().message;
        } else {
          auto t = modelInputU8(*image, o.channels, o.width, o.height);
          if (t) pixels[std::size_t(i)] = *t;
          else reason[std::size_t(i)] = t.error().message;
        }
      } catch (const std::exception& e) {
        reason[std::size_t(i)] = e.what();
      }
      const std::int64_t k = ++done;
      if (k % 64 == 0 || k == n)
        progress.report(double(k) / double(n), "reading images (" + std::to_string(k) + " of " + std::to_string(n) + ")");
    }
  });
  if (cancel.isCancelled()) return Error::cancelled();

  // Every class needs a readable image (in the training split when the layout fixes the splits).
  std::vector<int> readable(classes.size(), 0), files(classes.size(), 0);
  std::vector<std::string> firstReason(classes.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto c = std::size_t(items[i].label);
    ++files[c];
    if (pixels[i].defined()) {
      if (items[i].split != 1) ++readable[c];
    } else {
      ++d.skipped;
      if (firstReason[c].empty()) firstReason[c] = items[i].shown + ": " + reason[i];
      if (int(d.skipReasons.size()) < o.maxReasons) d.skipReasons.push_back(items[i].shown + ": " + reason[i]);
    }
  }
  for (std::size_t c = 0; c < classes.size(); ++c)
    if (readable[c] == 0)
      return Error{ErrorCode::InvalidArgument,
                   source + ": class '" + classes[c] + "' has no readable " + (d.heldOut.empty() ? "" : "training ") + "image (" +
                       (files[c] == 0 ? std::string("no image files")
                                      : std::to_string(files[c]) + " file(s); " +
                                            (firstReason[c].empty() ? std::string("all held out") : "e.g. " + firstReason[c])) +
                       ")"};

  // Held-out images per class, drawn with the seed where nothing chose them.
  std::mt19937_64 rng(o.seed);
  bool anyChosen = false;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].label == int(c) && pixels[i].defined() && items[i].split < 0) open.push_back(i);
    if (open.empty()) continue;
    anyChosen = true;
    std::shuffle(open.begin(), open.end(), rng);
    std::size_t k = std::size_t(double(open.size()) * o.valFraction + 0.5);
    if (o.valFraction > 0 && k == 0 && open.size() >= 2) k = 1;
    k = std::min(k, open.size() - 1);
    for (std::size_t j = 0; j < open.size(); ++j) items[open[j]].split = j < k ? 1 : 0;
  }
  if (anyChosen && d.heldOut.empty()) {
    std::ostringstream s;
    s << o.valFraction * 100 << "% of every class (seed " << o.seed << ")";
    d.heldOut = s.str();
  } else if (d.heldOut.empty()) {
    d.heldOut = "the CSV's split column";
  }

  // Stack each split in a seeded random order.
  auto build = [&](int split, LabelledSplit& out) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (pixels[i].defined() && items[i].split == split) idx.push_back(i);
    std::shuffle(idx.begin(), idx.end(), rng);
    std::vector<at::Tensor> parts;
    std::vector<std::int64_t> labels;
    for (std::size_t i : idx) {
      parts.push_back(pixels[i]);
      labels.push_back(items[i].label);
      out.paths.push_back(items[i].shown);
    }
    out.images = parts.empty() ? at::empty({0, o.channels, o.height, o.width}, at::kByte) : at::cat(parts);
    out.labels = at::tensor(labels.empty() ? std::vector<std::int64_t>{} : labels, at::kLong);
  };
  build(0, d.train);
  build(1, d.test);
  d.classNames = classes;
  const at::Tensor x = d.train.images.to(at::kDouble) / 255.0;
  for (int c = 0; c < o.channels; ++c) {
    const at::Tensor ch = x.select(1, c);
    d.mean.push_back(ch.mean().item<double>());
    d.stdv.push_back(std::max(1e-3, ch.numel() > 1 ? ch.std().item<double>() : 0.0));
  }
  progress.report(1.0, "read " + std::to_string(d.train.size() + d.test.size()) + " images");
  return d;
}

}  // namespace loupe::io
