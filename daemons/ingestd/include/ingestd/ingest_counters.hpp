#pragma once
// IngestCounters: every number ingestd reports, living in its shm CounterBlock
// ("<run.name>-stats-ingestd") so `peakctl stats` reads them without asking the daemon.
// Ledger (checked by tests): events_received = events_enqueued + sum(dropped_<reason>).
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ingest/decode/reject_reason.hpp"
#include "shm/counter_block.hpp"

namespace peaknet::ingestd {

/// Why an event that entered ingestd did not reach Q1.
enum class EventDropReason : uint8_t { kQ1Full, kSlotTooSmall, kDecodeFailed, kShutdown, kCount };
const char* to_string(EventDropReason reason) noexcept;

/// Per-endpoint counters mirrored into the block (the receive threads keep their own atomics).
struct EndpointStats {
  std::atomic<uint64_t>* messages;
  std::atomic<uint64_t>* bytes;
  std::atomic<uint64_t>* peers;
};

class IngestCounters {
  shm::CounterBlock block_;  ///< first: the references below point into it

 public:
  static constexpr size_t kRejectReasons = static_cast<size_t>(ingest::RejectReason::kCount);
  static constexpr size_t kDropReasons = static_cast<size_t>(EventDropReason::kCount);

  /// Opens (or creates) the block and registers every name. Throws shm::ShmError.
  IngestCounters(const std::string& block_name, size_t endpoints, bool group_shareable = false);

  std::atomic<uint64_t>& messages_received;   ///< all sources
  std::atomic<uint64_t>& bytes_received;
  std::atomic<uint64_t>& messages_decoded;
  std::atomic<uint64_t>& messages_rejected;
  std::atomic<uint64_t>& messages_skipped;    ///< valid container without a detector image
  std::atomic<uint64_t>& messages_held;       ///< Simplon images parked until their start message
  std::atomic<uint64_t>& messages_discarded;  ///< received while stopping, never decoded
  std::atomic<uint64_t>& end_of_stream_seen;  ///< Simplon stop/end messages
  std::atomic<uint64_t>& events_received;
  std::atomic<uint64_t>& events_enqueued;
  std::atomic<uint64_t>& events_rejected;     ///< lost inside a message the decoder rejected
  std::atomic<uint64_t>& payload_bytes_published;
  std::atomic<uint64_t>& decode_ns;           ///< total decoder time (all threads)
  std::atomic<uint64_t>& q1_blocked_ns;       ///< decode threads waiting for a Q1 slot
  std::atomic<uint64_t>& decode_queue_depth;  ///< gauge
  std::atomic<uint64_t>& peers_connected;     ///< gauge, all endpoints
  std::atomic<uint64_t>& running;             ///< gauge: 1 while receiving
  std::atomic<uint64_t>& hdf5_lock_held_ns;   ///< gauge: this process's total time holding libhdf5's lock
  std::atomic<uint64_t>& hdf5_lock_wait_ns;   ///< gauge: ... and waiting for it (decode threads contending)
  std::atomic<uint64_t>& q1_slot_bytes_needed;  ///< gauge: largest Q1 slot an event dropped as slot_too_small needed
  std::atomic<uint64_t>& stalls;              ///< stall episodes (common::ProgressMonitor)
  std::atomic<uint64_t>& stalled;             ///< gauge: 1 while a stall is going on

  std::atomic<uint64_t>& reject(ingest::RejectReason reason) { return *rejects_[static_cast<size_t>(reason)]; }
  std::atomic<uint64_t>& dropped(EventDropReason reason) { return *drops_[static_cast<size_t>(reason)]; }
  EndpointStats& endpoint(size_t i) { return endpoints_.at(i); }
  uint64_t events_dropped_total() const;

  nlohmann::json to_json() const;
  const std::string& block_name() const { return block_.name(); }

 private:
  std::array<std::atomic<uint64_t>*, kRejectReasons> rejects_{};
  std::array<std::atomic<uint64_t>*, kDropReasons> drops_{};
  std::vector<EndpointStats> endpoints_;
};

}  // namespace peaknet::ingestd
