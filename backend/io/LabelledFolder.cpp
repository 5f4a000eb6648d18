#include "LabelledFolder.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "ImageReader.h"
#include "core/TensorConvert.h"

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

}  // namespace

bool hasImageExtension(const std::string& path) {
  static const char* kExt[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  const std::string e = lower(fs::path(path).extension().string());
  return std::any_of(std::begin(kExt), std::end(kExt), [&](const char* k) { return e == k; });
}

Result<torch::Tensor> modelInputU8(const Image& image, int channels, int width, int height) {
  if (channels != 1 && channels != 3) return Error{ErrorCode::InvalidArgument, "channels must be 1 (grey) or 3 (RGB)"};
  if (width < 1 || height < 1) return Error{ErrorCode::InvalidArgument, "the input size must be at least 1 x 1"};
  TensorSpec spec;
  spec.scale = 1.f;
  auto t = imageToTensor(image.toU8(), spec);  // float [1, C, H, W], 0..255, RGB order
  if (!t) return t.error();
  at::Tensor x = *t;
  if (x.size(1) == 4) x = x.narrow(1, 0, 3);  // alpha dropped
  if (x.size(1) == 2) x = x.narrow(1, 0, 1);  // grey + alpha
  if (channels == 1 && x.size(1) == 3)
    x = (x.select(1, 0) * 0.299f + x.select(1, 1) * 0.587f + x.select(1, 2) * 0.114f).unsqueeze(1);
  else if (channels == 3 && x.size(1) == 1)
    x = x.expand({1, 3, x.size(2), x.size(3)});
  if (x.size(1) != channels)
    return Error{ErrorCode::UnsupportedFormat, "an image with " + std::to_string(x.size(1)) + " channels cannot become " +
                                                   std::to_string(channels)};
  // torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True) with a target size.
  if (x.size(2) != height || x.size(3) != width)
    x = at::_upsample_bilinear2d_aa(x.contiguous(), {height, width}, false, c10::nullopt, c10::nullopt);
  return x.round().clamp(0, 255).to(at::kByte).contiguous();
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
