#include "zmq_source.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace peaknet::ingestd {
namespace {

/// One ZeroMQ I/O thread moves every byte of every socket of a context: with one, a node tops out
/// near one core's TCP receive rate whatever the number of endpoints.
int zmq_io_threads(const config::IngestdConfig& c) {
  if (c.io_threads > 0) return static_cast<int>(c.io_threads);
  // Several streamer ranks usually connect to one endpoint: ZeroMQ spreads their connections over the threads.
  return std::max<int>(2, static_cast<int>(c.endpoints.size()));
}

}  // namespace

ZmqSource::ZmqSource(const SourceEnv& env) : env_(env), context_(zmq_io_threads(env.config)) {
  const auto& c = env_.config;
  for (size_t i = 0; i < c.endpoints.size(); ++i) {
    config::IngestdEndpointConfig endpoint = c.endpoints[i];
    if (endpoint.rcvhwm < 0) endpoint.rcvhwm = c.receive_hwm;
    if (endpoint.rcvbuf_bytes < 0) endpoint.rcvbuf_bytes = c.receive_buffer_bytes;
    common::Stage& stage = env_.progress.add_stage("receive endpoint " + std::to_string(i));
    const size_t counters_index = env_.counters.add_endpoint();
    endpoint_index_.push_back(counters_index);
    auto deliver = [this, counters_index, s = &stage](RawMessage&& m) {
      auto& ep = env_.counters.endpoint(counters_index);
      ep.messages->fetch_add(1, std::memory_order_relaxed);
      ep.bytes->fetch_add(m.bytes.size(), std::memory_order_relaxed);
      return env_.deliver(std::move(m), *s);
    };
    receivers_.push_back(std::make_unique<ZmqReceiver>(context_, endpoint, static_cast<uint32_t>(i),
                                                       c.max_message_bytes, std::move(deliver), &stage));
    spdlog::info("endpoint {}: {} {} (rcvhwm {})", i, config::to_string(endpoint.mode), receivers_.back()->bound_url(),
                 endpoint.rcvhwm);
  }
}

ZmqSource::~ZmqSource() {
  for (auto& r : receivers_) r->stop();
}

void ZmqSource::start() {
  for (auto& r : receivers_) r->start();
}

void ZmqSource::stop() {
  for (auto& r : receivers_) r->stop();
  mirror_peer_counters();
}

uint64_t ZmqSource::last_input_steady_ns() const {
  uint64_t last = 0;
  for (const auto& r : receivers_) last = std::max(last, r->counters().last_message_ns.load());
  return last;
}

void ZmqSource::mirror_peer_counters() {
  uint64_t connects = 0, disconnects = 0;
  for (const auto& r : receivers_) {
    connects += r->counters().peers_total.load();
    disconnects += r->counters().disconnects.load();
  }
  // The block counts over every instance of the run: add this instance's increments.
  env_.counters.peer_connects.fetch_add(connects - mirrored_connects_, std::memory_order_relaxed);
  env_.counters.peer_disconnects.fetch_add(disconnects - mirrored_disconnects_, std::memory_order_relaxed);
  mirrored_connects_ = connects;
  mirrored_disconnects_ = disconnects;
}

uint64_t ZmqSource::update_counters() {
  mirror_peer_counters();
  int64_t peers = 0;
  for (size_t i = 0; i < receivers_.size(); ++i) {
    const int64_t p = std::max<int64_t>(0, receivers_[i]->counters().peers.load());
    env_.counters.endpoint(endpoint_index_[i]).peers->store(static_cast<uint64_t>(p), std::memory_order_relaxed);
    peers += p;
  }
  return static_cast<uint64_t>(peers);
}

std::vector<std::string> ZmqSource::bound_endpoints() const {
  std::vector<std::string> out;
  for (const auto& r : receivers_) out.push_back(r->bound_url());
  return out;
}

nlohmann::json ZmqSource::endpoints_json() const {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const auto& r : receivers_) {
    const auto& e = r->counters();
    endpoints.push_back({{"url", r->url()},
                         {"bound", r->bound_url()},
                         {"messages", e.messages.load()},
                         {"bytes", e.bytes.load()},
                         {"peers", e.peers.load()},
                         {"peers_total", e.peers_total.load()},
                         {"disconnects", e.disconnects.load()},
                         {"peer_table", r->peers().to_json()},
                         {"blocked_s", e.blocked_ns.load() / 1e9}});
  }
  return endpoints;
}

}  // namespace peaknet::ingestd
