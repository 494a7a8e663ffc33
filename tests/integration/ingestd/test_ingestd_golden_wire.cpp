// Every golden wire vector through a real PUSH socket into a running ingestd process: accepted ones
// must appear in Q1 with exactly the manifest's decoded values (SHA-256 of the concatenated slot
// payloads of the message), malformed ones must be counted as rejects.
#include <algorithm>
#include <fstream>
#include <future>
#include <map>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zmq.hpp>

#include "ingestd_harness.hpp"

namespace peaknet::ingestd::testing {
namespace {

std::string sha256_hex(const std::vector<std::byte>& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The detector array of a manifest entry: Simplon "compressed_data", else the array of rank >= 3.
const nlohmann::json* detector_array(const nlohmann::json& vector) {
  if (!vector.contains("arrays")) return nullptr;
  for (const auto& a : vector.at("arrays")) {
    if (a["name"] == "compressed_data" || a["shape"].size() >= 3) return &a;
  }
  return nullptr;
}

/// Send order: everything but Simplon first, then each Simplon stream (start, images, stop).
std::vector<nlohmann::json> send_order(const nlohmann::json& manifest) {
  std::vector<nlohmann::json> plain, simplon;
  for (const auto& v : manifest["vectors"]) (v["format"] == "simplon-cbor" ? simplon : plain).push_back(v);
  auto rank = [](const std::string& f) {
    if (f.find("start") != std::string::npos) return 0;
    if (f.find("stop") != std::string::npos || f.find("-end") != std::string::npos) return 2;
    return 1;
  };
  auto stream = [](const std::string& f) {
    if (f.find("legacy") != std::string::npos) return 1;
    if (f.find("pr51") != std::string::npos) return 2;
    return 0;
  };
  std::stable_sort(simplon.begin(), simplon.end(), [&](const auto& a, const auto& b) {
    const std::string fa = a["file"], fb = b["file"];
    return std::pair(stream(fa), rank(fa)) < std::pair(stream(fb), rank(fb));
  });
  plain.insert(plain.end(), simplon.begin(), simplon.end());
  return plain;
}

TEST(IngestdGoldenWire, EveryVectorDecodesToTheManifestOrIsRejected) {
  const fs::path golden = fs::path(PEAKNET_GOLDEN_DIR) / "wire";
  if (!fs::exists(golden / "MANIFEST.json")) GTEST_SKIP() << "no golden wire vectors at " << golden;
  const auto manifest = nlohmann::json::parse(read_text(golden / "MANIFEST.json"));
  const auto vectors = send_order(manifest);

  const std::string run = unique_name("golden");
  ShmGuard shm_guard(run);
  TempDir dir(run);
  const std::string endpoint = "ipc://" + (dir.path / "in.sock").string();
  const auto config =
      write_config(dir, run, {{"slots", 32}, {"slot_bytes", 1 << 20}, {"policy", "block"}},
                   {{"endpoints", {{{"url", endpoint}, {"rcvhwm", 1000}}}},  // libzmq drops unread data of a peer
                                                                             // that disconnects while at RCVHWM
                    {"decode_threads", 1},                                   // message ids follow send order
                    {"idle_timeout_s", 2.0},
                    {"end_on_simplon_stop", false},
                    {"quarantine_dir", (dir.path / "quarantine").string()},
                    {"decode", {{"max_decoded_bytes", 64 << 20}}}});
  auto reader = std::async(std::launch::async, [&] { return read_q1_until_finished(shm_guard.q1(), 60s); });
  ChildProcess ingestd({ingestd_binary(), "--config", config.string()}, dir.path / "ingestd.log");
  ASSERT_TRUE(ingestd.started());
  ASSERT_TRUE(eventually([&] { return fs::exists(dir.path / "in.sock") || !ingestd.running(); }, 20s))
      << read_text(dir.path / "ingestd.log");

  size_t rejects_expected = 0, skips_expected = 0;
  {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 20000);  // deliver everything, but never hang the test
    push.connect(endpoint);
    for (const auto& v : vectors) {
      const auto bytes = read_bytes(golden / v["file"].get<std::string>());
      push.send(zmq::const_buffer(bytes.data(), bytes.size()), zmq::send_flags::none);
      if (v["expected"] == "reject") ++rejects_expected;
      if (v["expected"] == "skip") ++skips_expected;
    }
  }

  ASSERT_EQ(ingestd.wait(60s), std::optional<int>(0)) << read_text(dir.path / "ingestd.log");
  const auto events = reader.get();
  std::map<uint64_t, std::vector<const Q1Event*>> by_message;
  for (const auto& e : events) by_message[e.header.source_message_id].push_back(&e);

  std::set<uint64_t> ids;
  for (const auto& e : events) EXPECT_TRUE(ids.insert(e.header.event_id).second) << "duplicate event id";
  size_t checked = 0;
  for (size_t m = 0; m < vectors.size(); ++m) {
    const auto& v = vectors[m];
    const std::string file = v["file"];
    SCOPED_TRACE(file);
    const auto* detector = v["expected"] == "accept" ? detector_array(v) : nullptr;
    if (!detector) continue;  // rejects, skips, Simplon start/stop
    auto& list = by_message[m];
    std::sort(list.begin(), list.end(),
              [](const auto* a, const auto* b) { return a->header.event_id < b->header.event_id; });
    const auto& shape = (*detector)["shape"];
    // Usually B events; a merged (B*C,1,H,W) batch may come back as B events of C panels when the
    // message carries the original shape. Either way the bytes are the whole array, in order.
    uint64_t array_bytes = std::stoul((*detector)["dtype"].get<std::string>().substr(2));
    for (const auto& d : shape) array_bytes *= d.get<uint64_t>();
    if (list.empty()) {
      std::string seen;
      for (const auto& [id, l] : by_message) seen += " " + std::to_string(id) + ":" + std::to_string(l.size());
      FAIL() << "no events in Q1 for message " << m << "; events per message:" << seen << "\n"
             << read_text(dir.path / "ingestd.log");
    }
    std::vector<std::byte> all;
    for (const auto* e : list) all.insert(all.end(), e->payload.begin(), e->payload.end());
    ASSERT_EQ(all.size(), array_bytes) << list.size() << " events";
    EXPECT_EQ(list[0]->header.height, shape[shape.size() - 2].get<uint32_t>());
    EXPECT_EQ(list[0]->header.width, shape[shape.size() - 1].get<uint32_t>());
    if (detector->contains("sha256")) {
      EXPECT_EQ(sha256_hex(all), (*detector)["sha256"].get<std::string>());
      ++checked;
    }
  }
  EXPECT_GE(checked, 30u);

  const auto counters = read_counters(shm_guard.counters());
  EXPECT_EQ(counters.at("messages_received"), vectors.size());
  EXPECT_EQ(counters.at("messages_rejected"), rejects_expected);
  uint64_t by_reason = 0;
  for (const auto& [name, value] : counters) {
    if (name.rfind("rejected_", 0) == 0) by_reason += value;
  }
  EXPECT_EQ(by_reason, rejects_expected);
  EXPECT_EQ(counters.at("messages_skipped"), skips_expected);
  EXPECT_EQ(counters.at("events_received"), counters.at("events_enqueued") + counters.at("dropped_decode_failed") +
                                                counters.at("dropped_q1_full") + counters.at("dropped_shutdown") +
                                                counters.at("dropped_slot_too_small"));
  EXPECT_EQ(counters.at("events_enqueued"), events.size());
  size_t quarantined = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(dir.path / "quarantine")) ++quarantined;
  EXPECT_EQ(quarantined, rejects_expected);
}

}  // namespace
}  // namespace peaknet::ingestd::testing

namespace peaknet::ingestd::testing {
namespace {

/// `ingestd inspect` applies --set also without --config (issue 19: it used to ignore them silently):
/// an unknown decode key is refused naming it, a known one is accepted.
TEST(IngestdInspect, SetIsAppliedWithoutConfig) {
  TempDir dir("pktest-inspect-" + std::to_string(::getpid()));
  const std::string message = PEAKNET_GOLDEN_DIR "/wire/npz-deflate-b1.npzmsg";
  const std::string out = (dir.path / "out.txt").string();
  auto run = [&](const std::string& set) {
    const std::string cmd = ingestd_binary() + " --set " + set + " inspect " + message + " > " + out + " 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(out);
    return std::make_pair(WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(in), {}));
  };
  const auto [bad_rc, bad_out] = run("ingestd.decode.no_such_key=1");
  EXPECT_NE(bad_rc, 0) << bad_out;
  EXPECT_NE(bad_out.find("no_such_key"), std::string::npos) << bad_out;
  const auto [ok_rc, ok_out] = run("run.log_level=warn");
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("\"arrays\""), std::string::npos) << ok_out;
}

}  // namespace
}  // namespace peaknet::ingestd::testing
