#pragma once
// libhdf5 in a child process. libhdf5 1.10 is not hardened against hostile file images: fuzzing
// the HDF5 decoder found SIGFPE in H5Dopen (a zero chunk dimension) and NULL reads in the
// group iteration, inside the library, where no check of ours can come first. So each Decoder
// (one per decode thread) forks one parser child on its first HDF5 message and keeps it: the
// message is copied into a memfd both map, the child reads the catalog (hdf5_catalog.hpp) and
// sends it back with offsets instead of pointers (hdf5_catalog_codec.hpp). A child that dies or
// exceeds the deadline costs that message only (kMalformed, with the signal or the deadline in
// the detail) and is replaced on the next message. No global libhdf5 lock between decode threads
// either: each child has its own library.
#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/unique_fd.hpp"
#include "hdf5_catalog.hpp"

namespace peaknet::ingest {

class Hdf5ParserProcess {
 public:
  Hdf5ParserProcess() = default;
  ~Hdf5ParserProcess();
  Hdf5ParserProcess(const Hdf5ParserProcess&) = delete;
  Hdf5ParserProcess& operator=(const Hdf5ParserProcess&) = delete;

  /// read_hdf5_catalog(message, max_bytes) in the child. Throws DecodeError like
  /// it, and kMalformed when the child dies or takes longer than `deadline`.
  Hdf5Catalog read_catalog(std::span<const std::byte> message, uint64_t max_bytes, std::chrono::milliseconds deadline);

  pid_t child_pid() const noexcept { return pid_; }  ///< -1 before the first message
  uint64_t children_started() const noexcept { return started_; }

 private:
  void start_child();
  void stop_child();                    ///< SIGKILL + reap; fds closed
  [[noreturn]] void fail_child_died();  ///< reaps it, replaces it, rejects the message with its exit
  void ensure_capacity(uint64_t bytes);

  pid_t pid_ = -1;
  common::UniqueFd socket_;     ///< to the child
  common::UniqueFd memfd_;      ///< the message image, shared with the child
  std::byte* image_ = nullptr;  ///< the parent's mapping of the memfd
  uint64_t capacity_ = 0;
  uint64_t started_ = 0;
};

}  // namespace peaknet::ingest
