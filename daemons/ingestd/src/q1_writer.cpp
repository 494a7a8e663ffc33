#include "ingestd/q1_writer.hpp"

#include <spdlog/spdlog.h>

#include "common/open_ring.hpp"

namespace peaknet::ingestd {

Q1Writer::Q1Writer(const shm::RingOptions& options) : name_(options.name), block_timeout_(options.block_timeout) {
  handles_.push_back(std::make_unique<shm::Ring>(shm::Ring::open_or_create(options)));
  common::warn_if_replaced(*handles_.back());
  current_.store(handles_.back().get());
}

shm::Ring* Q1Writer::current() const { return current_.load(std::memory_order_acquire); }

std::optional<Q1Slot> Q1Writer::acquire(const std::function<bool()>& give_up, std::atomic<uint64_t>& blocked_ns,
                                        common::Stage* stage) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<Q1Slot> out;
  while (true) {
    shm::Ring* ring = current();
    // Short waits so a stop request or a policy change is seen quickly.
    const auto wait = std::min(block_timeout_, std::chrono::milliseconds(100));
    auto slot = ring->acquire(wait);
    if (slot) {
      out.emplace(Q1Slot{std::move(*slot), ring});
      break;
    }
    if (ring->policy() != shm::OverflowPolicy::kBlock || give_up()) break;
    // Q1 full under `block`: backpressure, a legitimate wait while this thread keeps coming back here.
    if (stage) stage->blocked("q1 acquire");
  }
  const auto waited = std::chrono::steady_clock::now() - t0;
  blocked_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count(), std::memory_order_relaxed);
  return out;
}

void Q1Writer::publish(Q1Slot&& slot) { slot.ring->publish(std::move(slot.slot)); }

void Q1Writer::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  for (auto& handle : handles_) handle->finish_producing();
}

void Q1Writer::set_policy(shm::OverflowPolicy policy) {
  std::lock_guard lock(mutex_);
  if (current()->policy() == policy) return;
  handles_.push_back(std::make_unique<shm::Ring>(shm::Ring::attach(name_, policy, block_timeout_)));
  current_.store(handles_.back().get(), std::memory_order_release);
  spdlog::info("q1 {}: overflow policy now {}", name_, shm::to_string(policy));
}

shm::OverflowPolicy Q1Writer::policy() const { return current()->policy(); }
size_t Q1Writer::slot_bytes() const { return current()->slot_bytes(); }
uint32_t Q1Writer::slot_count() const { return current()->slot_count(); }
shm::RingCounters Q1Writer::counters() const { return current()->counters(); }

}  // namespace peaknet::ingestd
