#pragma once
// The pusher's test pattern: every event carries a key (its float64 timestamp, an integer below 2^53
// made from rank, message and event index) and pixels that are a pure function of that key, so a
// consumer reading Q1 can check every event's payload without knowing which message it came from.
// Pixel values are integers in [0, 65535], exact in every dtype used (u16, i32, f32, f64).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pusher/npy_array.hpp"

namespace peaknet::pusher {

/// Key of event `event` of message `message` of rank `rank` (rank < 2^12, message < 2^28, event < 2^12).
uint64_t pattern_key(uint32_t rank, uint64_t message, uint32_t event);
/// Pixel i of the event with `key`.
inline uint32_t pattern_value(uint64_t key, uint64_t i) {
  uint64_t z = key * 0x9E3779B97F4A7C15ull + i * 0xD1B54A32D192ED03ull;
  z ^= z >> 29;
  z *= 0xBF58476D1CE4E5B9ull;
  return static_cast<uint32_t>((z >> 32) & 0xFFFF);
}
/// Fills one event's pixels (`count` values of dtype `descr`) at `out`.
void fill_pattern(uint64_t key, const std::string& descr, uint64_t count, uint8_t* out);
/// True when the `count` values at `data` are exactly the pattern of `key`.
bool check_pattern(uint64_t key, const std::string& descr, uint64_t count, const uint8_t* data);

/// The arrays of one batch (B, C, H, W): detector data with the pattern, float64 timestamps = keys,
/// wavelength 1.0, and int32 original shape. Names are npz keys or HDF5 paths per `hdf5_layout`.
/// With `sequence`, also the producer sequence arrays (docs/decoders.md): int64 producer_id = rank
/// ([1]) and int64 producer_seq[B] = message * B + event (the rank's event count so far).
std::vector<NpyArray> pattern_batch(uint32_t rank, uint64_t message, const std::vector<uint64_t>& bchw,
                                    const std::string& dtype, bool hdf5_layout, bool sequence = false);

}  // namespace peaknet::pusher
