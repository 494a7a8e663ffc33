#pragma once
// Live keys: the config keys a daemon applies while it runs (`peakctl reconfigure k=v`). Each daemon
// owns one table of {key, apply} entries and hands it to its DaemonRuntime, which lists the keys (status
// "live_keys"), refuses every other key ("restart_required"), validates the whole config with the new
// value, and only then calls the entry. "log_level" / "<daemon>.log_level" are the runtime's own.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace peaknet::common {

struct LiveKey {
  std::string key;  ///< full config key, "inferd.batch_size"
  /// Applies `value` at the daemon's next safe point; false + error when the daemon refuses it (e.g. a
  /// batch larger than its buffers). May throw: the message becomes the error. Runs on the control
  /// thread: must be thread-safe with respect to the daemon's own threads.
  std::function<bool(const nlohmann::json& value, std::string& error)> apply;
};
using LiveKeys = std::vector<LiveKey>;

/// The keys of `table`, in table order.
std::vector<std::string> live_key_names(const LiveKeys& table);
/// Applies `key` through its entry of `table`. False + error naming the key when the table has no such
/// key (listing the keys it has) or when the entry refuses or throws.
bool apply_live_key(const LiveKeys& table, const std::string& key, const nlohmann::json& value, std::string& error);

}  // namespace peaknet::common
