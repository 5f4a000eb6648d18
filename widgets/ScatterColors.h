#pragma once
// Per-point colours for ScatterView: categories (labels, clusters, any text column) through a categorical
// palette, numbers through one of backend/core's colour maps. Colours are QRgb (0xAARRGGBB).

#include <QRgb>
#include <QString>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/Colormap.h"

namespace loupe::widgets {

// k distinct colours: Tableau's 10 (matplotlib's tab10) first, then tab20's light shades, then hues spaced
// by the golden angle.
std::vector<QRgb> categoricalPalette(int k);
// The colour points without a category get (noise, missing value): a neutral grey.
constexpr QRgb kScatterMissingColor = 0xff9a9a9a;

// category[i] in 0..palette.size()-1 -> palette colour; anything else (e.g. -1 for HDBSCAN's noise) ->
// `missing`.
std::vector<QRgb> colorsForCategories(const std::vector<int>& category, const std::vector<QRgb>& palette,
                                      QRgb missing = kScatterMissingColor);
// values mapped linearly from [lo, hi] to the colour map; NaN -> `missing`. lo == hi maps to the middle.
std::vector<QRgb> colorsForValues(const std::vector<double>& values, Colormap map, double lo, double hi,
                                  QRgb missing = kScatterMissingColor);

// Categories of a text column: distinct values numbered by first appearance unless `sorted` (then by text,
// numbers in numeric order when every value is a number). Empty cells get -1. names[c] = the value of c.
struct Categories {
  std::vector<int> category;
  std::vector<QString> names;
};
Categories categoriesOf(const std::vector<QString>& cells, bool sorted = true);

}  // namespace loupe::widgets
