#pragma once
// The run directory: control sockets, pid files, final stats and (peakctl start) logs of one suite
// instance. Default: <base>/<run.name>, base = $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=, shared by
// every unit), else /run/peaknet as root, else $XDG_RUNTIME_DIR/peaknet (/tmp/peaknet-<uid> without it);
// config run.run_dir replaces the whole path.
#include <string>

#include "common/config/run_config.hpp"

namespace peaknet::common {

/// Where systemd's units keep their runs (RuntimeDirectory=peaknet).
inline constexpr const char* kSystemdRunBase = "/run/peaknet";

/// The parent of every run's directory for this process ("$RUNTIME_DIRECTORY", "/run/peaknet", ...).
std::string run_base_dir();
/// run.run_dir, or run_base_dir()/<run.name>.
std::string resolve_run_dir(const config::RunConfig& run);
/// Creates `path` (and missing parents) and checks it: mode 0700 (0750 with `group_access`: members of
/// our group may list it and reach the sockets), owned by us — root may use a directory a daemon user
/// owns (systemd units run as `peaknet`; root's peakctl runs beside them). Throws std::runtime_error
/// naming the path and what is wrong.
void ensure_run_dir(const std::string& path, bool group_access = false);
/// "<daemon>" or "<daemon>-<instance>".
std::string daemon_id(const std::string& daemon, const std::string& instance);
/// "ipc://<run_dir>/<id>.sock".
std::string control_endpoint(const std::string& run_dir, const std::string& id);
/// Writes `text` to `path` atomically (temp file + rename) with mode 0600 (0640 with `group_access`).
void write_file_0600(const std::string& path, const std::string& text, bool group_access = false);

}  // namespace peaknet::common
