#include "Csv.h"

#include <fstream>
#include <set>
#include <sstream>

namespace loupe::index {

Result<CsvTable> parseCsv(const std::string& text, const std::string& name) {
  CsvTable table;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  std::int64_t line = 1;
  bool haveHeader = false;
  while (i < n) {
    const std::int64_t rowLine = line;
    std::vector<std::string> fields;
    std::string field;
    bool rowDone = false;
    bool anyContent = false;
    while (!rowDone) {
      field.clear();
      if (i < n && text[i] == '"') {
        const std::int64_t openLine = line;
        ++i;
        anyContent = true;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (!closed)
          return Error(ErrorCode::CorruptData, name + " line " + std::to_string(openLine) +
                                                   ": a quoted field opens here and is never closed");
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          return Error(ErrorCode::CorruptData, name + " line " + std::to_string(line) +
                                                   ": text after the closing quote of a field (write a quote inside "
                                                   "a quoted field as \"\")");
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
        if (!field.empty()) anyContent = true;
      }
      fields.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
        anyContent = true;
        continue;
      }
      // end of row
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') ++i;
      ++line;
      rowDone = true;
    }
    if (!anyContent) continue;  // blank line
    if (!haveHeader) {
      table.header = std::move(fields);
      haveHeader = true;
      continue;
    }
    if (fields.size() != table.header.size())
      return Error(ErrorCode::CorruptData, name + " line " + std::to_string(rowLine) + ": " +
                                               std::to_string(fields.size()) + " field(s), but the header has " +
                                               std::to_string(table.header.size()));
    table.rows.push_back(std::move(fields));
    table.lines.push_back(rowLine);
  }
  if (!haveHeader) return Error(ErrorCode::CorruptData, name + ": empty CSV (expected a header row)");
  return table;
}

Result<CsvTable> readCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::NotFound, "cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::Io, "cannot read " + path);
  return parseCsv(s.str(), path);
}

std::string csvField(const std::string& text) {
  bool quote = !text.empty() && (text.front() == ' ' || text.back() == ' ');
  for (char c : text)
    if (c == ',' || c == '"' || c == '\n' || c == '\r') quote = true;
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += csvField(fields[i]);
  }
  return out + "\n";
}

Result<MetaTable> metaFromCsv(const CsvTable& csv, const std::string& name) {
  std::set<std::string> seen;
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    if (csv.header[c].empty())
      return Error(ErrorCode::CorruptData, name + ": column " + std::to_string(c + 1) + " has no name in the header");
    if (!seen.insert(csv.header[c]).second)
      return Error(ErrorCode::CorruptData, name + ": the header names column '" + csv.header[c] + "' twice");
  }
  MetaTable meta(static_cast<std::int64_t>(csv.rows.size()));
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    std::vector<std::string> cells;
    cells.reserve(csv.rows.size());
    for (const auto& row : csv.rows) cells.push_back(row[c]);
    auto set = meta.setColumn(csv.header[c], std::move(cells));
    if (!set) return set.error().withContext(name);
  }
  return meta;
}

std::string metaToCsv(const MetaTable& meta) {
  std::string out;
  if (meta.columns().empty()) return out;  // no columns: an empty file
  std::vector<std::string> fields;
  for (const auto& c : meta.columns()) fields.push_back(c.name);
  out += csvRow(fields);
  for (std::int64_t r = 0; r < meta.rows(); ++r) {
    fields.clear();
    for (const auto& c : meta.columns()) fields.push_back(c.text[static_cast<std::size_t>(r)]);
    out += csvRow(fields);
  }
  return out;
}

}  // namespace loupe::index
