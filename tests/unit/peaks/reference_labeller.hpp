#pragma once
// Independent reference for tests: breadth-first flood fill started at each unlabelled foreground pixel
// in raster order (so labels come out in first-pixel order by construction), 8-connectivity, exact
// integer coordinate sums, intensity sums over the component (in flood-fill order).
#include <cstdint>
#include <deque>
#include <vector>

namespace peaknet::peaks::testing {

struct ReferenceComponent {
  double y = 0, x = 0;
  uint32_t npix = 0;
  double intensity_sum = 0;
  double intensity_max = -1e300;
};

template <typename T>
std::vector<ReferenceComponent> reference_components(const uint8_t* mask, const T* image, uint32_t h, uint32_t w) {
  std::vector<int32_t> label(static_cast<size_t>(h) * w, 0);
  std::vector<ReferenceComponent> out;
  for (uint32_t y0 = 0; y0 < h; ++y0) {
    for (uint32_t x0 = 0; x0 < w; ++x0) {
      const size_t start = static_cast<size_t>(y0) * w + x0;
      if (mask[start] == 0 || label[start] != 0) continue;
      const auto id = static_cast<int32_t>(out.size() + 1);
      ReferenceComponent c;
      uint64_t sum_y = 0, sum_x = 0;
      std::deque<size_t> queue{start};
      label[start] = id;
      while (!queue.empty()) {
        const size_t p = queue.front();
        queue.pop_front();
        const auto y = static_cast<int64_t>(p / w), x = static_cast<int64_t>(p % w);
        ++c.npix;
        sum_y += y;
        sum_x += x;
        if (image != nullptr) {
          c.intensity_sum += static_cast<double>(image[p]);
          c.intensity_max = std::max(c.intensity_max, static_cast<double>(image[p]));
        }
        for (int64_t dy = -1; dy <= 1; ++dy) {
          for (int64_t dx = -1; dx <= 1; ++dx) {
            const int64_t ny = y + dy, nx = x + dx;
            if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
            const size_t q = static_cast<size_t>(ny) * w + nx;
            if (mask[q] != 0 && label[q] == 0) {
              label[q] = id;
              queue.push_back(q);
            }
          }
        }
      }
      c.y = static_cast<double>(sum_y) / c.npix;
      c.x = static_cast<double>(sum_x) / c.npix;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace peaknet::peaks::testing
