#pragma once
// OutputFiles: the run's files in one output directory and the rules that make a completed file
// trustworthy. A file is written as "<name>.cxi.inprogress" and renamed to "<name>.cxi" only once it
// is closed (and fsynced, under fsync=file, with the directory fsynced after the rename): a name
// ending in .cxi always means a complete file. On start, stale *.inprogress files of the run are
// deleted (their events are still in Q2, unreleased) and completed files are scanned for event ids.
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/writerd_config.hpp"

namespace peaknet::writerd {

using config::FsyncPolicy;  // none | file (writerd.fsync)

struct CompletedFile {
  std::string path;
  uint64_t seq = 0;
};

struct ScanResult {
  std::vector<CompletedFile> completed;    ///< ordered by seq
  std::vector<std::string> removed_stale;  ///< *.inprogress files deleted
  uint64_t next_seq = 0;                   ///< 1 + highest seq seen (completed or stale)
};

class OutputFiles {
 public:
  /// `pattern` has {seq} (6-digit, zero padded) and optionally {run}; it ends in ".cxi".
  OutputFiles(std::string dir, std::string pattern, std::string run_name, FsyncPolicy fsync);

  const std::string& dir() const noexcept { return dir_; }
  /// Creates the directory (and parents). Throws std::runtime_error naming the path and errno text.
  void ensure_dir() const;
  /// Lists the run's files; deletes stale in-progress ones. Throws std::runtime_error when the
  /// directory cannot be read.
  ScanResult scan_and_clean() const;
  std::string completed_path(uint64_t seq) const;
  std::string inprogress_path(uint64_t seq) const { return completed_path(seq) + ".inprogress"; }
  /// fsync (policy) + rename in-progress -> completed + fsync the directory (policy). Throws
  /// std::runtime_error naming the file. Returns the size of the completed file in bytes.
  uint64_t publish(uint64_t seq) const;
  /// Writes `text` to `path` via a temporary file + rename (fsync by policy). Throws.
  void write_atomically(const std::string& file_name, const std::string& text) const;

 private:
  /// seq of a file name of this run ("run_000012.cxi" -> 12), or -1.
  int64_t parse_seq(const std::string& name, const std::string& suffix) const;

  std::string dir_, prefix_, suffix_;  // completed name = prefix_ + %06d + suffix_
  FsyncPolicy fsync_;
};

}  // namespace peaknet::writerd
