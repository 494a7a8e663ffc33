// A stand-in for ingestd / inferd / writerd built only from DaemonRuntime, so peakctl and the control
// plane are tested as processes before (and independently of) the real daemons. The three roles pass
// event ids along ZMQ PUSH/PULL sockets in the run dir ("fake-q1", "fake-q2") and end the stream with
// an "END" message, like the real daemons end it through finished rings.
//   fake_daemon --role ingestd|inferd|writerd --config F [--set k=v]... [--instance I]
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "common/daemon_runtime.hpp"
#include "common/logging.hpp"

using namespace peaknet;

namespace {
struct Counters {
  std::atomic<uint64_t> in{0}, out{0}, filtered{0}, dropped{0};
  std::atomic<int64_t> batch_size{8}, min_num_peak{10};
};
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fake peaknet daemon for control-plane tests"};
  common::DaemonCli cli;
  std::string role;
  int64_t warmup_ms = 200;
  app.add_option("--role", role)->required()->check(CLI::IsMember({"ingestd", "inferd", "writerd"}));
  app.add_option("--warmup-ms", warmup_ms);
  common::add_daemon_options(app, cli);
  CLI11_PARSE(app, argc, argv);
  config::SuiteConfig cfg;
  try {
    cfg = common::load_daemon_config(cli);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake %s: %s\n", role.c_str(), e.what());
    return 2;
  }
  logging::init(role, logging::effective_level(cli.log_level, std::nullopt, cfg.run.log_level));

  Counters c;
  c.min_num_peak = cfg.peaks.min_num_peak;
  std::atomic<bool> drain{false}, stop{false};
  std::atomic<double> rate_hz{cfg.ingestd.synthetic.rate_hz};
  common::DaemonHooks hooks;
  hooks.stats = [&] {
    if (role == "ingestd") {
      return nlohmann::json{{"events_received", c.in.load()},
                            {"bytes_received", c.in.load() * 4096},
                            {"events_enqueued", c.out.load()},
                            {"dropped_decode_error", c.dropped.load()}};
    }
    if (role == "inferd") {
      return nlohmann::json{{"events_in", c.in.load()},
                            {"events_out", c.out.load()},
                            {"batch_size", c.batch_size.load()},
                            {"gpu_busy_pct", 0}};
    }
    return nlohmann::json{{"events_in", c.in.load()},
                          {"events_written", c.out.load()},
                          {"events_filtered", c.filtered.load()},
                          {"min_num_peak", c.min_num_peak.load()}};
  };
  // The live keys of the real daemon of this role; the fake applies the ones its stats show.
  auto accept = [](const nlohmann::json&, std::string&) { return true; };
  if (role == "ingestd") {
    hooks.live_keys = {{"q1.policy", accept}, {"ingestd.synthetic.rate_hz", [&](const nlohmann::json& v, std::string&) {
                                                 rate_hz = v.get<double>();
                                                 return true;
                                               }}};
  } else if (role == "inferd") {
    hooks.live_keys = {{"inferd.batch_size",
                        [&](const nlohmann::json& v, std::string&) {
                          c.batch_size = v.get<int64_t>();
                          return true;
                        }},
                       {"inferd.max_wait_ms", accept}};
  } else {
    hooks.live_keys = {{"writerd.output_dir", accept},
                       {"writerd.events_per_file", accept},
                       {"peaks.min_num_peak",
                        [&](const nlohmann::json& v, std::string&) {
                          c.min_num_peak = v.get<int64_t>();
                          return true;
                        }},
                       {"writerd.on_error", accept}};
  }
  hooks.request_drain = [&] { drain = true; };
  hooks.request_stop = [&] {
    stop = true;
    drain = true;
  };
  if (role == "inferd") {
    hooks.swap_model = [&](const std::string&, std::string&) { return true; };
  }

  try {
    common::DaemonRuntime rt(role, cli.instance, cfg, hooks);
    rt.set_state(common::DaemonState::kWarming);
    std::this_thread::sleep_for(std::chrono::milliseconds(warmup_ms));
    zmq::context_t ctx(1);
    const std::string q1 = "ipc://" + rt.run_dir() + "/fake-q1", q2 = "ipc://" + rt.run_dir() + "/fake-q2";
    zmq::socket_t in(ctx, zmq::socket_type::pull), out(ctx, zmq::socket_type::push);
    in.set(zmq::sockopt::linger, 0);
    out.set(zmq::sockopt::linger, 2000);
    if (role == "ingestd") out.bind(q1);
    if (role == "inferd") {
      in.connect(q1);
      out.bind(q2);
    }
    if (role == "writerd") in.connect(q2);
    rt.set_state(common::DaemonState::kReady);
    // PUSH blocks while no peer is connected (nothing is lost while a neighbour starts); retry in short
    // steps so a "stop" still ends a daemon whose neighbour died.
    out.set(zmq::sockopt::sndtimeo, 200);
    auto send = [&](const std::string& text) {
      while (!out.send(zmq::buffer(text), zmq::send_flags::none)) {
        if (stop) return false;
      }
      return true;
    };

    if (role == "ingestd") {
      const int64_t total = cfg.ingestd.synthetic.events;
      auto next = std::chrono::steady_clock::now();
      for (int64_t i = 0; (total == 0 || i < total) && !drain; ++i) {
        c.in++;
        if (!send(std::to_string(i))) break;
        c.out++;
        rt.heartbeat();
        if (rate_hz > 0) {
          next += std::chrono::microseconds(static_cast<int64_t>(1e6 / rate_hz));
          std::this_thread::sleep_until(next);
        }
      }
      send("END");
    } else {
      in.set(zmq::sockopt::rcvtimeo, 100);
      while (!stop) {
        zmq::message_t msg;
        if (!in.recv(msg)) {
          rt.heartbeat();
          continue;
        }
        const std::string text = msg.to_string();
        if (text == "END") {
          if (role == "inferd") send(text);
          break;
        }
        c.in++;
        if (role == "inferd") {
          if (!send(text)) break;
          c.out++;
        } else if (std::stoll(text) % 20 >= c.min_num_peak) c.out++;
        else c.filtered++;
        rt.heartbeat();
      }
    }
    rt.set_state(common::DaemonState::kStopped);
  } catch (const std::exception& e) {
    spdlog::error("fake {}: {}", role, e.what());
    return 1;
  }
  return 0;
}
