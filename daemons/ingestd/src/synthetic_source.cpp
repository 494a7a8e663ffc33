#include "synthetic_source.hpp"

#include <algorithm>

#include "q1_event_sink.hpp"
#include "shm/event_clock.hpp"
#include "source_pacing.hpp"

namespace peaknet::ingestd {

SyntheticSource::SyntheticSource(const SourceEnv& env) : env_(env), frames_(env.config.synthetic) {}

SyntheticSource::~SyntheticSource() { stop(); }

void SyntheticSource::start() {
  common::Stage& stage = env_.progress.add_stage("synthetic source");
  thread_ = std::thread([this, &stage] { run(stage); });
}

void SyntheticSource::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void SyntheticSource::run(common::Stage& stage) {
  const auto& sc = env_.config.synthetic;
  auto& counters = env_.counters;
  Q1EventSink sink(env_.q1, env_.ids, counters, env_.give_up_waiting_for_q1, &stage);
  sink.set_activity("generate a frame");
  ingest::EventMeta meta;
  meta.dtype = frames_.dtype();
  meta.channels = frames_.channels();
  meta.height = meta.orig_height = frames_.height();
  meta.width = meta.orig_width = frames_.width();
  meta.photon_wavelength_a = frames_.photon_wavelength_a();
  meta.events_in_message = 1;
  const uint64_t bytes = frames_.frame_bytes();
  uint64_t next_ns = shm::steady_ns();
  for (uint64_t i = 0; sc.events == 0 || i < static_cast<uint64_t>(sc.events); ++i) {
    const double rate_hz = env_.synthetic_rate_hz.load(std::memory_order_relaxed);  // live key
    if (rate_hz > 0) {
      if (!sleep_until_ns(next_ns, stop_, stage)) break;
      next_ns = std::max(next_ns + static_cast<uint64_t>(1e9 / rate_hz), shm::steady_ns() - 1'000'000'000);
    }
    if (stop_.load()) break;
    sink.set_source(0, i, shm::realtime_ns());
    last_ns_.store(shm::steady_ns(), std::memory_order_relaxed);
    counters.messages_received.fetch_add(1, std::memory_order_relaxed);
    counters.bytes_received.fetch_add(bytes, std::memory_order_relaxed);
    counters.messages_decoded.fetch_add(1, std::memory_order_relaxed);  // a synthetic message is its event
    meta.timestamp = frames_.timestamp(i);
    env_.begin_pending();  // a frame waiting for Q1 room is not idle time
    stage.busy("generate a frame");
    if (std::byte* payload = sink.begin_event(meta, bytes)) {
      frames_.fill(i, {payload, bytes});
      sink.commit_event();
    }
    env_.end_pending();
    stage.progress();
  }
  stage.done();
  finished_.store(true);
}

}  // namespace peaknet::ingestd
