#pragma once
// CSV as written by spreadsheets, pandas and Python's csv module (RFC 4180): comma-separated, fields in
// double quotes may hold commas, quotes ("" inside quotes) and line breaks; CRLF or LF line ends; a UTF-8
// byte-order mark is ignored; blank lines are skipped. Every row must have as many fields as the header:
// a ragged row is an error that names the file and the line, never silently padded or cut.

#include <cstdint>
#include <string>
#include <vector>

#include "MetaTable.h"
#include "core/Result.h"

namespace loupe::index {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::int64_t> lines;  // 1-based line of the file where each row starts
};

// `name` is the file name used in messages ("meta.csv line 12: ...").
Result<CsvTable> parseCsv(const std::string& text, const std::string& name);
Result<CsvTable> readCsv(const std::string& path);

// A field for writing: quoted (with "" for quotes) when it holds a comma, quote, CR or LF, or starts or
// ends with a space.
std::string csvField(const std::string& text);
std::string csvRow(const std::vector<std::string>& fields);  // fields joined with commas, then "\n"

// The table as metadata columns (one per header name; duplicate or empty header names are errors).
Result<MetaTable> metaFromCsv(const CsvTable& csv, const std::string& name);
// The metadata as CSV text (header + rows), readable by parseCsv and by Python's csv module.
std::string metaToCsv(const MetaTable& meta);

}  // namespace loupe::index
