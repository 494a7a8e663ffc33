#include "common/daemon_runtime.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/control_client.hpp"
#include "common/logging.hpp"
#include "common/run_dir.hpp"
#include "common/sd_notify.hpp"
#include "control/control_server.hpp"
#include "shm/event_clock.hpp"

#ifndef PEAKNET_VERSION
#define PEAKNET_VERSION "0.0.0"
#endif

namespace peaknet::common {

namespace {
using shm::steady_ns;

// Signal plumbing: the handler only writes the signal number into the active runtime's self-pipe.
std::atomic<int> g_signal_fd{-1};
extern "C" void on_signal_write(int signo) {
  const int fd = g_signal_fd.load();
  if (fd >= 0) {
    const unsigned char b = static_cast<unsigned char>(signo);
    [[maybe_unused]] auto n = ::write(fd, &b, 1);
  }
}

// Finds "a.b.c" in `root`; nullptr when absent.
const nlohmann::json* find_key(const nlohmann::json& root, const std::string& key) {
  const nlohmann::json* cur = &root;
  size_t start = 0;
  while (start <= key.size()) {
    const size_t dot = std::min(key.find('.', start), key.size());
    const std::string part = key.substr(start, dot - start);
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
    start = dot + 1;
  }
  return cur;
}
}  // namespace

struct DaemonRuntime::Shared {
  std::mutex mu;
  std::string status_line;
  bool ready_sent = false;
  std::chrono::microseconds watchdog{0};
  std::atomic<int64_t> last_watchdog_ns{0};
  ProgressMonitor* monitor = nullptr;  // set once by watch(), before the thread starts
  std::thread watchdog_thread;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_watchdog = false;
  struct sigaction old_int {
  }, old_term{}, old_hup{}, old_pipe{};
};

DaemonRuntime::DaemonRuntime(std::string daemon, std::string instance, const config::SuiteConfig& cfg,
                             DaemonHooks hooks)
    : daemon_(std::move(daemon)),
      instance_(std::move(instance)),
      id_(daemon_id(daemon_, instance_)),
      run_dir_(resolve_run_dir(cfg.run)),
      cfg_(cfg),
      hooks_(std::move(hooks)),
      started_ns_(steady_ns()),
      shared_(std::make_unique<Shared>()) {
  ensure_run_dir(run_dir_, cfg.run.group_access);
  // Another live process with our id owns the socket: refuse rather than steal it.
  const nlohmann::json probe = control_request(endpoint(), {{"cmd", "status"}}, std::chrono::milliseconds(300));
  if (probe.value("ok", false)) {
    throw std::runtime_error(id_ + " is already running in " + run_dir_ + " (pid " +
                             std::to_string(probe.value("pid", 0)) + ")");
  }
  server_ = std::make_unique<ControlServer>(
      endpoint(), [this](const nlohmann::json& r) { return handle(r); }, [this](int s) { on_signal(s); });
  if (cfg.run.group_access) {
    // libzmq creates the socket file with the umask's mode; connecting needs write access to it.
    const std::string sock = run_dir_ + "/" + id_ + ".sock";
    if (::chmod(sock.c_str(), 0660) != 0) spdlog::warn("control: cannot make {} group-writable", sock);
  }
  write_file_0600(run_dir_ + "/" + id_ + ".pid", std::to_string(::getpid()) + "\n", cfg.run.group_access);
  std::remove((run_dir_ + "/" + id_ + ".final.json").c_str());

  g_signal_fd = server_->signal_fd();
  struct sigaction sa {};
  sa.sa_handler = on_signal_write;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &shared_->old_int);
  ::sigaction(SIGTERM, &sa, &shared_->old_term);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &ignore, &shared_->old_hup);
  ::sigaction(SIGPIPE, &ignore, &shared_->old_pipe);

  shared_->watchdog = sd_watchdog_period();
  sd_notify_send("STATUS=" + id_ + " starting");
  spdlog::info("control: {} listening on {}", id_, endpoint());
}

DaemonRuntime::~DaemonRuntime() {
  if (shared_->watchdog_thread.joinable()) {
    {
      std::lock_guard lock(shared_->stop_mu);
      shared_->stop_watchdog = true;
    }
    shared_->stop_cv.notify_all();
    shared_->watchdog_thread.join();
  }
  g_signal_fd = -1;
  ::sigaction(SIGINT, &shared_->old_int, nullptr);
  ::sigaction(SIGTERM, &shared_->old_term, nullptr);
  ::sigaction(SIGHUP, &shared_->old_hup, nullptr);
  ::sigaction(SIGPIPE, &shared_->old_pipe, nullptr);
  server_.reset();  // joins the control thread: no hook runs after this
  try {
    if (!final_written_) write_final_stats();
  } catch (const std::exception& e) {
    spdlog::warn("control: final stats of {} not written: {}", id_, e.what());
  }
  std::remove((run_dir_ + "/" + id_ + ".pid").c_str());
  if (state_ != DaemonState::kFailed) state_ = DaemonState::kStopped;
  sd_notify_send("STATUS=" + id_ + " " + to_string(state_.load()));
}

std::string DaemonRuntime::endpoint() const { return control_endpoint(run_dir_, id_); }

std::vector<std::string> DaemonRuntime::live_keys() const {
  std::vector<std::string> keys = {"log_level", daemon_ + ".log_level"};
  for (auto& key : live_key_names(hooks_.live_keys)) keys.push_back(std::move(key));
  return keys;
}

void DaemonRuntime::set_state(DaemonState state) {
  const DaemonState old = state_.exchange(state);
  if (old == state) return;
  notify_state(old, state);
}

void DaemonRuntime::notify_state(DaemonState old, DaemonState state) {
  spdlog::info("control: {} state {} -> {}", id_, to_string(old), to_string(state));
  std::lock_guard lock(shared_->mu);
  std::string msg;
  if (state == DaemonState::kReady && !shared_->ready_sent) {
    shared_->ready_sent = true;
    msg = "READY=1\n";
  }
  if (state == DaemonState::kDraining || state == DaemonState::kStopped) msg += "STOPPING=1\n";
  msg += "STATUS=" + id_ + " " + to_string(state) + (shared_->status_line.empty() ? "" : ": " + shared_->status_line);
  sd_notify_send(msg);
}

void DaemonRuntime::set_status(const std::string& line) {
  std::lock_guard lock(shared_->mu);
  shared_->status_line = line;
  sd_notify_send("STATUS=" + id_ + " " + to_string(state_.load()) + ": " + line);
}

void DaemonRuntime::heartbeat() {
  if (shared_->monitor == nullptr) pet_watchdog();
}

void DaemonRuntime::watch(ProgressMonitor& monitor) {
  if (shared_->monitor != nullptr) throw std::logic_error("DaemonRuntime::watch: a monitor is already attached");
  shared_->monitor = &monitor;
  shared_->watchdog_thread = std::thread([this] { watchdog_loop(); });
}

void DaemonRuntime::watchdog_loop() {
  using namespace std::chrono_literals;
  const auto period = shared_->watchdog;
  const auto tick =
      period.count() > 0 ? std::min<std::chrono::microseconds>(250ms, period / 4) : std::chrono::microseconds(250ms);
  std::unique_lock lock(shared_->stop_mu);
  while (!shared_->stop_cv.wait_for(lock, tick, [this] { return shared_->stop_watchdog; })) {
    const DaemonState state = state_.load();
    bool healthy = true;
    if (state == DaemonState::kReady || state == DaemonState::kStalled || state == DaemonState::kDraining) {
      healthy = !shared_->monitor->check().stalled;
      // Only ready <-> stalled: a drain or stop set meanwhile by another thread wins.
      DaemonState from = healthy ? DaemonState::kStalled : DaemonState::kReady;
      const DaemonState to = healthy ? DaemonState::kReady : DaemonState::kStalled;
      if (state_.compare_exchange_strong(from, to)) notify_state(from, to);
    } else if (state == DaemonState::kStopped || state == DaemonState::kFailed) {
      healthy = false;
    }
    if (healthy) pet_watchdog();
  }
}

void DaemonRuntime::pet_watchdog() {
  const auto period = shared_->watchdog;
  if (period.count() == 0) return;
  const int64_t now = steady_ns();
  const int64_t last = shared_->last_watchdog_ns.load(std::memory_order_relaxed);
  // Ping at a quarter of the period: well inside systemd's "less than half" advice.
  if (now - last < std::chrono::duration_cast<std::chrono::nanoseconds>(period).count() / 4) return;
  shared_->last_watchdog_ns.store(now, std::memory_order_relaxed);
  sd_notify_send("WATCHDOG=1");
}

void DaemonRuntime::write_final_stats() {
  nlohmann::json doc = {{"daemon", daemon_},
                        {"instance", instance_},
                        {"id", id_},
                        {"pid", ::getpid()},
                        {"state", to_string(state_.load())}};
  doc["stats"] = hooks_.stats ? hooks_.stats() : nlohmann::json::object();
  write_file_0600(run_dir_ + "/" + id_ + ".final.json",
                  doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", cfg_.run.group_access);
  final_written_ = true;
}

void DaemonRuntime::on_signal(int signo) {
  if (!drain_requested_.exchange(true)) {
    spdlog::info("control: {} got signal {}: draining (send it again to stop now)", id_, signo);
    if (state_ != DaemonState::kFailed) set_state(DaemonState::kDraining);
    if (hooks_.request_drain) hooks_.request_drain();
    else if (hooks_.request_stop) hooks_.request_stop();
    return;
  }
  spdlog::warn("control: {} got signal {} again: stopping now", id_, signo);
  stop_requested_ = true;
  if (hooks_.request_stop) hooks_.request_stop();
}

nlohmann::json DaemonRuntime::handle(const nlohmann::json& request) {
  const auto cmd_it = request.find("cmd");
  if (cmd_it == request.end() || !cmd_it->is_string()) {
    return control_error("bad_request", "request must have a \"cmd\" string");
  }
  const std::string cmd = cmd_it->get<std::string>();
  auto string_arg = [&](const char* name, std::string& out) {
    const auto it = request.find(name);
    if (it == request.end() || !it->is_string() || it->get<std::string>().empty()) return false;
    out = it->get<std::string>();
    return true;
  };

  if (cmd == "status") {
    const DaemonState state = state_.load();
    std::lock_guard lock(shared_->mu);
    nlohmann::json reply = {{"ok", true},
                            {"daemon", daemon_},
                            {"instance", instance_},
                            {"id", id_},
                            {"pid", ::getpid()},
                            {"state", to_string(state)},
                            {"status", shared_->status_line},
                            {"uptime_s", (steady_ns() - started_ns_) / 1e9},
                            {"version", PEAKNET_VERSION},
                            {"config_digest", cfg_.digest()},
                            {"config_source", cfg_.source},
                            {"run_name", cfg_.run.name},
                            {"live_keys", live_keys()}};
    if (shared_->monitor != nullptr) {
      if (const StallReport stall = shared_->monitor->last(); stall.stalled) {
        reply["stall"] = {{"message", stall.message},
                          {"stage", stall.stage},
                          {"activity", stall.activity},
                          {"seconds", stall.seconds}};
      }
    }
    return reply;
  }
  if (cmd == "stats") {
    return {{"ok", true}, {"id", id_}, {"stats", hooks_.stats ? hooks_.stats() : nlohmann::json::object()}};
  }
  if (cmd == "config_get") {
    std::string key;
    if (!string_arg("key", key)) {
      if (request.contains("key")) {
        return control_error("bad_request", "config_get: \"key\" must be a non-empty string");
      }
      return {{"ok", true}, {"value", cfg_.raw}};
    }
    const nlohmann::json* value = find_key(cfg_.raw, key);
    if (!value) return {{"ok", true}, {"key", key}, {"value", nullptr}, {"set", false}};
    return {{"ok", true}, {"key", key}, {"value", *value}, {"set", true}};
  }
  if (cmd == "config_set") {
    std::string key;
    if (!string_arg("key", key)) return control_error("bad_request", "config_set needs a \"key\" string");
    if (!request.contains("value")) return control_error("bad_request", "config_set needs a \"value\"");
    const nlohmann::json& value = request["value"];
    const auto keys = live_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return control_error("restart_required",
                           "config." + key + " cannot change while " + id_ +
                               " runs; restart it to apply (live keys here: " + nlohmann::json(keys).dump() + ")");
    }
    // Validate the whole config with the change before anyone applies it.
    nlohmann::json candidate = cfg_.raw;
    const std::string stored_key = key == "log_level" ? daemon_ + ".log_level" : key;
    nlohmann::json* slot = &candidate;
    for (size_t start = 0; start <= stored_key.size();) {
      const size_t dot = std::min(stored_key.find('.', start), stored_key.size());
      slot = &(*slot)[stored_key.substr(start, dot - start)];
      start = dot + 1;
    }
    *slot = value;
    try {
      config::parse_suite_config(candidate, cfg_.source);
    } catch (const std::exception& e) {
      return control_error("invalid_value", e.what());
    }
    if (key == "log_level" || key == daemon_ + ".log_level") {
      // Validated above: a level, or "" / null = back to run.log_level.
      const std::string level = value.is_string() ? value.get<std::string>() : "";
      logging::set_level(level.empty() ? cfg_.run.log_level
                                       : config::parse_enum("config." + stored_key, level, config::kLogLevelValues));
    } else {
      std::string error;
      if (!apply_live_key(hooks_.live_keys, key, value, error)) return control_error("refused", error);
    }
    cfg_.raw = std::move(candidate);
    spdlog::info("control: {} applied {} = {}", id_, key, value.dump());
    return {{"ok", true}, {"key", key}, {"value", value}};
  }
  if (cmd == "drain") {
    const bool first = !drain_requested_.exchange(true);
    if (first) {
      if (state_ != DaemonState::kFailed) set_state(DaemonState::kDraining);
      if (hooks_.request_drain) hooks_.request_drain();
      else if (hooks_.request_stop) hooks_.request_stop();
    }
    return {{"ok", true}, {"state", to_string(state_.load())}};
  }
  if (cmd == "stop") {
    stop_requested_ = true;
    drain_requested_ = true;
    if (hooks_.request_stop) hooks_.request_stop();
    return {{"ok", true}, {"state", to_string(state_.load())}};
  }
  if (cmd == "swap_model") {
    std::string path;
    if (!string_arg("path", path)) return control_error("bad_request", "swap_model needs a \"path\" string");
    if (!hooks_.swap_model) return control_error("not_supported", id_ + " has no model to swap");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return control_error("not_found", "weights file " + path + " not found");
    std::string error;
    if (!hooks_.swap_model(path, error)) return control_error("swap_failed", error);
    return {{"ok", true}, {"path", path}};
  }
  return control_error("unknown_command",
                       "unknown cmd \"" + cmd + "\" (status, stats, config_get, config_set, drain, stop, swap_model)");
}

}  // namespace peaknet::common
