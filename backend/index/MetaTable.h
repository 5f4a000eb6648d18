#pragma once
// Per-row metadata of an embedding store: named columns of text or numbers (label, path, split, any CSV
// column), all with one value per stored vector. A column is numeric when every non-empty cell parses as a
// finite number; empty cells of a numeric column are NaN. Row order is the store's id order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/Result.h"

namespace loupe::index {

struct MetaColumn {
  std::string name;
  bool numeric = false;
  std::vector<std::string> text;  // every column keeps its cells as text (exactly as read)
  std::vector<double> numbers;    // numeric columns only: the parsed values (NaN for empty cells)
};

class MetaTable {
 public:
  MetaTable() = default;
  explicit MetaTable(std::int64_t rows) : rows_(rows) {}

  std::int64_t rows() const { return rows_; }
  const std::vector<MetaColumn>& columns() const { return columns_; }
  // Index of the column called `name`, or nullopt.
  std::optional<std::size_t> find(const std::string& name) const;
  const MetaColumn* column(const std::string& name) const;
  // Adds (or replaces) a column of `rows()` text cells; the numeric type is inferred. A table with no
  // columns takes its row count from the first column added.
  Result<void> setColumn(const std::string& name, std::vector<std::string> cells);
  // The cell as text ("" for a missing column).
  std::string cell(std::int64_t row, const std::string& name) const;
  // Only the rows whose keep[row] is true, in order (keep.size() must equal rows()).
  MetaTable filtered(const std::vector<bool>& keep) const;

 private:
  std::int64_t rows_ = 0;
  std::vector<MetaColumn> columns_;
};

}  // namespace loupe::index
