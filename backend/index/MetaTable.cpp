#include "MetaTable.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace loupe::index {

namespace {
bool parseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(b, &end);
  if (end == b || *end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
  // strtod accepts leading spaces, hex and "nan"/"inf": only plain decimal numbers count as numbers.
  if (s.front() == ' ' || s.find_first_of("xXnNiI") != std::string::npos) return false;
  out = v;
  return true;
}
}  // namespace

std::optional<std::size_t> MetaTable::find(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].name == name) return i;
  return std::nullopt;
}

const MetaColumn* MetaTable::column(const std::string& name) const {
  const auto i = find(name);
  return i ? &columns_[*i] : nullptr;
}

Result<void> MetaTable::setColumn(const std::string& name, std::vector<std::string> cells) {
  if (name.empty()) return Error(ErrorCode::InvalidArgument, "a metadata column needs a name");
  if (columns_.empty() && rows_ == 0) rows_ = static_cast<std::int64_t>(cells.size());
  if (static_cast<std::int64_t>(cells.size()) != rows_)
    return Error(ErrorCode::InvalidArgument, "metadata column '" + name + "' has " + std::to_string(cells.size()) +
                                                 " values for " + std::to_string(rows_) + " rows");
  MetaColumn col;
  col.name = name;
  col.numeric = true;
  bool anyValue = false;
  col.numbers.reserve(cells.size());
  for (const auto& cell : cells) {
    double v = 0;
    if (cell.empty()) {
      col.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (parseNumber(cell, v)) {
      col.numbers.push_back(v);
      anyValue = true;
    } else {
      col.numeric = false;
      break;
    }
  }
  if (!col.numeric || !anyValue) {
    col.numeric = false;
    col.numbers.clear();
  }
  col.text = std::move(cells);
  if (const auto i = find(name)) {
    columns_[*i] = std::move(col);
  } else {
    columns_.push_back(std::move(col));
  }
  return {};
}

std::string MetaTable::cell(std::int64_t row, const std::string& name) const {
  const MetaColumn* c = column(name);
  if (!c || row < 0 || row >= rows_) return {};
  return c->text[static_cast<std::size_t>(row)];
}

MetaTable MetaTable::filtered(const std::vector<bool>& keep) const {
  MetaTable out;
  std::int64_t kept = 0;
  for (bool k : keep) kept += k ? 1 : 0;
  out.rows_ = kept;
  for (const auto& c : columns_) {
    MetaColumn f;
    f.name = c.name;
    f.numeric = c.numeric;
    for (std::size_t r = 0; r < keep.size() && r < c.text.size(); ++r) {
      if (!keep[r]) continue;
      f.text.push_back(c.text[r]);
      if (c.numeric) f.numbers.push_back(c.numbers[r]);
    }
    out.columns_.push_back(std::move(f));
  }
  return out;
}

}  // namespace loupe::index
