#pragma once
// ResultFeed: optional live feed of per-event results for monitors, a ZMQ PUB socket sending one
// JSON object per event: {"event_id":..,"ingest_epoch":..,"n_peaks":..,"n_found":..,"hit":..,
// "written":..,"t_recv_ns":..}. PUB never blocks the writer: a slow or absent subscriber loses messages
// (ZMQ_SNDHWM), which is the right trade for a monitor.
#include <cstdint>
#include <memory>
#include <string>

#include <zmq.hpp>

namespace peaknet::writerd {

struct FeedItem {
  uint64_t event_id;
  uint32_t n_peaks, n_found;
  bool hit, written;
  uint64_t t_recv_ns;
  uint64_t ingest_epoch;
};

class ResultFeed {
 public:
  /// Binds `endpoint` (e.g. "tcp://*:5560", "ipc:///run/x.sock"). Throws zmq::error_t naming nothing:
  /// the caller adds the endpoint to the message.
  explicit ResultFeed(const std::string& endpoint);
  /// Non-blocking; returns false when the message was not queued.
  bool publish(const FeedItem& item);
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

}  // namespace peaknet::writerd
