// bench_ingest: events/s and GB/s of ingestd (socket -> decode -> Q1 slot) over loopback TCP with 1 and
// N endpoints for npz-stored, npz-deflate, hdf5-none and hdf5-bslz4, each as a ratio to memcpy of
// the same decoded bytes measured in the same run. One message per format is synthesised once and
// sent repeatedly (zero-copy) by one PUSH thread per endpoint; a consumer thread drains Q1.
//   bench_ingest [--shape B C H W] [--messages N] [--endpoints 1,3] [--decode-threads T] [--json]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "common/config/suite_config.hpp"
#include "ingestd/ingestd.hpp"
#include "pusher/batch_pattern.hpp"
#include "pusher/hdf5_image_writer.hpp"
#include "pusher/npz_writer.hpp"

namespace {

using namespace peaknet;
using Clock = std::chrono::steady_clock;

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
};

Result run_case(const std::vector<uint8_t>& message, const std::vector<uint64_t>& shape, int endpoints,
                int messages_per_endpoint, int decode_threads) {
  const uint64_t frame_bytes = shape[1] * shape[2] * shape[3] * 4;
  const std::string run_name = "pnbench-" + std::to_string(::getpid());
  nlohmann::json eps = nlohmann::json::array();
  for (int i = 0; i < endpoints; ++i) eps.push_back({{"url", "tcp://127.0.0.1:0"}});
  const nlohmann::json root = {
      {"run", {{"name", run_name}}},
      {"q1", {{"slots", 32}, {"slot_bytes", (4096 + frame_bytes + 4095) / 4096 * 4096}, {"policy", "block"}}},
      {"ingestd", {{"endpoints", eps}, {"decode_threads", decode_threads}, {"decode_queue_messages", 4},
                   {"decode", {{"max_decoded_bytes", int64_t(8) << 30}}}}}};
  const auto config = config::parse_suite_config(root, "<bench>");
  shm::Ring::unlink(ingestd::q1_segment_name(config));
  shm::CounterBlock::unlink(ingestd::ingestd_counter_block_name(config));
  Result r;
  {
    ingestd::Ingestd daemon(config);
    const auto bound = daemon.bound_endpoints();
    std::thread runner([&] { daemon.run(); });
    const uint64_t expected = uint64_t(endpoints) * messages_per_endpoint * shape[0];
    std::atomic<uint64_t> consumed{0};
    Clock::time_point t_end;
    std::thread consumer([&] {
      auto ring = shm::Ring::attach(ingestd::q1_segment_name(config));
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
    const auto t0 = Clock::now();
    for (int e = 0; e < endpoints; ++e) {
      senders.emplace_back([&, e] {
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::sndhwm, 5);
        push.set(zmq::sockopt::linger, -1);
        push.connect(bound[e]);
        for (int m = 0; m < messages_per_endpoint; ++m) {
          zmq::message_t msg(const_cast<uint8_t*>(message.data()), message.size(), [](void*, void*) {});
          push.send(msg, zmq::send_flags::none);
        }
      });
    }
    for (auto& s : senders) s.join();
    consumer.join();
    daemon.request_drain();
    runner.join();
    r.seconds = std::chrono::duration<double>(t_end - t0).count();
    r.events = consumed.load();
    r.events_per_s = r.events / r.seconds;
    r.gbps = r.events * frame_bytes / r.seconds / 1e9;
    r.wire_gbps = double(endpoints) * messages_per_endpoint * message.size() / r.seconds / 1e9;
  }
  shm::Ring::unlink(ingestd::q1_segment_name(config));
  shm::CounterBlock::unlink(ingestd::ingestd_counter_block_name(config));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_ingest: ingestd throughput over loopback TCP vs memcpy"};
  std::vector<uint64_t> shape = {16, 1, 512, 512};
  int messages = 6, decode_threads = 2;
  std::vector<int> endpoint_counts = {1, 3};
  std::vector<std::string> formats = {"npz-stored", "npz-deflate", "hdf5-none", "hdf5-bslz4"};
  bool json = false;
  app.add_option("--shape", shape, "batch shape B C H W (float32)")->expected(4);
  app.add_option("--messages", messages, "messages per endpoint per case");
  app.add_option("--endpoints", endpoint_counts, "endpoint counts to run")->delimiter(',');
  app.add_option("--formats", formats, "npz-stored,npz-deflate,hdf5-none,hdf5-bslz4")->delimiter(',');
  app.add_option("--decode-threads", decode_threads, "ingestd decode threads");
  app.add_flag("--json", json, "one JSON line per case instead of the table");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  const uint64_t frame_bytes = shape[1] * shape[2] * shape[3] * 4;
  const double batch_mb = shape[0] * frame_bytes / 1e6;
  if (!json) {
    std::printf("bench_ingest: batch %llux%llux%llux%llu float32 (%.1f MB), %d messages per endpoint, %d decode threads\n",
                (unsigned long long)shape[0], (unsigned long long)shape[1], (unsigned long long)shape[2],
                (unsigned long long)shape[3], batch_mb, messages, decode_threads);
    std::printf("%-12s %4s %10s %9s %9s %9s %8s\n", "format", "eps", "events/s", "GB/s", "wire GB/s", "memcpy", "ratio");
  }
  for (const auto& format : formats) {
    const auto message = build_message(format, shape);
    for (int endpoints : endpoint_counts) {
      const auto r = run_case(message, shape, endpoints, messages, decode_threads);
      const double baseline = memcpy_gbps(shape[0] * frame_bytes, r.events * frame_bytes);
      const double ratio = r.gbps / baseline;
      if (json) {
        std::cout << nlohmann::json{{"format", format}, {"endpoints", endpoints}, {"events", r.events},
                                    {"seconds", r.seconds}, {"events_per_s", r.events_per_s}, {"gb_per_s", r.gbps},
                                    {"wire_gb_per_s", r.wire_gbps}, {"memcpy_gb_per_s", baseline},
                                    {"ratio_to_memcpy", ratio}, {"message_bytes", message.size()},
                                    {"shape", shape}, {"decode_threads", decode_threads}}
                         .dump()
                  << std::endl;
      } else {
        std::printf("%-12s %4d %10.1f %9.2f %9.2f %9.2f %8.3f\n", format.c_str(), endpoints, r.events_per_s, r.gbps,
                    r.wire_gbps, baseline, ratio);
      }
    }
  }
  return 0;
}
