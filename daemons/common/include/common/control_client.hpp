#pragma once
// Client side of the daemons' control sockets (peakctl, tests). One REQ socket per request, so a
// daemon that never answers cannot wedge the next request.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace peaknet::common {

/// Sends `request` to `endpoint` ("ipc://..."), waits up to `timeout` for the JSON reply. Never throws:
/// failures come back as {"ok":false,"error":{"code":"unreachable"|"timeout"|"bad_reply",...}}.
nlohmann::json control_request(const std::string& endpoint, const nlohmann::json& request,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
/// Same with raw bytes (tests send malformed requests); the reply text, or "" on timeout/unreachable.
std::string control_request_raw(const std::string& endpoint, const std::string& bytes,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

/// {"ok":false,"error":{"code":code,"message":message}}.
nlohmann::json control_error(const std::string& code, const std::string& message);

}  // namespace peaknet::common
