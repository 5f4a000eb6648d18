#include "ScatterColors.h"

#include <QColor>
#include <QHash>

#include <algorithm>
#include <cmath>

namespace loupe::widgets {

std::vector<QRgb> categoricalPalette(int k) {
  // matplotlib's tab10, then the light halves of tab20.
  static const QRgb tab[] = {0xff1f77b4, 0xffff7f0e, 0xff2ca02c, 0xffd62728, 0xff9467bd, 0xff8c564b, 0xffe377c2,
                             0xff7f7f7f, 0xffbcbd22, 0xff17becf, 0xffaec7e8, 0xffffbb78, 0xff98df8a, 0xffff9896,
                             0xffc5b0d5, 0xffc49c94, 0xfff7b6d2, 0xffc7c7c7, 0xffdbdb8d, 0xff9edae5};
  std::vector<QRgb> out;
  out.reserve(static_cast<std::size_t>(std::max(0, k)));
  for (int i = 0; i < k; ++i) {
    if (i < 20) {
      out.push_back(tab[i]);
      continue;
    }
    const double hue = std::fmod((i - 20) * 0.618033988749895, 1.0);
    const double value = (i % 2) ? 0.75 : 0.95;
    out.push_back(QColor::fromHsvF(static_cast<float>(hue), 0.65f, static_cast<float>(value)).rgba());
  }
  return out;
}

std::vector<QRgb> colorsForCategories(const std::vector<int>& category, const std::vector<QRgb>& palette, QRgb missing) {
  std::vector<QRgb> out(category.size());
  const int k = static_cast<int>(palette.size());
  for (std::size_t i = 0; i < category.size(); ++i) {
    const int c = category[i];
    out[i] = (c >= 0 && c < k) ? palette[static_cast<std::size_t>(c)] : missing;
  }
  return out;
}

std::vector<QRgb> colorsForValues(const std::vector<double>& values, Colormap map, double lo, double hi, QRgb missing) {
  std::vector<QRgb> table(256);
  for (int i = 0; i < 256; ++i) {
    const auto c = colormapColor(map, static_cast<float>(i / 255.0));
    table[static_cast<std::size_t>(i)] = qRgb(c[0], c[1], c[2]);
  }
  std::vector<QRgb> out(values.size());
  const double range = hi - lo;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) {
      out[i] = missing;
      continue;
    }
    const double t = range > 0.0 ? (v - lo) / range : 0.5;
    out[i] = table[static_cast<std::size_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0))];
  }
  return out;
}

Categories categoriesOf(const std::vector<QString>& cells, bool sorted) {
  Categories result;
  QHash<QString, int> ids;
  result.category.resize(cells.size(), -1);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].isEmpty()) continue;
    auto it = ids.find(cells[i]);
    if (it == ids.end()) {
      it = ids.insert(cells[i], static_cast<int>(result.names.size()));
      result.names.push_back(cells[i]);
    }
    result.category[i] = it.value();
  }
  if (!sorted || result.names.empty()) return result;
  bool numeric = true;
  std::vector<double> numbers(result.names.size());
  for (std::size_t c = 0; c < result.names.size(); ++c) {
    bool ok = false;
    numbers[c] = result.names[c].toDouble(&ok);
    numeric = numeric && ok;
  }
  std::vector<int> order(result.names.size());
  for (std::size_t c = 0; c < order.size(); ++c) order[c] = static_cast<int>(c);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (numeric) return numbers[static_cast<std::size_t>(a)] < numbers[static_cast<std::size_t>(b)];
    return QString::compare(result.names[static_cast<std::size_t>(a)], result.names[static_cast<std::size_t>(b)],
                            Qt::CaseInsensitive) < 0;
  });
  std::vector<int> rank(order.size());
  std::vector<QString> names(order.size());
  for (std::size_t r = 0; r < order.size(); ++r) {
    rank[static_cast<std::size_t>(order[r])] = static_cast<int>(r);
    names[r] = result.names[static_cast<std::size_t>(order[r])];
  }
  for (int& c : result.category)
    if (c >= 0) c = rank[static_cast<std::size_t>(c)];
  result.names = std::move(names);
  return result;
}

}  // namespace loupe::widgets
