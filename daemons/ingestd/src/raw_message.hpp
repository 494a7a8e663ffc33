#pragma once
// RawMessage: one received ZeroMQ message (one serialized batch) with where and when it arrived.
// It owns the bytes (zmq::message_t, zero-copy from the socket) until a decoder has written its
// events into Q1.
#include <cstdint>
#include <span>

#include <zmq.hpp>

#include "shm/event_clock.hpp"

namespace peaknet::ingestd {

struct RawMessage {
  zmq::message_t bytes;
  uint32_t source_id = 0;   ///< endpoint index (or the replay/synthetic source id)
  uint64_t message_id = 0;  ///< per-source message counter, from 0
  uint64_t t_recv_ns = 0;   ///< CLOCK_REALTIME at arrival

  std::span<const uint8_t> view() const { return {static_cast<const uint8_t*>(bytes.data()), bytes.size()}; }
};

/// The rings' time base (CLOCK_REALTIME ns), shared by every daemon.
using shm::realtime_ns;

}  // namespace peaknet::ingestd
