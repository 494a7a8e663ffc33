#pragma once
// Sleeping on a 32-bit word in shared memory. No FUTEX_PRIVATE_FLAG: waiters and wakers live in
// different processes. A waiter that dies leaves nothing locked.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace peaknet::shm::detail {

/// Sleeps while *word == expected, at most timeout (spurious wake-ups possible; callers re-check).
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, std::chrono::nanoseconds timeout);
void futex_wake(std::atomic<uint32_t>& word, int count);

}  // namespace peaknet::shm::detail
