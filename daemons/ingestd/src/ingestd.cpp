#include "ingestd/ingestd.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "bounded_queue.hpp"
#include "common/config/segment_names.hpp"
#include "common/logging.hpp"
#include "event_source.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "message_recorder.hpp"
#include "q1_event_sink.hpp"
#include "raw_message.hpp"
#include "shm/event_clock.hpp"

namespace peaknet::ingestd {
namespace {

using namespace std::chrono_literals;

using shm::steady_ns;

uint64_t seconds_to_ns(double s) { return static_cast<uint64_t>(s * 1e9); }

std::span<const std::byte> as_bytes(const RawMessage& m) {
  return {static_cast<const std::byte*>(m.bytes.data()), m.bytes.size()};
}

/// The decoder found the detector by lclstreamer's naming ("<detector>.image"): say which, once per
/// name in this process (every message of the stream finds the same one).
void log_detector_found(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> logged;
  std::lock_guard lock(mutex);
  if (logged.insert(name).second) {
    spdlog::info(
        "npz: no '{}' member; using '{}' and '{}_original_shape' (the one <detector>.image pair; "
        "ingestd.decode.npz.detector_key chooses another)",
        ingest::DecoderOptions{}.npz_detector_key, name, name);
  }
}

// libhdf5's lock time of this process into the counter block's gauges.
void publish_hdf5_lock_stats(IngestCounters& counters) {
  const auto lock = ingest::hdf5_lock_stats();
  counters.hdf5_lock_held_ns.store(lock.held_ns, std::memory_order_relaxed);
  counters.hdf5_lock_wait_ns.store(lock.wait_ns, std::memory_order_relaxed);
}

}  // namespace

const char* to_string(EndReason reason) noexcept {
  switch (reason) {
    case EndReason::kNone:
      return "running";
    case EndReason::kSourceFinished:
      return "source_finished";
    case EndReason::kIdleTimeout:
      return "idle_timeout";
    case EndReason::kSimplonEnd:
      return "simplon_end";
    case EndReason::kDrain:
      return "drain";
    case EndReason::kStop:
      return "stop";
  }
  return "unknown";
}

Ingestd::Ingestd(config::SuiteConfig config)
    : config_(std::move(config)),
      progress_(std::chrono::seconds(config_.control.stall_timeout_s)),
      decoder_options_(
          ingest::DecoderOptions::from_config(config::ConfigNode(config_.ingestd.decode, "config.ingestd.decode"))),
      simplon_session_(std::make_shared<ingest::SimplonSession>(decoder_options_)),
      ids_(std::make_unique<EventIdAllocator>()),
      queue_(std::make_unique<BoundedQueue<RawMessage>>(static_cast<size_t>(config_.ingestd.decode_queue_messages))),
      synthetic_rate_hz_(config_.ingestd.synthetic.rate_hz) {
  const auto& c = config_.ingestd;
  // No endpoints yet: the zmq source registers "endpoint.<i>.*" for the endpoints it opens.
  counters_ = std::make_unique<IngestCounters>(config::stats_block_name(config_.run.name, "ingestd"), 0,
                                               config_.run.group_access);
  progress_.count_into(&counters_->stalls, &counters_->stalled);
  q1_ = std::make_unique<Q1Writer>(config::ring_options(config_, config_.q1));
  progress_.watch_ring("q1", [this] { return q1_->link_problem(); });
  spdlog::info("event id epoch {:016x} (events are named by epoch and id)", ids_->epoch());
  if (const uint64_t earlier = q1_->counters().published; earlier > 0) {
    ids_->start_all_at(earlier);
    spdlog::info("q1 {} already carried {} events (restart): event sequences continue at {}", q1_->name(), earlier,
                 earlier);
  }
  if (!c.record_dir.empty()) recorder_ = std::make_unique<MessageRecorder>(c.record_dir);
  if (!c.quarantine_dir.empty()) {
    quarantine_ = std::make_unique<Quarantine>(c.quarantine_dir, static_cast<uint64_t>(c.quarantine_max_files));
  }
  source_ = make_source(SourceEnv{
      .config = c,
      .progress = progress_,
      .counters = *counters_,
      .deliver = [this](RawMessage&& m, common::Stage& stage) { return deliver(std::move(m), stage); },
      .q1 = *q1_,
      .ids = *ids_,
      .give_up_waiting_for_q1 = [this] { return give_up_waiting_for_q1(); },
      .begin_pending = [this] { begin_pending(); },
      .end_pending = [this] { end_pending(); },
      .synthetic_rate_hz = synthetic_rate_hz_,
  });
  spdlog::info("q1 {}: {} slots x {} bytes, policy {}", q1_->name(), q1_->slot_count(), q1_->slot_bytes(),
               shm::to_string(q1_->policy()));
}

Ingestd::~Ingestd() {
  if (source_) source_->stop();
  queue_->close();
  for (auto& t : decoders_) {
    if (t.joinable()) t.join();
  }
}

void Ingestd::begin_pending() { pending_.fetch_add(1); }

void Ingestd::end_pending() {
  last_pending_end_ns_.store(steady_ns());  // before the decrement: no gap the supervisor sees as idle
  pending_.fetch_sub(1);
}

void Ingestd::hold(uint64_t bytes) {
  auto raise_max = [](std::atomic<uint64_t>& max, uint64_t v) {
    uint64_t m = max.load(std::memory_order_relaxed);
    while (v > m && !max.compare_exchange_weak(m, v, std::memory_order_relaxed)) {}
  };
  raise_max(counters_->held_messages_max, counters_->held_messages.fetch_add(1) + 1);
  raise_max(counters_->held_bytes_max, counters_->held_bytes.fetch_add(bytes) + bytes);
}

void Ingestd::unhold(uint64_t bytes) {
  counters_->held_messages.fetch_sub(1);
  counters_->held_bytes.fetch_sub(bytes);
}

bool Ingestd::deliver(RawMessage&& message, common::Stage& stage) {
  // Pending from here until a decoder is done with it: waiting for queue or Q1 room is not idle.
  begin_pending();
  hold(message.bytes.size());
  counters_->messages_received.fetch_add(1, std::memory_order_relaxed);
  counters_->bytes_received.fetch_add(message.bytes.size(), std::memory_order_relaxed);
  if (recorder_) recorder_->record(message.source_id, message.t_recv_ns, message.view());
  // Blocking here is the backpressure path: the socket is not read, its HWM fills, PUSH blocks.
  // A message already taken off the socket is queued even while a drain closes the input (the
  // decoders keep emptying the queue); only a stop's expired flush deadline discards it, counted.
  while (true) {
    if (queue_->push(message, 100ms)) return true;
    if (queue_->closed() || give_up_waiting_for_q1()) break;
    stage.blocked("decode queue push");  // decoders busy or Q1 full: backpressure
  }
  counters_->messages_discarded.fetch_add(1, std::memory_order_relaxed);
  unhold(message.bytes.size());
  end_pending();
  return false;
}

bool Ingestd::give_up_waiting_for_q1() const {
  const uint64_t deadline = stop_deadline_ns_.load(std::memory_order_relaxed);
  return deadline != 0 && steady_ns() >= deadline;
}

void Ingestd::decode_loop(size_t thread_index, common::Stage& stage) {
  ingest::Decoder decoder(decoder_options_, simplon_session_);
  Q1EventSink sink(
      *q1_, *ids_, *counters_, [this] { return give_up_waiting_for_q1(); }, &stage);
  logging::RateLimiter reject_log(std::chrono::milliseconds(config_.ingestd.reject_log_interval_ms));
  logging::RateLimiter too_big_log(std::chrono::seconds(10));
  auto& counters = *counters_;
  while (true) {
    stage.idle("waiting for messages");
    auto message = queue_->pop(100ms);
    if (!message) {
      if (queue_->closed_and_empty()) break;
      continue;
    }
    stage.busy("decode");
    if (common::test_wedge_requested("decode")) common::test_wedge_forever("decode");
    sink.set_source(message->source_id, message->message_id, message->t_recv_ns);
    const uint64_t t0 = steady_ns();
    ingest::DecodeResult result;
    try {
      result = decoder.decode(as_bytes(*message), sink);
    } catch (const std::exception& e) {  // decoders do not throw on input; Q1 may (slot reclaimed)
      sink.abort_event();
      result.reject = ingest::RejectReason::kMalformed;
      result.detail = std::string("internal error: ") + e.what();
    }
    counters.decode_ns.fetch_add(steady_ns() - t0, std::memory_order_relaxed);
    counters.messages_decoded.fetch_add(1, std::memory_order_relaxed);
    if (!result.detector_found.empty()) log_detector_found(result.detector_found);
    if (sink.events_too_big() > 0) {
      // Never silent: a slot size that does not fit the data drops every such event (issue 16).
      uint64_t suppressed = 0;
      if (too_big_log.allow(suppressed)) {
        spdlog::error(
            "message {} from source {}: {} of {} events dropped (slot_too_small): an event of {} needs a Q1 "
            "slot of {} bytes, config.q1.slot_bytes gives {}; declare q1.event_shape/event_dtype and set "
            "q1.slot_bytes to 0 (auto) or >= {}{}",
            message->message_id, message->source_id, sink.events_too_big(), sink.events_in_message(),
            sink.too_big_shape(), sink.slot_bytes_needed(), q1_->slot_bytes(), sink.slot_bytes_needed(),
            suppressed ? fmt::format(" ({} more such messages not logged)", suppressed) : std::string());
      }
    }
    counters.events_rejected.fetch_add(result.events_rejected, std::memory_order_relaxed);
    if (result.no_image) counters.messages_skipped.fetch_add(1, std::memory_order_relaxed);
    if (result.held) counters.messages_held.fetch_add(1, std::memory_order_relaxed);
    if (result.held_evicted) {
      counters.reject(ingest::RejectReason::kHoldOverflow).fetch_add(result.held_evicted, std::memory_order_relaxed);
    }
    if (result.end_of_stream) {
      counters.end_of_stream_seen.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("end of stream (Simplon stop/end) on source {}", message->source_id);
      if (config_.ingestd.end_on_simplon_stop) simplon_end_.store(true);
    }
    if (result.reject) {
      const char* reason = ingest::to_string(*result.reject);
      counters.messages_rejected.fetch_add(1, std::memory_order_relaxed);
      counters.reject(*result.reject).fetch_add(1, std::memory_order_relaxed);
      uint64_t suppressed = 0;
      if (reject_log.allow(suppressed)) {
        spdlog::warn("rejected message {} from source {} ({} bytes, {}): {}: {}{}", message->message_id,
                     message->source_id, message->bytes.size(), ingest::to_string(result.format), reason, result.detail,
                     suppressed ? fmt::format(" ({} more rejects not logged)", suppressed) : std::string());
      }
      if (quarantine_) quarantine_->save(reason, message->source_id, message->message_id, message->view());
    }
    unhold(message->bytes.size());
    end_pending();
    stage.progress();
  }
  stage.done();
  (void)thread_index;
}

uint64_t Ingestd::last_activity_steady_ns(uint64_t now) const {
  // Idle = nothing received AND nothing pending: a message blocked on the decode queue or on a full
  // Q1 (policy block) is data in flight, whatever its age.
  if (pending_.load() > 0) return now;
  return std::max({start_steady_ns_, source_->last_input_steady_ns(), last_pending_end_ns_.load()});
}

void Ingestd::end_run(EndReason reason) {
  EndReason expected = EndReason::kNone;
  if (end_reason_.compare_exchange_strong(expected, reason)) {
    spdlog::info("ending the run: {}", to_string(reason));
  }
}

void Ingestd::request_drain() { end_run(EndReason::kDrain); }

void Ingestd::request_stop() {
  stop_deadline_ns_.store(steady_ns() + seconds_to_ns(config_.ingestd.stop_flush_timeout_s));
  end_run(EndReason::kStop);
}

void Ingestd::supervise(const std::function<void()>& tick) {
  const auto& c = config_.ingestd;
  uint64_t last_waiting_log = steady_ns();
  while (end_reason_.load() == EndReason::kNone) {
    std::this_thread::sleep_for(50ms);
    if (tick) tick();
    counters_->decode_queue_depth.store(queue_->size(), std::memory_order_relaxed);
    publish_hdf5_lock_stats(*counters_);
    const uint64_t peers = source_->update_counters();
    counters_->peers_connected.store(peers, std::memory_order_relaxed);
    if (source_->finished()) end_run(EndReason::kSourceFinished);
    const uint64_t now = steady_ns();
    const uint64_t idle_ns = now - std::min(now, last_activity_steady_ns(now));
    if (simplon_end_.load() && idle_ns >= seconds_to_ns(c.end_grace_s)) end_run(EndReason::kSimplonEnd);
    if (c.idle_timeout_s > 0 && idle_ns >= seconds_to_ns(c.idle_timeout_s)) end_run(EndReason::kIdleTimeout);
    const uint64_t log_interval = seconds_to_ns(c.waiting_log_interval_s);
    if (idle_ns >= log_interval && now - last_waiting_log >= log_interval) {
      last_waiting_log = now;
      spdlog::info("waiting for data ({} peers connected, idle {:.0f} s, {} events published so far)", peers,
                   idle_ns / 1e9, counters_->events_enqueued.load());
    }
  }
}

int Ingestd::run(const common::RunHooks& hooks) {
  start_steady_ns_ = steady_ns();
  // run() starts after the control runtime refused a live twin: what the counters show open now was
  // held by a dead instance (socket, decode queue, a half-written slot) and is gone.
  // The held gauges describe this instance (a dead one's were just booked as lost).
  for (auto* g :
       {&counters_->held_messages, &counters_->held_bytes, &counters_->held_messages_max, &counters_->held_bytes_max}) {
    g->store(0);
  }
  if (const auto [events, messages] = counters_->settle_dead_instance(); events || messages) {
    spdlog::warn(
        "an earlier ingestd of this run died holding {} decoded events and {} undecoded messages: "
        "counted as dropped_lost_in_crash / messages_lost_in_crash",
        events, messages);
  }
  counters_->running.store(1);
  const auto& c = config_.ingestd;
  for (int64_t i = 0; i < c.decode_threads; ++i) {
    common::Stage& stage = progress_.add_stage("decode thread " + std::to_string(i));
    decoders_.emplace_back([this, i, s = &stage] { decode_loop(size_t(i), *s); });
  }
  source_->start();
  if (hooks.on_state) hooks.on_state(common::DaemonState::kReady);
  supervise(hooks.tick);
  // Shutdown: stop the source, decode what was received, then tell Q1's consumers we are done.
  counters_->running.store(0);
  source_->stop();
  queue_->close();
  for (auto& t : decoders_) t.join();
  decoders_.clear();
  publish_hdf5_lock_stats(*counters_);  // final values of the supervisor's gauges
  q1_->finish();
  const auto& k = *counters_;
  spdlog::info("run ended ({}): {} messages, {} events published, {} dropped, {} messages rejected",
               to_string(end_reason_.load()), k.messages_received.load(), k.events_enqueued.load(),
               k.events_dropped_total(), k.messages_rejected.load());
  return 0;
}

std::string Ingestd::status_line() {
  const double rate = status_rate_.per_second(double(counters_->events_enqueued.load()));
  const auto q = q1_->counters();
  return fmt::format("{:.0f} ev/s, q1 {}/{}, drops {}, rejects {}", rate, q.occupancy, q1_->slot_count(),
                     counters_->events_dropped_total(), counters_->messages_rejected.load());
}

std::vector<std::string> Ingestd::bound_endpoints() const { return source_->bound_endpoints(); }

nlohmann::json Ingestd::stats() const {
  const auto& k = *counters_;
  const auto q = q1_->counters();
  const uint64_t received = k.events_received.load(), published = k.events_enqueued.load();
  const uint64_t dropped = k.events_dropped_total();
  return {{"daemon", "ingestd"},
          {"state", end_reason_.load() == EndReason::kNone ? "running" : "ending"},
          {"end_reason", to_string(end_reason_.load())},
          {"source", source_->name()},
          {"event_epoch", fmt::format("{:016x}", ids_->epoch())},
          {"counters", k.to_json()},
          {"endpoints", source_->endpoints_json()},
          {"decode_queue_depth", queue_->size()},
          {"slot_too_small",
           {{"dropped", counters_->dropped(EventDropReason::kSlotTooSmall).load()},
            {"slot_bytes_needed", k.q1_slot_bytes_needed.load()},
            {"slot_bytes", q1_->slot_bytes()}}},
          {"ledger",
           {{"events_received", received},
            {"events_enqueued", published},
            {"events_dropped", dropped},
            {"in_flight", received - std::min(received, published + dropped)}}},
          {"q1",
           {{"name", q1_->name()},
            {"policy", std::string(shm::to_string(q1_->policy()))},
            {"slots", q1_->slot_count()},
            {"slot_bytes", q1_->slot_bytes()},
            {"published", q.published},
            {"released", q.released},
            {"occupancy", q.occupancy},
            {"dropped", q.total_dropped()}}}};
}

common::LiveKeys Ingestd::live_keys() {
  return {
      {"q1.policy",
       [this](const nlohmann::json& value, std::string&) {
         const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
         q1_->set_policy(config::parse_enum("config.q1.policy", text, config::kOverflowPolicyValues));
         return true;
       }},
      {"ingestd.synthetic.rate_hz",
       [this](const nlohmann::json& value, std::string& error) {
         const double rate = value.is_number() ? value.get<double>() : std::stod(value.get<std::string>());
         if (!(rate >= 0)) {
           error = "ingestd.synthetic.rate_hz: must be >= 0 events/s, got " + value.dump();
           return false;
         }
         synthetic_rate_hz_.store(rate);
         return true;
       }},
  };
}

}  // namespace peaknet::ingestd
