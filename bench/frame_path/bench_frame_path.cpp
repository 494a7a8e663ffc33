// bench_frame_path: the two host-side ways a hit's frame can reach writerd, on real libshm rings, at a
// fixed detector rate and hit rates of 5/30/100 %:
//   copy  - inferd copies a hit's frame from its Q1 slot into its Q2 record and releases the Q1 slot
//           after publishing (what the suite does);
//   lease - inferd publishes the Q2 record without the frame and hands the Q1 slot's claim to writerd
//           (zero host copies), which releases it when the hit's file is complete.
// Stages are threads of one process (the lease is handed over in memory, which is what a cross-process
// lease transfer would achieve at best). inferd takes batch_size events, spends --infer-ms per batch;
// writerd holds hits until --events-per-file are collected or --file-age-ms passed, then spends
// --write-ms-per-hit per hit (bench_writer measures it) and releases. Measured: Q1 occupancy (mean,
// max, sampled every ms), producer blocking (events that found Q1 full), host bytes copied per event.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "shm/ring.hpp"

using namespace peaknet;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct Options {
  int q1_slots = 64, q2_slots = 64, batch = 4, events_per_file = 32, seconds = 3;
  double rate_hz = 120, infer_ms = 20, write_ms_per_hit = 4, file_age_ms = 10000;
  uint64_t frame_bytes = 256 * 256 * 4;
};

struct Outcome {
  double occ_mean = 0;
  uint64_t occ_max = 0, events = 0, producer_waits = 0, bytes_copied = 0;
};

Outcome run(const Options& o, double hit_rate, bool lease) {
  const std::string tag = "bench-fp-" + std::to_string(::getpid());
  shm::RingOptions q1o{.name = tag + "-q1",
                       .slot_count = uint32_t(o.q1_slots),
                       .slot_bytes = 4096 + o.frame_bytes,
                       .policy = shm::OverflowPolicy::kBlock};
  shm::RingOptions q2o{.name = tag + "-q2",
                       .slot_count = uint32_t(o.q2_slots),
                       .slot_bytes = 4096 + (lease ? 0 : o.frame_bytes),
                       .policy = shm::OverflowPolicy::kBlock};
  shm::Ring q1 = shm::Ring::create(q1o);
  shm::Ring q2 = shm::Ring::create(q2o);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> produced{0}, waits{0}, copied{0};
  std::mutex lease_mutex;
  std::deque<std::pair<uint64_t, shm::ReadSlot>> leases;  // Q2 sequence -> Q1 slot handed to writerd

  std::thread producer([&] {
    const auto period = std::chrono::duration<double>(1.0 / o.rate_hz);
    auto next = Clock::now();
    uint64_t id = 0;
    while (!stop.load()) {
      std::this_thread::sleep_until(next);
      next += std::chrono::duration_cast<Clock::duration>(period);
      auto s = q1.acquire(milliseconds(0));
      if (!s) {
        waits.fetch_add(1);
        s = q1.acquire(milliseconds(5000));
        if (!s) continue;
      }
      std::memcpy(s->data(), &id, sizeof id);  // the event id; the pixels are whatever is there
      ++id;
      q1.publish(std::move(*s));
      produced.fetch_add(1);
    }
    q1.finish_producing();
  });
  std::thread inferd([&] {
    std::mt19937 rng(7);
    std::bernoulli_distribution is_hit(hit_rate);
    std::vector<shm::ReadSlot> batch;
    while (q1.claim(batch, uint32_t(o.batch), milliseconds(50)) > 0 || !q1.finished()) {
      if (batch.empty()) continue;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.infer_ms));
      for (auto& in : batch) {
        const bool hit = is_hit(rng);
        auto out = q2.acquire(milliseconds(60000));
        if (!out) continue;
        out->data()[0] = std::byte(hit ? 1 : 0);
        if (hit && !lease) {
          std::memcpy(out->data() + 4096, in.data() + 4096, o.frame_bytes);
          copied.fetch_add(o.frame_bytes);
        }
        if (hit && lease) {
          std::lock_guard lock(lease_mutex);
          leases.emplace_back(uint64_t(in.index()), std::move(in));
        } else {
          q1.release(std::move(in));
        }
        q2.publish(std::move(*out));
      }
      batch.clear();
    }
    q2.finish_producing();
  });
  std::thread writerd([&] {
    std::vector<shm::ReadSlot> got, held;
    std::vector<shm::ReadSlot> held_leases;
    auto opened = Clock::now();
    auto complete = [&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(o.write_ms_per_hit * held.size()));
      for (auto& s : held) q2.release(std::move(s));
      for (auto& s : held_leases) q1.release(std::move(s));
      held.clear();
      held_leases.clear();
      opened = Clock::now();
    };
    while (q2.claim(got, 64, milliseconds(20)) > 0 || !q2.finished() || !held.empty()) {
      for (auto& s : got) {
        if (s.data()[0] == std::byte(1)) {
          held.push_back(std::move(s));
          if (lease) {  // the inferd thread queued this hit's Q1 slot before publishing its Q2 record
            std::lock_guard lock(lease_mutex);
            held_leases.push_back(std::move(leases.front().second));
            leases.pop_front();
          }
        } else {
          q2.release(std::move(s));
        }
      }
      got.clear();
      const bool full = int(held.size()) >= std::min(o.events_per_file, o.q2_slots / 2);
      if (!held.empty() && (full || Clock::now() - opened >= std::chrono::duration<double, std::milli>(o.file_age_ms) ||
                            q2.finished())) {
        complete();
      }
      if (held.empty()) opened = Clock::now();
    }
  });
  // Sample Q1 occupancy every millisecond for the measured interval.
  Outcome r;
  const auto end = Clock::now() + std::chrono::seconds(o.seconds);
  uint64_t samples = 0, sum = 0;
  std::this_thread::sleep_for(milliseconds(200));  // past the start-up transient
  while (Clock::now() < end) {
    const uint64_t occ = q1.counters().occupancy;
    sum += occ;
    r.occ_max = std::max(r.occ_max, occ);
    ++samples;
    std::this_thread::sleep_for(milliseconds(1));
  }
  stop.store(true);
  producer.join();
  inferd.join();
  writerd.join();
  r.occ_mean = double(sum) / double(std::max<uint64_t>(1, samples));
  r.events = produced.load();
  r.producer_waits = waits.load();
  r.bytes_copied = copied.load();
  shm::Ring::unlink(q1o.name);
  shm::Ring::unlink(q2o.name);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_frame_path: copy-into-Q2 vs Q1-lease-to-writerd, Q1 occupancy by hit rate"};
  Options o;
  std::string hit_rates = "0.05,0.3,1.0";
  app.add_option("--q1-slots", o.q1_slots);
  app.add_option("--q2-slots", o.q2_slots);
  app.add_option("--batch", o.batch, "inferd batch size");
  app.add_option("--rate", o.rate_hz, "detector events/s");
  app.add_option("--infer-ms", o.infer_ms, "inferd time per batch");
  app.add_option("--write-ms-per-hit", o.write_ms_per_hit, "writerd time per hit when completing a file");
  app.add_option("--events-per-file", o.events_per_file);
  app.add_option("--file-age-ms", o.file_age_ms);
  app.add_option("--frame-bytes", o.frame_bytes, "bytes per frame (copied for hits in copy mode)");
  app.add_option("--seconds", o.seconds, "measured seconds per case");
  app.add_option("--hit-rates", hit_rates, "comma separated fractions");
  CLI11_PARSE(app, argc, argv);
  std::vector<double> rates;
  for (size_t pos = 0; pos < hit_rates.size();) {
    const size_t comma = hit_rates.find(',', pos);
    rates.push_back(std::stod(hit_rates.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? hit_rates.size() : comma + 1;
  }
  std::printf(
      "bench_frame_path: %.0f events/s, Q1 %d slots, batch %d, infer %.1f ms/batch, files of %d hits "
      "(age %.0f ms), write %.1f ms/hit, frame %lu B, %d s per case\n",
      o.rate_hz, o.q1_slots, o.batch, o.infer_ms, o.events_per_file, o.file_age_ms, o.write_ms_per_hit,
      (unsigned long)o.frame_bytes, o.seconds);
  std::printf(
      "| path | hit rate | Q1 occupancy mean | Q1 occupancy max | producer found Q1 full | host bytes copied/event "
      "|\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  for (double h : rates) {
    for (bool lease : {false, true}) {
      const Outcome r = run(o, h, lease);
      std::printf("| %s | %.0f %% | %.1f / %d | %lu | %lu of %lu | %.0f |\n", lease ? "lease Q1 slot" : "copy into Q2",
                  h * 100, r.occ_mean, o.q1_slots, (unsigned long)r.occ_max, (unsigned long)r.producer_waits,
                  (unsigned long)r.events, double(r.bytes_copied) / double(std::max<uint64_t>(1, r.events)));
      std::fflush(stdout);
    }
  }
  return 0;
}
