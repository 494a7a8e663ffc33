#include "common/run_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace peaknet::common {

namespace {
std::runtime_error sys_error(const std::string& path, const std::string& what) {
  return std::runtime_error("run dir " + path + ": " + what + " (" + std::strerror(errno) + ")");
}
}  // namespace

std::string run_base_dir() {
  // systemd sets RUNTIME_DIRECTORY (a ':' list when several are configured; ours is the first).
  if (const char* rt = std::getenv("RUNTIME_DIRECTORY"); rt && *rt) {
    const std::string dirs(rt);
    return dirs.substr(0, dirs.find(':'));
  }
  if (::geteuid() == 0) return kSystemdRunBase;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return std::string(xdg) + "/peaknet";
  return "/tmp/peaknet-" + std::to_string(::geteuid());
}

std::string resolve_run_dir(const config::RunConfig& run) {
  if (!run.run_dir.empty()) return run.run_dir;
  return run_base_dir() + "/" + run.name;
}

void ensure_run_dir(const std::string& path, bool group_access) {
  if (path.empty()) throw std::runtime_error("run dir: empty path");
  const mode_t mode = group_access ? 0750 : 0700;
  // Create each missing component; existing parents (e.g. /run, $XDG_RUNTIME_DIR) are left alone.
  std::filesystem::path p(path);
  std::filesystem::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) throw sys_error(cur.string(), "cannot create");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw sys_error(path, "cannot stat");
  if (!S_ISDIR(st.st_mode)) throw std::runtime_error("run dir " + path + ": exists and is not a directory");
  if (st.st_uid != ::geteuid() && ::geteuid() != 0) {
    throw std::runtime_error("run dir " + path + ": owned by uid " + std::to_string(st.st_uid) + ", not by us (uid " +
                             std::to_string(::geteuid()) + ")");
  }
  if (st.st_uid == ::geteuid() && (st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) != 0) {
    throw sys_error(path, group_access ? "cannot set permissions to 0750" : "cannot restrict permissions to 0700");
  }
}

std::string daemon_id(const std::string& daemon, const std::string& instance) {
  return instance.empty() ? daemon : daemon + "-" + instance;
}

std::string control_endpoint(const std::string& run_dir, const std::string& id) {
  return "ipc://" + run_dir + "/" + id + ".sock";
}

void write_file_0600(const std::string& path, const std::string& text, bool group_access) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    const mode_t old = ::umask(0077);
    std::ofstream out(tmp, std::ios::trunc);
    ::umask(old);
    if (!out) throw sys_error(tmp, "cannot write");
    out << text;
    if (!out.flush()) throw sys_error(tmp, "write failed");
  }
  ::chmod(tmp.c_str(), group_access ? 0640 : 0600);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw sys_error(path, "cannot rename into place");
  }
}

}  // namespace peaknet::common
