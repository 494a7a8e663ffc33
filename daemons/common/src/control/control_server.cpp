#include "control/control_server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "common/control_client.hpp"

namespace peaknet::common {

namespace {
constexpr size_t kMaxRequestBytes = 1 << 20;  // a control request is small; anything larger is refused
}

ControlServer::ControlServer(std::string endpoint, Handler on_request, SignalHandler on_signal)
    : endpoint_(std::move(endpoint)), on_request_(std::move(on_request)), on_signal_(std::move(on_signal)) {
  int pipe[2];
  if (::pipe2(pipe, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("control: pipe2 failed");
  pipe_read_.reset(pipe[0]);
  pipe_write_.reset(pipe[1]);
  auto* ctx = new zmq::context_t(1);
  auto* sock = new zmq::socket_t(*ctx, zmq::socket_type::rep);
  context_ = ctx;
  socket_ = sock;
  try {
    sock->set(zmq::sockopt::linger, 0);
    sock->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxRequestBytes));
    if (endpoint_.rfind("ipc://", 0) == 0) std::remove(endpoint_.substr(6).c_str());  // stale file
    sock->bind(endpoint_);
  } catch (const zmq::error_t& e) {
    delete sock;
    delete ctx;
    throw std::runtime_error("control socket " + endpoint_ + ": bind failed: " + e.what());
  }
  thread_ = std::thread([this] { loop(); });
}

ControlServer::~ControlServer() {
  quit_ = true;
  const char wake = 0;
  [[maybe_unused]] auto n = ::write(pipe_write_.get(), &wake, 1);
  if (thread_.joinable()) thread_.join();
  delete static_cast<zmq::socket_t*>(socket_);
  delete static_cast<zmq::context_t*>(context_);
  if (endpoint_.rfind("ipc://", 0) == 0) std::remove(endpoint_.substr(6).c_str());
}

std::string ControlServer::answer(const std::string& text, const Handler& on_request) {
  nlohmann::json request = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  nlohmann::json reply;
  if (request.is_discarded()) {
    reply = control_error("malformed_json", "request is not valid JSON (" + std::to_string(text.size()) + " bytes)");
  } else if (request.is_string()) {
    // Shorthand: "status" == {"cmd":"status"}.
    request = nlohmann::json{{"cmd", request.get<std::string>()}};
  }
  if (reply.is_null()) {
    if (!request.is_object()) {
      reply = control_error("bad_request", "request must be a JSON object with a \"cmd\" string");
    } else {
      try {
        reply = on_request(request);
      } catch (const std::exception& e) {
        reply = control_error("internal_error", e.what());
      } catch (...) {
        reply = control_error("internal_error", "unknown exception");
      }
    }
  }
  // Replies may contain bytes from config strings: never let invalid UTF-8 throw here.
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void ControlServer::loop() {
  auto& sock = *static_cast<zmq::socket_t*>(socket_);
  zmq::pollitem_t items[] = {{static_cast<void*>(sock), 0, ZMQ_POLLIN, 0}, {nullptr, pipe_read_.get(), ZMQ_POLLIN, 0}};
  while (!quit_) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(500));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::error("control: poll failed: {}", e.what());
      break;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      unsigned char sig[16];
      const ssize_t n = ::read(pipe_read_.get(), sig, sizeof sig);
      for (ssize_t i = 0; i < n; ++i) {
        if (sig[i] != 0 && on_signal_) on_signal_(sig[i]);
      }
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    // A REP socket must answer every request; multipart requests are joined (and then rejected as JSON).
    std::string text;
    bool more = true;
    while (more) {
      zmq::message_t part;
      if (!sock.recv(part, zmq::recv_flags::dontwait)) break;
      text.append(part.data<char>(), part.size());
      more = part.more();
    }
    const std::string reply = answer(text, on_request_);
    try {
      sock.send(zmq::buffer(reply), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      spdlog::warn("control: reply not sent: {}", e.what());
    }
  }
}

}  // namespace peaknet::common
