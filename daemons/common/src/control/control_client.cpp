#include "common/control_client.hpp"

#include <sys/stat.h>

#include <zmq.hpp>

namespace peaknet::common {

namespace {
zmq::context_t& client_context() {
  static zmq::context_t ctx(1);
  return ctx;
}

// "" when the endpoint is an ipc:// path that does not exist (connect would wait forever).
bool ipc_path_missing(const std::string& endpoint) {
  const std::string prefix = "ipc://";
  if (endpoint.rfind(prefix, 0) != 0) return false;
  struct stat st {};
  return ::stat(endpoint.substr(prefix.size()).c_str(), &st) != 0;
}
}  // namespace

nlohmann::json control_error(const std::string& code, const std::string& message) {
  return {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

std::string control_request_raw(const std::string& endpoint, const std::string& bytes,
                                std::chrono::milliseconds timeout) {
  if (ipc_path_missing(endpoint)) return "";
  try {
    zmq::socket_t sock(client_context(), zmq::socket_type::req);
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
    sock.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
    sock.connect(endpoint);
    if (!sock.send(zmq::buffer(bytes), zmq::send_flags::none)) return "";
    zmq::message_t reply;
    if (!sock.recv(reply, zmq::recv_flags::none)) return "";
    return reply.to_string();
  } catch (const zmq::error_t&) {
    return "";
  }
}

nlohmann::json control_request(const std::string& endpoint, const nlohmann::json& request,
                               std::chrono::milliseconds timeout) {
  if (ipc_path_missing(endpoint)) {
    return control_error("unreachable", "no control socket at " + endpoint + " (daemon not running?)");
  }
  const std::string text = control_request_raw(endpoint, request.dump(), timeout);
  if (text.empty()) {
    return control_error("timeout", "no reply from " + endpoint + " within " + std::to_string(timeout.count()) + " ms");
  }
  auto reply = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return control_error("bad_reply", "reply from " + endpoint + " is not a JSON object");
  }
  return reply;
}

}  // namespace peaknet::common
