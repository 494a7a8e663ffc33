#pragma once
// WorkPool: a fixed set of threads that run the independent per-row work of one CXI append (making
// the rows, deflating the frames) in parallel; the writer thread waits for all of it and then does
// every HDF5 call itself, in row order (libhdf5 is serial). Threads are started once and sleep on a
// condition variable between appends: nothing is allocated per event.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace peaknet::writerd {

class WorkPool {
 public:
  /// `threads` workers besides the caller (0: run() works on the calling thread alone).
  explicit WorkPool(unsigned threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  /// Calls fn(i) for every i in [0, n), spread over the workers and the caller; returns when all are
  /// done. The first exception thrown by fn is rethrown here (the other items still run).
  void run(size_t n, const std::function<void(size_t)>& fn);
  /// Threads that work in run(), the caller included.
  unsigned concurrency() const { return unsigned(workers_.size()) + 1; }

 private:
  void work_loop();
  void drain_items();  // takes items of the current job until none are left

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t next_ = 0, count_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

/// Worker threads for writerd.compression_threads: 0 = one per core beyond the writer thread (at least 0).
unsigned compression_workers(int64_t configured);

}  // namespace peaknet::writerd
