#include "ingestd/producer_ledger.hpp"

#include <string>

namespace peaknet::ingestd {

ProducerLedger::ProducerLedger(shm::CounterBlock& block)
    : block_(block),
      seq_events_(block.counter("seq_events")),
      seq_expected_(block.counter("seq_expected")),
      seq_producers_(block.gauge("seq_producers")),
      seq_untracked_(block.counter("seq_untracked_events")) {}

const ProducerLedger::Entry* ProducerLedger::entry(uint64_t producer_id) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(producer_id); it != entries_.end()) return &it->second;
  // A producer seen before a restart is found again by name in the block (its numbers continue).
  const std::string prefix = "producer." + std::to_string(producer_id) + ".";
  try {
    Entry e{&block_.counter(prefix + "events"), &block_.gauge(prefix + "next_seq")};
    if (e.events->load() == 0 && e.next_seq->load() == 0) {
      if (seq_producers_.load() >= kMaxProducers) return nullptr;
      seq_producers_.fetch_add(1);
    }
    return &entries_.emplace(producer_id, e).first->second;
  } catch (const std::exception&) {  // block full
    return nullptr;
  }
}

void ProducerLedger::record(uint64_t producer_id, uint64_t seq) {
  seq_events_.fetch_add(1, std::memory_order_relaxed);
  const Entry* e = entry(producer_id);
  if (e == nullptr) {
    seq_untracked_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  e->events->fetch_add(1, std::memory_order_relaxed);
  uint64_t next = e->next_seq->load(std::memory_order_relaxed);
  while (seq + 1 > next && !e->next_seq->compare_exchange_weak(next, seq + 1, std::memory_order_relaxed)) {}
  if (seq + 1 > next) seq_expected_.fetch_add(seq + 1 - next, std::memory_order_relaxed);
}

}  // namespace peaknet::ingestd
