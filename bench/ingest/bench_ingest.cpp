// bench_ingest: events/s and GB/s of ingestd (socket -> decode -> Q1 slot) over loopback TCP with 1 and
// N endpoints for npz-stored, npz-deflate, hdf5-none and hdf5-bslz4, each as a ratio to memcpy of
// the same decoded bytes measured in the same run. One message per format is synthesised once and
// sent repeatedly (zero-copy) by one PUSH thread per endpoint; a consumer thread drains Q1.
// Each case first sends --warmup messages per endpoint and waits until they are consumed (Q1 slots,
// socket buffers and allocator pages faulted in); only the --messages after them are timed.
// HDF5 cases also report libhdf5's lock: `lock%` = its share of the decode threads' working time
// (decode minus waiting for Q1), `lock_busy` = its utilisation over the timed wall time (near 1 =
// the lock serialises the decode threads).
//   bench_ingest [--shape B C H W] [--messages N] [--warmup W] [--endpoints 1,3] [--decode-threads T] [--json]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/config/segment_names.hpp"
#include "common/config/suite_config.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "ingestd/ingestd.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"
#include "pusher/npz_writer.hpp"

namespace {

using namespace peaknet;
using Clock = std::chrono::steady_clock;
constexpr uint64_t kQ1Slots = 32;

std::vector<uint8_t> build_message(const std::string& format, const std::vector<uint64_t>& shape) {
  const bool hdf5 = format.rfind("hdf5", 0) == 0;
  const auto arrays = pusher::pattern_batch(0, 0, shape, "float32", hdf5);
  if (format == "npz-stored") return pusher::make_npz(arrays, 0);
  if (format == "npz-deflate") return pusher::make_npz(arrays, 1);
  if (format == "hdf5-none") return pusher::make_hdf5_image(arrays, pusher::Hdf5Compression::kNone);
  return pusher::make_hdf5_image(arrays, pusher::Hdf5Compression::kBitshuffleLz4);
}

/// memcpy GB/s over `total_bytes` in message-sized copies (same working-set size as the decode).
double memcpy_gbps(size_t message_bytes, size_t total_bytes) {
  std::vector<uint8_t> src(message_bytes, 1), dst(message_bytes);
  std::memcpy(dst.data(), src.data(), message_bytes);  // fault the pages in
  const auto t0 = Clock::now();
  size_t done = 0;
  while (done < total_bytes) {
    std::memcpy(dst.data(), src.data(), message_bytes);
    done += message_bytes;
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  volatile uint8_t sink = dst[message_bytes / 2];
  (void)sink;
  return done / s / 1e9;
}

struct Result {
  double seconds = 0, events_per_s = 0, gbps = 0, wire_gbps = 0;
  uint64_t events = 0;
  double lock_share = 0, lock_busy = 0, lock_ms_per_message = 0, decode_ms_per_message = 0;
};

Result run_case(const std::vector<uint8_t>& message, const std::vector<uint64_t>& shape, int endpoints,
                int messages_per_endpoint, int warmup_per_endpoint, int decode_threads) {
  const uint64_t frame_bytes = shape[1] * shape[2] * shape[3] * 4;
  const std::string run_name = "pnbench-" + std::to_string(::getpid());
  nlohmann::json eps = nlohmann::json::array();
  for (int i = 0; i < endpoints; ++i) eps.push_back({{"url", "tcp://127.0.0.1:0"}});
  const nlohmann::json root = {
      {"run", {{"name", run_name}}},
      {"q1", {{"slots", kQ1Slots}, {"slot_bytes", (4096 + frame_bytes + 4095) / 4096 * 4096}, {"policy", "block"}}},
      {"ingestd",
       {{"endpoints", eps},
        {"decode_threads", decode_threads},
        {"decode_queue_messages", 4},
        {"decode", {{"max_decoded_bytes", int64_t(8) << 30}}}}}};
  const auto config = config::parse_suite_config(root, "<bench>");
  shm::Ring::unlink(config::segment_name(config, config.q1));
  shm::CounterBlock::unlink(config::stats_block_name(config.run.name, "ingestd"));
  Result r;
  {
    ingestd::Ingestd daemon(config);
    const auto bound = daemon.bound_endpoints();
    std::thread runner([&] { daemon.run(); });
    const uint64_t warm_events = uint64_t(endpoints) * warmup_per_endpoint * shape[0];
    const uint64_t expected = warm_events + uint64_t(endpoints) * messages_per_endpoint * shape[0];
    std::atomic<uint64_t> consumed{0};
    Clock::time_point t_end;
    std::thread consumer([&] {
      auto ring = shm::Ring::attach(config::segment_name(config, config.q1));
      std::vector<shm::ReadSlot> batch;
      while (consumed.load() < expected) {
        batch.clear();
        ring.claim(batch, 16, std::chrono::milliseconds(100));
        for (auto& s : batch) ring.release(std::move(s));
        consumed += batch.size();
      }
      t_end = Clock::now();
    });
    zmq::context_t context(endpoints);  // one sender I/O thread per stream, like one streamer rank each
    std::vector<std::thread> senders;
    std::atomic<bool> timed_phase{false};
    for (int e = 0; e < endpoints; ++e) {
      senders.emplace_back([&, e] {
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::sndhwm, 5);
        push.set(zmq::sockopt::linger, -1);
        push.connect(bound[e]);
        auto send = [&](int count) {
          for (int m = 0; m < count; ++m) {
            zmq::message_t msg(const_cast<uint8_t*>(message.data()), message.size(), [](void*, void*) {});
            push.send(msg, zmq::send_flags::none);
          }
        };
        send(warmup_per_endpoint);
        while (!timed_phase.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
        send(messages_per_endpoint);
      });
    }
    while (consumed.load() < warm_events) std::this_thread::sleep_for(std::chrono::microseconds(200));
    const auto& k = daemon.counters();
    const uint64_t decode0 = k.decode_ns.load() - k.q1_blocked_ns.load(), decoded0 = k.messages_decoded.load();
    const auto lock0 = ingest::hdf5_lock_stats();
    const auto t0 = Clock::now();
    timed_phase = true;
    for (auto& s : senders) s.join();
    consumer.join();
    const auto lock1 = ingest::hdf5_lock_stats();
    const uint64_t decode_work = k.decode_ns.load() - k.q1_blocked_ns.load() - decode0;
    const uint64_t decoded = k.messages_decoded.load() - decoded0;
    daemon.request_drain();
    runner.join();
    r.seconds = std::chrono::duration<double>(t_end - t0).count();
    r.events = consumed.load() - warm_events;
    const double held_s = (lock1.held_ns - lock0.held_ns) * 1e-9;
    r.lock_share = decode_work ? held_s / (decode_work * 1e-9) : 0;
    r.lock_busy = held_s / r.seconds;
    r.lock_ms_per_message = decoded ? held_s * 1e3 / decoded : 0;
    r.decode_ms_per_message = decoded ? decode_work * 1e-6 / decoded : 0;
    r.events_per_s = r.events / r.seconds;
    r.gbps = r.events * frame_bytes / r.seconds / 1e9;
    r.wire_gbps = double(endpoints) * messages_per_endpoint * message.size() / r.seconds / 1e9;
  }
  shm::Ring::unlink(config::segment_name(config, config.q1));
  shm::CounterBlock::unlink(config::stats_block_name(config.run.name, "ingestd"));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_ingest: ingestd throughput over loopback TCP vs memcpy"};
  std::vector<uint64_t> shape = {16, 1, 512, 512};
  int messages = 0, warmup = -1, decode_threads = 2;
  std::vector<int> endpoint_counts = {1, 3};
  std::vector<std::string> formats = {"npz-stored", "npz-deflate", "hdf5-none", "hdf5-bslz4"};
  bool json = false;
  app.add_option("--shape", shape, "batch shape B C H W (float32)")->expected(4);
  app.add_option("--messages", messages,
                 "timed messages per endpoint per case (default: 6, or 12 for batches of 100 MB or more)");
  app.add_option("--warmup", warmup,
                 "untimed messages per endpoint sent and consumed first (default: enough to write every Q1 slot once)");
  app.add_option("--endpoints", endpoint_counts, "endpoint counts to run")->delimiter(',');
  app.add_option("--formats", formats, "npz-stored,npz-deflate,hdf5-none,hdf5-bslz4")->delimiter(',');
  app.add_option("--decode-threads", decode_threads, "ingestd decode threads");
  app.add_flag("--json", json, "one JSON line per case instead of the table");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  const uint64_t frame_bytes = shape[1] * shape[2] * shape[3] * 4;
  const double batch_mb = shape[0] * frame_bytes / 1e6;
  if (messages <= 0) messages = batch_mb >= 100 ? 12 : 6;
  if (!json) {
    std::printf(
        "bench_ingest: batch %llux%llux%llux%llu float32 (%.1f MB), %d timed + %s warm-up messages per "
        "endpoint, %d decode threads, Q1 %llu slots\n",
        (unsigned long long)shape[0], (unsigned long long)shape[1], (unsigned long long)shape[2],
        (unsigned long long)shape[3], batch_mb, messages, warmup >= 0 ? std::to_string(warmup).c_str() : "auto",
        decode_threads, (unsigned long long)kQ1Slots);
    // ingestd under peakctl/systemd runs with glibc.malloc.hugetlb=1 (libzmq's per-message buffers on huge
    // pages); this in-process bench gets it only from its own environment — say which case this is.
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    std::printf("GLIBC_TUNABLES=%s%s\n", tunables != nullptr ? tunables : "(unset)",
                tunables != nullptr && std::string(tunables).find("glibc.malloc.hugetlb=1") != std::string::npos
                    ? ""
                    : "  (peakctl/systemd give ingestd glibc.malloc.hugetlb=1; set it to measure that)");
    std::printf("%-12s %4s %10s %9s %9s %9s %8s %9s %6s %9s %9s\n", "format", "eps", "events/s", "GB/s", "wire GB/s",
                "memcpy", "ratio", "ms/msg", "lock%", "lock_busy", "lock ms");
  }
  for (const auto& format : formats) {
    const auto message = build_message(format, shape);
    for (int endpoints : endpoint_counts) {
      const int warm =
          warmup >= 0 ? warmup : static_cast<int>((kQ1Slots + shape[0] * endpoints - 1) / (shape[0] * endpoints));
      const auto r = run_case(message, shape, endpoints, messages, warm, decode_threads);
      const double baseline = memcpy_gbps(shape[0] * frame_bytes, r.events * frame_bytes);
      const double ratio = r.gbps / baseline;
      if (json) {
        std::cout << nlohmann::json{{"format", format},
                                    {"endpoints", endpoints},
                                    {"events", r.events},
                                    {"seconds", r.seconds},
                                    {"events_per_s", r.events_per_s},
                                    {"gb_per_s", r.gbps},
                                    {"wire_gb_per_s", r.wire_gbps},
                                    {"memcpy_gb_per_s", baseline},
                                    {"ratio_to_memcpy", ratio},
                                    {"message_bytes", message.size()},
                                    {"shape", shape},
                                    {"decode_threads", decode_threads},
                                    {"messages_per_endpoint", messages},
                                    {"warmup_per_endpoint", warm},
                                    {"decode_ms_per_message", r.decode_ms_per_message},
                                    {"hdf5_lock_share", r.lock_share},
                                    {"hdf5_lock_busy", r.lock_busy},
                                    {"hdf5_lock_ms_per_message", r.lock_ms_per_message}}
                         .dump()
                  << std::endl;
      } else {
        std::printf("%-12s %4d %10.1f %9.2f %9.2f %9.2f %8.3f %9.2f %5.1f%% %9.3f %9.3f\n", format.c_str(), endpoints,
                    r.events_per_s, r.gbps, r.wire_gbps, baseline, ratio, r.decode_ms_per_message, 100 * r.lock_share,
                    r.lock_busy, r.lock_ms_per_message);
      }
    }
  }
  return 0;
}
