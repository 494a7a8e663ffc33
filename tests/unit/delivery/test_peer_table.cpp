// ZmqReceiver attributes every message to the connection it came from (ZMQ_SRCFD + the socket
// monitor's accept/disconnect events): two real PUSH peers on tcp loopback, one of them closing.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "zmq_receiver.hpp"

namespace peaknet::ingestd {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(PeerTable, CountsWhatEachConnectionDeliveredAndWhenItLeft) {
  zmq::context_t context(1);
  config::IngestdEndpointConfig endpoint;
  endpoint.url = "tcp://127.0.0.1:0";
  endpoint.mode = config::EndpointMode::kBind;
  endpoint.rcvhwm = 8;
  std::atomic<int> delivered{0};
  ZmqReceiver receiver(context, endpoint, 0, 1 << 20, [&](RawMessage&&) {
    ++delivered;
    return true;
  });
  receiver.start();
  zmq::socket_t a(context, zmq::socket_type::push), b(context, zmq::socket_type::push);
  a.set(zmq::sockopt::linger, -1);
  b.set(zmq::sockopt::linger, -1);
  a.connect(receiver.bound_url());
  b.connect(receiver.bound_url());
  for (int i = 0; i < 3; ++i) a.send(zmq::buffer(std::string(100, 'a')));
  for (int i = 0; i < 2; ++i) b.send(zmq::buffer(std::string(1000, 'b')));
  ASSERT_TRUE(wait_for([&] { return delivered.load() == 5; }));
  a.close();
  ASSERT_TRUE(wait_for([&] { return receiver.counters().disconnects.load() == 1; }));
  const auto t = receiver.peers().to_json();
  receiver.stop();

  ASSERT_EQ(t["connected"].size(), 1u) << t.dump();
  ASSERT_EQ(t["disconnected"].size(), 1u) << t.dump();
  const auto& gone = t["disconnected"][0];
  const auto& live = t["connected"][0];
  EXPECT_EQ(gone["messages"], 3);
  EXPECT_EQ(gone["bytes"], 300);
  EXPECT_GT(gone["disconnected_ns"].get<uint64_t>(), 0u);
  EXPECT_EQ(live["messages"], 2);
  EXPECT_EQ(live["bytes"], 2000);
  // Named by the producer's end of the connection: same host, two ports.
  const std::string ga = gone["address"], la = live["address"];
  EXPECT_EQ(ga.rfind("127.0.0.1:", 0), 0u) << ga;
  EXPECT_EQ(la.rfind("127.0.0.1:", 0), 0u) << la;
  EXPECT_NE(ga, la);
  EXPECT_EQ(receiver.counters().peers_total.load(), 2u);
}

}  // namespace
}  // namespace peaknet::ingestd
