#include "pusher/batch_pattern.hpp"

#include <cstring>
#include <stdexcept>

namespace peaknet::pusher {
namespace {

template <typename T>
void fill_typed(uint64_t key, uint64_t count, uint8_t* out) {
  for (uint64_t i = 0; i < count; ++i) {
    const T v = static_cast<T>(pattern_value(key, i));
    std::memcpy(out + i * sizeof(T), &v, sizeof(T));
  }
}

template <typename T>
bool check_typed(uint64_t key, uint64_t count, const uint8_t* data) {
  for (uint64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    if (v != static_cast<T>(pattern_value(key, i))) return false;
  }
  return true;
}

}  // namespace

uint64_t pattern_key(uint32_t rank, uint64_t message, uint32_t event) {
  return (uint64_t(rank & 0xFFF) << 40) | ((message & 0xFFFFFFF) << 12) | (event & 0xFFF);
}

void fill_pattern(uint64_t key, const std::string& descr, uint64_t count, uint8_t* out) {
  if (descr == "<f4") return fill_typed<float>(key, count, out);
  if (descr == "<f8") return fill_typed<double>(key, count, out);
  if (descr == "<u2") return fill_typed<uint16_t>(key, count, out);
  if (descr == "<i4") return fill_typed<int32_t>(key, count, out);
  if (descr == "<u8") return fill_typed<uint64_t>(key, count, out);
  if (descr == "<i8") return fill_typed<int64_t>(key, count, out);
  throw std::invalid_argument("pattern: unsupported descr " + descr);
}

bool check_pattern(uint64_t key, const std::string& descr, uint64_t count, const uint8_t* data) {
  if (descr == "<f4") return check_typed<float>(key, count, data);
  if (descr == "<f8") return check_typed<double>(key, count, data);
  if (descr == "<u2") return check_typed<uint16_t>(key, count, data);
  if (descr == "<i4") return check_typed<int32_t>(key, count, data);
  if (descr == "<u8") return check_typed<uint64_t>(key, count, data);
  if (descr == "<i8") return check_typed<int64_t>(key, count, data);
  return false;
}

std::vector<NpyArray> pattern_batch(uint32_t rank, uint64_t message, const std::vector<uint64_t>& bchw,
                                    const std::string& dtype, bool hdf5_layout, bool sequence) {
  if (bchw.size() != 4) throw std::invalid_argument("pattern batch shape must be B,C,H,W");
  const uint64_t batch = bchw[0], per_event = bchw[1] * bchw[2] * bchw[3];
  NpyArray data{hdf5_layout ? "/data/data" : "detector_data", descr_for_dtype(dtype), bchw, {}};
  data.bytes.resize(batch * per_event * data.elem_size());
  NpyArray timestamps{hdf5_layout ? "/data/timestamp" : "timestamp", "<f8", {batch}, {}};
  timestamps.bytes.resize(batch * 8);
  NpyArray wavelength{hdf5_layout ? "/data/wavelength" : "photon_wavelength", "<f8", {batch}, {}};
  wavelength.bytes.resize(batch * 8);
  for (uint64_t b = 0; b < batch; ++b) {
    const uint64_t key = pattern_key(rank, message, static_cast<uint32_t>(b));
    fill_pattern(key, data.descr, per_event, data.bytes.data() + b * per_event * data.elem_size());
    const double ts = static_cast<double>(key), wl = 1.0;
    std::memcpy(timestamps.bytes.data() + b * 8, &ts, 8);
    std::memcpy(wavelength.bytes.data() + b * 8, &wl, 8);
  }
  std::vector<NpyArray> out;
  // Alphabetical like h5py / savez dict order does not matter to the decoders; keep producer order.
  out.push_back(std::move(timestamps));
  out.push_back(std::move(data));
  out.push_back(std::move(wavelength));
  if (sequence) {
    NpyArray id{hdf5_layout ? "/producer_id" : "producer_id", "<i8", {1}, {}};
    const int64_t rank64 = rank;
    id.bytes.resize(8);
    std::memcpy(id.bytes.data(), &rank64, 8);
    NpyArray seq{hdf5_layout ? "/producer_seq" : "producer_seq", "<i8", {batch}, {}};
    seq.bytes.resize(batch * 8);
    for (uint64_t b = 0; b < batch; ++b) {
      const int64_t v = static_cast<int64_t>(message * batch + b);
      std::memcpy(seq.bytes.data() + b * 8, &v, 8);
    }
    out.push_back(std::move(id));
    out.push_back(std::move(seq));
  }
  if (!hdf5_layout) {
    NpyArray original{"detector_data_original_shape", "<i4", {4}, {}};
    original.bytes.resize(16);
    for (int i = 0; i < 4; ++i) {
      const int32_t v = static_cast<int32_t>(bchw[i]);
      std::memcpy(original.bytes.data() + i * 4, &v, 4);
    }
    out.push_back(std::move(original));
  }
  return out;
}

}  // namespace peaknet::pusher
