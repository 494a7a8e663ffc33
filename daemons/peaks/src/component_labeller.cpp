#include "peaks/component_labeller.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace peaknet::peaks {
namespace {

static_assert(std::endian::native == std::endian::little, "byte scanning assumes little endian");

constexpr uint64_t kLowBytes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

uint64_t load_word(const uint8_t* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

/// First foreground column >= x (or w). Masks are mostly background: skip 8 bytes at a time.
uint32_t skip_background(const uint8_t* row, uint32_t x, uint32_t w) {
  for (; x + 8 <= w; x += 8) {
    if (const uint64_t word = load_word(row + x); word != 0) {
      return x + static_cast<uint32_t>(std::countr_zero(word)) / 8;
    }
  }
  while (x < w && row[x] == 0) ++x;
  return x;
}

/// First background column >= x (or w); whole words while no byte is zero (long runs, dense masks).
uint32_t skip_foreground(const uint8_t* row, uint32_t x, uint32_t w) {
  for (; x + 8 <= w; x += 8) {
    const uint64_t word = load_word(row + x);
    if (const uint64_t zero_bytes = (word - kLowBytes) & ~word & kHighBits; zero_bytes != 0) {
      return x + static_cast<uint32_t>(std::countr_zero(zero_bytes)) / 8;
    }
  }
  while (x < w && row[x] != 0) ++x;
  return x;
}

}  // namespace

uint32_t ComponentLabeller::find_root(uint32_t run) {
  // Path halving keeps parent_[r] <= r (every link points to a smaller run id).
  while (parent_[run] != run) {
    parent_[run] = parent_[parent_[run]];
    run = parent_[run];
  }
  return run;
}

void ComponentLabeller::unite(uint32_t a, uint32_t b) {
  a = find_root(a);
  b = find_root(b);
  if (a == b) return;
  if (a < b) {
    parent_[b] = a;
  } else {
    parent_[a] = b;
  }
}

void ComponentLabeller::begin(uint32_t h, uint32_t w) {
  height_ = h;
  width_ = w;
  runs_.clear();
  parent_.clear();
  num_components_ = 0;
  prev_first_ = prev_last_ = 0;
}

void ComponentLabeller::add_row(uint32_t y, const uint8_t* row) {
  const uint32_t w = width_;
  const size_t row_first = runs_.size();
  size_t touch = prev_first_;  // first previous-row run that can still touch a run of this row
  for (uint32_t x = skip_background(row, 0, w); x < w; x = skip_background(row, x, w)) {
    const uint32_t end = skip_foreground(row, x + 1, w);
    const auto id = static_cast<uint32_t>(runs_.size());
    runs_.push_back({y, x, end});
    parent_.push_back(id);
    // Previous-row run [b, e) touches [x, end) under 8-connectivity iff b <= end and e >= x.
    while (touch < prev_last_ && runs_[touch].end < x) ++touch;
    for (size_t k = touch; k < prev_last_ && runs_[k].begin <= end; ++k) {
      unite(static_cast<uint32_t>(k), id);
    }
    x = end;
  }
  prev_first_ = row_first;
  prev_last_ = runs_.size();
}

uint32_t ComponentLabeller::finish() {
  // Roots are the raster-first runs of their sets; a link always points to a smaller run id, whose
  // entry already holds its final label when we reach it.
  for (uint32_t i = 0; i < parent_.size(); ++i) {
    parent_[i] = parent_[i] == i ? num_components_++ : parent_[parent_[i]];
  }
  return num_components_;
}

uint32_t ComponentLabeller::label(const uint8_t* mask, uint32_t h, uint32_t w) {
  return label_rows(h, w, [&](uint32_t y) { return mask + static_cast<size_t>(y) * w; });
}

template <typename T>
void ComponentLabeller::accumulate(const T* image, uint32_t limit) {
  sums_.assign(limit, Sums{0, 0, 0, 0.0, -std::numeric_limits<float>::infinity()});
  for (size_t i = 0; i < runs_.size(); ++i) {
    const uint32_t label = parent_[i];
    if (label >= limit) continue;
    const Run run = runs_[i];
    Sums& s = sums_[label];
    const uint64_t n = run.end - run.begin;
    s.count += n;
    s.sum_row += static_cast<uint64_t>(run.row) * n;
    s.sum_col += (static_cast<uint64_t>(run.begin) + run.end - 1) * n / 2;
    if (image == nullptr) continue;
    const T* row = image + static_cast<size_t>(run.row) * width_;
    for (uint32_t x = run.begin; x < run.end; ++x) {
      s.intensity_sum += static_cast<double>(row[x]);  // raster order: bit-identical to scipy
      s.intensity_max = std::max(s.intensity_max, static_cast<float>(row[x]));
    }
  }
}

void ComponentLabeller::measure(ImageView panel_image, uint32_t panel, uint32_t limit,
                                std::vector<shm::PeakRecord>& out) {
  limit = std::min(limit, num_components_);
  if (limit == 0) return;
  const void* data = panel_image.data;
  switch (panel_image.dtype) {
    case shm::DType::kU8:
      accumulate(static_cast<const uint8_t*>(data), limit);
      break;
    case shm::DType::kU16:
      accumulate(static_cast<const uint16_t*>(data), limit);
      break;
    case shm::DType::kU32:
      accumulate(static_cast<const uint32_t*>(data), limit);
      break;
    case shm::DType::kU64:
      accumulate(static_cast<const uint64_t*>(data), limit);
      break;
    case shm::DType::kI8:
      accumulate(static_cast<const int8_t*>(data), limit);
      break;
    case shm::DType::kI16:
      accumulate(static_cast<const int16_t*>(data), limit);
      break;
    case shm::DType::kI32:
      accumulate(static_cast<const int32_t*>(data), limit);
      break;
    case shm::DType::kI64:
      accumulate(static_cast<const int64_t*>(data), limit);
      break;
    case shm::DType::kF32:
      accumulate(static_cast<const float*>(data), limit);
      break;
    case shm::DType::kF64:
      accumulate(static_cast<const double*>(data), limit);
      break;
    default:
      throw std::invalid_argument("peaks: image dtype code " + std::to_string(static_cast<int>(panel_image.dtype)) +
                                  " is not a shm::DType");
  }
  for (uint32_t label = 0; label < limit; ++label) {
    const Sums& s = sums_[label];
    const auto count = static_cast<double>(s.count);
    shm::PeakRecord record{};
    record.y = static_cast<double>(s.sum_row) / count;  // exact sums, one division: = scipy
    record.x = static_cast<double>(s.sum_col) / count;
    record.intensity_sum = data != nullptr ? s.intensity_sum : 0.0;
    record.intensity_max = data != nullptr ? s.intensity_max : 0.0f;
    record.panel = panel;
    record.npix = static_cast<uint32_t>(s.count);
    out.push_back(record);
  }
}

void ComponentLabeller::write_label_image(int32_t* labels) const {
  std::fill_n(labels, static_cast<size_t>(height_) * width_, 0);
  for (size_t i = 0; i < runs_.size(); ++i) {
    const Run run = runs_[i];
    std::fill(labels + static_cast<size_t>(run.row) * width_ + run.begin,
              labels + static_cast<size_t>(run.row) * width_ + run.end, static_cast<int32_t>(parent_[i] + 1));
  }
}

}  // namespace peaknet::peaks
