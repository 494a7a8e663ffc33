#include "ingestd/ingestd.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include "common/config/segment_names.hpp"
#include "common/logging.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/hdf5_lock_stats.hpp"
#include "ingestd/synthetic_frames.hpp"

namespace peaknet::ingestd {
namespace {

/// One ZeroMQ I/O thread moves every byte of every socket of a context: with one, a node tops out
/// near one core's TCP receive rate whatever the number of endpoints.
int zmq_io_threads(const config::IngestdConfig& c) {
  if (c.io_threads > 0) return static_cast<int>(c.io_threads);
  // Several streamer ranks usually connect to one endpoint: ZeroMQ spreads their connections over the threads.
  return std::max<int>(2, static_cast<int>(c.endpoints.size()));
}

using namespace std::chrono_literals;

uint64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t seconds_to_ns(double s) { return static_cast<uint64_t>(s * 1e9); }

std::span<const std::byte> as_bytes(const RawMessage& m) {
  return {static_cast<const std::byte*>(m.bytes.data()), m.bytes.size()};
}

/// Sleeps until `deadline_ns` (steady) in short steps; false when `stop` became true meanwhile.
/// The stage is idle meanwhile (pacing a source is waiting for input, not a stall).
bool sleep_until_ns(uint64_t deadline_ns, const std::atomic<bool>& stop, common::Stage& stage) {
  while (!stop.load()) {
    stage.idle("pacing the source");
    const uint64_t now = steady_now_ns();
    if (now >= deadline_ns) return true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(deadline_ns - now, 50'000'000)));
  }
  return false;
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
    case EndReason::kNone: return "running";
    case EndReason::kSourceFinished: return "source_finished";
    case EndReason::kIdleTimeout: return "idle_timeout";
    case EndReason::kSimplonEnd: return "simplon_end";
    case EndReason::kDrain: return "drain";
    case EndReason::kStop: return "stop";
  }
  return "unknown";
}


Ingestd::Ingestd(config::SuiteConfig config)
    : config_(std::move(config)),
      progress_(std::chrono::seconds(config_.control.stall_timeout_s)),
      decoder_options_(ingest::DecoderOptions::from_config(
          config::ConfigNode(config_.ingestd.decode, "config.ingestd.decode"))),
      simplon_session_(std::make_shared<ingest::SimplonSession>(decoder_options_)),
      queue_(static_cast<size_t>(config_.ingestd.decode_queue_messages)),
      context_(zmq_io_threads(config_.ingestd)),
      synthetic_rate_hz_(config_.ingestd.synthetic.rate_hz) {
  const auto& c = config_.ingestd;
  const size_t endpoints = c.source == config::IngestSource::kZmq ? c.endpoints.size() : 0;
  counters_ = std::make_unique<IngestCounters>(config::stats_block_name(config_.run.name, "ingestd"), endpoints,
                                               config_.run.group_access);
  progress_.count_into(&counters_->stalls, &counters_->stalled);
  q1_ = std::make_unique<Q1Writer>(config::ring_options(config_, config_.q1));
  progress_.watch_ring("q1", [this] { return q1_->link_problem(); });
  spdlog::info("event id epoch {:016x} (events are named by epoch and id)", ids_.epoch());
  if (const uint64_t earlier = q1_->counters().published; earlier > 0) {
    ids_.start_all_at(earlier);
    spdlog::info("q1 {} already carried {} events (restart): event sequences continue at {}", q1_->name(),
                 earlier, earlier);
  }
  if (!c.record_dir.empty()) recorder_ = std::make_unique<MessageRecorder>(c.record_dir);
  if (!c.quarantine_dir.empty()) {
    quarantine_ = std::make_unique<Quarantine>(c.quarantine_dir, static_cast<uint64_t>(c.quarantine_max_files));
  }
  for (size_t i = 0; i < endpoints; ++i) {
    config::IngestdEndpointConfig endpoint = c.endpoints[i];
    if (endpoint.rcvhwm < 0) endpoint.rcvhwm = c.receive_hwm;
    if (endpoint.rcvbuf_bytes < 0) endpoint.rcvbuf_bytes = c.receive_buffer_bytes;
    common::Stage& stage = progress_.add_stage("receive endpoint " + std::to_string(i));
    receivers_.push_back(std::make_unique<ZmqReceiver>(
        context_, endpoint, static_cast<uint32_t>(i), c.max_message_bytes,
        [this, s = &stage](RawMessage&& m) { return deliver(std::move(m), *s); }, &stage));
    spdlog::info("endpoint {}: {} {} (rcvhwm {})", i, config::to_string(endpoint.mode), receivers_.back()->bound_url(), endpoint.rcvhwm);
  }
  spdlog::info("q1 {}: {} slots x {} bytes, policy {}", q1_->name(), q1_->slot_count(), q1_->slot_bytes(),
               shm::to_string(q1_->policy()));
}

Ingestd::~Ingestd() {
  input_closed_.store(true);
  for (auto& r : receivers_) r->stop();
  if (source_thread_.joinable()) source_thread_.join();
  queue_.close();
  for (auto& t : decoders_) {
    if (t.joinable()) t.join();
  }
}

void Ingestd::begin_pending() { pending_.fetch_add(1); }

void Ingestd::end_pending() {
  last_pending_end_ns_.store(steady_now_ns());  // before the decrement: no gap the supervisor sees as idle
  pending_.fetch_sub(1);
}

void Ingestd::hold(uint64_t bytes) {
  auto raise_max = [](std::atomic<uint64_t>& max, uint64_t v) {
    uint64_t m = max.load(std::memory_order_relaxed);
    while (v > m && !max.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
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
  if (config_.ingestd.source == config::IngestSource::kZmq && message.source_id < receivers_.size()) {
    auto& ep = counters_->endpoint(message.source_id);
    ep.messages->fetch_add(1, std::memory_order_relaxed);
    ep.bytes->fetch_add(message.bytes.size(), std::memory_order_relaxed);
  }
  if (recorder_) recorder_->record(message.source_id, message.t_recv_ns, message.view());
  // Blocking here is the backpressure path: the socket is not read, its HWM fills, PUSH blocks.
  // A message already taken off the socket is queued even while a drain closes the input (the
  // decoders keep emptying the queue); only a stop's expired flush deadline discards it, counted.
  while (true) {
    if (queue_.push(message, 100ms)) return true;
    if (queue_.closed() || give_up_waiting_for_q1()) break;
    stage.blocked("decode queue push");  // decoders busy or Q1 full: backpressure
  }
  counters_->messages_discarded.fetch_add(1, std::memory_order_relaxed);
  unhold(message.bytes.size());
  end_pending();
  return false;
}

bool Ingestd::give_up_waiting_for_q1() const {
  const uint64_t deadline = stop_deadline_ns_.load(std::memory_order_relaxed);
  return deadline != 0 && steady_now_ns() >= deadline;
}

void Ingestd::decode_loop(size_t thread_index, common::Stage& stage) {
  ingest::Decoder decoder(decoder_options_, simplon_session_);
  Q1EventSink sink(*q1_, ids_, *counters_, [this] { return give_up_waiting_for_q1(); }, &stage);
  logging::RateLimiter reject_log(std::chrono::milliseconds(config_.ingestd.reject_log_interval_ms));
  logging::RateLimiter too_big_log(std::chrono::seconds(10));
  auto& counters = *counters_;
  while (true) {
    stage.idle("waiting for messages");
    auto message = queue_.pop(100ms);
    if (!message) {
      if (queue_.closed_and_empty()) break;
      continue;
    }
    stage.busy("decode");
    if (common::test_wedge_requested("decode")) common::test_wedge_forever("decode");
    sink.set_source(message->source_id, message->message_id, message->t_recv_ns);
    const uint64_t t0 = steady_now_ns();
    ingest::DecodeResult result;
    try {
      result = decoder.decode(as_bytes(*message), sink);
    } catch (const std::exception& e) {  // decoders do not throw on input; Q1 may (slot reclaimed)
      sink.abort_event();
      result.reject = ingest::RejectReason::kMalformed;
      result.detail = std::string("internal error: ") + e.what();
    }
    counters.decode_ns.fetch_add(steady_now_ns() - t0, std::memory_order_relaxed);
    counters.messages_decoded.fetch_add(1, std::memory_order_relaxed);
    if (sink.events_too_big() > 0) {
      // Never silent: a slot size that does not fit the data drops every such event (issue 16).
      uint64_t suppressed = 0;
      if (too_big_log.allow(suppressed)) {
        spdlog::error("message {} from source {}: {} of {} events dropped (slot_too_small): an event of {} needs a Q1 "
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
                     message->source_id, message->bytes.size(), ingest::to_string(result.format), reason,
                     result.detail,
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

void Ingestd::synthetic_loop() {
  const auto& sc = config_.ingestd.synthetic;
  SyntheticFrames frames(sc);
  common::Stage& stage = progress_.add_stage("synthetic source");
  Q1EventSink sink(*q1_, ids_, *counters_, [this] { return give_up_waiting_for_q1(); }, &stage);
  sink.set_activity("generate a frame");
  ingest::EventMeta meta;
  meta.dtype = frames.dtype();
  meta.channels = frames.channels();
  meta.height = meta.orig_height = frames.height();
  meta.width = meta.orig_width = frames.width();
  meta.photon_wavelength_a = frames.photon_wavelength_a();
  meta.events_in_message = 1;
  const uint64_t bytes = frames.frame_bytes();
  uint64_t next_ns = steady_now_ns();
  for (uint64_t i = 0; sc.events == 0 || i < static_cast<uint64_t>(sc.events); ++i) {
    const double rate_hz = synthetic_rate_hz_.load(std::memory_order_relaxed);  // live key
    if (rate_hz > 0) {
      if (!sleep_until_ns(next_ns, input_closed_, stage)) break;
      next_ns = std::max(next_ns + static_cast<uint64_t>(1e9 / rate_hz), steady_now_ns() - 1'000'000'000);
    }
    if (input_closed_.load()) break;
    sink.set_source(0, i, realtime_ns());
    synthetic_last_ns_.store(steady_now_ns(), std::memory_order_relaxed);
    counters_->messages_received.fetch_add(1, std::memory_order_relaxed);
    counters_->bytes_received.fetch_add(bytes, std::memory_order_relaxed);
    counters_->messages_decoded.fetch_add(1, std::memory_order_relaxed);  // a synthetic message is its event
    meta.timestamp = frames.timestamp(i);
    begin_pending();  // a frame waiting for Q1 room is not idle time
    stage.busy("generate a frame");
    if (std::byte* payload = sink.begin_event(meta, bytes)) {
      frames.fill(i, {payload, bytes});
      sink.commit_event();
    }
    end_pending();
    stage.progress();
  }
  stage.done();
  source_finished_.store(true);
}

void Ingestd::replay_loop() {
  const auto& rc = config_.ingestd.replay;
  std::vector<RecordedMessage> entries;
  try {
    entries = read_recording_index(rc.dir);
  } catch (const std::exception& e) {
    spdlog::error("replay: {}", e.what());
  }
  if (entries.empty()) spdlog::warn("replay: no messages in {}", rc.dir);
  std::map<uint32_t, uint64_t> next_id;
  common::Stage& stage = progress_.add_stage("replay source");
  for (int64_t loop = 0; !entries.empty() && (rc.loops == 0 || loop < rc.loops); ++loop) {
    const uint64_t t0_recorded = entries.front().t_recv_ns;
    const uint64_t start = steady_now_ns();
    for (const auto& entry : entries) {
      if (rc.speed > 0) {
        const double offset_ns = static_cast<double>(entry.t_recv_ns - std::min(entry.t_recv_ns, t0_recorded)) / rc.speed;
        if (!sleep_until_ns(start + static_cast<uint64_t>(offset_ns), input_closed_, stage)) break;
      }
      if (input_closed_.load()) break;
      std::ifstream in(entry.file, std::ios::binary);
      RawMessage message;
      message.bytes = zmq::message_t(entry.bytes);
      if (!in.read(static_cast<char*>(message.bytes.data()), static_cast<std::streamsize>(entry.bytes))) {
        spdlog::warn("replay: cannot read {} ({} bytes)", entry.file.string(), entry.bytes);
        continue;
      }
      message.source_id = entry.source_id;
      message.message_id = next_id[entry.source_id]++;
      message.t_recv_ns = realtime_ns();
      synthetic_last_ns_.store(steady_now_ns(), std::memory_order_relaxed);
      stage.busy("replay a message");
      if (!deliver(std::move(message), stage)) break;
      stage.progress();
    }
  }
  stage.done();
  source_finished_.store(true);
}

uint64_t Ingestd::last_activity_steady_ns(uint64_t now) const {
  // Idle = nothing received AND nothing pending: a message blocked on the decode queue or on a full
  // Q1 (policy block) is data in flight, whatever its age.
  if (pending_.load() > 0) return now;
  uint64_t last = std::max({start_steady_ns_, synthetic_last_ns_.load(), last_pending_end_ns_.load()});
  for (const auto& r : receivers_) last = std::max(last, r->counters().last_message_ns.load());
  return last;
}

void Ingestd::end_run(EndReason reason) {
  EndReason expected = EndReason::kNone;
  if (end_reason_.compare_exchange_strong(expected, reason)) {
    spdlog::info("ending the run: {}", to_string(reason));
  }
}

void Ingestd::request_drain() { end_run(EndReason::kDrain); }

void Ingestd::request_stop() {
  stop_deadline_ns_.store(steady_now_ns() + seconds_to_ns(config_.ingestd.stop_flush_timeout_s));
  end_run(EndReason::kStop);
}

void Ingestd::mirror_peer_counters() {
  uint64_t connects = 0, disconnects = 0;
  for (const auto& r : receivers_) {
    connects += r->counters().peers_total.load();
    disconnects += r->counters().disconnects.load();
  }
  // The block counts over every instance of the run: add this instance's increments.
  counters_->peer_connects.fetch_add(connects - mirrored_connects_, std::memory_order_relaxed);
  counters_->peer_disconnects.fetch_add(disconnects - mirrored_disconnects_, std::memory_order_relaxed);
  mirrored_connects_ = connects;
  mirrored_disconnects_ = disconnects;
}

void Ingestd::supervise(const std::function<void()>& tick) {
  const auto& c = config_.ingestd;
  uint64_t last_waiting_log = steady_now_ns();
  while (end_reason_.load() == EndReason::kNone) {
    std::this_thread::sleep_for(50ms);
    if (tick) tick();
    counters_->decode_queue_depth.store(queue_.size(), std::memory_order_relaxed);
    publish_hdf5_lock_stats(*counters_);
    mirror_peer_counters();
    int64_t peers = 0;
    for (size_t i = 0; i < receivers_.size(); ++i) {
      const int64_t p = std::max<int64_t>(0, receivers_[i]->counters().peers.load());
      counters_->endpoint(i).peers->store(static_cast<uint64_t>(p), std::memory_order_relaxed);
      peers += p;
    }
    counters_->peers_connected.store(static_cast<uint64_t>(peers), std::memory_order_relaxed);
    if (source_finished_.load()) end_run(EndReason::kSourceFinished);
    const uint64_t now = steady_now_ns();
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

EndReason Ingestd::run(const std::function<void()>& tick) {
  start_steady_ns_ = steady_now_ns();
  // run() starts after the control runtime refused a live twin: what the counters show open now was
  // held by a dead instance (socket, decode queue, a half-written slot) and is gone.
  // The held gauges describe this instance (a dead one's were just booked as lost).
  for (auto* g : {&counters_->held_messages, &counters_->held_bytes, &counters_->held_messages_max,
                  &counters_->held_bytes_max}) {
    g->store(0);
  }
  if (const auto [events, messages] = counters_->settle_dead_instance(); events || messages) {
    spdlog::warn("an earlier ingestd of this run died holding {} decoded events and {} undecoded messages: "
                 "counted as dropped_lost_in_crash / messages_lost_in_crash",
                 events, messages);
  }
  counters_->running.store(1);
  const auto& c = config_.ingestd;
  for (int64_t i = 0; i < c.decode_threads; ++i) {
    common::Stage& stage = progress_.add_stage("decode thread " + std::to_string(i));
    decoders_.emplace_back([this, i, s = &stage] { decode_loop(size_t(i), *s); });
  }
  if (c.source == config::IngestSource::kSynthetic) {
    source_thread_ = std::thread([this] { synthetic_loop(); });
  } else if (c.source == config::IngestSource::kReplay) {
    source_thread_ = std::thread([this] { replay_loop(); });
  } else {
    for (auto& r : receivers_) r->start();
  }
  supervise(tick);
  // Shutdown: stop the sources, decode what was received, then tell Q1's consumers we are done.
  input_closed_.store(true);
  counters_->running.store(0);
  for (auto& r : receivers_) r->stop();
  mirror_peer_counters();
  if (source_thread_.joinable()) source_thread_.join();
  queue_.close();
  for (auto& t : decoders_) t.join();
  decoders_.clear();
  publish_hdf5_lock_stats(*counters_);  // final values of the supervisor's gauges
  q1_->finish();
  const auto& k = *counters_;
  spdlog::info("run ended ({}): {} messages, {} events published, {} dropped, {} messages rejected",
               to_string(end_reason_.load()), k.messages_received.load(), k.events_enqueued.load(),
               k.events_dropped_total(), k.messages_rejected.load());
  return end_reason_.load();
}

std::string Ingestd::status_line() const {
  // Rate over the interval since the previous call (callers poll about once a second).
  const uint64_t now = steady_now_ns(), events = counters_->events_enqueued.load();
  const uint64_t last_ns = rate_last_ns_.exchange(now), last_events = rate_last_events_.exchange(events);
  if (last_ns != 0 && now > last_ns) rate_events_per_s_.store((events - last_events) * 1e9 / (now - last_ns));
  const auto q = q1_->counters();
  return fmt::format("{:.0f} ev/s, q1 {}/{}, drops {}, rejects {}", rate_events_per_s_.load(), q.occupancy,
                     q1_->slot_count(), counters_->events_dropped_total(), counters_->messages_rejected.load());
}

std::vector<std::string> Ingestd::bound_endpoints() const {
  std::vector<std::string> out;
  for (const auto& r : receivers_) out.push_back(r->bound_url());
  return out;
}

nlohmann::json Ingestd::stats() const {
  const auto& k = *counters_;
  nlohmann::json endpoints = nlohmann::json::array();
  for (const auto& r : receivers_) {
    const auto& e = r->counters();
    endpoints.push_back({{"url", r->url()},
                         {"bound", r->bound_url()},
                         {"messages", e.messages.load()},
                         {"bytes", e.bytes.load()},
                         {"peers", e.peers.load()},
                         {"peers_total", e.peers_total.load()},
                         {"disconnects", e.disconnects.load()},
                         {"peer_table", r->peers().to_json()},
                         {"blocked_s", e.blocked_ns.load() / 1e9}});
  }
  const auto q = q1_->counters();
  const uint64_t received = k.events_received.load(), published = k.events_enqueued.load();
  const uint64_t dropped = k.events_dropped_total();
  return {{"daemon", "ingestd"},
          {"state", end_reason_.load() == EndReason::kNone ? "running" : "ending"},
          {"end_reason", to_string(end_reason_.load())},
          {"source", config::to_string(config_.ingestd.source)},
          {"event_epoch", fmt::format("{:016x}", ids_.epoch())},
          {"counters", k.to_json()},
          {"endpoints", endpoints},
          {"decode_queue_depth", queue_.size()},
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
