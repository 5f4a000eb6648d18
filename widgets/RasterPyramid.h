#pragma once
// Half-size levels of a raster layer's values, built on first use: level k is ceil(w / 2^k) x ceil(h / 2^k)
// and each of its samples reduces the (up to) 2 x 2 samples below it. The layer owns level 0 and must
// outlive the pyramid; levels are only touched from the GUI thread.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace loupe::widgets {

template <class T> class RasterPyramid {
 public:
  // Reduces `n` (1 to 4) samples into one.
  using Reduce = T (*)(const T* samples, int n);

  struct Level {
    int width = 0;
    int height = 0;
    const T* data = nullptr;
    T at(int x, int y) const { return data[static_cast<std::size_t>(y) * width + x]; }
  };

  RasterPyramid() = default;
  RasterPyramid(const T* base, int width, int height, Reduce reduce) : reduce_(reduce) {
    levels_.push_back({width, height, base});
    int w = width, h = height;
    while (std::max(w, h) > kSmallest) {
      w = (w + 1) / 2;
      h = (h + 1) / 2;
      levels_.push_back({w, h, nullptr});
    }
    storage_.resize(levels_.size());
  }

  int levelCount() const { return static_cast<int>(levels_.size()); }

  const Level& level(int k) const {
    k = std::clamp(k, 0, levelCount() - 1);
    if (!levels_[k].data) build(k);
    return levels_[k];
  }

 private:
  static constexpr int kSmallest = 64;

  void build(int k) const {
    const Level& below = level(k - 1);
    Level& out = levels_[k];
    std::vector<T>& values = storage_[k];
    values.resize(static_cast<std::size_t>(out.width) * out.height);
    T samples[4];
    for (int y = 0; y < out.height; ++y) {
      const int y0 = 2 * y, y1 = std::min(2 * y + 1, below.height - 1);
      for (int x = 0; x < out.width; ++x) {
        const int x0 = 2 * x, x1 = std::min(2 * x + 1, below.width - 1);
        int n = 0;
        samples[n++] = below.at(x0, y0);
        if (x1 != x0) samples[n++] = below.at(x1, y0);
        if (y1 != y0) samples[n++] = below.at(x0, y1);
        if (x1 != x0 && y1 != y0) samples[n++] = below.at(x1, y1);
        values[static_cast<std::size_t>(y) * out.width + x] = reduce_(samples, n);
      }
    }
    out.data = values.data();
  }

  Reduce reduce_ = nullptr;
  mutable std::vector<Level> levels_;
  mutable std::vector<std::vector<T>> storage_;
};

}  // namespace loupe::widgets
