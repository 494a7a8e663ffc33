#include "writerd/output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "common/unique_fd.hpp"

namespace peaknet::writerd {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (size_t pos = 0; (pos = s.find(what, pos)) != std::string::npos; pos += with.size()) {
    s.replace(pos, what.size(), with);
  }
}

void fsync_path(const std::string& path, bool directory) {
  const common::UniqueFd fd(::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC));
  if (!fd.valid()) throw std::runtime_error("fsync " + path + ": open: " + errno_text(errno));
  if (::fsync(fd.get()) != 0) throw std::runtime_error("fsync " + path + ": " + errno_text(errno));
}

}  // namespace

OutputFiles::OutputFiles(std::string dir, std::string pattern, std::string run_name, FsyncPolicy fsync)
    : dir_(std::move(dir)), fsync_(fsync) {
  replace_all(pattern, "{run}", run_name);
  const auto at = pattern.find("{seq}");
  if (at == std::string::npos) throw std::invalid_argument("file pattern needs {seq}: " + pattern);
  prefix_ = pattern.substr(0, at);
  suffix_ = pattern.substr(at + 5);
}

void OutputFiles::ensure_dir() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("output dir " + dir_ + ": " + ec.message());
  if (!fs::is_directory(dir_, ec)) throw std::runtime_error("output dir " + dir_ + ": not a directory");
}

std::string OutputFiles::completed_path(uint64_t seq) const {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(seq));
  return (fs::path(dir_) / (prefix_ + digits + suffix_)).string();
}

int64_t OutputFiles::parse_seq(const std::string& name, const std::string& suffix) const {
  if (name.size() <= prefix_.size() + suffix.size()) return -1;
  if (name.compare(0, prefix_.size(), prefix_) != 0) return -1;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return -1;
  const std::string digits = name.substr(prefix_.size(), name.size() - prefix_.size() - suffix.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

ScanResult OutputFiles::scan_and_clean() const {
  ScanResult out;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) throw std::runtime_error("output dir " + dir_ + ": " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw std::runtime_error("output dir " + dir_ + ": " + ec.message());
    const std::string name = it->path().filename().string();
    if (const int64_t seq = parse_seq(name, suffix_ + ".inprogress"); seq >= 0) {
      // Never renamed, so never complete: its events are still unreleased in Q2.
      if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
        throw std::runtime_error("remove stale " + it->path().string() + ": " + errno_text(errno));
      }
      out.removed_stale.push_back(it->path().string());
      out.next_seq = std::max<uint64_t>(out.next_seq, uint64_t(seq) + 1);
    } else if (const int64_t seq2 = parse_seq(name, suffix_); seq2 >= 0) {
      out.completed.push_back({it->path().string(), uint64_t(seq2)});
      out.next_seq = std::max<uint64_t>(out.next_seq, uint64_t(seq2) + 1);
    }
  }
  std::sort(out.completed.begin(), out.completed.end(),
            [](const CompletedFile& a, const CompletedFile& b) { return a.seq < b.seq; });
  return out;
}

uint64_t OutputFiles::publish(uint64_t seq) const {
  const std::string from = inprogress_path(seq);
  const std::string to = completed_path(seq);
  if (fsync_ == FsyncPolicy::kFile) fsync_path(from, false);
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw std::runtime_error("rename " + from + " -> " + to + ": " + errno_text(errno));
  }
  if (fsync_ == FsyncPolicy::kFile) fsync_path(dir_, true);
  struct stat st {};
  return ::stat(to.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

void OutputFiles::write_atomically(const std::string& file_name, const std::string& text) const {
  const std::string path = (fs::path(dir_) / file_name).string();
  const std::string tmp = path + ".tmp";
  common::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::runtime_error("write " + tmp + ": " + errno_text(errno));
  auto give_up = [&](const char* what, int err) {
    fd.reset();
    ::unlink(tmp.c_str());
    throw std::runtime_error(std::string(what) + " " + tmp + ": " + errno_text(err));
  };
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) give_up("write", errno);
    done += size_t(n);
  }
  if (fsync_ == FsyncPolicy::kFile && ::fsync(fd.get()) != 0) give_up("fsync", errno);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("rename " + tmp + " -> " + path + ": " + errno_text(err));
  }
}

}  // namespace peaknet::writerd
