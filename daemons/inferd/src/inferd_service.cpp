#include "inferd/inferd_service.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/config/config_error.hpp"
#include "common/config/segment_names.hpp"
#include "common/logging.hpp"
#include "common/open_ring.hpp"
#include "common/rate_meter.hpp"
#include "common/run_dir.hpp"
#include "device_mask_linger.hpp"
#include "inferd/backend.hpp"
#include "inferd/batcher.hpp"
#include "inferd_counters.hpp"
#include "model/inference_model.hpp"
#include "nvml_probe.hpp"
#include "result_writer.hpp"
#include "shm/counter_block.hpp"
#include "shm/ring.hpp"

namespace peaknet::inferd {
namespace {

using Clock = std::chrono::steady_clock;

model::ModelSpec model_spec(const config::InferdModelConfig& m) {
  model::ModelSpec spec;
  spec.config = m.config;
  if (!m.config_path.empty()) {
    std::ifstream in(m.config_path);
    if (!in) throw config::ConfigError("config.inferd.model.config", "cannot open " + m.config_path);
    try {
      spec.config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw config::ConfigError("config.inferd.model.config", m.config_path + ": " + e.what());
    }
  }
  spec.weights = m.weights;
  spec.backend = std::string(config::to_string(m.backend));  // the model library's own ModelSpec word
  spec.random_init = m.random_init;
  spec.seed = static_cast<uint64_t>(m.seed);
  spec.fused_kernels = m.fused_kernels;
  if (spec.weights.empty() && !spec.random_init) {
    throw config::ConfigError("config.inferd.model.weights",
                              "a weights file is required unless random_init is true (benchmarks, demos)");
  }
  return spec;
}

/// inferd.precision for the model; auto is bf16 on cuda, fp32 on cpu.
model::Precision model_precision(config::Precision wanted, config::Device device) {
  switch (wanted) {
    case config::Precision::kFp32:
      return model::Precision::kFp32;
    case config::Precision::kBf16:
      return model::Precision::kBf16;
    case config::Precision::kFp16:
      return model::Precision::kFp16;
    case config::Precision::kAuto:
      break;
  }
  return device == config::Device::kCuda ? model::Precision::kBf16 : model::Precision::kFp32;
}

}  // namespace

class InferdServiceImpl final : public BatchSink {
 public:
  InferdServiceImpl(const config::SuiteConfig& config, const InferdOptions& options)
      : config_(config),
        device_(resolve_device(config.inferd.device)),
        gpu_(options.gpu >= 0 ? options.gpu : static_cast<int>(config.inferd.gpu)),
        producer_id_(device_ == config::Device::kCuda ? static_cast<uint32_t>(gpu_)
                                                      : static_cast<uint32_t>(config.inferd.cpu_index)),
        block_name_(config::stats_block_name(
            config.run.name, common::daemon_id("inferd", !options.instance.empty() ? options.instance
                                                         : device_ == config::Device::kCuda
                                                             ? std::to_string(gpu_)
                                                             : "cpu" + std::to_string(config.inferd.cpu_index)))),
        spec_(model_spec(config.inferd.model)),
        progress_(std::chrono::seconds(config.control.stall_timeout_s)),
        stage_(progress_.add_stage("compute thread")),
        q1_(common::open_ring(config, config.q1)),
        q2_(common::open_ring(config, config.q2)),
        block_(shm::CounterBlock::open_or_create(block_name_, shm::CounterBlock::kDefaultCapacity,
                                                 config.run.group_access)),
        counters_(block_),
        batcher_(q1_),
        writer_(q2_, producer_id_,
                {config.inferd.write_frames, config.inferd.frames_of_nonhits, config.inferd.write_masks,
                 config.inferd.device_masks},
                counters_) {
    const auto& c = config.inferd;
    batcher_.set_batch_size(static_cast<uint32_t>(c.batch_size));
    batcher_.set_max_wait(std::chrono::milliseconds(c.max_wait_ms));
    counters_.batch_size.store(c.batch_size);
    counters_.max_wait_ms.store(c.max_wait_ms);
    progress_.count_into(&counters_.stalls, &counters_.stalled);
    progress_.watch_ring("q1", [this] { return q1_.link_problem(); });
    progress_.watch_ring("q2", [this] { return q2_.link_problem(); });
    batcher_.set_beat([this] { stage_.beat(); });
    writer_.set_stage(&stage_);
    set_state(common::DaemonState::kStarting);

    BackendOptions o;
    o.device = device_;
    o.gpu = gpu_;
    o.precision = model_precision(c.precision, device_);
    o.channels_last = c.channels_last;
    o.cuda_graphs = c.cuda_graphs;
    o.cudnn_benchmark = c.cudnn_benchmark;
    o.instance_norm = c.instance_norm;
    o.pad_multiple = static_cast<uint32_t>(c.pad_multiple);
    o.pipeline_slots = static_cast<uint32_t>(c.pipeline_slots);
    o.max_batch_size = static_cast<uint32_t>(c.batch_size);
    o.max_payload_bytes = q1_.slot_bytes() - shm::kPayloadOffset;
    o.q1_data_area = q1_.data_area();
    o.q1_data_area_bytes = q1_.data_area_bytes();
    o.q1_slot_bytes = q1_.slot_bytes();
    o.keep_inputs = c.write_frames || c.release_q1 == config::ReleaseQ1::kAfterPublish;
    o.write_masks = c.write_masks;
    o.device_masks = c.device_masks;
    o.q2_slots = q2_.slot_count();
    o.cpu_threads = static_cast<int>(c.cpu_threads);
    o.peak_params.max_num_peak = static_cast<uint32_t>(config.peaks.max_num_peak);
    o.peak_params.min_num_peak = static_cast<uint32_t>(config.peaks.min_num_peak);
    backend_options_ = o;
    spdlog::info("loading model ({} backend, {}) for {} {}", spec_.backend,
                 spec_.random_init ? "random init" : spec_.weights, config::to_string(device_),
                 device_ == config::Device::kCuda ? std::to_string(gpu_) : "");
    if (spec_.random_init) {
      spdlog::warn(
          "DEMO MODEL: inferd.model.random_init is set — random weights, the peaks found are "
          "meaningless. Configure inferd.model.weights for real data.");
    }
    backend_ = make_backend(o, model::load_model(spec_), *this);
    if (device_ == config::Device::kCuda && c.nvml) {
      // NVML numbers all GPUs; the PCI bus id names ours whatever CUDA_VISIBLE_DEVICES says.
      const std::string pci = backend_->describe().value("pci_bus_id", std::string());
      nvml_ = std::make_unique<NvmlProbe>(gpu_, pci.empty() ? nullptr : pci.c_str());
    }
  }

  ~InferdServiceImpl() override = default;

  // ---- BatchSink
  void release_inputs(std::vector<shm::ReadSlot>&& slots) override {
    for (auto& s : slots) q1_.release(std::move(s));
  }
  void publish(CompletedBatch&& done) override {
    writer_.write(done, give_up_);
    counters_.batches.fetch_add(1, std::memory_order_relaxed);
    counters_.last_batch_events.store(done.batch.size(), std::memory_order_relaxed);
    counters_.add_times(done.times);
    release_inputs(std::move(done.batch.slots));  // write_frames kept them until now
  }

  int run(const common::RunHooks& hooks) {
    const auto& c = config_.inferd;
    hooks_ = hooks;
    stage_.busy("warm-up");
    if (c.warmup_iterations > 0 && !stop_requested_.load()) {
      set_state(common::DaemonState::kWarming);
      const FrameShape shape{uint32_t(c.warmup_shape[0]), uint32_t(c.warmup_shape[1]), uint32_t(c.warmup_shape[2]),
                             shm::DType::kF32};
      const auto t0 = Clock::now();
      backend_->warm_up(shape, batcher_.batch_size(), static_cast<uint32_t>(c.warmup_iterations));
      spdlog::info("warm-up: {} batches of {}x{}x{}x{} in {} ms", c.warmup_iterations, batcher_.batch_size(),
                   shape.channels, shape.height, shape.width,
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
    }
    stage_.idle("waiting for Q1 events");  // before ready: the monitor judges from here on
    set_state(common::DaemonState::kReady);
    spdlog::info("ready on {}: Q1 {} -> Q2 {}, counters {}", backend_->device_name(), q1_.name(), q2_.name(),
                 block_name_);

    std::vector<shm::ReadSlot> markers;
    std::vector<RejectedEvent> rejected;
    auto last_stats = Clock::now();
    while (!stop_requested_.load()) {
      markers.clear();
      rejected.clear();
      // Idle only with nothing claimed and nothing on the device: else results are owed.
      if (backend_->in_flight() == 0 && batcher_.pending() == 0) stage_.idle("waiting for Q1 events");
      std::optional<Batch> batch = batcher_.next(std::chrono::milliseconds(50), markers, rejected);
      handle_rejected(rejected);
      if (batch) {
        stage_.busy("compute");
        if (common::test_wedge_requested("compute")) common::test_wedge_forever("compute");
        submit(std::move(*batch));
        backend_->poll();
      } else {
        if (backend_->in_flight() > 0) stage_.busy("compute");
        backend_->flush();  // idle: nothing to overlap with, so finish what is in flight
      }
      if (!markers.empty()) forward_markers(markers);
      maybe_swap_model();
      stage_.beat();
      if (hooks.tick) hooks.tick();
      if (Clock::now() - last_stats > std::chrono::milliseconds(c.stats_interval_ms)) {
        refresh_gauges();
        last_stats = Clock::now();
      }
      // drain (peakctl stop, SIGTERM) empties Q1 first: its producer has usually exited already, and
      // the events still queued there would otherwise be neither processed nor counted as dropped.
      if (!batch && batcher_.pending() == 0 && (q1_.finished() || drain_requested_.load())) {
        spdlog::info("Q1 {} {} and drained", q1_.name(), q1_.finished() ? "finished" : "idle");
        break;
      }
    }
    set_state(common::DaemonState::kDraining);
    stage_.busy("drain");
    while (auto rest = batcher_.take_pending()) submit(std::move(*rest));
    backend_->flush();
    q2_.finish_producing();
    keep_device_masks_until_read(hooks);
    refresh_gauges();
    stage_.done();
    set_state(common::DaemonState::kStopped);
    spdlog::info("drained: {} batches, {} events, {} hits", counters_.batches.load(), counters_.events_out.load(),
                 counters_.hits.load());
    return 0;
  }

  // The device masks of the results still in Q2 live in this process's GPU memory (DeviceMaskPool):
  // keep it until writerd has read them (device_mask_linger.hpp).
  void keep_device_masks_until_read(const common::RunHooks& hooks) {
    if (!backend_->describe().value("device_masks", false)) return;
    const uint64_t queued = q2_.counters().occupancy;
    if (queued == 0) return;
    const auto limit = std::chrono::seconds(config_.inferd.device_mask_linger_s);
    spdlog::info("keeping the device masks of {} results in Q2 {} until they are read (at most {} s)", queued,
                 q2_.name(), limit.count());
    const LingerResult r = wait_for_q2_readers(q2_, limit, stop_requested_, [&] {
      stage_.beat();
      if (hooks.tick) hooks.tick();
    });
    if (r.left_in_q2 > 0) {
      spdlog::warn(
          "inferd exits with {} results still in Q2 {} ({}): their device masks go with this process, so "
          "writerd writes those hits without mask (peakMaskStatus 2, masks_missing)",
          r.left_in_q2, q2_.name(),
          r.stopped ? "stop requested" : "inferd.device_mask_linger_s " + std::to_string(limit.count()) + " s passed");
    }
  }

  nlohmann::json stats() const {
    nlohmann::json counters = nlohmann::json::object();
    for (const auto& [name, value] : block_.snapshot()) counters[name] = value;
    return {{"daemon", "inferd"},
            {"state", to_string(state_.load())},
            {"device", config::to_string(device_)},
            {"gpu", device_ == config::Device::kCuda ? nlohmann::json(gpu_) : nlohmann::json(nullptr)},
            {"producer_id", producer_id_},
            {"counter_block", block_name_},
            {"batch_size", batcher_.batch_size()},
            {"max_wait_ms", batcher_.max_wait_ms()},
            {"q1", q1_.name()},
            {"q2", q2_.name()},
            {"backend", backend_->describe()},
            {"counters", counters}};
  }

  common::LiveKeys live_keys() {
    return {
        {"inferd.batch_size",
         [this](const nlohmann::json& value, std::string& error) {
           const auto v = value.get<int64_t>();
           if (v < 1 || v > int64_t(backend_options_.max_batch_size)) {
             error = "inferd.batch_size: must be in [1, " + std::to_string(backend_options_.max_batch_size) +
                     "] (device buffers are sized at start), got " + value.dump();
             return false;
           }
           batcher_.set_batch_size(static_cast<uint32_t>(v));
           counters_.batch_size.store(uint64_t(v));
           spdlog::info("live: inferd.batch_size = {}", v);
           return true;
         }},
        {"inferd.max_wait_ms",
         [this](const nlohmann::json& value, std::string& error) {
           const auto v = value.get<int64_t>();
           if (v < 0 || v > 60'000) {
             error = "inferd.max_wait_ms: must be in [0, 60000], got " + value.dump();
             return false;
           }
           batcher_.set_max_wait(std::chrono::milliseconds(v));
           counters_.max_wait_ms.store(uint64_t(v));
           spdlog::info("live: inferd.max_wait_ms = {}", v);
           return true;
         }},
    };
  }

  bool swap_model(const std::string& weights_path, std::string& error) {
    try {
      model::ModelSpec spec = spec_;
      spec.weights = weights_path;
      spec.random_init = false;
      auto next = model::load_model(spec);
      std::lock_guard lock(swap_mutex_);
      next_model_ = std::move(next);
      return true;
    } catch (const std::exception& e) {
      error = "swap_model " + weights_path + ": " + e.what();
      return false;
    }
  }

  void request_drain() noexcept { drain_requested_.store(true); }
  void request_stop() noexcept { stop_requested_.store(true); }
  common::DaemonState state() const { return state_.load(); }

  // systemd's STATUS= line (systemctl status peaknet-inferd@N): rates over the time since the previous
  // call (on the serving thread) and totals.
  std::string status_line() {
    const nlohmann::json all = stats();
    const auto& c = all["counters"];
    const double events = c.value("events_out", 0.0), batches = c.value("batches", 0.0);
    const auto now = common::RateMeter::Clock::now();
    std::string line =
        fmt::format("{:.1f} events/s, {:.1f} batches/s; {:.0f} events, {:.0f} batches",
                    status_events_.per_second(events, now), status_batches_.per_second(batches, now), events, batches);
    if (c.contains("gpu_busy_pct")) line += fmt::format("; GPU busy {}%", c["gpu_busy_pct"].dump());
    return line;
  }
  const std::string& block_name() const { return block_name_; }
  common::ProgressMonitor& progress() { return progress_; }

 private:
  static config::Device resolve_device(config::Device wanted) {
    if (wanted == config::Device::kAuto) return cuda_available() ? config::Device::kCuda : config::Device::kCpu;
    if (wanted == config::Device::kCuda && !cuda_available()) {
      throw config::ConfigError("config.inferd.device",
                                "cuda requested but this build has no CUDA backend or no GPU is visible");
    }
    return wanted;
  }

  void set_state(common::DaemonState s) {
    state_.store(s);
    if (hooks_.on_state) hooks_.on_state(s);
    counters_.state.store(static_cast<uint64_t>(s));
  }

  void submit(Batch&& batch) {
    counters_.events_in.fetch_add(batch.size(), std::memory_order_relaxed);
    counters_.queue_wait_us.record(batch.queue_wait_ns / 1000);
    counters_.time_queue_wait_ns.fetch_add(batch.queue_wait_ns, std::memory_order_relaxed);
    backend_->submit(std::move(batch));
    counters_.in_flight.store(backend_->in_flight(), std::memory_order_relaxed);
  }

  void handle_rejected(std::vector<RejectedEvent>& rejected) {
    for (auto& r : rejected) {
      uint64_t held = 0;
      if (reject_log_.allow(held)) {
        const auto& h = *reinterpret_cast<const shm::EventHeader*>(r.slot.data());
        spdlog::warn("Q1 event {} rejected: {} ({} more not logged)", h.event_id, r.reason, held);
      }
      counters_.events_in.fetch_add(1, std::memory_order_relaxed);
      counters_.dropped_invalid_event.fetch_add(1, std::memory_order_relaxed);
      q1_.release(std::move(r.slot));
    }
  }

  void forward_markers(std::vector<shm::ReadSlot>& markers) {
    // Everything claimed before the marker goes to Q2 first.
    while (auto rest = batcher_.take_pending()) submit(std::move(*rest));
    backend_->flush();
    for (auto& m : markers) {
      writer_.write_marker(*reinterpret_cast<const shm::EventHeader*>(m.data()), give_up_);
      q1_.release(std::move(m));
    }
  }

  void maybe_swap_model() {
    std::unique_ptr<model::InferenceModel> next;
    {
      std::lock_guard lock(swap_mutex_);
      next = std::move(next_model_);
    }
    if (!next) return;
    stage_.busy("model swap");
    const auto& c = config_.inferd;
    backend_->swap_model(std::move(next));
    const FrameShape shape{uint32_t(c.warmup_shape[0]), uint32_t(c.warmup_shape[1]), uint32_t(c.warmup_shape[2]),
                           shm::DType::kF32};
    if (c.warmup_iterations > 0) {
      backend_->warm_up(shape, batcher_.batch_size(), static_cast<uint32_t>(c.warmup_iterations));
    }
    counters_.model_swaps.fetch_add(1);
    spdlog::info("model swapped");
  }

  /// Busy = device time of preprocess + forward + postprocess (measured with events on the compute
  /// stream; wall time on the CPU backend) per wall time since the last refresh. Our own measure: NVML
  /// is absent in some containers and VMs and read 0 % under peakctl on a saturated GPU (issue 20); its
  /// whole-GPU utilisation, where it answers, is the separate gauge gpu_util_nvml_pct.
  void refresh_gauges() {
    counters_.in_flight.store(backend_->in_flight());
    const uint64_t device_ns =
        counters_.time_preprocess_ns.load() + counters_.time_forward_ns.load() + counters_.time_postprocess_ns.load();
    const auto now = Clock::now();
    const double wall_ns = std::chrono::duration<double, std::nano>(now - busy_since_).count();
    if (busy_since_ != Clock::time_point{} && wall_ns > 0) {
      const double pct = 100.0 * static_cast<double>(device_ns - busy_device_ns_) / wall_ns;
      counters_.gpu_busy_pct.store(static_cast<uint64_t>(std::clamp(pct, 0.0, 100.0) + 0.5));
    }
    busy_since_ = now;
    busy_device_ns_ = device_ns;
    if (nvml_) {
      if (auto s = nvml_->sample()) {
        counters_.gpu_util_nvml_pct.store(s->utilization_pct);
        counters_.gpu_mem_used_mb.store(s->memory_used_bytes >> 20);
      }
    }
  }

  config::SuiteConfig config_;
  config::Device device_;  ///< resolved: cpu or cuda
  int gpu_;
  uint32_t producer_id_;
  std::string block_name_;
  model::ModelSpec spec_;
  common::ProgressMonitor progress_;
  common::Stage& stage_;
  shm::Ring q1_;
  shm::Ring q2_;
  shm::CounterBlock block_;
  InferdCounters counters_;
  Batcher batcher_;
  ResultWriter writer_;
  BackendOptions backend_options_;
  std::unique_ptr<InferenceBackend> backend_;
  std::unique_ptr<NvmlProbe> nvml_;
  Clock::time_point busy_since_{};  ///< last refresh_gauges(): the busy share is over the time since
  uint64_t busy_device_ns_ = 0;
  common::RunHooks hooks_;
  common::RateMeter status_events_, status_batches_;  ///< status_line()'s rates
  std::atomic<bool> stop_requested_{false};           ///< stop now (pending batches are still finished)
  std::atomic<bool> drain_requested_{false};          ///< leave once Q1 is empty
  std::atomic<bool> give_up_{false};
  std::atomic<common::DaemonState> state_{common::DaemonState::kStarting};
  logging::RateLimiter reject_log_{std::chrono::seconds(1)};
  std::mutex swap_mutex_;
  std::unique_ptr<model::InferenceModel> next_model_;
};

InferdService::InferdService(const config::SuiteConfig& config, const InferdOptions& options)
    : impl_(std::make_unique<InferdServiceImpl>(config, options)) {}
InferdService::~InferdService() = default;

int InferdService::run(const common::RunHooks& hooks) { return impl_->run(hooks); }
common::DaemonState InferdService::state() const { return impl_->state(); }
nlohmann::json InferdService::stats() const { return impl_->stats(); }
std::string InferdService::status_line() { return impl_->status_line(); }
common::LiveKeys InferdService::live_keys() { return impl_->live_keys(); }
bool InferdService::swap_model(const std::string& weights_path, std::string& error) {
  return impl_->swap_model(weights_path, error);
}
void InferdService::request_drain() noexcept { impl_->request_drain(); }
void InferdService::request_stop() noexcept { impl_->request_stop(); }
const std::string& InferdService::counter_block_name() const { return impl_->block_name(); }
std::string InferdService::default_instance() const {
  const auto& block = impl_->block_name();
  return block.substr(block.rfind('-') + 1);
}
common::ProgressMonitor& InferdService::progress() { return impl_->progress(); }

}  // namespace peaknet::inferd
