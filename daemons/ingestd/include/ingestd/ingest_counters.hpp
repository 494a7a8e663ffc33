#pragma once
// IngestCounters: every number ingestd reports, living in its shm CounterBlock
// ("<run.name>-stats-ingestd") so `peakctl stats` reads them without asking the daemon.
// Ledger (checked by tests): events_received = events_enqueued + sum(dropped_<reason>).
// The block outlives the process: a restarted ingestd keeps counting, and first settles what the dead
// instance left unresolved (settle_dead_instance: events begun but never published nor dropped become
// dropped_lost_in_crash, messages taken off the socket but never decoded messages_lost_in_crash).
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ingest/decode/reject_reason.hpp"
#include "ingestd/producer_ledger.hpp"
#include "shm/counter_block.hpp"

namespace peaknet::ingestd {

/// Why an event that entered ingestd did not reach Q1.
enum class EventDropReason : uint8_t { kQ1Full, kSlotTooSmall, kDecodeFailed, kShutdown, kLostInCrash, kCount };
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

  /// Opens (or creates) the block and registers every name, "endpoint.<i>.*" for the first `endpoints`.
  /// Throws shm::ShmError.
  IngestCounters(const std::string& block_name, size_t endpoints, bool group_shareable = false);
  /// Registers the next endpoint's counters ("endpoint.<i>.*"); returns its index i for endpoint().
  size_t add_endpoint();

  /// Capacity of the block: the fixed names plus per-producer sequence counters (ProducerLedger).
  static constexpr uint32_t kBlockCapacity = 1024;

  /// What an earlier instance that died (kill -9, crash) left between its socket and Q1, now booked as
  /// lost: {events, messages}. Call once, before receiving, when no other instance is running.
  std::pair<uint64_t, uint64_t> settle_dead_instance();

  std::atomic<uint64_t>& messages_received;  ///< all sources
  std::atomic<uint64_t>& bytes_received;
  std::atomic<uint64_t>& messages_decoded;
  std::atomic<uint64_t>& messages_rejected;
  std::atomic<uint64_t>& messages_skipped;        ///< valid container without a detector image
  std::atomic<uint64_t>& messages_held;           ///< Simplon images parked until their start message
  std::atomic<uint64_t>& messages_discarded;      ///< received while stopping, never decoded
  std::atomic<uint64_t>& messages_lost_in_crash;  ///< received by a dead instance, never decoded (events unknown)
  std::atomic<uint64_t>& end_of_stream_seen;      ///< Simplon stop/end messages
  std::atomic<uint64_t>& events_received;
  std::atomic<uint64_t>& events_enqueued;
  std::atomic<uint64_t>& events_rejected;  ///< lost inside a message the decoder rejected
  std::atomic<uint64_t>& payload_bytes_published;
  std::atomic<uint64_t>& decode_ns;           ///< total decoder time (all threads)
  std::atomic<uint64_t>& q1_blocked_ns;       ///< decode threads waiting for a Q1 slot
  std::atomic<uint64_t>& decode_queue_depth;  ///< gauge
  /// Gauges: messages (and their bytes) taken off the sockets and not yet decoded — queued, being
  /// decoded, or a receive thread waiting for queue room. This is what a kill -9 of ingestd loses
  /// besides ZeroMQ's pipes; bounded by decode_queue_messages + decode_threads + endpoints messages.
  std::atomic<uint64_t>& held_messages;
  std::atomic<uint64_t>& held_bytes;
  std::atomic<uint64_t>& held_messages_max;  ///< highest since this instance started
  std::atomic<uint64_t>& held_bytes_max;
  std::atomic<uint64_t>& peers_connected;  ///< gauge, all endpoints
  std::atomic<uint64_t>& peer_connects;    ///< connections accepted/made, all endpoints
  std::atomic<uint64_t>& peer_disconnects;
  std::atomic<uint64_t>& running;               ///< gauge: 1 while receiving
  std::atomic<uint64_t>& hdf5_lock_held_ns;     ///< gauge: this process's total time holding libhdf5's lock
  std::atomic<uint64_t>& hdf5_lock_wait_ns;     ///< gauge: ... and waiting for it (decode threads contending)
  std::atomic<uint64_t>& q1_slot_bytes_needed;  ///< gauge: largest Q1 slot an event dropped as slot_too_small needed
  std::atomic<uint64_t>& stalls;                ///< stall episodes (common::ProgressMonitor)
  std::atomic<uint64_t>& stalled;               ///< gauge: 1 while a stall is going on
  ProducerLedger producers;                     ///< per-producer sequence numbers (optional on the wire)

  std::atomic<uint64_t>& reject(ingest::RejectReason reason) { return *rejects_[static_cast<size_t>(reason)]; }
  std::atomic<uint64_t>& dropped(EventDropReason reason) { return *drops_[static_cast<size_t>(reason)]; }
  EndpointStats& endpoint(size_t i) { return endpoints_.at(i); }
  uint64_t events_dropped_total() const;

  nlohmann::json to_json() const;
  const std::string& block_name() const { return block_.name(); }
  shm::CounterBlock& block() { return block_; }

 private:
  std::array<std::atomic<uint64_t>*, kRejectReasons> rejects_{};
  std::array<std::atomic<uint64_t>*, kDropReasons> drops_{};
  std::vector<EndpointStats> endpoints_;
};

}  // namespace peaknet::ingestd
