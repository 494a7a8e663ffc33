#include "writerd/result_feed.hpp"

#include <nlohmann/json.hpp>

namespace peaknet::writerd {

ResultFeed::ResultFeed(const std::string& endpoint) : endpoint_(endpoint), socket_(context_, zmq::socket_type::pub) {
  socket_.set(zmq::sockopt::sndhwm, 10000);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(endpoint);
}

bool ResultFeed::publish(const FeedItem& item) {
  const std::string text = nlohmann::json{
      {"event_id", item.event_id},
      {"ingest_epoch", item.ingest_epoch},
      {"n_peaks", item.n_peaks},
      {"n_found", item.n_found},
      {"hit", item.hit},
      {"written", item.written},
      {"t_recv_ns",
       item.t_recv_ns}}.dump();
  try {
    return socket_.send(zmq::buffer(text), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

}  // namespace peaknet::writerd
