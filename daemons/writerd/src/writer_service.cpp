#include "writerd/writer_service.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/config/segment_names.hpp"
#include "common/logging.hpp"
#include "common/open_ring.hpp"
#include "writerd/h5_handle.hpp"
#include "writerd/q2_slot.hpp"

namespace peaknet::writerd {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

struct WriterService::PendingLive {
  std::optional<int64_t> min_num_peak, events_per_file;
  std::optional<std::string> output_dir;
  std::optional<OnError> on_error;
};

WriterService::WriterService(const config::SuiteConfig& config)
    : config_(config),
      progress_(std::chrono::seconds(config.control.stall_timeout_s)),
      stage_(progress_.add_stage("write thread")),
      q2_name_(config::segment_name(config, config.q2)),
      ring_(common::open_ring(config, config.q2)),
      counters_(config::stats_block_name(config.run.name, "writerd"), config.run.group_access),
      seen_(size_t(config.writerd.dedup_window)),
      min_num_peak_(config.peaks.min_num_peak),
      pending_(std::make_unique<PendingLive>()) {
  h5_silence_errors();
  progress_.count_into(&counters_.stalls, &counters_.stalled);
  progress_.watch_ring("q2", [this] { return ring_.link_problem(); });
  const auto& w = config_.writerd;
  if (!w.geometry.empty()) file_geometry_ = Geometry::from_geom_file(w.geometry);
  if (!w.pub_endpoint.empty()) {
    try {
      feed_ = std::make_unique<ResultFeed>(w.pub_endpoint);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error("config.writerd.pub_endpoint: cannot bind " + w.pub_endpoint + ": " + e.what());
    }
  }
  const uint64_t slots = ring_.slot_count();
  max_held_ = w.max_held_slots > 0 ? uint64_t(w.max_held_slots) : std::max<uint64_t>(1, slots / 2);
  max_held_ = std::clamp<uint64_t>(max_held_, 1, std::max<uint64_t>(1, slots - 1));
  SinkSettings s;
  s.max_num_peak = uint32_t(config_.peaks.max_num_peak);
  s.frames = w.write_frames;
  s.compression_level = int(w.compression_level);
  s.events_per_file = std::min<uint64_t>(uint64_t(w.events_per_file), max_held_);
  s.max_file_age = std::chrono::milliseconds(w.max_file_age_ms);
  s.retry_interval = std::chrono::milliseconds(w.retry_interval_ms);
  s.on_error = w.on_error;
  s.geom_file_name = config_.run.name + ".geom";
  if (w.write_frames || w.write_masks) {
    pool_ = std::make_unique<WorkPool>(compression_workers(w.compression_threads));
    s.pool = pool_.get();
  }
  if (w.write_masks) {
    s.masks = true;
    device_masks_ = make_device_mask_reader();
    s.device_masks = device_masks_.get();
  }
  if (s.events_per_file < uint64_t(w.events_per_file)) {
    spdlog::warn("writerd.events_per_file {} > {} Q2 slots writerd may hold: files get at most {} events",
                 w.events_per_file, max_held_, s.events_per_file);
  }
  sink_ = std::make_unique<CxiSink>(ring_, counters_, seen_, make_output(w.output_dir), s);
  if (file_geometry_) sink_->set_geometry(&*file_geometry_);
  sink_->start();  // a failing output is reported and retried, not fatal
  started_at_ = utc_now();
  spdlog::info(
      "writerd: Q2 {} ({} slots), output {}, {} events/file, geometry {}, on_error {}, frames {}, "
      "masks {} (deflate {} on {} threads)",
      q2_name_, slots, w.output_dir, s.events_per_file, file_geometry_ ? w.geometry : "stacked panels",
      config::to_string(w.on_error), w.write_frames ? "of hits" : "off",
      !w.write_masks               ? "off"
      : device_masks_->available() ? "of hits (host or CUDA IPC)"
                                   : "of hits (host only: no CUDA)",
      w.compression_level, pool_ ? pool_->concurrency() : 0);
}

WriterService::~WriterService() = default;

std::unique_ptr<OutputFiles> WriterService::make_output(const std::string& dir) const {
  return std::make_unique<OutputFiles>(dir, config_.writerd.file_pattern, config_.run.name, config_.writerd.fsync);
}

int WriterService::run(const common::RunHooks& hooks) {
  hooks_ = hooks;
  stage_.idle("waiting for Q2 events");
  if (hooks_.on_state) hooks_.on_state(common::DaemonState::kReady);
  while (step()) {}
  stage_.done();
  hooks_ = {};  // they may capture the caller's locals
  return exit_code_;
}

bool WriterService::step() {
  apply_pending_live();
  if (stop_requested_.load()) {
    finish("stop");
    return false;
  }
  const auto& w = config_.writerd;
  sink_->tick(Clock::now());
  const bool draining = drain_requested_.load();
  const bool blocked = sink_->failed() && w.on_error == OnError::kBlock;
  const uint64_t files_before = counters_.files_closed.load();
  size_t claimed = 0;
  if (blocked) {
    // Backpressure: the events stay in Q2 until the output works again. No progress meanwhile: a
    // failure longer than control.stall_timeout_s is a stall (the output needs an operator).
    stage_.busy("retrying the failing output");
    if (draining) {
      finish("drain");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(w.claim_timeout_ms, 50)));
  } else {
    const uint64_t room = max_held_ > sink_->held() ? max_held_ - sink_->held() : 0;
    if (room > 0) {
      batch_.clear();
      const auto timeout = draining ? std::chrono::milliseconds(0) : std::chrono::milliseconds(w.claim_timeout_ms);
      // Waiting for Q2 is legitimate also with an open file: max_file_age_ms completes it.
      stage_.idle("waiting for Q2 events");
      claimed = ring_.claim(batch_, std::min<uint64_t>(uint64_t(w.claim_batch), room), timeout);
      stage_.busy("write");
      if (claimed > 0 && common::test_wedge_requested("write")) common::test_wedge_forever("write");
      for (auto& slot : batch_) take(std::move(slot));
      batch_.clear();
      sink_->flush();
    } else {
      stage_.busy("write");
      sink_->flush();
      sink_->complete();
    }
    if (claimed == 0) {
      if (sink_->held() > 0) {
        // finished() counts our own held claims: when every producer has finished and nothing else
        // is queued, complete the file now instead of waiting for max_file_age.
        const shm::RingCounters c = ring_.counters();
        if (draining || (c.published > 0 && c.producers == 0 && c.ready == 0 && c.writing == 0)) {
          sink_->flush();
          sink_->complete();
        }
      }
      if (sink_->held() == 0 && ring_.finished()) {
        finish("q2_finished");
        return false;
      }
      if (draining && !sink_->failed()) {
        finish("drain");
        return false;
      }
    }
  }
  if (claimed > 0 || counters_.files_closed.load() != files_before) stage_.progress();
  if (!blocked) stage_.idle("waiting for Q2 events");
  log_progress();
  if (hooks_.tick) hooks_.tick();
  return true;
}

void WriterService::take(shm::ReadSlot slot) {
  Q2Event q;
  const std::string malformed = parse_q2_slot(slot.data(), slot.size(), q);
  const shm::ResultHeader& h = q.header;
  if (slot.size() >= sizeof(shm::ResultHeader) && (h.flags & shm::kResultFlagEndOfStream)) {
    ring_.release(std::move(slot));  // a marker, not an event
    return;
  }
  counters_.events_in.fetch_add(1);
  if (!malformed.empty()) {
    if (uint64_t held_back = 0; drop_log_.allow(held_back)) {
      spdlog::warn("Q2 slot {} dropped: {} ({} similar lines suppressed)", slot.index(), malformed, held_back);
    }
    ring_.release(std::move(slot));
    counters_.count_drop(WriterDrop::kMalformed);
    return;
  }
  const EventKey key{h.ingest_epoch, h.event_id};
  if (seen_.contains(key)) {
    ring_.release(std::move(slot));
    counters_.duplicates_skipped.fetch_add(1);
    return;
  }
  const bool hit = int64_t(h.n_found) >= min_num_peak_;
  const bool keep = hit || config_.writerd.keep_all_events;
  std::string why;
  const Geometry* g = keep ? geometry_for(h, why) : nullptr;
  if (keep && g == nullptr) {
    if (uint64_t held_back = 0; drop_log_.allow(held_back)) {
      spdlog::warn("event {} dropped: {} ({} similar lines suppressed)", h.event_id, why, held_back);
    }
    seen_.insert(key);
    ring_.release(std::move(slot));
    counters_.count_drop(WriterDrop::kBadShape);
    return;
  }
  seen_.insert(key);
  if (feed_) feed_->publish({h.event_id, h.n_peaks, h.n_found, hit, keep, h.t_recv_ns, h.ingest_epoch});
  if (!keep) {
    ring_.release(std::move(slot));
    counters_.events_filtered.fetch_add(1);
    return;
  }
  sink_->add(HeldEvent{std::move(slot), h.event_id, h.t_recv_ns, hit});
}

const Geometry* WriterService::geometry_for(const shm::ResultHeader& h, std::string& why) {
  const bool frames = config_.writerd.write_frames;
  if (!file_geometry_ && !stacked_geometry_) {
    if (h.channels == 0 || h.orig_height == 0 || h.orig_width == 0) {
      why = "empty frame shape";
      return nullptr;
    }
    stacked_geometry_ = Geometry::stacked(h.channels, h.orig_height, h.orig_width);
    sink_->set_geometry(&*stacked_geometry_);
    spdlog::info("no geometry file: {} panels of {}x{} stacked along slow scan", h.channels, h.orig_height,
                 h.orig_width);
  }
  const Geometry& g = file_geometry_ ? *file_geometry_ : *stacked_geometry_;
  why = check_cxi_inputs(h, frames ? h.frame_bytes : 0, g);
  return why.empty() ? &g : nullptr;
}

void WriterService::finish(const char* reason) {
  sink_->flush();
  sink_->complete();
  // Under block a failing output means events were left in Q2 (not lost, not written): exit 1.
  // Under drop they were counted as dropped; the run itself ended as configured.
  const bool blocked = sink_->failed() && config_.writerd.on_error == OnError::kBlock;
  if (blocked || sink_->held() > 0) {
    exit_code_ = 1;
    spdlog::error("ending ({}) with a failing output: {}", reason, sink_->last_error());
    sink_->abandon_held();
  }
  write_summary(reason);
  spdlog::info("writerd done ({}): {}", reason, counters_.to_json().dump());
}

void WriterService::write_summary(const char* reason) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : sink_->files()) files.push_back({{"path", f.path}, {"events", f.events}});
  const nlohmann::json summary = {{"run", config_.run.name},
                                  {"reason", reason},
                                  {"exit_code", exit_code_},
                                  {"started_at", started_at_},
                                  {"ended_at", utc_now()},
                                  {"output_dir", sink_->output().dir()},
                                  {"q2", q2_name_},
                                  {"config_digest", config_.digest()},
                                  {"counters", counters_.to_json()},
                                  {"files_total", sink_->files_total()},
                                  {"files", files}};  // the most recent ones (CxiSink::kFileRecordsKept)
  try {
    sink_->output().write_atomically(config_.run.name + "-writerd-summary.json", summary.dump(1) + "\n");
  } catch (const std::exception& e) {
    spdlog::error("run summary not written: {}", e.what());
  }
}

nlohmann::json WriterService::stats() const {
  nlohmann::json j = counters_.to_json();
  std::lock_guard lock(mutex_);
  for (auto it = snapshot_.begin(); it != snapshot_.end(); ++it) j[it.key()] = it.value();
  return j;
}

std::string WriterService::status_line() {
  const auto s = stats();
  return std::to_string(s.value("events_written", uint64_t(0))) + " written, " +
         std::to_string(s.value("events_filtered", uint64_t(0))) + " filtered, " +
         std::to_string(s.value("held_slots", uint64_t(0))) + " held, state " +
         s.value("state", std::string("running"));
}

void WriterService::log_progress() {
  const auto now = Clock::now();
  if (now < next_log_) return;
  next_log_ = now + std::chrono::milliseconds(config_.writerd.stats_interval_ms);
  const shm::RingCounters rc = ring_.counters();
  const char* state = sink_->failed() ? "output_failed" : drain_requested_.load() ? "draining" : "running";
  nlohmann::json snap = {{"state", state},
                         {"output_dir", sink_->output().dir()},
                         {"last_error", sink_->last_error()},
                         {"rows_in_open_file", sink_->rows_in_open_file()},
                         {"min_num_peak", min_num_peak_},
                         {"events_per_file", config_.writerd.events_per_file},
                         {"on_error", config::to_string(config_.writerd.on_error)},
                         {"q2_ready", rc.ready},
                         {"q2_claimed", rc.claimed}};
  {
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(snap);
  }
  spdlog::debug("writerd: in {} written {} filtered {} dup {} dropped {} held {} files {}", counters_.events_in.load(),
                counters_.events_written.load(), counters_.events_filtered.load(), counters_.duplicates_skipped.load(),
                counters_.dropped_total(), sink_->held(), counters_.files_closed.load());
}

common::LiveKeys WriterService::live_keys() {
  auto counted = [this](const char* key, int64_t min) {
    return [this, key, min](const nlohmann::json& value, std::string& error) {
      if (!value.is_number_integer() || value.get<int64_t>() < min || value.get<int64_t>() > (1 << 20)) {
        error =
            std::string(key) + ": must be an integer in [" + std::to_string(min) + ", 1048576], got " + value.dump();
        return false;
      }
      std::lock_guard lock(mutex_);
      (std::string_view(key) == "peaks.min_num_peak" ? pending_->min_num_peak : pending_->events_per_file) =
          value.get<int64_t>();
      return true;
    };
  };
  auto min_num_peak = counted("peaks.min_num_peak", 0);
  return {
      {"writerd.output_dir",
       [this](const nlohmann::json& value, std::string& error) {
         if (!value.is_string() || value.get<std::string>().empty()) {
           error = "writerd.output_dir: must be a non-empty path, got " + value.dump();
           return false;
         }
         std::lock_guard lock(mutex_);
         pending_->output_dir = value.get<std::string>();
         return true;
       }},
      {"writerd.events_per_file", counted("writerd.events_per_file", 1)},
      {"peaks.min_num_peak",
       [this, min_num_peak](const nlohmann::json& value, std::string& error) {
         if ((config_.writerd.write_frames || config_.writerd.write_masks) && value.is_number_integer() &&
             value.get<int64_t>() < config_.peaks.min_num_peak) {
           // inferd copies the frames / masks of its own hits (the start value): lower would mean hits without them.
           const char* setting = config_.writerd.write_frames ? "writerd.write_frames" : "writerd.write_masks";
           error = "peaks.min_num_peak: " + value.dump() + " is below " + std::to_string(config_.peaks.min_num_peak) +
                   ", the value inferd copies hit frames and masks by (" + setting + "); restart the suite with " +
                   "the lower value";
           return false;
         }
         return min_num_peak(value, error);
       }},
      {"writerd.on_error",
       [this](const nlohmann::json& value, std::string& error) {
         const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
         const auto on_error = config::enum_from_string(text, config::kOnErrorValues);
         if (!on_error) {
           error = "writerd.on_error: " + config::not_one_of(text, config::enum_names(config::kOnErrorValues));
           return false;
         }
         std::lock_guard lock(mutex_);
         pending_->on_error = *on_error;
         return true;
       }},
  };
}

void WriterService::apply_pending_live() {
  PendingLive p;
  {
    std::lock_guard lock(mutex_);
    std::swap(p, *pending_);
  }
  if (p.min_num_peak) {
    min_num_peak_ = *p.min_num_peak;
    spdlog::info("peaks.min_num_peak = {}", min_num_peak_);
  }
  if (p.on_error) {
    config_.writerd.on_error = *p.on_error;
    sink_->set_on_error(*p.on_error);
  }
  if (p.events_per_file) {
    config_.writerd.events_per_file = *p.events_per_file;
    sink_->set_events_per_file(std::min<uint64_t>(uint64_t(*p.events_per_file), max_held_));
    if (sink_->rows_in_open_file() >= uint64_t(*p.events_per_file)) sink_->complete();
  }
  if (p.output_dir && *p.output_dir != sink_->output().dir()) {
    spdlog::info("writerd.output_dir = {} (completing the current file first)", *p.output_dir);
    config_.writerd.output_dir = *p.output_dir;
    sink_->switch_output(make_output(*p.output_dir));
  }
}

void WriterService::request_drain() { drain_requested_.store(true); }
void WriterService::request_stop() { stop_requested_.store(true); }

}  // namespace peaknet::writerd
