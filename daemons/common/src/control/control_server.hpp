#pragma once
// ControlServer: the thread that answers a daemon's control socket (ZMQ REP on ipc://) and turns
// signals (delivered through a self-pipe, so the handler stays async-signal-safe) into runtime calls.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"

namespace peaknet::common {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json&)>;
  using SignalHandler = std::function<void(int)>;

  /// Binds `endpoint` (an existing stale socket file is replaced) and starts the thread.
  /// Throws std::runtime_error naming the endpoint when the bind fails.
  ControlServer(std::string endpoint, Handler on_request, SignalHandler on_signal);
  ~ControlServer();  ///< stops and joins the thread, removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Write end of the self-pipe: a signal handler writes the signal number (one byte) here.
  int signal_fd() const noexcept { return pipe_write_.get(); }

  /// Parses one request text and answers it; malformed input becomes a JSON error (never throws).
  static std::string answer(const std::string& text, const Handler& on_request);

 private:
  void loop();

  std::string endpoint_;
  Handler on_request_;
  SignalHandler on_signal_;
  UniqueFd pipe_read_, pipe_write_;  ///< the self-pipe
  std::atomic<bool> quit_{false};
  void* context_ = nullptr;  // zmq::context_t, owned (kept out of the header)
  void* socket_ = nullptr;   // zmq::socket_t, owned
  std::thread thread_;
};

}  // namespace peaknet::common
