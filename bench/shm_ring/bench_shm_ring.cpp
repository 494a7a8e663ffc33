// bench_shm_ring: what the ring costs on top of the one copy every event needs anyway.
//   1. SPSC throughput, two threads on two handles of one ring: the producer memcpy's `bytes` into the
//      slot (socket -> slot), publishes; the consumer claims and releases (DMA would read the slot).
//      Reported as a ratio to a plain memcpy of the same bytes into the same footprint, measured in the
//      same run. Slot sizes 64 B (in a 4 KiB slot), 4 KiB, 1 MiB, 16 MiB.
//   2. Per-operation latency: acquire+publish and claim+release on one thread (uncontended), in ns.
// Both sides: one untimed warm-up, then the best of --trials (default 3) runs of --seconds each.
// Usage: bench_shm_ring [--seconds S] [--trials N] [--json]
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shm/ring.hpp"

using namespace peaknet::shm;
using Clock = std::chrono::steady_clock;

namespace {

double g_seconds = 0.5;

std::string ring_name(const char* what) { return "peaknet-bench-" + std::to_string(::getpid()) + "-" + what; }

struct Unlink {
  std::string name;
  ~Unlink() { Ring::unlink(name); }
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int g_trials = 3;

// Best of g_trials (after one untimed warm-up): the figure least disturbed by other processes.
template <typename F>
double best_of(F&& one_trial) {
  one_trial();
  double best = 0;
  for (int t = 0; t < g_trials; ++t) best = std::max(best, one_trial());
  return best;
}

// Bytes per second of the copy alone: a producer thread memcpy's `bytes` from one source into `slots`
// rotating destinations of slot pitch, in a MAP_SHARED segment of the ring's size (same memory kind,
// same footprint, same bytes, pre-faulted), for g_seconds. Nothing else: no protocol, no consumer.
double memcpy_trial(size_t bytes, uint32_t slots, std::byte* dst, size_t pitch, const std::byte* src) {
  double rate = 0;
  std::thread producer([&] {
    uint64_t n = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      for (int k = 0; k < 16; ++k, ++n) std::memcpy(dst + (n % slots) * pitch, src, bytes);
      elapsed = seconds_since(t0);
    } while (elapsed < g_seconds);
    rate = static_cast<double>(n) * static_cast<double>(bytes) / elapsed;
  });
  producer.join();
  return rate;
}

double memcpy_rate(size_t bytes, uint32_t slots) {
  const size_t pitch = std::max<size_t>(bytes, 4096);
  const size_t total = size_t{slots} * pitch;
  void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("bench_shm_ring: mmap of the memcpy baseline");
    std::exit(1);
  }
  std::vector<std::byte> src(bytes, std::byte{1});
  auto* dst = static_cast<std::byte*>(p);
  const double best = best_of([&] { return memcpy_trial(bytes, slots, dst, pitch, src.data()); });
  ::munmap(p, total);
  return best;
}

struct RingResult {
  double bytes_per_s;
  double events_per_s;
};

RingResult ring_trial(size_t bytes, uint32_t slots) {
  const std::string name = ring_name(("spsc" + std::to_string(bytes)).c_str());
  Unlink guard{name};
  RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = std::max<size_t>(bytes, 4096);
  Ring producer = Ring::create(o);
  Ring consumer = Ring::attach(name);
  std::vector<std::byte> src(bytes, std::byte{1});
  producer.begin_producing();
  std::atomic<uint64_t> consumed{0};
  std::thread t([&] {
    std::vector<ReadSlot> got;
    for (;;) {
      got.clear();
      if (consumer.claim(got, 16, std::chrono::milliseconds(100)) == 0) {
        if (consumer.finished()) return;
        continue;
      }
      for (auto& s : got) consumer.release(std::move(s));
      consumed.fetch_add(got.size(), std::memory_order_relaxed);
    }
  });
  uint64_t n = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int k = 0; k < 16; ++k, ++n) {
      auto s = producer.acquire(std::chrono::milliseconds(1000));
      std::memcpy(s->data(), src.data(), bytes);
      producer.publish(std::move(*s));
    }
    elapsed = seconds_since(t0);
  } while (elapsed < g_seconds);
  producer.finish_producing();
  t.join();
  elapsed = seconds_since(t0);  // until the consumer released the last event
  return {static_cast<double>(n) * static_cast<double>(bytes) / elapsed, static_cast<double>(n) / elapsed};
}

// One ring per measurement (created, so pre-faulted, before the clock starts), best of g_trials.
RingResult ring_rate(size_t bytes, uint32_t slots) {
  RingResult best{0, 0};
  ring_trial(bytes, slots);
  for (int t = 0; t < g_trials; ++t) {
    const RingResult r = ring_trial(bytes, slots);
    if (r.bytes_per_s > best.bytes_per_s) best = r;
  }
  return best;
}

struct OpLatency {
  double acquire_publish_ns;
  double claim_release_ns;
};

OpLatency op_latency(uint32_t slots) {
  const std::string name = ring_name(("ops" + std::to_string(slots)).c_str());
  Unlink guard{name};
  RingOptions o;
  o.name = name;
  o.slot_count = slots;
  o.slot_bytes = 4096;
  Ring ring = Ring::create(o);
  std::vector<ReadSlot> got;
  got.reserve(slots);
  const uint32_t batch = std::min<uint32_t>(slots, 8);
  double pub_s = 0, claim_s = 0;
  uint64_t n = 0;
  const auto t_end = Clock::now() + std::chrono::duration<double>(g_seconds);
  while (Clock::now() < t_end) {
    auto t0 = Clock::now();
    for (uint32_t k = 0; k < batch; ++k) {
      auto s = ring.acquire(std::chrono::milliseconds(10));
      s->data()[0] = std::byte{1};
      ring.publish(std::move(*s));
    }
    auto t1 = Clock::now();
    for (uint32_t k = 0; k < batch; ++k) {
      got.clear();
      ring.claim(got, 1, std::chrono::milliseconds(10));
      ring.release(std::move(got[0]));
    }
    auto t2 = Clock::now();
    pub_s += std::chrono::duration<double>(t1 - t0).count();
    claim_s += std::chrono::duration<double>(t2 - t1).count();
    n += batch;
  }
  return {pub_s / static_cast<double>(n) * 1e9, claim_s / static_cast<double>(n) * 1e9};
}

std::string human(size_t bytes) {
  if (bytes >= (1u << 20)) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--seconds" && i + 1 < argc) g_seconds = std::stod(argv[++i]);
    else if (a == "--trials" && i + 1 < argc) g_trials = std::max(1, std::stoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_shm_ring [--seconds S] [--trials N] [--json]\n");
      return 64;
    }
  }
  struct Case {
    size_t bytes;
    uint32_t slots;
  };
  const Case cases[] = {{64, 64}, {4096, 64}, {1u << 20, 16}, {16u << 20, 8}};
  std::printf("# bench_shm_ring: SPSC, 2 threads, one ring (best of %d x %.2f s), host %u cores\n", g_trials, g_seconds,
              std::thread::hardware_concurrency());
  std::printf("%-8s %6s %14s %14s %14s %8s\n", "payload", "slots", "ring GB/s", "memcpy GB/s", "events/s", "ratio");
  std::string js = "{\"bench\":\"shm_ring\",\"seconds\":" + std::to_string(g_seconds) + ",\"cases\":[";
  for (const Case& c : cases) {
    const double copy = memcpy_rate(c.bytes, c.slots);
    const RingResult r = ring_rate(c.bytes, c.slots);
    const double ratio = r.bytes_per_s / copy;
    std::printf("%-8s %6u %14.2f %14.2f %14.0f %8.3f\n", human(c.bytes).c_str(), c.slots, r.bytes_per_s / 1e9,
                copy / 1e9, r.events_per_s, ratio);
    js += "{\"bytes\":" + std::to_string(c.bytes) + ",\"slots\":" + std::to_string(c.slots) +
          ",\"ring_Bps\":" + std::to_string(r.bytes_per_s) + ",\"memcpy_Bps\":" + std::to_string(copy) +
          ",\"events_per_s\":" + std::to_string(r.events_per_s) + ",\"ratio\":" + std::to_string(ratio) + "},";
  }
  js.back() = ']';
  std::printf("\n%-8s %22s %22s\n", "slots", "acquire+publish ns", "claim+release ns");
  js += ",\"latency\":[";
  for (uint32_t slots : {8u, 64u, 256u}) {
    const OpLatency l = op_latency(slots);
    std::printf("%-8u %22.0f %22.0f\n", slots, l.acquire_publish_ns, l.claim_release_ns);
    js += "{\"slots\":" + std::to_string(slots) + ",\"acquire_publish_ns\":" + std::to_string(l.acquire_publish_ns) +
          ",\"claim_release_ns\":" + std::to_string(l.claim_release_ns) + "},";
  }
  js.back() = ']';
  js += "}";
  if (json) std::printf("%s\n", js.c_str());
  return 0;
}
