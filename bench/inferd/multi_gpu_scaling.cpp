#include "multi_gpu_scaling.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/config/segment_names.hpp"
#include "common/config/suite_config.hpp"
#include "inferd/inferd_service.hpp"
#include "inferd_children.hpp"
#include "shm/counter_block.hpp"
#include "shm/event_layout.hpp"
#include "shm/ring.hpp"

namespace peaknet::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

// One memcpy thread moves ~5-10 GB/s; 2 GPUs at 16x1x1920x1920 need ~3 GB/s into Q1. The ring is
// multi-producer and one handle may be used by several threads.
constexpr int kProducerThreads = 2;

/// Unlinks every /dev/shm segment of one measurement ("<run>-q1", "<run>-q2", "<run>-stats-inferd-*"),
/// at construction (leftovers) and at destruction, whatever happened. Declared before the children and
/// ring handles so that it runs after they are gone (a child still starting could create them again).
class SegmentSweep {
 public:
  explicit SegmentSweep(std::string prefix) : prefix_(std::move(prefix)) { sweep(); }
  SegmentSweep(const SegmentSweep&) = delete;
  SegmentSweep& operator=(const SegmentSweep&) = delete;
  ~SegmentSweep() { sweep(); }

 private:
  void sweep() noexcept {
    try {
      for (const auto& segment : shm::Ring::list(prefix_)) shm::Ring::unlink(segment.name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_inferd: cleaning /dev/shm/%s*: %s\n", prefix_.c_str(), e.what());
    }
  }
  std::string prefix_;
};

void check_shm_space(uint64_t needed) {
  struct statvfs st {};
  if (::statvfs("/dev/shm", &st) != 0) return;  // Ring::create reports the real problem, if any
  const uint64_t available = uint64_t(st.f_bavail) * st.f_frsize;
  if (available < needed) {
    throw std::runtime_error(
        fmt::format("/dev/shm has {:.1f} GiB free, the rings need {:.1f} GiB: lower "
                    "--slots or enlarge /dev/shm",
                    double(available) / (1ull << 30), double(needed) / (1ull << 30)));
  }
}

/// Q1 slots for K inferds: each holds up to (pipeline_slots + 1) batches claimed (release_q1 =
/// after_publish: a batch in flight keeps its slots; one more is being batched), and the producer needs
/// room ahead of them so that a full batch is READY whenever one is taken. b * max(2 * slots, slots + 2)
/// per inferd leaves >= one spare batch each; at 16x1x1920x1920, slots 3, 2 GPUs: 192 slots x 14.7 MB =
/// 2.8 GB of /dev/shm (pinned by each inferd). The 1-GPU run uses the same ring, so only the GPU count
/// differs.
int64_t q1_slots_for(const Options& o, const Shape& s, size_t k) {
  const int64_t per_inferd = s.b * std::max<int64_t>(2 * o.slots, o.slots + 2);
  return std::max<int64_t>(64, int64_t(k) * per_inferd);
}

struct Measurement {
  double events_per_s = 0;
  json inferds = json::array();  ///< per inferd: counter block name + counters
};

/// Events/s through Q1 -> K inferd processes -> Q2. Events: K batches fill the pipelines (not timed),
/// K * iters batches are timed (from the record that completes the fill to the one that completes the
/// timed part), K more batches close the stream untimed: the last events split unevenly between the
/// inferds, and a partial batch waits max_wait_ms for events that never come.
Measurement measure(const Options& o, const Shape& s, const std::vector<int>& gpus, int64_t q1_slots) {
  const size_t k = gpus.size();
  const std::string run = fmt::format("bench-inferd-{}-k{}", getpid(), k);
  SegmentSweep sweep(run + "-");
  std::vector<config::SuiteConfig> configs;
  for (size_t i = 0; i < k; ++i) {
    json j = streaming_config(o, s, run, q1_slots, gpus[i]);
    j["inferd"]["cpu_index"] = i;  // the CPU backend names its counter block by cpu_index, not gpu
    if (o.device == "cpu") {
      j["inferd"]["cpu_threads"] = std::max<unsigned>(1, std::thread::hardware_concurrency() / unsigned(k));
    }
    configs.push_back(config::parse_suite_config(j));
  }
  const auto& cfg = configs.front();
  check_shm_space(uint64_t(cfg.q1.slots) * uint64_t(cfg.q1.slot_bytes) +
                  uint64_t(cfg.q2.slots) * uint64_t(cfg.q2.slot_bytes));
  InferdChildren children;  // before the rings: from here a Ctrl-C ends in the cleanup too
  shm::Ring q1 = shm::Ring::create(config::ring_options(cfg, cfg.q1));
  shm::Ring q2 = shm::Ring::create(config::ring_options(cfg, cfg.q2));
  std::memset(q1.data_area(), 0, q1.data_area_bytes());  // page faults now, not in the timed stream
  q1.begin_producing();
  for (size_t i = 0; i < k; ++i) children.spawn(configs[i], gpus[i]);
  children.wait_ready(std::chrono::seconds(600));

  const uint64_t batch = uint64_t(s.b), fill = k * batch, timed = k * batch * uint64_t(o.iters);
  const uint64_t total = fill + timed + k * batch;
  const std::vector<float> frame = synthetic_frame(s);

  std::atomic<bool> abort{false}, consumer_done{false};
  std::mutex error_mutex;
  std::string error;
  const auto fail = [&](const std::string& what) {
    std::lock_guard lock(error_mutex);
    if (error.empty()) error = what;
    abort = true;
  };
  std::vector<std::thread> producers;
  for (int t = 0; t < kProducerThreads; ++t) {
    producers.emplace_back([&, t] {
      try {
        for (uint64_t id = uint64_t(t); id < total && !abort; id += kProducerThreads) {
          std::optional<shm::WriteSlot> slot;
          while (!slot && !abort) slot = q1.acquire(200ms);  // short waits: notice an abort
          if (!slot) break;
          write_synthetic_event(slot->data(), id, s, frame);
          q1.publish(std::move(*slot));
        }
      } catch (const std::exception& e) {
        fail(std::string("Q1 producer: ") + e.what());
      }
    });
  }
  Clock::time_point t_start{}, t_end{};
  uint64_t n_start = 0, n_end = 0, seen = 0;
  std::thread consumer([&] {
    try {
      std::vector<shm::ReadSlot> got;
      auto last_record = Clock::now();
      while (seen < total && !abort) {
        if (q2.claim(got, 256, 200ms) == 0) {
          if (q2.finished()) fail(fmt::format("Q2 finished after {} of {} records", seen, total));
          if (Clock::now() - last_record > 120s) fail(fmt::format("no Q2 record for 120 s ({} of {})", seen, total));
          continue;
        }
        for (auto& r : got) q2.release(std::move(r));
        seen += got.size();
        got.clear();
        last_record = Clock::now();
        if (n_start == 0 && seen >= fill) t_start = last_record, n_start = seen;
        if (n_end == 0 && seen >= fill + timed) t_end = last_record, n_end = seen;
      }
    } catch (const std::exception& e) {
      fail(std::string("Q2 consumer: ") + e.what());
    }
    consumer_done = true;
  });
  // Every inferd runs until Q1 is finished, so any that ends while the stream runs has failed.
  while (!consumer_done) {
    if (std::string ended = children.first_ended(); !ended.empty()) fail(ended);
    if (InferdChildren::interrupted()) fail("interrupted by a signal");
    std::this_thread::sleep_for(20ms);
  }
  for (auto& p : producers) p.join();
  consumer.join();
  if (!error.empty()) throw std::runtime_error(error);  // children killed, segments unlinked on the way out

  // Q1 finished() is ring-wide (every producer finished, nothing READY/CLAIMED/WRITING), so each inferd
  // sees it once the last batch anywhere is released; each then drains, finishes Q2 and returns.
  q1.finish_producing();
  children.wait_all(std::chrono::seconds(120));

  Measurement m;
  std::vector<std::string> blocks;  // one per inferd, named by its gpu (cpu_index on CPU)
  for (const auto& segment : shm::Ring::list(run + "-stats-inferd-")) blocks.push_back(segment.name);
  std::sort(blocks.begin(), blocks.end());
  for (const auto& block : blocks) {
    json counters = json::object();
    for (const auto& [name, value] : shm::CounterBlock::attach(block).snapshot()) counters[name] = value;
    m.inferds.push_back({{"counter_block", block}, {"counters", counters}});
  }
  const double seconds = std::chrono::duration<double>(t_end - t_start).count();
  m.events_per_s = seconds > 0 ? double(n_end - n_start) / seconds : 0.0;
  return m;
}

std::string events_per_inferd(const Measurement& m) {
  std::vector<uint64_t> events;
  for (const auto& inferd : m.inferds) events.push_back(inferd["counters"].value("events_out", uint64_t(0)));
  return fmt::format("{}", fmt::join(events, ", "));
}

}  // namespace

json multi_gpu_scaling(const Options& o, const Shape& s, const std::vector<int>& gpus) {
  if (o.iters < 1) throw std::invalid_argument("--iters: at least 1 timed batch per GPU");
  const size_t k = gpus.size();
  const int64_t q1_slots = q1_slots_for(o, s, k);
  const Measurement one = measure(o, s, {gpus.front()}, q1_slots);
  std::cout << fmt::format("{} {}: 1 inferd (gpu {}): {:.1f} events/s", s.text(), o.precision, gpus.front(),
                           one.events_per_s)
            << std::endl;
  const Measurement all = k > 1 ? measure(o, s, gpus, q1_slots) : one;
  const double scaling = one.events_per_s > 0 ? all.events_per_s / one.events_per_s : 0.0;
  const double efficiency = scaling / double(k);
  if (k > 1) {
    std::cout << fmt::format("{} {}: {} inferds (gpus {}): {:.1f} events/s (events per inferd: {})", s.text(),
                             o.precision, k, fmt::join(gpus, ","), all.events_per_s, events_per_inferd(all))
              << std::endl;
  }
  std::cout << fmt::format("{} {}: scaling {} GPUs / 1 GPU {:.3f}, efficiency {:.3f}", s.text(), o.precision, k,
                           scaling, efficiency)
            << std::endl;
  return {{"shape", s.text()},
          {"gpus", gpus},
          {"q1_slots", q1_slots},
          {"events_per_s_1_gpu", one.events_per_s},
          {"events_per_s_k_gpus", all.events_per_s},
          {"k", k},
          {"scaling", scaling},
          {"efficiency", efficiency},
          {"inferds_1_gpu", one.inferds},
          {"inferds_k_gpus", all.inferds}};
}

}  // namespace peaknet::bench
