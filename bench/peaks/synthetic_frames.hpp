#pragma once
// Synthetic detector frames for bench_peaks: Bragg-like spots (discs of radius 1-4 px on a 10 +- 1
// background) or Bernoulli-dense masks, with the matching float image and logits (+-1 around 0).
#include <cstdint>
#include <random>
#include <vector>

namespace peaknet::peaks::bench {

struct SyntheticFrames {
  uint32_t frames = 0, h = 0, w = 0;
  std::vector<uint8_t> mask;  ///< (frames, h, w)
  std::vector<float> image;   ///< (frames, h, w)
  std::vector<uint16_t> image_u16;
  std::vector<float> logits;  ///< (frames, 2, h, w), only when asked for
  size_t plane() const { return static_cast<size_t>(h) * w; }
};

/// density == 0: `blobs` spots per frame; otherwise every pixel is foreground with that probability.
inline SyntheticFrames make_frames(uint32_t frames, uint32_t h, uint32_t w, uint32_t blobs, double density,
                                   bool with_logits, uint32_t seed = 1) {
  SyntheticFrames f;
  f.frames = frames;
  f.h = h;
  f.w = w;
  const size_t plane = f.plane();
  f.mask.assign(frames * plane, 0);
  f.image.resize(frames * plane);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> background(10.0f, 1.0f);
  for (auto& v : f.image) v = background(rng);
  for (uint32_t i = 0; i < frames; ++i) {
    uint8_t* mask = f.mask.data() + i * plane;
    float* image = f.image.data() + i * plane;
    if (density > 0) {
      const auto threshold = static_cast<uint64_t>(density * 18446744073709551615.0);
      for (size_t p = 0; p < plane; ++p) mask[p] = rng() < threshold;
      continue;
    }
    for (uint32_t b = 0; b < blobs; ++b) {
      const int cy = static_cast<int>(rng() % h), cx = static_cast<int>(rng() % w);
      const int r = 1 + static_cast<int>(rng() % 4);
      const float peak = 50.0f + static_cast<float>(rng() % 1000);
      for (int dy = -r; dy <= r; ++dy) {
        for (int dx = -r; dx <= r; ++dx) {
          const int y = cy + dy, x = cx + dx;
          if (y < 0 || x < 0 || y >= static_cast<int>(h) || x >= static_cast<int>(w) || dy * dy + dx * dx > r * r) {
            continue;
          }
          mask[static_cast<size_t>(y) * w + x] = 1;
          image[static_cast<size_t>(y) * w + x] += peak / (1.0f + dy * dy + dx * dx);
        }
      }
    }
  }
  f.image_u16.resize(f.image.size());
  for (size_t p = 0; p < f.image.size(); ++p) f.image_u16[p] = static_cast<uint16_t>(f.image[p]);
  if (with_logits) {
    f.logits.resize(2 * frames * plane);
    for (uint32_t i = 0; i < frames; ++i) {
      for (size_t p = 0; p < plane; ++p) {
        f.logits[2 * i * plane + p] = 0.0f;
        f.logits[(2 * i + 1) * plane + p] = f.mask[i * plane + p] ? 1.0f : -1.0f;
      }
    }
  }
  return f;
}

}  // namespace peaknet::peaks::bench
