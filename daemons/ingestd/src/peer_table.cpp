#include "ingestd/peer_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace peaknet::ingestd {

std::string socket_peer_name(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "";
}

PeerRecord* PeerTable::find_live(int fd) {
  for (auto& p : live_) {
    if (p.fd == fd) return &p;
  }
  return nullptr;
}

void PeerTable::connected(int fd, uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  if (PeerRecord* p = find_live(fd)) {
    // Already known through its first message (the monitor event came later): keep its numbers.
    if (p->connected_ns == 0) {
      p->connected_ns = now_ns;
      return;
    }
    // The descriptor was reused before its disconnect event was handled: the old peer is gone.
    p->disconnected_ns = now_ns;
    gone_.push_back(*p);
    live_.erase(std::find_if(live_.begin(), live_.end(), [fd](const PeerRecord& r) { return r.fd == fd; }));
    retire_overflow();
  }
  PeerRecord r;
  r.fd = fd;
  r.connected_ns = now_ns;
  r.address = socket_peer_name(fd);
  if (r.address.empty()) r.address = "fd " + std::to_string(fd);
  live_.push_back(std::move(r));
}

PeerRecord PeerTable::disconnected(int fd, uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(live_.begin(), live_.end(), [fd](const PeerRecord& p) { return p.fd == fd; });
  if (it == live_.end()) return PeerRecord{"fd " + std::to_string(fd), fd, 0, now_ns, 0, 0};
  PeerRecord r = *it;
  r.disconnected_ns = now_ns;
  live_.erase(it);
  gone_.push_back(r);
  retire_overflow();
  return r;
}

void PeerTable::message(int fd, const char* peer_address, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  PeerRecord* p = find_live(fd);
  if (p == nullptr) {
    // Its last messages are often read after the monitor reported the disconnect: still that peer's.
    for (auto it = gone_.rbegin(); it != gone_.rend() && p == nullptr; ++it) {
      if (it->fd == fd) p = &*it;
    }
  }
  if (p == nullptr) {
    // Read before the monitor's connect event was handled (or the descriptor is unknown).
    PeerRecord r;
    r.fd = fd;
    r.address = socket_peer_name(fd);
    if (r.address.empty()) r.address = peer_address && *peer_address ? peer_address : "fd " + std::to_string(fd);
    live_.push_back(std::move(r));
    p = &live_.back();
  }
  ++p->messages;
  p->bytes += bytes;
}

void PeerTable::retire_overflow() {
  while (gone_.size() > kMaxDisconnected) {
    ++retired_peers_;
    retired_messages_ += gone_.front().messages;
    retired_bytes_ += gone_.front().bytes;
    gone_.pop_front();
  }
}

nlohmann::json PeerTable::to_json() const {
  auto one = [](const PeerRecord& p) {
    nlohmann::json j = {
        {"address", p.address}, {"messages", p.messages}, {"bytes", p.bytes}, {"connected_ns", p.connected_ns}};
    if (p.disconnected_ns) j["disconnected_ns"] = p.disconnected_ns;
    return j;
  };
  std::lock_guard lock(mutex_);
  nlohmann::json live = nlohmann::json::array(), gone = nlohmann::json::array();
  for (const auto& p : live_) live.push_back(one(p));
  for (const auto& p : gone_) gone.push_back(one(p));
  return {{"connected", live},
          {"disconnected", gone},
          {"retired", {{"peers", retired_peers_}, {"messages", retired_messages_}, {"bytes", retired_bytes_}}}};
}

}  // namespace peaknet::ingestd
