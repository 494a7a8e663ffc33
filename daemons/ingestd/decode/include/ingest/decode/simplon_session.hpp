#pragma once
// SimplonSession: the Simplon CBOR stream state every decode thread shares: per-run frame shape
// and dtype from the "start" message, and images parked because they arrived before it (other
// MPI ranks send images; only the last rank sends start). Thread-safe; bounded.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ingest/decode/decoder_options.hpp"
#include "shm/event_layout.hpp"

namespace peaknet::ingest {

/// Frame geometry announced by a start message (or configured defaults).
struct SimplonFrameContext {
  std::string run;              ///< run id ("" when the map had none)
  std::vector<uint64_t> shape;  ///< "67x93" -> {67, 93}; "8x512x1024" -> {8, 512, 1024}
  shm::DType dtype = shm::DType::kF64;
  bool big_endian = false;
};

class SimplonSession {
 public:
  explicit SimplonSession(const DecoderOptions& options);

  void set_context(SimplonFrameContext context);
  /// Context for `run` (or the newest one when `run` is empty or unknown and only one is known).
  std::optional<SimplonFrameContext> context_for(const std::string& run) const;

  /// Parks a copy of an image message. Returns the messages evicted to stay within the bounds
  /// (each to be counted as a kHoldOverflow reject by the caller).
  uint32_t hold(std::span<const std::byte> message, const std::string& run);
  /// Removes and returns the parked images that `run`'s context can now decode.
  std::vector<std::vector<std::byte>> release(const std::string& run);
  size_t held_messages() const;

 private:
  struct Held {
    std::string run;
    std::vector<std::byte> bytes;
  };
  mutable std::mutex mutex_;
  uint32_t max_messages_;
  uint64_t max_bytes_;
  uint64_t held_bytes_ = 0;
  std::deque<SimplonFrameContext> contexts_;  ///< newest last, at most kMaxRuns
  std::deque<Held> held_;
  std::optional<SimplonFrameContext> default_context_;
};

}  // namespace peaknet::ingest
