#include "zmq_receiver.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "shm/event_clock.hpp"

namespace peaknet::ingestd {
namespace {

using shm::steady_ns;

}  // namespace

ZmqReceiver::ZmqReceiver(zmq::context_t& context, const config::IngestdEndpointConfig& endpoint, uint32_t source_id,
                         int64_t max_message_bytes, Deliver deliver, common::Stage* stage)
    : socket_(context, zmq::socket_type::pull),
      monitor_(context, zmq::socket_type::pair),
      url_(endpoint.url),
      source_id_(source_id),
      deliver_(std::move(deliver)),
      stage_(stage) {
  try {
    socket_.set(zmq::sockopt::rcvhwm, static_cast<int>(endpoint.rcvhwm));
    if (endpoint.rcvbuf_bytes > 0) socket_.set(zmq::sockopt::rcvbuf, static_cast<int>(endpoint.rcvbuf_bytes));
    socket_.set(zmq::sockopt::maxmsgsize, max_message_bytes);
    // Not 0: a PULL socket's linger also decides what happens to messages already received from a
    // peer that disconnects (linger 0 discards them; the streamer's last batches would be lost).
    socket_.set(zmq::sockopt::linger, -1);
    // Monitor first, so no connection event is missed.
    const std::string monitor_url = "inproc://ingestd-monitor-" + std::to_string(source_id);
    if (zmq_socket_monitor(socket_.handle(), monitor_url.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    monitor_.connect(monitor_url);
    if (endpoint.mode == config::EndpointMode::kConnect) {
      socket_.connect(url_);
      bound_url_ = url_;
    } else {
      socket_.bind(url_);
      bound_url_ = socket_.get(zmq::sockopt::last_endpoint);
    }
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("ingestd endpoint " + url_ + " (" + std::string(config::to_string(endpoint.mode)) +
                             "): " + e.what());
  }
  if (url_.rfind("ipc://", 0) == 0) {
    // libzmq 4.3 (#4660): a Unix-socket peer that closes raises EPOLLHUP at once, and while this socket is at
    // RCVHWM the unread tail still in the kernel is discarded. TCP keeps it. Say so where operators look.
    spdlog::warn(
        "endpoint {}: on ipc:// libzmq drops the unread tail of a sender that exits while ingestd is "
        "backpressured (libzmq #4660); use tcp:// for senders that exit mid-stream",
        url_);
  }
}

ZmqReceiver::~ZmqReceiver() { stop(); }

void ZmqReceiver::start() {
  thread_ = std::thread([this] { run(); });
}

void ZmqReceiver::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZmqReceiver::drain_monitor() {
  // Each monitor event is two frames: [u16 event, u32 value] and the peer address.
  while (true) {
    zmq::message_t header, address;
    if (!monitor_.recv(header, zmq::recv_flags::dontwait)) return;
    if (header.more()) (void)monitor_.recv(address, zmq::recv_flags::dontwait);
    if (header.size() < 2) continue;
    uint16_t event = 0;
    int32_t fd = -1;  // accepted / connected / disconnected: the connection's descriptor
    std::memcpy(&event, header.data(), sizeof event);
    if (header.size() >= 6) std::memcpy(&fd, static_cast<const char*>(header.data()) + 2, sizeof fd);
    if (event == ZMQ_EVENT_ACCEPTED || event == ZMQ_EVENT_CONNECTED) {
      counters_.peers.fetch_add(1);
      counters_.peers_total.fetch_add(1);
      peers_.connected(fd, realtime_ns());
      spdlog::info("endpoint {}: peer {} connected ({} now)", url_, socket_peer_name(fd), counters_.peers.load());
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
      counters_.peers.fetch_sub(1);
      counters_.disconnects.fetch_add(1);
      const PeerRecord p = peers_.disconnected(fd, realtime_ns());
      spdlog::info("endpoint {}: peer {} disconnected after {} messages, {} bytes ({} left)", url_, p.address,
                   p.messages, p.bytes, counters_.peers.load());
    }
  }
}

void ZmqReceiver::run() {
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
  while (!stop_.load(std::memory_order_relaxed)) {
    try {
      if (stage_) stage_->idle("waiting for messages");
      zmq::poll(items, 2, std::chrono::milliseconds(100));
      if (items[1].revents & ZMQ_POLLIN) drain_monitor();
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      RawMessage message;
      if (!socket_.recv(message.bytes, zmq::recv_flags::dontwait)) continue;
      message.t_recv_ns = realtime_ns();
      message.source_id = source_id_;
      message.message_id = next_message_id_++;
      counters_.messages.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes.fetch_add(message.bytes.size(), std::memory_order_relaxed);
      if (stage_) stage_->busy("receive");
      if (common::test_wedge_requested("receive")) common::test_wedge_forever("receive");
      // ZMQ_SRCFD (deprecated, still in libzmq 4.3): the descriptor of the connection it came from.
      peers_.message(zmq_msg_get(message.bytes.handle(), ZMQ_SRCFD),
                     zmq_msg_gets(message.bytes.handle(), "Peer-Address"), message.bytes.size());
      const uint64_t t0 = steady_ns();
      counters_.last_message_ns.store(t0, std::memory_order_relaxed);
      // Multipart is not part of the protocol: keep the first frame, drop the rest (the decoder
      // rejects or accepts the first frame on its own).
      while (message.bytes.more()) {
        zmq::message_t extra;
        if (!socket_.recv(extra, zmq::recv_flags::dontwait)) break;
        if (!extra.more()) break;
      }
      const bool accepted = deliver_(std::move(message));
      counters_.blocked_ns.fetch_add(steady_ns() - t0, std::memory_order_relaxed);
      if (stage_) stage_->progress();
      if (!accepted) break;
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      spdlog::warn("endpoint {}: receive error: {}", url_, e.what());
    }
  }
  if (stage_) stage_->done();
  drain_monitor();
  try {
    zmq_socket_monitor(socket_.handle(), nullptr, 0);
  } catch (...) {}
  socket_.close();
  monitor_.close();
}

}  // namespace peaknet::ingestd
