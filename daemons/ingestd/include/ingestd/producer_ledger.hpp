#pragma once
// ProducerLedger: per producer (the optional producer_id/producer_seq an event may carry, see
// docs/decoders.md), how many events this node received and the highest sequence number + 1 it saw,
// kept in ingestd's CounterBlock ("producer.<id>.events", gauge "producer.<id>.next_seq") so they
// survive a crash and reach `peakctl stats` and the metrics. One node's numbers leave gaps for
// the events the producer sent to other nodes; summed over the fleet, events lost =
// sum over producers of max(next_seq) - sum of events (peakctl stats --fleet).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "shm/counter_block.hpp"

namespace peaknet::ingestd {

class ProducerLedger {
 public:
  /// Producers tracked by name; events of further producers only count in seq_untracked_events.
  static constexpr size_t kMaxProducers = 400;

  explicit ProducerLedger(shm::CounterBlock& block);

  /// Thread-safe (decode threads). Called once per event received that carried a sequence number.
  void record(uint64_t producer_id, uint64_t seq);

 private:
  struct Entry {
    std::atomic<uint64_t>* events;
    std::atomic<uint64_t>* next_seq;
  };
  const Entry* entry(uint64_t producer_id);

  shm::CounterBlock& block_;
  std::atomic<uint64_t>& seq_events_;     ///< events that carried a sequence number
  std::atomic<uint64_t>& seq_expected_;   ///< sum over producers of next_seq (this node's view)
  std::atomic<uint64_t>& seq_producers_;  ///< gauge: producers tracked
  std::atomic<uint64_t>& seq_untracked_;  ///< events of producers beyond kMaxProducers
  std::mutex mutex_;                      ///< guards the map (entries are stable once made)
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace peaknet::ingestd
