#include "ingestd/synthetic_frames.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace peaknet::ingestd {
namespace {

constexpr size_t kNoiseTableSize = size_t(1) << 16;

/// splitmix64: a tiny counter-based generator, good enough for test patterns and fully reproducible.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {  // Box-Muller
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

template <typename T>
T convert(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    const double lo = static_cast<double>(std::numeric_limits<T>::min());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    return static_cast<T>(std::clamp(std::round(v), lo, hi));
  }
}

}  // namespace

shm::DType parse_dtype_name(const std::string& name) {
  if (name == "float32") return shm::DType::kF32;
  if (name == "float64") return shm::DType::kF64;
  if (name == "uint16") return shm::DType::kU16;
  if (name == "int32") return shm::DType::kI32;
  throw std::invalid_argument("unknown dtype \"" + name + "\" (float32, float64, uint16, int32)");
}

SyntheticFrames::SyntheticFrames(const config::IngestdSyntheticConfig& c)
    : channels_(static_cast<uint32_t>(c.shape.at(0))),
      height_(static_cast<uint32_t>(c.shape.at(1))),
      width_(static_cast<uint32_t>(c.shape.at(2))),
      dtype_(parse_dtype_name(c.dtype)),
      seed_(static_cast<uint64_t>(c.seed)),
      peaks_per_frame_(c.peaks_per_frame),
      sigma_px_(c.peak_sigma_px),
      amplitude_(c.peak_amplitude),
      wavelength_a_(c.photon_wavelength_a),
      rate_hz_(c.rate_hz) {
  SplitMix rng{seed_ ^ 0x6E6F697365ull};
  noise_table_.resize(kNoiseTableSize + width_);
  for (auto& v : noise_table_) v = static_cast<float>(c.background + c.noise_sigma * rng.normal());
}

uint64_t SyntheticFrames::frame_bytes() const {
  return uint64_t(channels_) * height_ * width_ * shm::dtype_size(dtype_);
}

double SyntheticFrames::timestamp(uint64_t index) const {
  const double period_s = rate_hz_ > 0 ? 1.0 / rate_hz_ : 1e-3;
  return 1.7e9 + static_cast<double>(seed_ % 1000) + index * period_s;
}

template <typename T>
void SyntheticFrames::fill_typed(uint64_t index, T* out) const {
  SplitMix rng{seed_ * 0x100000001B3ull + index * 0x9E3779B97F4A7C15ull + 1};
  const size_t plane = size_t(height_) * width_;
  std::vector<float> row(width_);
  for (uint32_t c = 0; c < channels_; ++c) {
    T* panel = out + c * plane;
    for (uint32_t y = 0; y < height_; ++y) {
      const float* noise = noise_table_.data() + rng.next() % kNoiseTableSize;
      T* dst = panel + size_t(y) * width_;
      for (uint32_t x = 0; x < width_; ++x) dst[x] = convert<T>(noise[x]);
    }
  }
  // Peaks: separable Gaussian blobs added inside a +-4 sigma window.
  const int radius = static_cast<int>(std::ceil(4 * sigma_px_));
  for (int64_t p = 0; p < peaks_per_frame_; ++p) {
    const uint32_t c = static_cast<uint32_t>(rng.next() % channels_);
    const double cy = rng.uniform() * height_, cx = rng.uniform() * width_;
    const double amp = amplitude_ * (0.5 + rng.uniform());
    T* panel = out + c * plane;
    const int y0 = std::max(0, static_cast<int>(cy) - radius),
              y1 = std::min<int>(height_ - 1, static_cast<int>(cy) + radius);
    const int x0 = std::max(0, static_cast<int>(cx) - radius),
              x1 = std::min<int>(width_ - 1, static_cast<int>(cx) + radius);
    for (int y = y0; y <= y1; ++y) {
      const double gy = std::exp(-0.5 * (y + 0.5 - cy) * (y + 0.5 - cy) / (sigma_px_ * sigma_px_));
      for (int x = x0; x <= x1; ++x) {
        const double gx = std::exp(-0.5 * (x + 0.5 - cx) * (x + 0.5 - cx) / (sigma_px_ * sigma_px_));
        T& v = panel[size_t(y) * width_ + x];
        v = convert<T>(static_cast<double>(v) + amp * gy * gx);
      }
    }
  }
}

void SyntheticFrames::fill(uint64_t index, std::span<std::byte> out) const {
  if (out.size() != frame_bytes()) {
    throw std::invalid_argument("synthetic frame needs " + std::to_string(frame_bytes()) + " bytes, got " +
                                std::to_string(out.size()));
  }
  switch (dtype_) {
    case shm::DType::kF32:
      fill_typed(index, reinterpret_cast<float*>(out.data()));
      break;
    case shm::DType::kF64:
      fill_typed(index, reinterpret_cast<double*>(out.data()));
      break;
    case shm::DType::kU16:
      fill_typed(index, reinterpret_cast<uint16_t*>(out.data()));
      break;
    case shm::DType::kI32:
      fill_typed(index, reinterpret_cast<int32_t*>(out.data()));
      break;
    default:
      throw std::invalid_argument("synthetic frames: unsupported dtype");
  }
}

}  // namespace peaknet::ingestd
