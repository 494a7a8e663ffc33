#pragma once
// The run directory: control sockets, pid files, final stats and (peakctl start) logs of one suite
// instance. Default: /run/peaknet/<run.name> as root, $XDG_RUNTIME_DIR/peaknet/<run.name> otherwise
// (/tmp/peaknet-<uid>/<run.name> without XDG_RUNTIME_DIR); config run.run_dir replaces the whole path.
#include <string>

#include "common/config/run_config.hpp"

namespace peaknet::common {

/// The parent of every run's directory for this user ("/run/peaknet", "$XDG_RUNTIME_DIR/peaknet").
std::string run_base_dir();
/// run.run_dir, or run_base_dir()/<run.name>.
std::string resolve_run_dir(const config::RunConfig& run);
/// Creates `path` (and missing parents) with mode 0700 and checks that it is ours and not group/world
/// accessible. Throws std::runtime_error naming the path and what is wrong.
void ensure_run_dir(const std::string& path);
/// "<daemon>" or "<daemon>-<instance>".
std::string daemon_id(const std::string& daemon, const std::string& instance);
/// "ipc://<run_dir>/<id>.sock".
std::string control_endpoint(const std::string& run_dir, const std::string& id);
/// Writes `text` to `path` atomically (temp file + rename) with mode 0600.
void write_file_0600(const std::string& path, const std::string& text);

}  // namespace peaknet::common
